"""``homelab-kit status`` against the fake API server: tables, JSON, exit codes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

import homelab_kit
from homelab_kit.cluster import ClusterOptions, connect, gather_status

from .conftest import Result
from .fakeapi import FakeApiServer
from .objects import (
    GIT_REVISION,
    PLANTED_SECRET_VALUE,
    flux_labels,
    helm_release,
    infisical_secret,
    kustomization,
)

Run = Callable[..., Result]
CORE_SECRETS = re.compile(r"/api/v1(/namespaces/[^/]+)?/secrets(/|$)")


def test_all_ready_prints_a_table_and_exits_0(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    result = run("status", web_repo, "--kubeconfig", kubeconfig)
    assert result.code == 0, result.err
    assert result.err == ""
    for text in (
        "web/echo",
        "web/secrets",
        "kubernetes/flux/cluster",
        "cluster-apps",
        "HelmRelease",
        "InfisicalSecret",
        "echo-secret",
        "Ready",
        "synced",
        "exists",
        "4.1.2",
        "main@sha1:5e7c1a1b",  # revisions are shortened in the table
        "context admin",
        "3 apps, 0 not ready",
    ):
        assert text in result.out, text
    assert GIT_REVISION not in result.out


def test_json_for_scripts(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    result = run("status", web_repo, "--kubeconfig", kubeconfig, "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["ready"] is True
    assert data["context"] == "admin"
    assert data["server"] == healthy.url
    apps = {(a["namespace"], a["name"]): a for a in data["apps"]}
    assert set(apps) == {(None, "cluster"), ("web", "echo"), ("web", "secrets")}
    echo = apps[("web", "echo")]
    assert echo["kustomizations"][0] | {"message": None} == {
        "kind": "Kustomization",
        "namespace": "web",
        "name": "echo",
        "path": "kubernetes/apps/web/echo/ks.yaml",
        "present": True,
        "ready": True,
        "suspended": False,
        "revision": GIT_REVISION,
        "reason": "ReconciliationSucceeded",
        "message": None,
    }
    assert echo["helmReleases"][0]["revision"] == "4.1.2"
    secret = apps[("web", "secrets")]["infisicalSecrets"][0]
    assert secret["synced"] is True
    assert secret["managedSecrets"] == [{"namespace": "web", "name": "echo-secret", "exists": True}]


def test_anything_not_ready_is_reported_with_its_message_and_exits_1(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    apps = flux_labels("flux-system", "cluster-apps")
    healthy.add(
        helm_release(
            "web",
            "echo",
            ready="False",
            reason="InstallFailed",
            message="Helm install failed for release web/echo with chart app-template@4.1.2: "
            "context deadline exceeded",
        ),
        kustomization("web", "secrets", suspend=True, labels=apps),
        infisical_secret("web", "echo-secrets", "echo-secret", synced="False"),
    )
    healthy.remove("", "secrets", "web", "echo-secret")
    healthy.remove("kustomize.toolkit.fluxcd.io", "kustomizations", "flux-system", "cluster-apps")

    text = run("status", web_repo, "--kubeconfig", kubeconfig)
    assert text.code == 1
    assert "InstallFailed: Helm install failed for release web/echo" in text.out
    assert "context deadline exceeded" in text.out
    assert "not ready" in text.out
    assert "not synced" in text.out
    assert "Error: Failed to sync secrets" in text.out
    assert "missing" in text.out
    assert "3 apps, 3 not ready" in text.out

    data = json.loads(run("status", web_repo, "--kubeconfig", kubeconfig, "-f", "json").out)
    assert data["ready"] is False
    apps_by_name = {a["name"]: a for a in data["apps"]}
    assert apps_by_name["cluster"]["kustomizations"][0]["present"] is False
    release = apps_by_name["echo"]["helmReleases"][0]
    assert (release["ready"], release["reason"]) == (False, "InstallFailed")
    secrets_ks = apps_by_name["secrets"]["kustomizations"][0]
    assert (secrets_ks["suspended"], secrets_ks["ready"]) == (True, True)
    infisical = apps_by_name["secrets"]["infisicalSecrets"][0]
    assert (infisical["synced"], infisical["reason"]) == (False, "Error")
    assert infisical["managedSecrets"][0]["exists"] is False


def test_a_generation_not_yet_reconciled_is_not_ready(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path
) -> None:
    stale = kustomization("web", "echo")
    stale["metadata"]["generation"] = 2
    healthy.add(stale)
    with connect(ClusterOptions(str(kubeconfig))) as cluster:
        status = gather_status(homelab_kit.load(web_repo), cluster)
    echo = next(a for a in status.apps if a.name == "echo").kustomizations[0]
    assert (echo.present, echo.ready, echo.reason) == (True, None, "Progressing")
    assert echo.message == "generation 2 is not reconciled yet (observed 1)"
    assert not status.ok


def test_secret_values_are_never_requested_nor_printed(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    outputs = [
        run("status", web_repo, "--kubeconfig", kubeconfig),
        run("status", web_repo, "--kubeconfig", kubeconfig, "--format", "json"),
        run("drift", web_repo, "--kubeconfig", kubeconfig),
        run("drift", web_repo, "--kubeconfig", kubeconfig, "--format", "json"),
    ]
    for result in outputs:
        assert PLANTED_SECRET_VALUE not in result.out + result.err
    secret_reads = [r for r in healthy.requests if CORE_SECRETS.match(r.path)]
    assert secret_reads, "status must look at the managed Secrets"
    for request in secret_reads:
        assert "as=PartialObjectMetadata" in request.accept, request
        assert "application/json," not in request.accept  # no fallback to whole objects


def test_long_lists_are_paged(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    healthy.page_size_cap = 1
    result = run("status", web_repo, "--kubeconfig", kubeconfig, "-f", "json")
    assert result.code == 0, result.out + result.err
    assert any("continue" in r.query for r in healthy.requests)


def test_kubeconfig_from_the_environment_and_context_flag(
    healthy: FakeApiServer,
    tmp_path: Path,
    web_repo: Path,
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = healthy.write_kubeconfig(tmp_path / "expired-by-default.yaml", current="expired")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'absent.yaml'}:{config}")
    assert run("status", web_repo).code == 2  # the current context's token is rejected
    result = run("status", web_repo, "--context", "reader", "-f", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["context"] == "reader"
    users = {r.user for r in healthy.requests}
    assert "system:serviceaccount:monitoring:homelab-kit" in users
