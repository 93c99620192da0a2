"""A run with nothing changed: the result cache answers before any plugin is loaded.

``lint`` keys its whole result by :func:`fingerprint` (the tool version, the
configuration, the plugins and their versions, the selected checks, the clusters
asked for, and the size and time of every file it could read).  All of it but the
plugins comes from the command line, the configuration and the folders; what the
plugins registered comes from :mod:`homelab_kit.plugin_cache` while that is current.
So :func:`cached_result` computes the same key without importing the plugins, the
model or the engine, and returns the stored result, or the walk it made (then the
run loads everything and checks, as before, keyed by that walk).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeGuard

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


class Walk(NamedTuple):
    """What a run saw of the repository's files before it started: the stat walk
    behind :func:`fingerprint` and the cache's salt.

    :func:`cached_result` returns it when the store holds no result, so that the
    run which follows (``lint(..., walked=...)``) neither walks the tree nor hashes
    the code a second time: at 1,000 apps the walk stats 8,666 files.  A file that
    changes after the walk makes the stored result's key stale, so the next run
    misses, as it would had the change come after a walk made later.
    """

    root: Path
    config: Config
    folders: tuple[str, ...]
    tree: str  # :func:`homelab_kit.cache.tree_fingerprint` of ``folders``, no parts
    links: tuple[str, ...]  # every symbolic link met, ``path -> target``
    salt: str


def folders(root: Path, config: Config) -> tuple[str, ...]:
    """The files and folders a result's key covers: what a run could read."""
    from homelab_kit.cache import fingerprint_folders
    from homelab_kit.config import CONFIG_FILENAME
    from homelab_kit.root import DEFAULT_INCLUDE

    found = config.include or tuple(d for d in DEFAULT_INCLUDE if (root / d).is_dir())
    return (
        *(found or (".",)),
        CONFIG_FILENAME,
        *(_gitignores_above(found) if config.respect_gitignore else ()),
        *fingerprint_folders(config.schema_locations),
    )


def _gitignores_above(tops: Iterable[str]) -> tuple[str, ...]:
    """The ``.gitignore`` files a run reads outside the folders it walks: the
    root's and those of the folders down to each included one (the loader's
    ``_gitignores``), so that a new ignore pattern there is a change."""
    out = {".gitignore"}
    for top in tops:
        parts = [p for p in top.strip("/").split("/") if p not in ("", ".")]
        for depth in range(1, len(parts)):
            out.add("/".join(parts[:depth]) + "/.gitignore")
    return tuple(sorted(out))


def walk(root: Path, config: Config, salted: str) -> Walk:
    """Stat every file a run of ``root`` could read (:class:`Walk`).

    :param salted: :func:`salt` of ``config``.
    """
    from homelab_kit.cache import tree_fingerprint

    covered = folders(root, config)
    links: list[str] = []
    tree = tree_fingerprint(root, (), covered, links)
    return Walk(root, config, covered, tree, tuple(links), salted)


def made_for(walked: Walk | None, root: Path, config: Config) -> TypeGuard[Walk]:
    """Whether ``walked`` was made of ``root`` with this configuration."""
    return walked is not None and walked.root == root and walked.config == config


def fingerprint(
    walked: Walk,
    config: Config,
    plugins: Iterable[tuple[str, str, str]],
    check_ids: Sequence[str],
    clusters: Sequence[str],
) -> str:
    """The key of a whole lint result: the tool version, the configuration, the
    plugins, the selected checks, the clusters asked for, and ``walked``.

    :param plugins: ``(name, distribution, version)`` of every loaded plugin, in
        :meth:`homelab_kit.plugins.PluginManager.plugins` order.
    :param check_ids: the selected checks' IDs, in ID order.
    """
    import hashlib

    from homelab_kit import __version__

    h = hashlib.sha256()
    for part in (
        __version__,
        repr(config),
        repr([tuple(p) for p in plugins]),
        repr(list(check_ids)),
        repr(tuple(clusters)),
        walked.tree,
    ):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def cached_result(
    path: str, config: Config, clusters: Sequence[str], snapshot: dict[str, Any]
) -> LintResult | Walk:
    """The stored result of ``lint`` for ``path`` when nothing changed, else the
    :class:`Walk` it made (for that ``lint`` to reuse).

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
    salted = salt(config)
    walked = walk(root, config, salted)
    key = fingerprint(
        walked,
        config,
        (tuple(p) for p in snapshot["plugins"]),
        [c.id for c in stand_ins if c.id in ids],
        clusters,
    )
    store: Cache | None = open_cache(config.cache_dir, root, salt=salted)
    hit = store.load_result(key) if store is not None else None
    if not isinstance(hit, LintResult):
        return walked
    return attrs.evolve(hit, duration=time.perf_counter() - started)


def _unused(repo: Any, options: Any) -> Iterable[Any]:
    return ()
