"""The reference cluster (kubernetes/ of this project) against a fake API server that
holds what Flux and the Infisical operator would have applied for it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import homelab_kit
from homelab_kit.cluster import declared_objects
from homelab_kit.model.repo import Repo

from .conftest import Result
from .fakeapi import FakeApiServer
from .objects import (
    GIT_REVISION,
    HELM,
    INFISICAL,
    KUSTOMIZE,
    PLANTED_SECRET_VALUE,
    SOURCE,
    crd,
    flux_crds,
    flux_labels,
    helm_release,
    infisical_crds,
    infisical_secret,
    kustomization,
    secret,
    simple,
    source,
)

Run = Callable[..., Result]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SCOPED = {
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "CiliumLoadBalancerIPPool",
    "CiliumL2AnnouncementPolicy",
    "CiliumClusterwideNetworkPolicy",
    "GatewayClass",
    "StorageClass",
}


def seed(server: FakeApiServer, repo: Repo) -> None:
    """What a healthy cluster holds: every declared object, applied and labelled by the
    Flux Kustomization that deploys it, Ready, and every managed Secret."""
    server.add(*flux_crds(), *infisical_crds())
    declared = declared_objects(repo)
    groups = {(d.key.group, d.key.kind) for d in declared if d.key.group}
    for group, kind in sorted(groups):
        if server.served_kind(group, kind) is None:
            scope = "Cluster" if kind in CLUSTER_SCOPED else "Namespaced"
            server.add(crd(group, kind, f"{kind.lower()}s", ["v1", "v2", "v2alpha1"], scope=scope))
    server.add(source("GitRepository", "flux-system", "flux-system", GIT_REVISION))
    for item in declared:
        owners = repo.deployed_by.get(item.path) or (("flux-system", "flux-system"),)
        labels = flux_labels(str(owners[0][0]), owners[0][1])
        namespace = item.key.namespace or "default"
        name = f"{item.key.name}-5h8mk7b9tc" if item.generated else item.key.name
        server.add(_object(item.key.group, item.key.kind, name, namespace, labels))
    for managed in (m for s in repo.infisical_secrets for m in s.managed_secrets):
        server.add(
            secret(managed.namespace or "default", managed.name, {"k": PLANTED_SECRET_VALUE})
        )


def _object(group: str, kind: str, name: str, namespace: str, labels: Any) -> dict[str, Any]:
    if (group, kind) == (KUSTOMIZE, "Kustomization"):
        return kustomization(namespace, name, labels=labels)
    if (group, kind) == (HELM, "HelmRelease"):
        return helm_release(namespace, name, labels=labels)
    if (group, kind) == (INFISICAL, "InfisicalSecret"):
        return infisical_secret(namespace, name, f"{name}-x", labels=labels)
    if group == SOURCE:
        return source(kind, namespace, name, "1.0.0@sha256:0b1c2d3e", labels=labels)
    api_version = f"{group}/v1" if group else "v1"
    if kind in ("Namespace", *CLUSTER_SCOPED):
        return simple(api_version, kind, name, labels=labels)
    return simple(api_version, kind, name, namespace, labels=labels)


@pytest.fixture
def reference(fake_api: FakeApiServer) -> tuple[Repo, FakeApiServer]:
    repo = homelab_kit.load(PROJECT_ROOT)
    if not repo.apps:
        pytest.skip("the reference cluster declares no apps")
    seed(fake_api, repo)
    return repo, fake_api


def test_status_and_drift_of_a_healthy_reference_cluster(
    reference: tuple[Repo, FakeApiServer], kubeconfig: Path, run: Run
) -> None:
    repo, _ = reference
    status = run("status", PROJECT_ROOT, "--kubeconfig", kubeconfig, "--format", "json")
    assert status.code == 0, status.out + status.err
    data = json.loads(status.out)
    listed = {(a["namespace"], a["name"]) for a in data["apps"]}
    assert {(a.namespace, a.name) for a in repo.apps} <= listed
    releases = sum(len(a["helmReleases"]) for a in data["apps"])
    assert releases == len(repo.helm_releases)

    drift = run("drift", PROJECT_ROOT, "--kubeconfig", kubeconfig, "--format", "json")
    assert drift.code == 0, drift.out + drift.err
    assert json.loads(drift.out)["clean"] is True
    for result in (status, drift):
        assert PLANTED_SECRET_VALUE not in result.out


def test_a_failing_release_of_the_reference_cluster(
    reference: tuple[Repo, FakeApiServer], kubeconfig: Path, run: Run
) -> None:
    repo, server = reference
    release = repo.helm_releases[0]
    namespace = release.namespace or "default"
    server.add(
        helm_release(
            namespace,
            release.name,
            ready="False",
            reason="UpgradeFailed",
            message="Helm upgrade failed: timed out waiting for the condition",
        )
    )
    result = run("status", PROJECT_ROOT, "--kubeconfig", kubeconfig)
    assert result.code == 1
    assert "UpgradeFailed: Helm upgrade failed: timed out waiting for the condition" in result.out
    assert re.search(r"\n\d+ apps, 1 not ready\n", result.out)


def test_doctor_on_the_reference_cluster(
    reference: tuple[Repo, FakeApiServer], kubeconfig: Path, run: Run
) -> None:
    repo, server = reference
    healthy = run("doctor", "--repo", PROJECT_ROOT, "--kubeconfig", kubeconfig, "-f", "json")
    assert healthy.code == 0, healthy.out + healthy.err
    data = json.loads(healthy.out)
    assert {(a.namespace, a.name) for a in repo.apps} <= {
        (a["namespace"], a["name"]) for a in data["apps"]
    }
    assert data["summary"]["withProblems"] == 0
    assert PLANTED_SECRET_VALUE not in healthy.out

    release = repo.helm_releases[0]
    namespace = repo.namespace_of_file(release.source.path) or release.namespace or "default"
    server.add(
        helm_release(
            namespace, release.name, ready="False", reason="UpgradeFailed", message="timed out"
        )
    )
    failing = run("doctor", "--repo", PROJECT_ROOT, "--kubeconfig", kubeconfig)
    assert failing.code == 1
    lines = [line for line in failing.out.splitlines() if " ✗ " in line]
    assert len(lines) == 1
    assert (
        f"HelmRelease {namespace}/{release.name} is not Ready: UpgradeFailed: timed out"
        in (lines[0])
    )
