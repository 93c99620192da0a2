"""A run with nothing changed: the result cache answers before any plugin is loaded.

``lint`` keys its whole result by :func:`fingerprint` (the tool version, the
configuration, the plugins and their versions, the selected checks, the clusters
asked for, and the size and time of every file it could read).  All of it but the
plugins comes from the command line, the configuration and the folders; what the
plugins registered comes from :mod:`homelab_kit.plugin_cache` while that is current.
So :func:`cached_result` computes the same key without importing the plugins, the
model or the engine, and returns the stored result, or None (then the run loads
everything and checks, as before).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homelab_kit.cache import Cache
    from homelab_kit.config import Config
    from homelab_kit.lint.result import LintResult


def salt(config: Config) -> str:
    """What every cache file of a run depends on besides its repository."""
    from homelab_kit import __version__
    from homelab_kit.cache import code_fingerprint
    from homelab_kit.yaml.reader import PARSED_FORMAT

    # The code is part of it: a cache another version (or an edit) wrote is not used.
    return f"{__version__}:{code_fingerprint()}:{PARSED_FORMAT}:{config.max_file_size}"


def fingerprint(
    root: Path,
    config: Config,
    plugins: Iterable[tuple[str, str, str]],
    check_ids: Sequence[str],
    clusters: Sequence[str],
    links: list[str] | None = None,
) -> str:
    """The key of a whole lint result (:func:`homelab_kit.cache.tree_fingerprint`).

    :param plugins: ``(name, distribution, version)`` of every loaded plugin, in
        :meth:`homelab_kit.plugins.PluginManager.plugins` order.
    :param check_ids: the selected checks' IDs, in ID order.
    :param links: receives every symbolic link met (``path -> target``).
    """
    from homelab_kit import __version__
    from homelab_kit.cache import fingerprint_folders, tree_fingerprint
    from homelab_kit.config import CONFIG_FILENAME
    from homelab_kit.root import DEFAULT_INCLUDE

    folders = config.include or tuple(d for d in DEFAULT_INCLUDE if (root / d).is_dir())
    return tree_fingerprint(
        root,
        (
            __version__,
            repr(config),
            repr([tuple(p) for p in plugins]),
            repr(list(check_ids)),
            repr(tuple(clusters)),
        ),
        (
            *(folders or (".",)),
            CONFIG_FILENAME,
            *fingerprint_folders(config.schema_locations),
        ),
        links,
    )


def cached_result(
    path: str, config: Config, clusters: Sequence[str], snapshot: dict[str, Any]
) -> LintResult | None:
    """The stored result of ``lint`` for ``path`` when nothing changed, else None.

    :param snapshot: :func:`homelab_kit.plugin_cache.current`.
    """
    import attrs

    from homelab_kit.cache import open_cache
    from homelab_kit.diagnostic import Severity
    from homelab_kit.lint.check import Check
    from homelab_kit.lint.result import LintResult
    from homelab_kit.lint.selection import enabled
    from homelab_kit.root import find_root

    started = time.perf_counter()
    root = find_root(path)
    stand_ins = [
        Check(
            id=check_id,
            severity=Severity.ERROR,
            doc="",
            remediation="",
            function=_unused,
            category=category,
        )
        for check_id, category in snapshot["ids"]
    ]
    ids = enabled(stand_ins, config)
    key = fingerprint(
        root,
        config,
        (tuple(p) for p in snapshot["plugins"]),
        [c.id for c in stand_ins if c.id in ids],
        clusters,
    )
    store: Cache | None = open_cache(config.cache_dir, root, salt=salt(config))
    hit = store.load_result(key) if store is not None else None
    if not isinstance(hit, LintResult):
        return None
    return attrs.evolve(hit, duration=time.perf_counter() - started)


def _unused(repo: Any, options: Any) -> Iterable[Any]:
    return ()
