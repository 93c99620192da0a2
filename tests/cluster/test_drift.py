"""``homelab-kit drift``: missing, extra and lagging, against the fake API server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import homelab_kit
from homelab_kit.cluster import ClusterOptions, connect, declared_objects, gather_drift
from homelab_kit.model.base import ObjectKey
from homelab_kit.testing import write_tree

from .conftest import Result
from .fakeapi import FakeApiServer
from .objects import (
    GIT_REVISION,
    HELM,
    INFISICAL,
    KUSTOMIZE,
    NEW_GIT_REVISION,
    SOURCE,
    flux_labels,
    kustomization,
    simple,
    source,
)

Run = Callable[..., Result]


def _drift(repo: Path, kubeconfig: Path) -> homelab_kit.cluster.DriftReport:
    with connect(ClusterOptions(str(kubeconfig))) as cluster:
        return gather_drift(homelab_kit.load(repo), cluster)


def test_what_git_declares(web_repo: Path) -> None:
    declared = {(d.key, d.generated) for d in declared_objects(homelab_kit.load(web_repo))}
    assert declared == {
        (ObjectKey("Namespace", "web", None, ""), False),
        (ObjectKey("Kustomization", "cluster-apps", "flux-system", KUSTOMIZE), False),
        (ObjectKey("Kustomization", "echo", "web", KUSTOMIZE), False),
        (ObjectKey("Kustomization", "secrets", "web", KUSTOMIZE), False),
        (ObjectKey("OCIRepository", "echo", "web", SOURCE), False),
        (ObjectKey("HelmRelease", "echo", "web", HELM), False),
        (ObjectKey("ServiceAccount", "echo", "web", ""), False),
        (ObjectKey("ConfigMap", "echo-values", "web", ""), True),
        (ObjectKey("InfisicalSecret", "echo-secrets", "web", INFISICAL), False),
    }


def test_no_drift_exits_0(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    result = run("drift", web_repo, "--kubeconfig", kubeconfig)
    assert (result.code, result.err) == (0, "")
    assert "No drift: the cluster matches the repository." in result.out
    data = json.loads(run("drift", web_repo, "--kubeconfig", kubeconfig, "-f", "json").out)
    assert data == {
        "version": 1,
        "server": healthy.url,
        "context": "admin",
        "clean": True,
        "missing": [],
        "extra": [],
        "lagging": [],
    }


def test_declared_objects_missing_from_the_cluster(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    healthy.remove("", "serviceaccounts", "web", "echo")
    healthy.remove("", "configmaps", "web", "echo-values-5h8mk7b9tc")
    # Present without Flux's labels (created by hand, say): not missing.
    healthy.add(simple("v1", "Namespace", "web"))
    report = _drift(web_repo, kubeconfig)
    assert [(str(m.key), m.path, m.line, m.reason) for m in report.missing] == [
        (
            "ConfigMap web/echo-values",
            "kubernetes/apps/web/echo/app/kustomization.yaml",
            7,
            "not found in the cluster",
        ),
        (
            "ServiceAccount web/echo",
            "kubernetes/apps/web/echo/app/serviceaccount.yaml",
            1,
            "not found in the cluster",
        ),
    ]
    assert report.extra == report.lagging == ()
    result = run("drift", web_repo, "--kubeconfig", kubeconfig)
    assert result.code == 1
    assert "Declared in git, missing from the cluster" in result.out
    assert "kubernetes/apps/web/echo/app/serviceaccount.yaml:1" in result.out
    assert "2 missing, 0 not in git, 0 lagging" in result.out


def test_a_kind_the_cluster_does_not_serve_is_missing(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path
) -> None:
    write_tree(
        web_repo,
        {
            "kubernetes/apps/web/echo/app/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                  - ./helmrelease.yaml
                  - ./serviceaccount.yaml
                  - ./route.yaml
                configMapGenerator:
                  - name: echo-values
                    files:
                      - values.yaml=./values.yaml
            """,
            "kubernetes/apps/web/echo/app/route.yaml": """
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata:
                  name: echo
                spec:
                  hostnames: ["echo.example.com"]
            """,
        },
    )
    (missing,) = _drift(web_repo, kubeconfig).missing
    assert str(missing.key) == "HTTPRoute web/echo"
    assert (
        missing.reason == "the cluster serves no HTTPRoute in API group gateway.networking.k8s.io"
    )


def test_flux_managed_objects_git_no_longer_declares(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    echo = flux_labels("web", "echo")
    healthy.add(
        simple("v1", "ConfigMap", "old-settings", "web", labels=echo),
        simple("apps/v1", "Deployment", "retired", "web", labels=flux_labels("web", "retired")),
        simple("v1", "Namespace", "legacy", labels=flux_labels("flux-system", "cluster-apps")),
        # Not applied by Flux: never reported.
        simple("v1", "ConfigMap", "kube-root-ca.crt", "web"),
        # Another generation of a generated ConfigMap: it matches the generator.
        simple("v1", "ConfigMap", "echo-values-t2h4c8m9kf", "web", labels=echo),
    )
    report = _drift(web_repo, kubeconfig)
    assert [(str(e.key), e.owner) for e in report.extra] == [
        ("Namespace legacy", "flux-system/cluster-apps"),
        ("ConfigMap web/old-settings", "web/echo"),
        ("Deployment web/retired", "web/retired"),
    ]
    data = json.loads(run("drift", web_repo, "--kubeconfig", kubeconfig, "-f", "json").out)
    assert data["extra"][2] == {
        "group": "apps",
        "kind": "Deployment",
        "namespace": "web",
        "name": "retired",
        "kustomization": "web/retired",
    }
    result = run("drift", web_repo, "--kubeconfig", kubeconfig)
    assert result.code == 1
    assert "Applied by Flux, no longer in git" in result.out
    assert "Deployment web/retired" in result.out


def test_kustomizations_whose_applied_revision_lags(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    apps = flux_labels("flux-system", "cluster-apps")
    healthy.add(
        # The source moved on; echo's last attempt failed, secrets was not retried yet.
        source("GitRepository", "flux-system", "flux-system", NEW_GIT_REVISION),
        kustomization(
            "web",
            "echo",
            attempted=NEW_GIT_REVISION,
            ready="False",
            reason="BuildFailed",
            message="kustomize build failed: accumulating resources",
            labels=apps,
        ),
        kustomization(
            "flux-system",
            "cluster-apps",
            revision=NEW_GIT_REVISION,
            labels=flux_labels("flux-system", "flux-system"),
        ),
    )
    report = _drift(web_repo, kubeconfig)
    lagging = {(lag.namespace, lag.name): lag for lag in report.lagging}
    assert set(lagging) == {("web", "echo"), ("web", "secrets")}
    echo = lagging[("web", "echo")]
    assert (echo.applied, echo.attempted) == (GIT_REVISION, NEW_GIT_REVISION)
    assert echo.reason == (
        f"the last attempt, {NEW_GIT_REVISION}, was not applied (it still runs {GIT_REVISION})"
    )
    secrets = lagging[("web", "secrets")]
    assert secrets.source == "GitRepository flux-system/flux-system"
    assert secrets.source_revision == NEW_GIT_REVISION
    assert secrets.reason == (
        f"its source GitRepository flux-system/flux-system is at {NEW_GIT_REVISION}, "
        f"it has applied {GIT_REVISION}"
    )
    result = run("drift", web_repo, "--kubeconfig", kubeconfig)
    assert result.code == 1
    assert "Kustomizations behind their revision" in result.out
    assert "0 missing, 0 not in git, 2 lagging" in result.out


def test_a_missing_source_is_reported(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path
) -> None:
    healthy.remove("source.toolkit.fluxcd.io", "gitrepositories", "flux-system", "flux-system")
    report = _drift(web_repo, kubeconfig)
    assert {lag.reason for lag in report.lagging} == {
        "its source GitRepository flux-system/flux-system is not in the cluster"
    }
    assert len(report.lagging) == 3
