"""``status`` and ``drift`` on a repository of two clusters: ``--cluster``, ``--repo``,
apps grouped by cluster."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from homelab_kit.testing import write_tree
from tests.core.test_clusters import _cluster_files

from .conftest import Result
from .fakeapi import FakeApiServer
from .objects import flux_crds, kustomization, simple

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
    fake_api.add(
        *flux_crds(),
        simple("v1", "Namespace", "flux-system"),
        kustomization("flux-system", "cluster"),
        kustomization("flux-system", "cluster-apps"),
        kustomization("flux-system", "echo"),
    )
    return fake_api


def test_status_groups_apps_by_the_repository_cluster(
    storage_cluster: FakeApiServer, kubeconfig: Path, two_cluster_repo: Path, run: Run
) -> None:
    result = run("status", two_cluster_repo, "--kubeconfig", kubeconfig, "-f", "json")
    apps = json.loads(result.out)["apps"]
    clusters = [a["cluster"] for a in apps]
    assert set(clusters) == {"main", "storage"}
    # cluster by cluster: every main app before every storage app
    assert clusters == sorted(clusters, key=["main", "storage"].index)
    echo = [(a["cluster"], a["directory"]) for a in apps if a["name"] == "echo"]
    assert echo == [
        ("main", "kubernetes/main/apps/default/echo"),
        ("storage", "kubernetes/storage/apps/default/echo"),
    ]
    text = run("status", two_cluster_repo, "--kubeconfig", kubeconfig)
    assert text.out.index("Cluster main of the repository") < text.out.index(
        "Cluster storage of the repository"
    )


def test_status_of_one_cluster_asks_only_about_its_apps(
    storage_cluster: FakeApiServer, kubeconfig: Path, two_cluster_repo: Path, run: Run
) -> None:
    # --repo is the same as PATH; --context wins over --cluster for the kubeconfig.
    args = ("--kubeconfig", kubeconfig, "--context", "admin", "--cluster", "storage")
    result = run("status", "--repo", two_cluster_repo, *args, "-f", "json")
    assert result.code == 0, result.err
    apps = json.loads(result.out)["apps"]
    assert {a["cluster"] for a in apps} == {"storage"}
    assert all(a["directory"].startswith("kubernetes/storage/") for a in apps)
    assert any(a["name"] == "echo" for a in apps)


def test_drift_of_one_cluster_expects_only_its_objects(
    storage_cluster: FakeApiServer, kubeconfig: Path, two_cluster_repo: Path, run: Run
) -> None:
    args = ("--kubeconfig", kubeconfig, "--context", "admin", "-f", "json")
    every = json.loads(run("drift", two_cluster_repo, *args).out)
    storage = json.loads(run("drift", two_cluster_repo, *args, "--cluster", "storage").out)
    assert any(m["path"].startswith("kubernetes/main/") for m in every["missing"])
    assert storage["missing"]
    assert not any(m["path"].startswith("kubernetes/main/") for m in storage["missing"])


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
