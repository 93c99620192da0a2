"""The example-app-template generator: registration and what its template renders."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter
from homelab_kit.testing import findings, lint_path, write_tree

import homelab_kit_example

TEMPLATE = homelab_kit_example.TEMPLATES / "app-template"

# The rest of a repository the rendered app lands in: its namespace, with the
# cluster-settings ConfigMap for postBuild substitution and the InfisicalSecret
# writing media/sonarr-secret.
NAMESPACE = {
    "kubernetes/apps/media/kustomization.yaml": """\
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        namespace: media
        resources:
          - ./cluster-settings.yaml
          - ./secrets/ks.yaml
          - ./sonarr/ks.yaml
        """,
    "kubernetes/apps/media/cluster-settings.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: cluster-settings
        data:
          TIMEZONE: Etc/UTC
        """,
    "kubernetes/apps/media/secrets/ks.yaml": """\
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: secrets
          namespace: media
        spec:
          interval: 1h
          path: ./kubernetes/apps/media/secrets
          prune: true
          sourceRef:
            kind: GitRepository
            name: flux-system
            namespace: flux-system
          targetNamespace: media
          wait: true
        """,
    "kubernetes/apps/media/secrets/kustomization.yaml": """\
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./sonarr-secrets.yaml
        """,
    "kubernetes/apps/media/secrets/sonarr-secrets.yaml": """\
        apiVersion: secrets.infisical.com/v1alpha1
        kind: InfisicalSecret
        metadata:
          name: sonarr-secrets
          namespace: media
        spec:
          managedSecretReference:
            secretName: sonarr-secret
            secretNamespace: media
        """,
}
SONARR = {
    "app": "sonarr",
    "namespace": "media",
    "image_repository": "ghcr.io/home-operations/sonarr",
    "image_tag": "4.0.15.2941",
    "port": "8989",
}


def render(root: Path, **context: Any) -> Path:
    """Render the template as new-app does: into the namespace folder."""
    target = root / "kubernetes" / "apps" / context["namespace"]
    target.mkdir(parents=True, exist_ok=True)
    out = cookiecutter(str(TEMPLATE), no_input=True, extra_context=context, output_dir=str(target))
    return Path(out)


@pytest.mark.parametrize("secrets", [True, False])
def test_rendered_app_lints_clean(tmp_path: Path, secrets: bool):
    write_tree(tmp_path, NAMESPACE)
    app = render(tmp_path, **SONARR, secrets=secrets)
    assert sorted(p.relative_to(app).as_posix() for p in app.rglob("*") if p.is_file()) == [
        "app/helm/kustomizeconfig.yaml",
        "app/helm/values.yaml",
        "app/helmrelease.yaml",
        "app/kustomization.yaml",
        "ks.yaml",
    ]
    found = findings(lint_path(tmp_path))
    assert [f for f in found if f[0].startswith("kubernetes/apps/media/sonarr/")] == []


def test_secrets_wire_the_app_to_its_secret(tmp_path: Path):
    app = render(tmp_path, **SONARR, secrets=True)
    assert "name: sonarr-secret" in (app / "app" / "helm" / "values.yaml").read_text()
    assert "- name: secrets" in (app / "ks.yaml").read_text()


def test_without_secrets(tmp_path: Path):
    app = render(tmp_path, **SONARR, secrets=False)
    assert "envFrom" not in (app / "app" / "helm" / "values.yaml").read_text()
    assert "dependsOn" not in (app / "ks.yaml").read_text()


def test_template_ships_with_the_package():
    assert (TEMPLATE / "cookiecutter.json").is_file()
    assert (TEMPLATE / "{{cookiecutter.app}}" / "ks.yaml").is_file()


def test_generator_registered():
    if importlib.util.find_spec("homelab_kit.scaffold") is None:
        pytest.skip("homelab_kit.scaffold (the Generator class) is not in this homelab-kit yet")
    [generator] = homelab_kit_example.homelab_kit_register_generators()
    assert generator.name == "example-app-template"
    assert generator.kind == "app"
    assert Path(generator.template) == TEMPLATE
