"""The lint engine: checks, configuration, suppressions and results."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from homelab_kit._lazy import attach

if TYPE_CHECKING:
    from homelab_kit.cache import Cache
    from homelab_kit.config import Config
    from homelab_kit.lint.check import DOC_SECTIONS, Check
    from homelab_kit.lint.engine import registered_checks, run_checks, selected_checks
    from homelab_kit.lint.result import CheckInfo, LintResult
    from homelab_kit.lint.warm import Walk
    from homelab_kit.model.loader import LoadOptions, Progress
    from homelab_kit.model.repo import Repo
    from homelab_kit.model.secrets import ProducerRule
    from homelab_kit.plugins import PluginManager

# Imported on first use (PEP 562), so that reading a cached result (homelab_kit.lint.
# result) or the check module of a plugin does not import the engine and the model.
_LAZY = {
    "DOC_SECTIONS": "homelab_kit.lint.check",
    "Check": "homelab_kit.lint.check",
    "registered_checks": "homelab_kit.lint.engine",
    "run_checks": "homelab_kit.lint.engine",
    "selected_checks": "homelab_kit.lint.engine",
    "CheckInfo": "homelab_kit.lint.result",
    "LintResult": "homelab_kit.lint.result",
}


__getattr__ = attach("homelab_kit.lint", _LAZY, globals())

# Where a linted Repo keeps what the build session named its objects (read by
# homelab_kit.lint.reuse).
OBJECT_IDENTITIES = "_object_identities"


__all__ = [
    "DOC_SECTIONS",
    "Check",
    "CheckInfo",
    "LintResult",
    "lint",
    "load_options",
    "registered_checks",
    "run_checks",
    "selected_checks",
    "start_parsing",
]


def load_options(config: Config, pm: PluginManager | None = None) -> LoadOptions:
    """What :func:`homelab_kit.load` should read, as the configuration says.

    Schema locations are the configured ones, then those plugins register through
    ``homelab_kit_register_schemas``.
    """
    import attrs

    from homelab_kit.errors import ConfigError
    from homelab_kit.model.repo import Settings

    registered = (
        tuple(str(loc) for _, loc in pm.registered("homelab_kit_register_schemas")) if pm else ()
    )
    for folder in config.include:
        if not (config.root / folder).exists():
            raise ConfigError(
                f"include: {folder!r} matches no file or folder in the repository",
                config.locations.get("include"),
            )
    return attrs.evolve(
        _read_options(config),
        settings=Settings(
            kubernetes_version=config.kubernetes_version,
            sops_allowlist=config.sops_allowlist,
            schema_locations=config.schema_locations + registered,
            missing_schema=config.missing_schema,
            bundled_schemas=config.bundled_schemas,
            cache_dir=config.cache_dir,
            clusters=config.clusters,
            secret_producers=_producer_rules(pm),
            bootstrap_secrets=config.bootstrap_secrets,
        ),
    )


def _read_options(config: Config) -> LoadOptions:
    """What to discover and how to parse, as the configuration says (no settings)."""
    from homelab_kit.model.loader import LoadOptions

    return LoadOptions(
        include=config.include,
        exclude=config.exclude,
        apps_root=config.apps_root,
        max_file_size=config.max_file_size,
        respect_gitignore=config.respect_gitignore,
    )


def start_parsing(
    path: str | os.PathLike[str] = ".",
    config_file: str | os.PathLike[str] | None = None,
    *,
    jobs: int = 1,
    respect_gitignore: bool | None = None,
) -> None:
    """Start parsing the repository at ``path`` in forked workers, for the next
    :func:`lint` of it without the cache to take over.

    The command line calls this before it imports the plugins, so that parsing
    overlaps the rest of the start-up.  Where the parse would stay in one process
    (``jobs``, as :func:`lint` takes it), only the files are discovered (and kept);
    where the configuration cannot be read, nothing starts (the run reports why).

    :param config_file: the configuration file, when not the repository's own.
    :param respect_gitignore: overrides the configuration's ``respect-gitignore``.
    """
    import warnings

    import attrs

    from homelab_kit.config import load_config
    from homelab_kit.errors import HomelabKitError
    from homelab_kit.model import loader

    try:
        with warnings.catch_warnings():  # the run reads it again, and warns then
            warnings.simplefilter("ignore")
            root = loader.find_root(path)
            config = load_config(root, Path(config_file) if config_file else None)
    except (HomelabKitError, OSError):
        return
    if respect_gitignore is not None:
        config = attrs.evolve(config, respect_gitignore=respect_gitignore)
    loader.start_parsing(root, attrs.evolve(_read_options(config), jobs=jobs))


def _producer_rules(pm: PluginManager | None) -> tuple[ProducerRule, ...]:
    """The rules plugins register through ``homelab_kit_register_secret_producers``."""
    from homelab_kit.errors import PluginError
    from homelab_kit.model.secrets import ProducerRule

    if pm is None:
        return ()
    rules: list[ProducerRule] = []
    for plugin, rule in pm.registered("homelab_kit_register_secret_producers"):
        if not isinstance(rule, ProducerRule):
            raise PluginError(
                f"plugin {plugin!r} registered {rule!r} as a secret producer, "
                "which is not a ProducerRule"
            )
        rules.append(rule)
    return tuple(rules)


def _build_clusters(repo: Repo, store: Cache, links: Sequence[str]) -> None:
    """Build ``repo.clusters`` now, reusing the builds ``store`` holds that are still
    valid and keeping this run's for the next (see :mod:`homelab_kit.build_cache`)."""
    from homelab_kit import build_cache  # the renderer: imported only when a run builds

    builds = build_cache.BuildSession(store, repo.root, links)
    with build_cache.using(builds):
        repo.clusters  # noqa: B018  (built here, through the session)
    builds.save()
    # What each built object is: the key of the check results kept per object.
    repo._memo[OBJECT_IDENTITIES] = builds.identities


def lint(
    path: str | os.PathLike[str] = ".",
    *,
    config: Config | None = None,
    pm: PluginManager | None = None,
    cache: bool = False,
    jobs: int = 1,
    progress: Progress | None = None,
    clusters: Sequence[str] = (),
    walked: Walk | None = None,
) -> LintResult:
    """Load the repository at ``path`` and run every selected check.

    :param path: any folder inside the repository.
    :param config: the configuration; read from ``.homelab-kit.yaml`` when omitted.
    :param pm: the plugin manager; the process-wide one when omitted.
    :param cache: reuse and update the cache of parsed files and results (the CLI
        does; library calls default to a fresh read).
    :param jobs: processes that parse and check: 1 this one alone, N that many; 0
        (the CLI's default), on a repository large enough to gain, parses with one
        process per spare CPU (the load average tells:
        :func:`homelab_kit.model.loader.spare_cpus`), and checks with two processes
        when two are spare.
    :param progress: called as ``progress(phase, done, total)`` while files are
        parsed (``"parse"``) and checks run (``"check"``).
    :param clusters: report only files of these clusters (and files no cluster
        claims, such as talos/); default every cluster.
    :param walked: with ``cache``, the stat walk a moment ago of this repository
        with this configuration (:func:`homelab_kit.lint.warm.cached_result` returns
        it when it finds no stored result): the result's key is made from it rather
        than from a walk of its own.
    :returns: the :class:`LintResult`.
    :raises HomelabKitError: a name in ``clusters`` the repository has no cluster of.
    """
    import attrs

    from homelab_kit import __version__
    from homelab_kit.cache import open_cache
    from homelab_kit.config import load_config
    from homelab_kit.lint import warm
    from homelab_kit.lint.engine import registered_checks, run_checks, selected_checks
    from homelab_kit.lint.mask import mask_result
    from homelab_kit.lint.result import LintResult
    from homelab_kit.model.clusters import outside, processes, select_clusters
    from homelab_kit.model.loader import cancel_started, check_jobs, find_root, load, paused_gc
    from homelab_kit.model.loader import start_parsing as start_workers
    from homelab_kit.plugins import get_plugin_manager

    started = time.perf_counter()
    root = find_root(path)
    config = config or load_config(root)
    if not cache:  # workers parse while the plugins load and the checks are chosen
        start_workers(root, attrs.evolve(_read_options(config), jobs=jobs))
    try:
        pm = pm or get_plugin_manager()
        pm.hook.homelab_kit_configure(config=config)
        registered = registered_checks(pm)
        checks = selected_checks(registered, config)
        options = attrs.evolve(load_options(config, pm), jobs=jobs)
    except BaseException:
        cancel_started()  # its files would be stale for a later load
        raise
    store: Cache | None = None
    fingerprint = ""
    links: list[str] = []
    if cache:
        if not warm.made_for(walked, root, config):
            walked = None
        salt = walked.salt if walked else warm.salt(config)
        store = open_cache(config.cache_dir, root, salt=salt)
    if store is not None:
        walked = walked or warm.walk(root, config, store.salt)
        links = list(walked.links)
        fingerprint = warm.fingerprint(
            walked,
            config,
            [(p.name, p.distribution, p.version) for p in pm.plugins()],
            [c.id for c in checks],
            clusters,
        )
        hit = store.load_result(fingerprint)
        if isinstance(hit, LintResult):
            return attrs.evolve(hit, duration=time.perf_counter() - started)
    kinds = [k for _, k in pm.registered("homelab_kit_register_kinds")]
    with paused_gc(), processes(jobs):
        repo: Repo = load(Path(root), options, kinds=kinds, cache=store, progress=progress)
        if store is not None:
            _build_clusters(repo, store, links)
        pm.hook.homelab_kit_repo_loaded(repo=repo)
        reuse = None
        if store is not None:
            from homelab_kit.lint.reuse import Reuse

            plugins = [(p.name, p.distribution, p.version) for p in pm.plugins()]
            reuse = Reuse(repo, store.load_checks(), f"{config!r}\0{plugins!r}")
        result = run_checks(
            repo,
            checks,
            config,
            started=started,
            tool_version=__version__,
            progress=progress,
            # Checks share the loaded repository with forked processes, which then
            # copy much of it: worth it on a large repository with spare CPUs.  What
            # a forked process's checks keep per object comes back with its findings.
            jobs=check_jobs(jobs, len(repo.files)),
            known=[c.id for c in registered],
            reuse=reuse,
        )
        # No value of a Secret that substitution wrote into the desired state is
        # reported, handed to a plugin or cached (homelab_kit.lint.mask).
        result = mask_result(repo, result)
        if reuse is not None and store is not None:
            reuse.keep_tables()
            store.save_checks(reuse.kept)
        chosen = select_clusters(repo.clusters, clusters)
        if clusters:
            names = {c.name for c in chosen}
            result = attrs.evolve(
                result,
                diagnostics=tuple(
                    d
                    for d in result.diagnostics
                    if (
                        d.cluster in names
                        if d.cluster is not None
                        else not outside(repo.clusters, chosen, d.location.path)
                    )
                ),
            )
        result = attrs.evolve(result, clusters=tuple(c.name for c in chosen))
    pm.hook.homelab_kit_lint_finished(result=result)
    if store is not None:
        store.save_result(fingerprint, result, watched=repo.outside_paths)
    return result
