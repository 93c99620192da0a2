"""The desired state built in processes is the one built in one process, exactly.

``homelab_kit.model.clusters`` builds a wide frontier of Flux Kustomizations ahead
of its turn in forked processes; here that path is forced (a frontier of one, two
processes) and compared, object by object with positions and provenance, with the
one-process build.  No test here asserts a time: benchmarks/run.py measures those.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from homelab_kit import build_cache
from homelab_kit.config import load_config
from homelab_kit.lint import load_options
from homelab_kit.model import clusters
from homelab_kit.model.clusters import Cluster, DesiredObject
from homelab_kit.model.loader import load
from homelab_kit.model.provenance import Provenance
from homelab_kit.plugins import PluginManager
from homelab_kit.testing import YamlTree
from tests.conftest import corpus_path
from tests.perf.test_parallel import _generate_module


def _provenance(p: Provenance) -> Any:
    return (
        p.source,
        sorted(p.fields.items(), key=repr),
        sorted(((k, tuple(v)) for k, v in p.substitutions.items()), key=repr),
    )


def _object(obj: DesiredObject) -> Any:
    # the digest covers the YAML positions of every node, not only the values
    return (build_cache._digest(obj.data), _provenance(obj.provenance), obj.applied_by)


def _state(built: Sequence[Cluster]) -> list[Any]:
    """Everything a cluster's desired state says, in order."""
    return [
        (
            c.name,
            c.entry,
            c.how,
            [
                (
                    k.key,
                    k.path,
                    _object(k.object),
                    k.warnings,
                    k.errors,
                    sorted(k.unresolved),
                    [_object(o) for o in k.objects],
                )
                for k in c.kustomizations
            ],
            [_object(o) for o in c.objects],
            [a.ks_path for a in c.apps],
            sorted(c.files),
            c.folders,
        )
        for c in built
    ]


def _clusters(root: Path, jobs: int) -> tuple[Cluster, ...]:
    pm = PluginManager(autoload=False)
    config = load_config(root)
    pm.hook.homelab_kit_configure(config=config)
    repo = load(root, load_options(config, pm))
    with clusters.processes(jobs):
        return repo.clusters


# Where builds ahead were made: ``pid name`` a line (a file: workers are forked).
_LOG: list[Path] = []
_REAL_ATTEMPT = clusters._attempt


def _recorded_attempt(*args: Any) -> Any:
    with _LOG[0].open("a") as out:
        out.write(f"{os.getpid()} {args[2][0].data['metadata']['name']}\n")
    return _REAL_ATTEMPT(*args)


def _lost_worker(numbers: Sequence[int]) -> bytes:
    os._exit(3)  # a worker killed mid-way (out of memory, say)


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Every frontier, however narrow, built ahead in processes; the file returned
    lists each build made ahead (``pid name`` a line)."""
    monkeypatch.setattr(clusters, "PARALLEL_FRONTIER", 1)
    monkeypatch.setattr(clusters, "_attempt", _recorded_attempt)
    log = tmp_path / "ahead"
    log.touch()
    _LOG[:] = [log]
    yield log
    _LOG.clear()


@pytest.fixture
def in_workers(forced: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """:func:`forced`, and the main process never takes a chunk from the workers
    (which chunks it takes depends on how fast each process runs): every build
    ahead is made in a worker."""
    import concurrent.futures

    monkeypatch.setattr(concurrent.futures.Future, "cancel", lambda self: False)
    return forced


def _ahead(log: Path) -> list[str]:
    """The names of the Kustomizations built ahead."""
    return [line.split()[1] for line in log.read_text().splitlines()]


def _in_workers(log: Path) -> list[str]:
    """The names of the Kustomizations built ahead in another process."""
    rows = [line.split() for line in log.read_text().splitlines()]
    return [name for pid, name in rows if int(pid) != os.getpid()]


def test_reference_cluster_built_in_processes_is_the_same(
    reference_root: Path, forced: Path
) -> None:
    parallel = _clusters(reference_root, 2)
    assert _ahead(forced)
    assert _state(parallel) == _state(_clusters(reference_root, 1))


@pytest.mark.parametrize(
    "corpus",
    [
        "onedr0p__home-ops-2024",  # two clusters
        "vrozaksen__home-ops",
        "bjw-s-labs__home-ops",
        "yamshy__homelab",
    ],
)
def test_corpus_built_in_processes_is_the_same(corpus: str, forced: Path) -> None:
    root = corpus_path(corpus)
    parallel = _clusters(root, 2)
    assert _ahead(forced)
    assert _state(parallel) == _state(_clusters(root, 1))


_SYNC = "sourceRef: {kind: GitRepository, name: flux-system}"


def _ks(name: str, path: str, extra: str = "") -> str:
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata: {{name: {name}, namespace: flux-system}}\n"
        f"spec:\n  interval: 10m\n  path: {path}\n  prune: true\n  {_SYNC}\n{extra}"
    )


@pytest.fixture
def siblings(yaml_tree: YamlTree) -> Path:
    """A frontier whose first Kustomization renders the ConfigMap a later one
    substitutes from (optionally: so the later one does not wait for it), one whose
    folder is missing, and one that waits for that ConfigMap (so it is not built
    ahead) but not in turn."""
    app = "  postBuild:\n    substituteFrom:\n      - {kind: ConfigMap, name: app-settings%s}\n"
    return yaml_tree(
        {
            "kubernetes/flux/cluster.yaml": _ks("cluster", "./kubernetes/apps"),
            "kubernetes/apps/kustomization.yaml": "resources: [a.yaml, b.yaml, c.yaml, d.yaml]\n",
            # (kustomize orders them by name)
            "kubernetes/apps/a.yaml": _ks("base", "./kubernetes/settings"),
            "kubernetes/apps/b.yaml": _ks("consumer", "./kubernetes/app", app % ", optional: true"),
            "kubernetes/apps/c.yaml": _ks("dangling", "./kubernetes/missing"),
            "kubernetes/apps/d.yaml": _ks("waiter", "./kubernetes/late", app % ""),
            "kubernetes/settings/kustomization.yaml": "resources: [cm.yaml, late.yaml]\n",
            "kubernetes/settings/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\n"
                "metadata: {name: app-settings, namespace: flux-system}\n"
                "data: {PORT: '8080'}\n"
            ),
            "kubernetes/settings/late.yaml": _ks("late", "./kubernetes/app"),
            "kubernetes/app/kustomization.yaml": "resources: [svc.yaml]\n",
            "kubernetes/app/svc.yaml": (
                "apiVersion: v1\nkind: Service\nmetadata: {name: app}\n"
                "spec:\n  ports:\n    - port: ${PORT:=80}\n"
            ),
            "kubernetes/late/kustomization.yaml": "resources: [svc.yaml]\n",
            "kubernetes/late/svc.yaml": (
                "apiVersion: v1\nkind: Service\nmetadata: {name: late}\n"
                "spec:\n  ports:\n    - port: ${PORT}\n"
            ),
        }
    )


def _port(cluster: Cluster, kustomization: str) -> Any:
    ks = cluster.kustomization("flux-system", kustomization)
    assert ks is not None
    (service,) = (o for o in ks.objects if o.kind == "Service")
    return service.get("spec", "ports", 0, "port")


def test_a_build_ahead_is_not_used_when_a_sibling_changed_its_sources(
    siblings: Path, in_workers: Path
) -> None:
    """``consumer`` was built ahead without ``app-settings`` (not rendered yet): in
    turn it is given it, so it is built again, as one process builds it."""
    (parallel,) = _clusters(siblings, 2)
    # waiter waits for app-settings: not built ahead
    assert sorted(_in_workers(in_workers)) == ["base", "consumer", "dangling"]
    (serial,) = _clusters(siblings, 1)
    assert _state([parallel]) == _state([serial])
    assert _port(parallel, "consumer") == 8080  # from app-settings, not left as it was
    assert _port(parallel, "waiter") == 8080  # it waited for its sibling
    assert [k.name for k in parallel.kustomizations] == [
        "cluster",
        "base",
        "consumer",
        "dangling",
        "waiter",
        "late",
    ]
    broken = parallel.kustomization("flux-system", "dangling")
    assert broken is not None
    assert broken.errors
    assert "does not exist" in broken.errors[0]


def test_a_lost_worker_leaves_its_builds_to_be_made_in_turn(
    siblings: Path, in_workers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clusters, "_attempt_chunk", _lost_worker)
    assert _state(_clusters(siblings, 2)) == _state(_clusters(siblings, 1))


def _cached_run(root: Path, cache: Path, jobs: int) -> dict[str, Any]:
    """Build ``root``'s clusters through a build cache in ``cache``; what it kept."""
    from homelab_kit.cache import open_cache

    pm = PluginManager(autoload=False)
    repo = load(root, load_options(load_config(root), pm))
    store = open_cache(cache, root, salt="test")
    assert store is not None
    session = build_cache.BuildSession(store, repo.root)
    with build_cache.using(session), clusters.processes(jobs):
        built = repo.clusters
    session.save()
    return {
        "state": _state(built),
        "built": session.built,
        "reused": session.reused,
        "kept": sorted((key, value[0]) for key, value in store._builds_kept.items()),
        "names": [
            session.identities[id(o.data)][1]
            for c in built
            for o in c.objects
            if id(o.data) in session.identities
        ],
    }


def test_cached_builds_in_processes_keep_what_one_process_keeps(
    generated_small: Path, in_workers: Path, tmp_path: Path
) -> None:
    """Each build made in a worker comes back with what it read: the cache keeps the
    same builds, under the same keys, with the same dependencies, and names each
    object the same (the key of the check results kept per object)."""
    one = _cached_run(generated_small, tmp_path / "one", 1)
    assert _ahead(in_workers) == []  # asked for one process: nothing built ahead
    two = _cached_run(generated_small, tmp_path / "two", 2)
    assert _in_workers(in_workers)
    assert one["built"] > 0
    assert one["names"]
    assert two == one
    # The next run reuses every build, here, without a process.
    in_workers.write_text("")
    again = _cached_run(generated_small, tmp_path / "two", 2)
    assert _ahead(in_workers) == []
    assert (again["built"], again["reused"]) == (0, one["built"])
    assert again["state"] == one["state"]
    assert again["names"] == one["names"]


def test_auto_builds_in_processes_only_with_spare_cpus_on_a_large_repository(
    generated_small: Path, forced: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homelab_kit.model import loader

    monkeypatch.setattr(loader.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(loader.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(loader, "available_cpus", lambda: 2)
    _clusters(generated_small, 0)  # fewer files than PARALLEL_THRESHOLD
    assert _ahead(forced) == []
    monkeypatch.setattr(loader, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(loader.os, "getloadavg", lambda: (6.0, 6.0, 6.0))  # others keep both busy
    _clusters(generated_small, 0)
    assert _ahead(forced) == []
    monkeypatch.setattr(loader.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    _clusters(generated_small, 0)
    assert _ahead(forced)


@pytest.fixture
def generated_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated 12-app repository (benchmarks/generate.py)."""
    root = tmp_path_factory.mktemp("bench") / "repo"
    _generate_module().generate(root, 2, 6, seed=3)
    return root


def test_lint_builds_in_the_processes_its_jobs_ask_for(
    generated_small: Path, forced: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``lint(jobs=1)`` (``--jobs 1``) builds in this process even with CPUs to spare;
    ``jobs=2`` builds ahead in processes."""
    import homelab_kit
    from homelab_kit.model import loader

    monkeypatch.setattr(loader.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(loader, "available_cpus", lambda: 2)
    monkeypatch.setattr(loader, "PARALLEL_THRESHOLD", 1)
    one = homelab_kit.lint(generated_small, jobs=1)
    assert _ahead(forced) == []
    two = homelab_kit.lint(generated_small, jobs=2)
    assert _ahead(forced)
    assert two.diagnostics == one.diagnostics


def test_outside_lint_a_build_stays_in_this_process(
    generated_small: Path, forced: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``repo.clusters`` asked by a library (no ``processes`` block) never forks."""
    from homelab_kit.model import loader

    monkeypatch.setattr(loader.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(loader, "available_cpus", lambda: 2)
    monkeypatch.setattr(loader, "PARALLEL_THRESHOLD", 1)
    config = load_config(generated_small)
    pm = PluginManager(autoload=False)
    pm.hook.homelab_kit_configure(config=config)
    assert load(generated_small, load_options(config, pm)).clusters
    assert _ahead(forced) == []
