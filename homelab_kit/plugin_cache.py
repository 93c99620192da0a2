"""What the plugins register, remembered between runs: ``rules``, ``explain`` and a warm
``lint`` start without importing them.

Listing the checks means importing every plugin and every check module, and with
them the model, the schema validator and the YAML reader: most of a quarter of a
second, for a list that changes only when a plugin does.  The first run writes the
list to ``plugins-<environment>.json`` in the cache folder (:mod:`homelab_kit.cachedir`);
later runs read it back as long as nothing it came from changed:

- the Python interpreter, ``sys.path`` and homelab-kit's version;
- whether third-party plugins load (``HOMELAB_KIT_DISABLE_PLUGIN_AUTOLOAD``), and
  which ``sys.path`` entries lie inside the current folder (their distributions are
  never loaded, :mod:`homelab_kit.plugins`);
- the modification time of every ``sys.path`` folder (installing, upgrading or
  removing a distribution adds or renames its ``*.dist-info`` there, which is how a
  new entry point appears);
- the size and modification time of every module file (outside the standard
  library) that was imported when the list was made: homelab-kit, the built-in
  plugins, third-party plugins and what they import, installed or editable.

Any difference, or a file that cannot be read, and the plugins are loaded as
before and the file written again.  It holds data only (JSON), never code; the
worst a tampered file can do is list wrong checks, and it lives in the user's
cache folder, never in a repository.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from typing import Any

FORMAT_VERSION = 2
# The same names as homelab_kit.plugins' (importing it would import pluggy).
DISABLE_AUTOLOAD_ENV = "HOMELAB_KIT_DISABLE_PLUGIN_AUTOLOAD"
TRACE_ENV = "HOMELAB_KIT_TRACE_PLUGINS"
_PREFIX = "plugins-"


def check_listing() -> list[dict[str, Any]]:
    """Every registered check as data: id, severity, category, fixable, plugin, summary, doc.

    In ID order, as ``registered_checks`` returns them; from the cache when it is
    current, else by loading the plugins (and the cache is written).
    """
    loaded = sys.modules.get("homelab_kit.plugins")
    if (loaded is not None and loaded._default is not None) or os.environ.get(TRACE_ENV):
        # This process already loaded its plugins (a library caller, a test that
        # registered its own), or hook calls are to be traced: load them and leave
        # the file alone.
        return _collect(with_checks=True)["checks"]  # type: ignore[no-any-return]
    stored = current()
    if stored is not None and stored["checks"] is not None:
        return stored["checks"]  # type: ignore[no-any-return]
    snapshot = _collect(with_checks=True)
    _write(snapshot)
    return snapshot["checks"]  # type: ignore[no-any-return]


def current() -> dict[str, Any] | None:
    """What the plugins registered, if the file is current; never loads a plugin.

    None as well when this process uses a plugin manager other than the one
    :func:`homelab_kit.plugins.get_plugin_manager` makes.

    ``plugins`` (name, distribution, version), ``formats`` (name: module, class
    name), ``ids`` (check ID, category, in ID order) and ``checks`` (see
    :func:`check_listing`; None when a ``lint`` run wrote the file).  None when
    the file is missing or stale, or hook calls are to be traced.
    """
    loaded = sys.modules.get("homelab_kit.plugins")
    if loaded is not None and loaded._default is not loaded._created:
        return None  # a manager of the caller's (a test's own plugins): not what was remembered
    if os.environ.get(TRACE_ENV):
        return None
    path = _path()
    return _read(path, _environment()) if path else None


def remember(pm: Any) -> None:
    """Write what ``pm`` registered, unless the file is current or ``pm`` is not the
    process-wide manager :func:`homelab_kit.plugins.get_plugin_manager` made.

    Called after a ``lint`` that loaded the plugins, so that the next run with nothing
    changed answers from the result cache without loading them.  The check listing
    is left out: the plugins were configured for that repository (a setting may
    change a check's severity), and ``rules`` shows them unconfigured.
    """
    from homelab_kit import plugins

    if pm is not plugins._created or os.environ.get(TRACE_ENV) or current() is not None:
        return
    _write(_collect(with_checks=False))


def _collect(*, with_checks: bool) -> dict[str, Any]:
    from homelab_kit.lint import registered_checks
    from homelab_kit.plugins import get_plugin_manager

    pm = get_plugin_manager()
    registered = registered_checks(pm)
    checks = [
        {
            "id": c.id,
            "severity": str(c.severity),
            "category": c.category,
            "fixable": c.fixable,
            "plugin": c.plugin,
            "summary": c.summary,
            "doc": c.doc,
        }
        for c in registered
    ]
    return {
        "plugins": [[p.name, p.distribution, p.version] for p in pm.plugins()],
        "formats": {
            cls.name: [cls.__module__, cls.__qualname__]
            for _, cls in pm.registered("homelab_kit_register_formats")
        },
        "ids": [[c.id, c.category] for c in registered],
        "checks": checks if with_checks else None,
    }


def clean(directory: str) -> tuple[int, int]:
    """Remove the files this module wrote in ``directory``: ``(files, bytes)``."""
    files = size = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0, 0
    for entry in entries:
        if entry.name.startswith(_PREFIX) and entry.name.endswith(".json") and entry.is_file():
            with contextlib.suppress(OSError):
                length = entry.stat().st_size
                os.unlink(entry.path)
                files, size = files + 1, size + length
    return files, size


# ------------------------------------------------------------------------ the key


def _environment() -> dict[str, Any]:
    from homelab_kit import __version__
    from homelab_kit.fsutil import inside

    cwd = os.path.realpath(os.getcwd())
    inside_prefix = inside(sys.prefix, cwd)
    return {
        "format": FORMAT_VERSION,
        "version": __version__,
        "python": [sys.executable, sys.version],
        "autoload": not os.environ.get(DISABLE_AUTOLOAD_ENV),
        "path": [_path_entry(entry, cwd, inside_prefix) for entry in sys.path],
    }


def _path_entry(entry: str, cwd: str, inside_prefix: bool) -> list[Any]:
    """A ``sys.path`` entry, and its modification time unless its distributions are skipped."""
    from homelab_kit.fsutil import inside

    if not inside_prefix and inside(entry or ".", cwd):
        return [entry, "skipped"]  # homelab_kit.plugins loads no distribution from there
    return [entry, _mtime(entry)]


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path or ".").st_mtime_ns
    except (OSError, ValueError):
        return None


def _stamp(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return [st.st_size, st.st_mtime_ns]


def _module_files() -> list[str]:
    """Files of the modules imported so far, the standard library's left out."""
    stdlib = os.path.dirname(os.__file__) + os.sep
    files = set()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        if path.startswith(stdlib) and "-packages" + os.sep not in path:
            continue
        files.add(path)
    return sorted(files)


# ------------------------------------------------------------------------ the file


def _path() -> str | None:
    from homelab_kit.cachedir import cache_directory

    try:
        directory = str(cache_directory())
    except RuntimeError:  # no home folder to expand
        return None
    name = hashlib.sha256(json.dumps([sys.executable, sys.path]).encode()).hexdigest()[:16]
    return os.path.join(directory, f"{_PREFIX}{name}.json")


def _read(path: str, environment: dict[str, Any]) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            stored = json.load(handle)
        if stored["environment"] != environment:
            return None
        for file, stamp in stored["files"]:
            if _stamp(file) != stamp:
                return None
        snapshot = stored["snapshot"]
        if not isinstance(snapshot, dict) or not all(
            key in snapshot for key in ("plugins", "formats", "ids", "checks")
        ):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return snapshot


def _write(snapshot: dict[str, Any]) -> None:
    path = _path()
    if path is None:
        return
    files = [[file, _stamp(file)] for file in _module_files()]
    payload = json.dumps({"environment": _environment(), "files": files, "snapshot": snapshot})
    directory = os.path.dirname(path)
    tmp = None
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
        os.replace(tmp, path)
    except OSError:
        # A cache that cannot be written only costs the next run the plugin loading.
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
