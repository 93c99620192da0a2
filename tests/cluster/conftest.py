"""Fixtures: a fake API server, a kubeconfig pointing at it, a small repository and
the cluster state Flux and the Infisical operator would leave for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from homelab_kit.cli import main
from homelab_kit.testing import write_tree

from .fakeapi import FakeApiServer
from .objects import (
    GIT_REVISION,
    PLANTED_SECRET_VALUE,
    deployment,
    flux_crds,
    flux_labels,
    helm_release,
    infisical_crds,
    infisical_secret,
    kustomization,
    pod,
    secret,
    simple,
    source,
)

#: The labels app-template puts on the echo pods (and selects them by).
ECHO_POD_LABELS = {
    "app.kubernetes.io/name": "echo",
    "app.kubernetes.io/instance": "echo",
    "app.kubernetes.io/controller": "echo",
}

#: kustomize's hash of the echo-values ConfigMap (any 10 characters match).
VALUES_HASH = "5h8mk7b9tc"

WEB_TREE = {
    "kubernetes/flux/cluster/ks.yaml": """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: cluster-apps
          namespace: flux-system
        spec:
          interval: 1h
          path: ./kubernetes/apps
          prune: true
          sourceRef:
            kind: GitRepository
            name: flux-system
    """,
    "kubernetes/flux/cluster/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./ks.yaml
    """,
    "kubernetes/apps/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./web
    """,
    "kubernetes/apps/web/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        namespace: web
        resources:
          - ./namespace.yaml
          - ./secrets/ks.yaml
          - ./echo/ks.yaml
    """,
    "kubernetes/apps/web/namespace.yaml": """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: web
    """,
    "kubernetes/apps/web/echo/ks.yaml": """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: echo
          namespace: web
        spec:
          dependsOn:
            - name: secrets
          interval: 1h
          path: ./kubernetes/apps/web/echo/app
          prune: true
          sourceRef:
            kind: GitRepository
            name: flux-system
            namespace: flux-system
          targetNamespace: web
          wait: true
    """,
    "kubernetes/apps/web/echo/app/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./helmrelease.yaml
          - ./serviceaccount.yaml
        configMapGenerator:
          - name: echo-values
            files:
              - values.yaml=./values.yaml
        configurations:
          - ./kustomizeconfig.yaml
    """,
    "kubernetes/apps/web/echo/app/kustomizeconfig.yaml": """
        nameReference:
          - kind: ConfigMap
            fieldSpecs:
              - path: spec/valuesFrom/name
                kind: HelmRelease
    """,
    "kubernetes/apps/web/echo/app/values.yaml": """
        controllers:
          echo:
            containers:
              app:
                image:
                  repository: ghcr.io/mendhak/http-https-echo
                  tag: "37"
    """,
    "kubernetes/apps/web/echo/app/serviceaccount.yaml": """
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: echo
    """,
    "kubernetes/apps/web/echo/app/helmrelease.yaml": """
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: OCIRepository
        metadata:
          name: echo
        spec:
          interval: 1h
          layerSelector:
            mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
            operation: copy
          ref:
            tag: 4.1.2
          url: oci://ghcr.io/bjw-s-labs/helm/app-template
        ---
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata:
          name: echo
        spec:
          chartRef:
            kind: OCIRepository
            name: echo
          interval: 1h
          valuesFrom:
            - kind: ConfigMap
              name: echo-values
    """,
    "kubernetes/apps/web/secrets/ks.yaml": """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: secrets
          namespace: web
        spec:
          interval: 1h
          path: ./kubernetes/apps/web/secrets
          prune: true
          sourceRef:
            kind: GitRepository
            name: flux-system
            namespace: flux-system
          targetNamespace: web
          wait: true
    """,
    "kubernetes/apps/web/secrets/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./echo-secrets.yaml
    """,
    "kubernetes/apps/web/secrets/echo-secrets.yaml": """
        apiVersion: secrets.infisical.com/v1alpha1
        kind: InfisicalSecret
        metadata:
          name: echo-secrets
          namespace: web
        spec:
          hostAPI: https://app.infisical.com/api
          authentication:
            universalAuth:
              secretsScope:
                projectSlug: homelab
                envSlug: prod
                secretsPath: /echo
              credentialsRef:
                secretName: universal-auth-credentials
                secretNamespace: infisical-system
          managedSecretReference:
            secretName: echo-secret
            secretNamespace: web
    """,
}


def healthy_objects() -> list[dict[str, Any]]:
    """What a healthy cluster holds for :data:`WEB_TREE` (CRDs first)."""
    apps = flux_labels("flux-system", "cluster-apps")
    echo = flux_labels("web", "echo")
    return [
        *flux_crds(),
        *infisical_crds(),
        simple("v1", "Namespace", "flux-system"),
        simple("v1", "Namespace", "web", labels=apps),
        source("GitRepository", "flux-system", "flux-system", GIT_REVISION),
        kustomization(
            "flux-system", "cluster-apps", labels=flux_labels("flux-system", "flux-system")
        ),
        kustomization("web", "echo", labels=apps),
        kustomization("web", "secrets", labels=apps),
        source("OCIRepository", "web", "echo", "4.1.2@sha256:0b1c2d3e", labels=echo),
        helm_release("web", "echo", labels=echo),
        simple("v1", "ServiceAccount", "echo", "web", labels=echo),
        simple("v1", "ConfigMap", f"echo-values-{VALUES_HASH}", "web", labels=echo),
        infisical_secret(
            "web", "echo-secrets", "echo-secret", labels=flux_labels("web", "secrets")
        ),
        secret("web", "echo-secret", {"ECHO_TOKEN": PLANTED_SECRET_VALUE}),
        secret("web", "unrelated", {"password": PLANTED_SECRET_VALUE}),
        deployment(
            "web",
            "echo",
            ECHO_POD_LABELS,
            labels={
                "app.kubernetes.io/managed-by": "Helm",
                "helm.toolkit.fluxcd.io/name": "echo",
                "helm.toolkit.fluxcd.io/namespace": "web",
            },
        ),
        pod("web", "echo-7d9f8b6c5-x2x4q", ECHO_POD_LABELS, env_from_secret="echo-secret"),
    ]


@attrs.frozen
class Result:
    """What a user sees: exit code, standard output, standard error."""

    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real cluster, kubeconfig or cache of the machine running the tests."""
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "400")  # no message is folded across lines
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


@pytest.fixture
def fake_api() -> Iterator[FakeApiServer]:
    """A fake API server serving only Kubernetes' own APIs (no Flux yet)."""
    server = FakeApiServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def healthy(fake_api: FakeApiServer) -> FakeApiServer:
    """The fake API server holding :func:`healthy_objects`."""
    fake_api.add(*healthy_objects())
    return fake_api


@pytest.fixture
def kubeconfig(fake_api: FakeApiServer, tmp_path: Path) -> Path:
    """A kubeconfig for ``fake_api`` (contexts admin, reader, expired, refused)."""
    return fake_api.write_kubeconfig(tmp_path / "kubeconfig.yaml")


@pytest.fixture
def web_repo(tmp_path: Path) -> Path:
    """The small repository :data:`WEB_TREE`."""
    return write_tree(tmp_path / "repo", WEB_TREE)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``homelab-kit ARGS`` in-process, exactly as the console script does."""

    def run(*args: str | Path) -> Result:
        with pytest.raises(SystemExit) as exit_info:
            main([str(a) for a in args])
        captured = capsys.readouterr()
        code = exit_info.value.code
        return Result(code if isinstance(code, int) else 0, captured.out, captured.err)

    return run
