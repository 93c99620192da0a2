"""``status`` and ``drift`` on a repository of two clusters: ``--cluster``, ``--repo``,
apps grouped by cluster."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from homelab_kit.testing import write_tree
from tests.core.test_clusters import _cluster_files

from .conftest import Result
from .fakeapi import ADMIN_TOKEN, FakeApiServer
from .objects import GIT_REVISION, flux_crds, kustomization, simple, source

Run = Callable[..., Result]


@pytest.fixture
def two_cluster_repo(tmp_path: Path) -> Path:
    """kubernetes/main and kubernetes/storage, each with an echo app."""
    return write_tree(
        tmp_path / "repo", {**_cluster_files("main", "8080"), **_cluster_files("storage", "9090")}
    )


@pytest.fixture
def storage_cluster(fake_api: FakeApiServer) -> FakeApiServer:
    """A live cluster running the storage cluster's Kustomizations, all Ready."""
    fake_api.add(*_flux_of_cluster())
    return fake_api


def _flux_of_cluster(*, echo: bool = True) -> list[dict[str, Any]]:
    """What Flux leaves in a cluster of :func:`two_cluster_repo` (``echo``: its app)."""
    return [
        *flux_crds(),
        simple("v1", "Namespace", "flux-system"),
        kustomization("flux-system", "cluster"),
        kustomization("flux-system", "cluster-apps"),
        *([kustomization("flux-system", "echo")] if echo else []),
    ]


@pytest.fixture
def main_cluster() -> Iterator[FakeApiServer]:
    """A second fake API server: the main cluster, whose echo app is not deployed yet."""
    server = FakeApiServer().start()
    server.add(*_flux_of_cluster(echo=False))
    try:
        yield server
    finally:
        server.stop()


def _kubeconfig(path: Path, contexts: dict[str, FakeApiServer], current: str) -> Path:
    """A kubeconfig whose context NAME reaches the fake server ``contexts[NAME]``."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": f"c{i}", "cluster": {"server": server.url}}
            for i, server in enumerate(contexts.values())
        ],
        "users": [{"name": "admin", "user": {"token": ADMIN_TOKEN}}],
        "contexts": [
            {"name": name, "context": {"cluster": f"c{i}", "user": "admin"}}
            for i, name in enumerate(contexts)
        ],
        "current-context": current,
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


@pytest.fixture
def two_contexts(
    main_cluster: FakeApiServer, storage_cluster: FakeApiServer, tmp_path: Path
) -> Path:
    """Contexts admin@main (as talosctl names them) and storage, current: storage."""
    return _kubeconfig(
        tmp_path / "two.yaml",
        {"admin@main": main_cluster, "storage": storage_cluster},
        current="storage",
    )


def test_each_cluster_is_asked_through_its_own_context(
    two_contexts: Path, two_cluster_repo: Path, run: Run
) -> None:
    result = run("status", two_cluster_repo, "--kubeconfig", two_contexts, "-f", "json")
    assert result.code == 1, result.err  # main's echo is not deployed
    assert result.err == ""
    document = json.loads(result.out)
    assert document["ready"] is False
    assert document["skipped"] == []
    assert document["errors"] == []
    by_cluster = {c["cluster"]: c for c in document["clusters"]}
    assert list(by_cluster) == ["main", "storage"]
    assert by_cluster["main"]["context"] == "admin@main"
    assert by_cluster["storage"]["context"] == "storage"
    # each cluster's own apps, each against its own server
    assert {a["cluster"] for a in by_cluster["main"]["apps"]} == {"main"}
    assert {a["cluster"] for a in by_cluster["storage"]["apps"]} == {"storage"}
    assert by_cluster["storage"]["ready"] is True
    echo = next(a for a in by_cluster["main"]["apps"] if a["name"] == "echo")
    assert echo["ready"] is False
    text = run("status", two_cluster_repo, "--kubeconfig", two_contexts)
    assert text.out.index("Cluster main of the repository") < text.out.index(
        "Cluster storage of the repository"
    )
    assert "(context admin@main)" in text.out
    assert "(context storage)" in text.out


def test_contexts_of_the_configuration_map_clusters_to_contexts(
    main_cluster: FakeApiServer,
    storage_cluster: FakeApiServer,
    two_cluster_repo: Path,
    tmp_path: Path,
    run: Run,
) -> None:
    # context names that say nothing about the clusters; storage's is main's server
    kubeconfig = _kubeconfig(
        tmp_path / "k.yaml", {"home": storage_cluster, "nas": main_cluster}, current="home"
    )
    (two_cluster_repo / ".homelab-kit.yaml").write_text(
        "contexts:\n  main: nas\n  storage: home\n", encoding="utf-8"
    )
    result = run("drift", two_cluster_repo, "--kubeconfig", kubeconfig, "-f", "json")
    document = json.loads(result.out)
    assert [(c["cluster"], c["context"]) for c in document["clusters"]] == [
        ("main", "nas"),
        ("storage", "home"),
    ]
    main, storage = document["clusters"]
    assert all(m["path"].startswith("kubernetes/main/") for m in main["missing"])
    assert all(m["path"].startswith("kubernetes/storage/") for m in storage["missing"])
    # --cluster takes its context from the configuration too
    one = run("drift", two_cluster_repo, "--kubeconfig", kubeconfig, "--cluster", "main")
    assert "(context nas)" in one.out


def test_a_cluster_without_a_context_is_skipped_in_one_line(
    storage_cluster: FakeApiServer, two_cluster_repo: Path, tmp_path: Path, run: Run
) -> None:
    kubeconfig = _kubeconfig(
        tmp_path / "k.yaml", {"storage": storage_cluster, "admin": storage_cluster}, "admin"
    )
    result = run("status", two_cluster_repo, "--kubeconfig", kubeconfig, "-f", "json")
    assert result.err.splitlines() == [
        "homelab-kit: warning: cluster main (no kubeconfig context is named like it) of "
        "the repository skipped: map it to its kubeconfig context in .homelab-kit.yaml "
        "(contexts: {main: CONTEXT}), or run with --cluster main --context CONTEXT"
    ]
    document = json.loads(result.out)
    assert [c["cluster"] for c in document["clusters"]] == ["storage"]
    assert document["skipped"] == [
        {"cluster": "main", "reason": "no kubeconfig context is named like it"}
    ]
    # what was asked is Ready; the run is not (a cluster was not checked)
    assert document["clusters"][0]["ready"] is True
    assert document["ready"] is False
    assert result.code == 0


def test_no_cluster_matching_a_context_is_one_line_and_exit_2(
    storage_cluster: FakeApiServer, kubeconfig: Path, two_cluster_repo: Path, run: Run
) -> None:
    # contexts admin, reader, expired, refused: none is main or storage, and the
    # current context is not guessed to be one of two clusters
    for command in ("status", "drift", "doctor", "reconcile"):
        result = run(command, "--repo", two_cluster_repo, "--kubeconfig", kubeconfig)
        assert result.code == 2, command
        assert result.out == ""
        assert result.err.splitlines() == [
            "homelab-kit: error: clusters main (no kubeconfig context is named like it), "
            "storage (no kubeconfig context is named like it) of the repository skipped: "
            "map each to its kubeconfig context in .homelab-kit.yaml (contexts: {main: "
            "CONTEXT}), or run with --cluster main --context CONTEXT"
        ], command


def test_a_context_alone_must_say_which_cluster_it_runs(
    two_contexts: Path, two_cluster_repo: Path, run: Run
) -> None:
    args = ("status", two_cluster_repo, "--kubeconfig", two_contexts, "-f", "json")
    result = run(*args, "--context", "storage")
    assert result.code == 0, result.err
    assert [c["cluster"] for c in json.loads(result.out)["clusters"]] == ["storage"]
    (two_cluster_repo / ".homelab-kit.yaml").write_text(
        "contexts: {main: storage}\n", encoding="utf-8"
    )
    both = run(*args, "--context", "storage")  # now main's and storage's by name
    assert both.code == 2
    assert both.err.startswith(
        "homelab-kit: error: context 'storage' runs several of the repository's clusters "
        "(main, storage) as far as names tell: pass --cluster NAME with --context"
    )


def test_a_cluster_that_cannot_be_asked_does_not_stop_the_others(
    storage_cluster: FakeApiServer, two_cluster_repo: Path, tmp_path: Path, run: Run
) -> None:
    gone = FakeApiServer().start()
    gone.stop()  # connection refused
    kubeconfig = _kubeconfig(
        tmp_path / "k.yaml", {"main": gone, "storage": storage_cluster}, "main"
    )
    result = run("doctor", "--repo", two_cluster_repo, "--kubeconfig", kubeconfig, "-f", "json")
    assert result.code == 2
    (line,) = result.err.splitlines()
    assert line.startswith("homelab-kit: error: cluster main: cannot connect to the cluster at ")
    assert line.endswith("(context main): connection refused")
    document = json.loads(result.out)
    assert [c["cluster"] for c in document["clusters"]] == ["storage"]
    assert [e["cluster"] for e in document["errors"]] == ["main"]


def test_doctor_of_one_app_asks_the_clusters_that_deploy_it(
    two_contexts: Path, two_cluster_repo: Path, run: Run
) -> None:
    result = run(
        "doctor",
        "default/echo",
        "--repo",
        two_cluster_repo,
        "--kubeconfig",
        two_contexts,
        "-f",
        "json",
    )
    document = json.loads(result.out)
    by_cluster = {c["cluster"]: c for c in document["clusters"]}
    assert set(by_cluster) == {"main", "storage"}
    assert by_cluster["storage"]["ok"] is True
    assert by_cluster["main"]["ok"] is False  # its echo Kustomization is not there
    assert result.code == 1


def test_reconcile_without_a_target_reconciles_each_clusters_root(
    main_cluster: FakeApiServer,
    storage_cluster: FakeApiServer,
    two_contexts: Path,
    two_cluster_repo: Path,
    run: Run,
) -> None:
    for server in (main_cluster, storage_cluster):
        # the Kustomization flux bootstrap made, which applies kubernetes/<cluster>/flux/config
        server.add(
            source("GitRepository", "flux-system", "flux-system", GIT_REVISION),
            kustomization("flux-system", "flux-system"),
        )
        server.controller("kustomizations", "flux-system", "flux-system", polls=1)
        server.controller("gitrepositories", "flux-system", "flux-system", polls=1)
    result = run(
        "reconcile",
        "--repo",
        two_cluster_repo,
        "--kubeconfig",
        two_contexts,
        "--poll-interval",
        "10ms",
        "-f",
        "json",
    )
    assert result.code == 0, result.err
    for server in (main_cluster, storage_cluster):
        assert ("kustomizations", "flux-system", "flux-system") in [
            (p.plural, p.namespace, p.name) for p in server.patches
        ]


@pytest.mark.parametrize("command", ["status", "drift", "doctor"])
def test_an_unknown_cluster_is_one_line_naming_the_known_ones(
    storage_cluster: FakeApiServer, kubeconfig: Path, two_cluster_repo: Path, run: Run, command: str
) -> None:
    result = run(
        command,
        "--repo",
        two_cluster_repo,
        "--kubeconfig",
        kubeconfig,
        "--context",
        "admin",
        "--cluster",
        "stroage",
    )
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "homelab-kit: error: no cluster 'stroage' (did you mean 'storage'?); "
        "the repository's clusters: main, storage"
    ]
