"""``.homelab-kit.yaml``: the repository's configuration, then command-line overrides.

Homelab repositories are not Python projects, so the configuration lives in its own
YAML file at the repository root.  Unknown keys and bad values are errors with
their file, line and column.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import posixpath
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from homelab_kit.cachedir import CACHE_DIR_ENV
from homelab_kit.diagnostic import Severity
from homelab_kit.errors import ConfigError, HomelabKitWarning
from homelab_kit.fsutil import inside
from homelab_kit.location import Location
from homelab_kit.presets import DEFAULT_PRESET
from homelab_kit.presets import PRESETS as PRESETS  # re-exported
from homelab_kit.yaml import YMap, YSeq, load_file

if TYPE_CHECKING:
    from homelab_kit.gitignore import IgnoreSpec

CONFIG_FILENAME = ".homelab-kit.yaml"


DEFAULT_SOPS_ALLOWLIST = (
    "kubernetes/components/common/sops/*.sops.yaml",
    "kubernetes/flux/**/*.sops.yaml",
    "talos/talsecret.sops.yaml",
    "talos/*.sops.yaml",
    "bootstrap/**",
)

_KEYS = {
    "preset": "the checks run by default: recommended (the default) or homelab-kit",
    "select": "check IDs, globs, pack prefixes or categories to run instead of the preset",
    "extend-select": "check IDs, globs, pack prefixes or categories to run as well",
    "ignore": "check IDs, globs, pack prefixes or categories not to run",
    "respect-gitignore": "skip files the repository's .gitignore ignores (default true)",
    "per-path-ignores": "mapping of path pattern to list of check IDs ignored there",
    "severity": "mapping of check ID to error, warning or info",
    "checks": "mapping of check ID to its options",
    "fail-on": "lowest severity that makes the exit code 1 (default error)",
    "kubernetes-version": "Kubernetes version to validate against (default: talos/talenv.yaml)",
    "include": "folders to read (default kubernetes, talos, bootstrap)",
    "exclude": "folders or files not to read",
    "apps-root": "folder holding the namespace folders (default kubernetes/apps)",
    "schema-locations": "extra schema directories or kubeconform-style templates",
    "missing-schema": "what a kind without a schema is: error, warning, info (default) or ignore",
    "bundled-schemas": "whether to use the CRD schemas homelab-kit bundles (default true)",
    "sops-allowlist": "path patterns where SOPS files may live",
    "bootstrap-secrets": "Secrets created before Flux runs, as name or namespace/name",
    "max-file-size": "largest YAML file read, in bytes (default 10 MiB; only lowered here)",
    "cache-dir": "where the cache lives, from a configuration file outside the repository "
    "(default $HOMELAB_KIT_CACHE_DIR, else ~/.cache/homelab-kit)",
    "clusters": "mapping of cluster name to its entry file or folder (default: detected)",
    "contexts": "mapping of cluster name to the kubeconfig context that runs it "
    "(default: a context named like the cluster)",
    "plugins": "mapping of plugin name to that plugin's own options",
    "scaffold": "defaults for new-app and friends (hostAPI, projectSlug, ...)",
}


@attrs.frozen
class Selection:
    """One layer of check selection, ruff's way: the file's, then the command line's.

    ``select`` (when not None) replaces what the layers before chose; ``extend_select``
    adds to it; ``ignore`` removes from it.  Where a check matches both a select and
    an ignore entry of one layer, the more specific entry wins (an ID over a glob or
    pack prefix, those over a category, a category over ``ALL``); ignore wins a tie.
    """

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


@attrs.frozen
class ConfiguredCluster:
    """One entry of ``clusters:``: a cluster's name and its entry file or folder."""

    name: str
    entry: str
    source: Location = attrs.field(eq=False)


@attrs.frozen
class Config:
    """The effective configuration.  Build with :func:`load_config`.

    ``preset``, ``select``, ``extend_select`` and ``ignore`` are the file's selection;
    ``command_line`` the flags' (applied after it).  ``locations`` says where each
    key's value was written, for errors found after parsing.
    """

    root: Path
    path: Path | None = None
    preset: str = DEFAULT_PRESET
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    command_line: Selection = Selection()
    respect_gitignore: bool = True
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
    missing_schema: str = "info"
    bundled_schemas: bool = True
    sops_allowlist: tuple[str, ...] = DEFAULT_SOPS_ALLOWLIST
    bootstrap_secrets: tuple[str, ...] = ()
    max_file_size: int = 10 * 1024 * 1024
    cache_dir: Path | None = None
    clusters: tuple[ConfiguredCluster, ...] = ()
    #: ``contexts:``: the kubeconfig context of each cluster of the repository, for
    #: ``status``, ``drift``, ``doctor`` and ``reconcile`` (docs/cluster.md).
    contexts: Mapping[str, str] = attrs.field(factory=dict)
    plugins: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    scaffold: Mapping[str, Any] = attrs.field(factory=dict)
    locations: Mapping[str, Location] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def file_selection(self) -> Selection:
        """The configuration file's selection layer."""
        return Selection(self.select, self.extend_select, self.ignore)

    def ignored_at(self, check_id: str, path: str) -> bool:
        """Whether ``per-path-ignores`` switches ``check_id`` off for ``path``."""
        for pattern, ids in self.per_path_ignores.items():
            if path_matches(path, pattern) and _matches(check_id, ids):
                return True
        return False

    def plugin_options(self, name: str) -> Mapping[str, Any]:
        return self.plugins.get(name, {})


# Resource bounds: the repository's own configuration may lower them, never raise
# them (a pull request must not make the linter read a 200 MB file); the user's
# environment variable, or a configuration file named with ``--config``, may.
# Each is ``key: (Config field, environment variable)``.
LIMITS = {
    "max-file-size": ("max_file_size", "HOMELAB_KIT_MAX_FILE_SIZE"),
}


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _user_limits(environ: Mapping[str, str]) -> dict[str, int]:
    """The limits the user set in the environment (``Config`` field -> value)."""
    found: dict[str, int] = {}
    for field, variable in LIMITS.values():
        text = environ.get(variable, "").strip()
        if not text:
            continue
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            value = 0
        if value <= 0:
            raise ConfigError(f"{variable} must be a positive number of bytes, not {text!r}")
        found[field] = value
    return found


def _apply_limits(config: Config, user: Mapping[str, int], trusted: bool) -> Config:
    """``config`` within the user's limits: a repository's may lower them, never raise them."""
    changes: dict[str, Any] = {}
    for key, (field, variable) in LIMITS.items():
        ceiling = user.get(field, attrs.fields_dict(Config)[field].default)
        value = getattr(config, field)
        where = config.locations.get(key)
        if where is None:
            changes[field] = ceiling  # not set by the file: the user's (or the default)
        elif not trusted and value > ceiling:
            warnings.warn(
                HomelabKitWarning(
                    f"{key}: {value:,} is above {ceiling:,}, the limit this run allows; a "
                    f"repository may lower its limits, never raise them (set {variable} "
                    "or pass --config to raise it); using the limit",
                    where,
                ),
                stacklevel=3,
            )
            changes[field] = ceiling
    return attrs.evolve(config, **changes) if changes else config


def _matches(check_id: str, patterns: Sequence[str]) -> bool:
    return any(
        p in ("*", "ALL", "all")
        or p == check_id
        or fnmatch.fnmatchcase(check_id, p)
        or (not any(c in p for c in "*?[") and check_id.startswith(p + "-"))
        for p in patterns
    )


def path_matches(path: str, pattern: str) -> bool:
    """Whether ``path`` matches ``pattern`` with .gitignore semantics (pathspec).

    ``*`` never crosses ``/``, ``**`` does; a pattern with a ``/`` in it is anchored at
    the repository root, one without matches at any depth; a folder covers its contents.
    """
    return _path_spec(pattern).match_file(path)


@functools.lru_cache(maxsize=1024)
def _path_spec(pattern: str) -> IgnoreSpec:
    # Imported only when a pattern is matched (a warm run answered by the cache never);
    # pathspec only for a pattern that is not a plain name, suffix or path.
    from homelab_kit.gitignore import ignore_spec

    return ignore_spec([pattern])


def load_config(
    root: Path, path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Read ``.homelab-kit.yaml`` at ``root`` (or ``path``); defaults when absent.

    Resource limits (:data:`LIMITS`) come from the user: ``environ`` (default
    ``os.environ``) or the file ``path`` names.  The repository's own file may lower
    them; where it tries to raise one, a :class:`HomelabKitWarning` names the line
    and the user's limit is kept.
    """
    user = _user_limits(os.environ if environ is None else environ)
    return _apply_limits(_read_config(root, path), user, trusted=path is not None)


def _read_config(root: Path, path: Path | None) -> Config:
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
    locations = {str(key): at(str(key)) for key in data}
    for key in ("select", "extend-select", "ignore"):
        items = data.get(key)
        if isinstance(items, YSeq):  # each selector's own position
            for number, item in enumerate(items):
                line, column = items.item_position(number)
                locations[f"{key}/{item}"] = Location(rel, line, column)
    changes["locations"] = locations
    if "preset" in data:
        preset = data["preset"]
        if preset not in PRESETS:
            import difflib

            close = difflib.get_close_matches(str(preset), list(PRESETS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"unknown preset {preset!r}{hint}; choose from {', '.join(PRESETS)}", at("preset")
            )
        changes["preset"] = preset
    if "select" in data:
        changes["select"] = str_list("select")
    if "extend-select" in data:
        changes["extend_select"] = str_list("extend-select")
    if "ignore" in data:
        changes["ignore"] = str_list("ignore")
    if "respect-gitignore" in data:
        if not isinstance(data["respect-gitignore"], bool):
            raise ConfigError("respect-gitignore must be true or false", at("respect-gitignore"))
        changes["respect_gitignore"] = data["respect-gitignore"]
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
        locations[f"per-path-ignores/{pattern}"] = at(pattern, ppi)
    changes["per_path_ignores"] = per_path
    sev = mapping("severity")
    changes["severity"] = {str(k): severity(v, at(k, sev)) for k, v in sev.items()}
    locations.update({f"severity/{k}": key_at(k, sev) for k in sev})
    checks = mapping("checks")
    options: dict[str, Mapping[str, Any]] = {}
    option_locations: dict[str, Location] = {}
    for check_id, opts in checks.items():
        if not isinstance(opts, dict):
            raise ConfigError(f"options of {check_id} must be a mapping", at(check_id, checks))
        options[str(check_id)] = dict(opts)
        option_locations[str(check_id)] = at(check_id, checks)
        locations[f"checks/{check_id}"] = key_at(check_id, checks)
    changes["check_options"] = options
    changes["check_option_locations"] = option_locations
    if "fail-on" in data:
        changes["fail_on"] = severity(data["fail-on"], at("fail-on"))
    if "kubernetes-version" in data:
        version = data["kubernetes-version"]
        if isinstance(version, bool) or not is_kubernetes_version(str(version)):
            raise ConfigError(
                f"kubernetes-version must be a version like 1.33.4, got {version!r}",
                at("kubernetes-version"),
            )
        changes["kubernetes_version"] = str(version)
    for key, field in (
        ("include", "include"),
        ("exclude", "exclude"),
        ("schema-locations", "schema_locations"),
        ("sops-allowlist", "sops_allowlist"),
        ("bootstrap-secrets", "bootstrap_secrets"),
    ):
        if key in data:
            changes[field] = str_list(key)
    for entry in changes.get("bootstrap_secrets", ()):
        if entry.count("/") > 1 or not all(entry.split("/")):
            raise ConfigError(
                f"bootstrap-secrets: {entry!r} must be a Secret name or namespace/name",
                at("bootstrap-secrets"),
            )
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
    if "bundled-schemas" in data:
        value = data["bundled-schemas"]
        if not isinstance(value, bool):
            raise ConfigError("bundled-schemas must be true or false", at("bundled-schemas"))
        changes["bundled_schemas"] = value
    if "max-file-size" in data:
        value = data["max-file-size"]
        if not _positive_int(value):
            raise ConfigError(
                "max-file-size must be a positive number of bytes", at("max-file-size")
            )
        changes["max_file_size"] = value
    if "cache-dir" in data:
        changes["cache_dir"] = _cache_dir(root, config_path, data, at("cache-dir"))
    changes["clusters"] = _clusters(root, mapping("clusters"), at)
    changes["contexts"] = _contexts(mapping("contexts"), at)
    plugins = mapping("plugins")
    changes["plugins"] = {
        str(k): dict(v) if isinstance(v, dict) else {} for k, v in plugins.items()
    }
    changes["scaffold"] = dict(mapping("scaffold"))
    return Config(root=root, path=config_path, **changes)


def _clusters(
    root: Path, clusters: YMap, at: Callable[[str, YMap], Location]
) -> tuple[ConfiguredCluster, ...]:
    """``clusters:``: each name -> an entry file or folder inside the repository."""
    out: list[ConfiguredCluster] = []
    for name, entry in clusters.items():
        where = at(name, clusters)
        if not isinstance(name, str) or not name or "/" in name:
            raise ConfigError(f"cluster name {name!r} must be a word without '/'", where)
        if not isinstance(entry, str) or not entry.strip():
            raise ConfigError(f"the entry of cluster {name!r} must be a path", where)
        relative = posixpath.normpath(entry.strip().lstrip("/"))
        full = root / relative
        if relative.startswith("..") or not inside(full, root):
            raise ConfigError(f"the entry of cluster {name!r} is outside the repository", where)
        if not full.exists():
            raise ConfigError(f"the entry of cluster {name!r}, {entry!r}, does not exist", where)
        out.append(ConfiguredCluster(name, "" if relative == "." else relative, where))
    return tuple(out)


def _contexts(contexts: YMap, at: Callable[[str, YMap], Location]) -> dict[str, str]:
    """``contexts:``: each cluster name -> the name of its kubeconfig context."""
    out: dict[str, str] = {}
    for name, context in contexts.items():
        where = at(name, contexts)
        if not isinstance(name, str) or not name or "/" in name:
            raise ConfigError(f"cluster name {name!r} must be a word without '/'", where)
        if not isinstance(context, str) or not context.strip():
            raise ConfigError(f"the context of cluster {name!r} must be a context name", where)
        out[name] = context.strip()
    return out


def _cache_dir(root: Path, config_path: Path, data: YMap, where: Location) -> Path | None:
    """``cache-dir`` from a configuration file the user keeps outside the repository.

    The repository's own file is ignored (with a warning): the cache is code-adjacent
    data, and a repository choosing where it lives could plant a cache of its own.
    """
    value = data["cache-dir"]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("cache-dir must be a path", where)
    if inside(config_path, root):
        warnings.warn(
            HomelabKitWarning(
                "cache-dir in the repository's configuration is ignored; set "
                f"{CACHE_DIR_ENV} or cache-dir in a configuration file outside the repository",
                where,
            ),
            stacklevel=4,
        )
        return None
    chosen = Path(value).expanduser()
    return chosen if chosen.is_absolute() else config_path.parent / chosen


_VERSION_RE = re.compile(r"^v?\d+\.\d+(\.\d+)?$")


def is_kubernetes_version(text: str) -> bool:
    """``1.33``, ``1.33.4`` or ``v1.33.4``: what ``kubernetes-version`` accepts."""
    return bool(_VERSION_RE.match(text.strip()))


def _similar(a: str, b: str) -> bool:
    import difflib

    return difflib.SequenceMatcher(None, a, b).ratio() > 0.75
