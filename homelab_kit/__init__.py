"""homelab-kit: model, lint and scaffold Talos + Flux + Infisical homelab repositories.

The public API::

    import homelab_kit

    repo = homelab_kit.load("path/inside/the/repo")
    for app in repo.apps:
        print(app.namespace, app.name)
    result = homelab_kit.lint("path/inside/the/repo")
"""

from __future__ import annotations

__version__ = "0.1.0"

import sys
import types
from typing import TYPE_CHECKING, Any

from homelab_kit._lazy import attach

if TYPE_CHECKING:
    from homelab_kit.config import Config, load_config
    from homelab_kit.diagnostic import Diagnostic, Edit, Fix, Severity
    from homelab_kit.errors import ConfigError, HomelabKitError, PluginError, RepoNotFoundError
    from homelab_kit.lint import Check, LintResult, lint
    from homelab_kit.location import Location
    from homelab_kit.model import (
        App,
        DocumentRef,
        FluxKustomization,
        HelmRelease,
        InfisicalSecret,
        LoadOptions,
        Namespace,
        OCIRepository,
        Repo,
        find_root,
        load,
    )
    from homelab_kit.plugins import hookimpl

# The public API, imported on first use (PEP 562): ``homelab-kit --version`` and
# ``import homelab_kit`` by a plugin do not pay for the model, the engine and the
# YAML reader until something asks for them.
_LAZY = {
    "Config": "homelab_kit.config",
    "load_config": "homelab_kit.config",
    "Diagnostic": "homelab_kit.diagnostic",
    "Edit": "homelab_kit.diagnostic",
    "Fix": "homelab_kit.diagnostic",
    "Severity": "homelab_kit.diagnostic",
    "ConfigError": "homelab_kit.errors",
    "HomelabKitError": "homelab_kit.errors",
    "PluginError": "homelab_kit.errors",
    "RepoNotFoundError": "homelab_kit.errors",
    "Check": "homelab_kit.lint",
    "LintResult": "homelab_kit.lint",
    "Location": "homelab_kit.location",
    "App": "homelab_kit.model",
    "DocumentRef": "homelab_kit.model",
    "FluxKustomization": "homelab_kit.model",
    "HelmRelease": "homelab_kit.model",
    "InfisicalSecret": "homelab_kit.model",
    "LoadOptions": "homelab_kit.model",
    "Namespace": "homelab_kit.model",
    "OCIRepository": "homelab_kit.model",
    "Repo": "homelab_kit.model",
    "find_root": "homelab_kit.model",
    "load": "homelab_kit.model",
    "hookimpl": "homelab_kit.plugins",
}


__getattr__ = attach("homelab_kit", _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"lint"})


class _Package(types.ModuleType):
    """``homelab_kit.lint`` is the function, as it was when this file imported it.

    Importing the subpackage ``homelab_kit.lint`` binds it on this package; the
    setter keeps the public name meaning the function.
    """

    @property
    def lint(self) -> Any:
        from homelab_kit.lint import lint

        return lint

    @lint.setter
    def lint(self, value: Any) -> None:
        pass


sys.modules[__name__].__class__ = _Package


__all__ = [
    "App",
    "Check",
    "Config",
    "ConfigError",
    "Diagnostic",
    "DocumentRef",
    "Edit",
    "Fix",
    "FluxKustomization",
    "HelmRelease",
    "HomelabKitError",
    "InfisicalSecret",
    "LintResult",
    "LoadOptions",
    "Location",
    "Namespace",
    "OCIRepository",
    "PluginError",
    "Repo",
    "RepoNotFoundError",
    "Severity",
    "__version__",
    "find_root",
    "hookimpl",
    "lint",
    "load",
    "load_config",
]
