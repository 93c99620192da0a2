"""The one exception family homelab-kit raises for bad input."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not imported at run time: the CLI catches these before it needs attrs
    from homelab_kit.location import Location


class HomelabKitError(Exception):
    """Bad input or a failed operation the user can act on.

    The CLI prints ``str(error)`` as one line (``file:line:column: message``) and
    exits with :attr:`exit_code`; no traceback reaches the user.
    """

    exit_code = 2

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"


class ConfigError(HomelabKitError):
    """The configuration file or a command-line option is invalid."""


class RepoNotFoundError(HomelabKitError):
    """No homelab repository was found at or above the given path."""


class PluginError(HomelabKitError):
    """A plugin could not be loaded or registered something invalid."""


class ScaffoldError(HomelabKitError):
    """A generator refused or failed; nothing was written."""


class ClusterError(HomelabKitError):
    """The live cluster could not be reached or refused a request."""


class HomelabKitWarning(UserWarning):
    """Something the user should know that does not stop the command.

    Raised through :func:`warnings.warn`; the CLI prints it as one line on standard
    error (``homelab-kit: warning: file:line:column: message``).
    """

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(f"{location}: {message}" if location is not None else message)
        self.message = message
        self.location = location
