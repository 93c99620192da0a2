"""The plugin manager: built-in plugins, installed plugins, and what they register.

Third-party plugins load only from installed distributions (entry-point group
``homelab_kit``), never from the repository being linted.  Set
``HOMELAB_KIT_DISABLE_PLUGIN_AUTOLOAD=1`` to load only the built-in plugins, and
``HOMELAB_KIT_TRACE_PLUGINS=1`` to trace every hook call on standard error.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import attrs
import pluggy

from homelab_kit import hookspecs
from homelab_kit.errors import PluginError

PROJECT = "homelab_kit"
ENTRY_POINT_GROUP = "homelab_kit"
DISABLE_AUTOLOAD_ENV = "HOMELAB_KIT_DISABLE_PLUGIN_AUTOLOAD"
TRACE_ENV = "HOMELAB_KIT_TRACE_PLUGINS"

hookimpl = pluggy.HookimplMarker(PROJECT)

# Built-in plugins, registered through the same hooks as third-party ones.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "homelab_kit.report.builtin",
    "homelab_kit.lint.builtin",
    "homelab_kit_structure",
    "homelab_kit_flux",
    "homelab_kit_helm",
    "homelab_kit_secrets",
    "homelab_kit_workloads",
    "homelab_kit_yaml",
    "homelab_kit_apiversions",
    "homelab_kit_talos",
    "homelab_kit_schema",
    "homelab_kit_scaffold",
)


@attrs.frozen
class PluginInfo:
    """A loaded plugin: its name, where it comes from and the hooks it implements."""

    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]
    builtin: bool


def _version() -> str:
    from homelab_kit import __version__

    return __version__


class PluginManager:
    """pluggy's manager plus the distributions plugins came from."""

    def __init__(self, *, autoload: bool | None = None, extra: Sequence[Any] = ()) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._origin: dict[str, tuple[str, str, bool]] = {}
        for module_name in DEFAULT_PLUGINS:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue  # a built-in pack not present in this build
            self.pm.register(module, name=module_name)
            self._origin[module_name] = ("homelab-kit", _version(), True)
        if autoload is None:
            autoload = not os.environ.get(DISABLE_AUTOLOAD_ENV)
        if autoload:
            self._load_entry_points()
        for plugin in extra:
            name = getattr(plugin, "__name__", None) or repr(plugin)
            self.pm.register(plugin, name=name)
            self._origin[name] = ("(in-process)", "", False)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"invalid plugin: {exc}") from None
        if os.environ.get(TRACE_ENV):
            self._trace()

    def _load_entry_points(self) -> None:
        if not _may_declare_plugins():
            return
        from importlib import metadata

        cwd = os.path.realpath(os.getcwd())
        for dist in metadata.distributions():
            if _inside(str(dist.locate_file("")), cwd) and not _inside(sys.prefix, cwd):
                # A distribution found in the current folder (not in an environment
                # that lives there) may be planted by the repository being linted.
                continue
            for ep in dist.entry_points:
                if ep.group != ENTRY_POINT_GROUP:
                    continue
                if self.pm.get_plugin(ep.name) is not None or self.pm.is_blocked(ep.name):
                    continue
                try:
                    plugin = ep.load()
                except Exception as exc:
                    raise PluginError(
                        f"plugin {ep.name!r} from {dist.metadata['Name']} failed to load: "
                        f"{type(exc).__name__}: {exc}"
                    ) from None
                try:
                    self.pm.register(plugin, name=ep.name)
                except (ValueError, pluggy.PluginValidationError) as exc:
                    raise PluginError(f"plugin {ep.name!r}: {exc}") from None
                self._origin[ep.name] = (dist.metadata["Name"], dist.version, False)

    def _trace(self) -> None:
        def before(hook_name: str, hook_impls: Any, kwargs: Any) -> None:
            names = ", ".join(impl.plugin_name for impl in hook_impls)
            print(
                f"homelab-kit: hook {hook_name}({', '.join(kwargs)}) -> [{names}]", file=sys.stderr
            )

        def after(outcome: Any, hook_name: str, hook_impls: Any, kwargs: Any) -> None:
            print(f"homelab-kit: hook {hook_name} done", file=sys.stderr)

        self.pm.add_hookcall_monitoring(before, after)

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def plugins(self) -> list[PluginInfo]:
        """Every registered plugin with the hooks it implements, built-ins first."""
        found = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            dist, version, builtin = self._origin.get(name, ("?", "", False))
            hooks = tuple(
                sorted(
                    hc.name
                    for hc in self.pm.get_hookcallers(plugin) or ()
                    if hc.name.startswith("homelab_kit_")
                )
            )
            found.append(PluginInfo(name, dist, version, hooks, builtin))
        return sorted(found, key=lambda p: (not p.builtin, p.name))

    def registered(self, hook_name: str) -> list[tuple[str, Any]]:
        """Call a ``register_*`` hook; ``(plugin name, item)`` for each item returned."""
        caller = getattr(self.pm.hook, hook_name)
        found: list[tuple[str, Any]] = []
        # Call each implementation on its own so we know which plugin gave what.
        trace = bool(os.environ.get(TRACE_ENV))
        for impl in reversed(caller.get_hookimpls()):
            if trace:
                print(f"homelab-kit: hook {hook_name}() -> [{impl.plugin_name}]", file=sys.stderr)
            try:
                items = impl.function()
            except Exception as exc:
                raise PluginError(
                    f"plugin {impl.plugin_name!r} failed in {hook_name}: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
            for item in items or ():
                found.append((impl.plugin_name, item))
        return found


def _may_declare_plugins() -> bool:
    """Whether an installed distribution may declare an entry point of our group.

    Importing :mod:`importlib.metadata` costs every ``lint`` about 15 ms, most often
    to find no third-party plugin.  So first a look where it would look: the
    ``entry_points.txt`` of every ``*.dist-info`` and ``*.egg-info`` folder on
    ``sys.path``, for a ``[homelab_kit]`` section (read as it reads them).  True
    when one has it, or when the look cannot be sure: a ``sys.path`` entry that is a
    file (a zip) or an egg, a file that cannot be read, or a finder on
    ``sys.meta_path`` other than the standard one that finds distributions.
    """
    import importlib.machinery

    for finder in sys.meta_path:
        if finder is not importlib.machinery.PathFinder and hasattr(finder, "find_distributions"):
            return True
    for entry in sys.path:
        folder = entry or "."
        if entry.endswith(".egg"):
            return True
        try:
            names = os.listdir(folder)
        except OSError:
            if os.path.exists(folder):
                return True  # a zip or a folder we cannot list
            continue  # nothing there (importlib.metadata finds nothing either)
        for name in names:
            if not name.lower().endswith((".dist-info", ".egg-info")):
                continue
            path = os.path.join(folder, name, "entry_points.txt")
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError):
                continue  # none to read, as importlib.metadata skips it too
            except (OSError, ValueError):
                return True
            if ENTRY_POINT_GROUP in text and any(
                line.startswith("[")
                and line.endswith("]")
                and line.strip("[]").strip() == ENTRY_POINT_GROUP
                for line in map(str.strip, text.splitlines())
            ):
                return True
    return False


def _inside(path: str, folder: str) -> bool:
    real = os.path.realpath(path)
    return real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)


_default: PluginManager | None = None
_created: PluginManager | None = None  # the manager get_plugin_manager() made (not a test's)


def get_plugin_manager() -> PluginManager:
    """The process-wide manager, created on first use."""
    global _default, _created
    if _default is None:
        _default = _created = PluginManager()
    return _default
