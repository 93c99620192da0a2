"""``.homelab-kit.yaml``: the repository's configuration, then command-line overrides.

Homelab repositories are not Python projects, so the configuration lives in its own
YAML file at the repository root.  Unknown keys and bad values are errors with
their file, line and column.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from homelab_kit.diagnostic import Severity
from homelab_kit.errors import ConfigError
from homelab_kit.fsutil import inside
from homelab_kit.location import Location
from homelab_kit.yaml import YMap, load_file

CONFIG_FILENAME = ".homelab-kit.yaml"

DEFAULT_SOPS_ALLOWLIST = (
    "kubernetes/components/common/sops/*.sops.yaml",
    "kubernetes/flux/**/*.sops.yaml",
    "talos/talsecret.sops.yaml",
    "talos/*.sops.yaml",
    "bootstrap/**",
)

_KEYS = {
    "select": "list of check IDs or patterns to run (default: all)",
    "ignore": "list of check IDs or patterns not to run",
    "per-path-ignores": "mapping of path pattern to list of check IDs ignored there",
    "severity": "mapping of check ID to error, warning or info",
    "checks": "mapping of check ID to its options",
    "fail-on": "lowest severity that makes the exit code 1 (default error)",
    "kubernetes-version": "Kubernetes version to validate against (default: talos/talenv.yaml)",
    "include": "folders to read (default kubernetes, talos, bootstrap)",
    "exclude": "folders or files not to read",
    "apps-root": "folder holding the namespace folders (default kubernetes/apps)",
    "schema-locations": "extra schema directories or kubeconform-style templates",
    "missing-schema": "what a kind without a schema is: error, warning, info or ignore",
    "sops-allowlist": "path patterns where SOPS files may live",
    "max-file-size": "largest YAML file read, in bytes (default 10 MiB)",
    "cache-dir": "where the cache lives (default .homelab-kit-cache under the root)",
    "plugins": "mapping of plugin name to that plugin's own options",
    "scaffold": "defaults for new-app and friends (hostAPI, projectSlug, ...)",
}


@attrs.frozen
class Config:
    """The effective configuration.  Build with :func:`load_config`."""

    root: Path
    path: Path | None = None
    select: tuple[str, ...] = ("*",)
    ignore: tuple[str, ...] = ()
    per_path_ignores: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    severity: Mapping[str, Severity] = attrs.field(factory=dict)
    check_options: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    check_option_locations: Mapping[str, Location] = attrs.field(factory=dict, eq=False)
    fail_on: Severity = Severity.ERROR
    kubernetes_version: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    apps_root: str = "kubernetes/apps"
    schema_locations: tuple[str, ...] = ()
    missing_schema: str = "warning"
    sops_allowlist: tuple[str, ...] = DEFAULT_SOPS_ALLOWLIST
    max_file_size: int = 10 * 1024 * 1024
    cache_dir: Path | None = None
    plugins: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    scaffold: Mapping[str, Any] = attrs.field(factory=dict)

    def is_selected(self, check_id: str) -> bool:
        """Selected by ``select`` and not removed by ``ignore`` (globs allowed)."""
        return _matches(check_id, self.select) and not _matches(check_id, self.ignore)

    def ignored_at(self, check_id: str, path: str) -> bool:
        """Whether ``per-path-ignores`` switches ``check_id`` off for ``path``."""
        for pattern, ids in self.per_path_ignores.items():
            if path_matches(path, pattern) and _matches(check_id, ids):
                return True
        return False

    def plugin_options(self, name: str) -> Mapping[str, Any]:
        return self.plugins.get(name, {})


def _matches(check_id: str, patterns: Sequence[str]) -> bool:
    return any(
        p in ("*", "ALL", "all")
        or p == check_id
        or fnmatch.fnmatchcase(check_id, p)
        or (not any(c in p for c in "*?[") and check_id.startswith(p + "-"))
        for p in patterns
    )


def path_matches(path: str, pattern: str) -> bool:
    """Glob match where ``**`` spans folders and a folder pattern covers its contents."""
    pattern = pattern.strip("/")
    if path == pattern or path.startswith(pattern + "/"):
        return True
    if fnmatch.fnmatchcase(path, pattern):
        return True
    if "**" in pattern:
        return fnmatch.fnmatchcase(path, pattern.replace("**/", "*").replace("**", "*"))
    return False


def load_config(root: Path, path: Path | None = None) -> Config:
    """Read ``.homelab-kit.yaml`` at ``root`` (or ``path``); defaults when absent."""
    config_path = path or root / CONFIG_FILENAME
    if path is None and config_path.is_symlink() and not inside(config_path, root):
        # The repository's own file may not make us read (and quote) one elsewhere.
        raise ConfigError(
            "a symbolic link leaving the repository; not read",
            Location(CONFIG_FILENAME),
        )
    if not config_path.is_file():
        if path is not None:
            raise ConfigError(f"{path}: configuration file not found")
        return Config(root=root)
    try:
        rel = config_path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = str(config_path)
    yfile = load_file(str(config_path), rel)
    if yfile.problems:
        p = yfile.problems[0]
        raise ConfigError(p.message, Location(rel, p.line, p.column))
    data = yfile.documents[0].data if yfile.documents else None
    if data is None:
        return Config(root=root, path=config_path)
    if not isinstance(data, YMap):
        raise ConfigError("the configuration must be a mapping", Location(rel, 1, 1))
    return _parse(root, config_path, rel, data)


def _parse(root: Path, config_path: Path, rel: str, data: YMap) -> Config:
    def at(key: str, node: YMap = data) -> Location:
        line, col = node.value_position(key)
        return Location(rel, line, col)

    def key_at(key: str, node: YMap = data) -> Location:
        line, col = node.key_position(key)
        return Location(rel, line, col)

    for key in data:
        if key not in _KEYS:
            close = [k for k in _KEYS if _similar(str(key), k)]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown configuration key {key!r}{hint}", key_at(str(key)))

    def str_list(key: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key} must be a list of strings", at(key))
        return tuple(value)

    def mapping(key: str) -> YMap:
        value = data.get(key)
        if value is None:
            return YMap()
        if not isinstance(value, YMap):
            raise ConfigError(f"{key} must be a mapping", at(key))
        return value

    def severity(value: Any, where: Location) -> Severity:
        try:
            return Severity.parse(str(value))
        except ValueError as exc:
            raise ConfigError(str(exc), where) from None

    changes: dict[str, Any] = {}
    if "select" in data:
        changes["select"] = str_list("select")
    if "ignore" in data:
        changes["ignore"] = str_list("ignore")
    ppi = mapping("per-path-ignores")
    per_path: dict[str, tuple[str, ...]] = {}
    for pattern, ids in ppi.items():
        if isinstance(ids, str):
            ids = [ids]
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ConfigError(
                "per-path-ignores values must be lists of check IDs", at(pattern, ppi)
            )
        per_path[str(pattern)] = tuple(ids)
    changes["per_path_ignores"] = per_path
    sev = mapping("severity")
    changes["severity"] = {str(k): severity(v, at(k, sev)) for k, v in sev.items()}
    checks = mapping("checks")
    options: dict[str, Mapping[str, Any]] = {}
    option_locations: dict[str, Location] = {}
    for check_id, opts in checks.items():
        if not isinstance(opts, dict):
            raise ConfigError(f"options of {check_id} must be a mapping", at(check_id, checks))
        options[str(check_id)] = dict(opts)
        option_locations[str(check_id)] = at(check_id, checks)
    changes["check_options"] = options
    changes["check_option_locations"] = option_locations
    if "fail-on" in data:
        changes["fail_on"] = severity(data["fail-on"], at("fail-on"))
    if "kubernetes-version" in data:
        version = data["kubernetes-version"]
        if not isinstance(version, str | int | float) or isinstance(version, bool):
            raise ConfigError(
                "kubernetes-version must be a version like 1.33.4", at("kubernetes-version")
            )
        changes["kubernetes_version"] = str(version)
    for key, field in (
        ("include", "include"),
        ("exclude", "exclude"),
        ("schema-locations", "schema_locations"),
        ("sops-allowlist", "sops_allowlist"),
    ):
        if key in data:
            changes[field] = str_list(key)
    if "apps-root" in data:
        value = data["apps-root"]
        if not isinstance(value, str):
            raise ConfigError("apps-root must be a path", at("apps-root"))
        changes["apps_root"] = value.strip("/")
    if "missing-schema" in data:
        value = str(data["missing-schema"]).lower()
        if value not in ("error", "warning", "info", "ignore"):
            raise ConfigError(
                "missing-schema must be error, warning, info or ignore", at("missing-schema")
            )
        changes["missing_schema"] = value
    if "max-file-size" in data:
        value = data["max-file-size"]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(
                "max-file-size must be a positive number of bytes", at("max-file-size")
            )
        changes["max_file_size"] = value
    if "cache-dir" in data:
        changes["cache_dir"] = root / str(data["cache-dir"])
    plugins = mapping("plugins")
    changes["plugins"] = {
        str(k): dict(v) if isinstance(v, dict) else {} for k, v in plugins.items()
    }
    changes["scaffold"] = dict(mapping("scaffold"))
    return Config(root=root, path=config_path, **changes)


def _similar(a: str, b: str) -> bool:
    import difflib

    return difflib.SequenceMatcher(None, a, b).ratio() > 0.75
