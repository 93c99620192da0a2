"""homelab-kit's own schemas: Flux, Infisical and kustomize's kustomization.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from homelab_kit.schema import SchemaRegistry
from homelab_kit.schema.crds import generate
from homelab_kit.schema.registry import builtin_schemas

from .conftest import found

FLUX_KUSTOMIZATION = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: grafana
  namespace: flux-system
spec:
  interval: 5
  path: ./kubernetes/apps/grafana
  prunee: true
  sourceRef:
    kind: Git
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: cluster-settings
        optinal: true
"""

HELM_RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: grafana
spec:
  interval: 1h
  chartRef:
    kind: OCIRepo
    name: grafana
  install:
    remediation:
      retries: "3"
  upgrade:
    remediaton: {retries: 3}
  values:
    anything: [goes, {here: 1}]
  valuesFrom:
    - kind: Secret
"""

OCI_REPOSITORY = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: grafana
spec:
  interval: 15m
  url: https://ghcr.io/grafana/helm-charts/grafana
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: unpack
  ref:
    tag: 8.5
"""

OCI_REPOSITORY_V1BETA2 = """\
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: grafana
spec:
  interval: 15m
  url: oci://ghcr.io/grafana/helm-charts/grafana
  credential: ServiceAccountToken
"""

HELM_REPOSITORY = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: bitnami
spec:
  type: OCI
  url: ftp://charts.bitnami.com
"""

GIT_REPOSITORY = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
spec:
  interval: 1h
  ref:
    brnach: main
"""

INFISICAL_SECRET = """\
apiVersion: secrets.infisical.com/v1alpha1
kind: InfisicalSecret
metadata:
  name: app-secrets
spec:
  resyncInterval: 1m
  syncConfig:
    resyncInterval: 1m
  authentication:
    universalAuth:
      secretsScope:
        projectSlug: homelab
        envSlug: prod
  managedSecretReference:
    secretName: app-secrets
    secretNamespace: default
    creationPolicy: Orphan
"""

KUSTOMIZATION_FILE = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: monitoring
resource:
  - ./helmrelease.yaml
commonLabels:
  app.kubernetes.io/version: 1.0
images:
  - name: grafana/grafana
    newTag: 11
configMapGenerator:
  - name: dashboards
    behaviour: merge
"""

COMPONENT_FILE = """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources:
  - ./infisicalsecret.yaml
patches:
  - path: patch.yaml
    target: {kind: Deployment}
replacements:
  - source: {kind: ConfigMap, name: settings, fieldPath: data.domain}
    targets:
      - select: {kind: Ingress}
        fieldPaths: [spec.rules.0.host]
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            FLUX_KUSTOMIZATION,
            [
                (6, 1, "required", "spec: missing required field 'prune'"),
                (7, 13, "type", "spec.interval: expected string, got integer 5"),
                (9, 3, "unknown-field", "unknown field 'spec.prunee' (did you mean 'prune'?)"),
                (10, 3, "required", "spec.sourceRef: missing required field 'name'"),
                (
                    11,
                    11,
                    "enum",
                    "spec.sourceRef.kind: must be one of OCIRepository, GitRepository, Bucket, "
                    "ExternalArtifact; got 'Git'",
                ),
                (
                    16,
                    9,
                    "unknown-field",
                    "unknown field 'spec.postBuild.substituteFrom[0].optinal' "
                    "(did you mean 'optional'?)",
                ),
            ],
            id="flux-kustomization",
        ),
        pytest.param(
            HELM_RELEASE,
            [
                (
                    8,
                    11,
                    "enum",
                    "spec.chartRef.kind: must be one of OCIRepository, HelmChart, "
                    "ExternalArtifact; got 'OCIRepo'",
                ),
                (
                    12,
                    16,
                    "type",
                    "spec.install.remediation.retries: expected integer, got string '3'",
                ),
                (
                    14,
                    5,
                    "unknown-field",
                    "unknown field 'spec.upgrade.remediaton' (did you mean 'remediation'?)",
                ),
                (18, 7, "required", "spec.valuesFrom[0]: missing required field 'name'"),
            ],
            id="helm-release",
        ),
        pytest.param(
            OCI_REPOSITORY,
            [
                (
                    7,
                    8,
                    "pattern",
                    "spec.url: 'https://ghcr.io/grafana/helm-charts/grafana' "
                    "does not match the pattern ^oci://.*$",
                ),
                (
                    10,
                    16,
                    "enum",
                    "spec.layerSelector.operation: must be one of extract, copy; got 'unpack'",
                ),
                (12, 10, "type", "spec.ref.tag: expected string, got number 8.5"),
            ],
            id="oci-repository",
        ),
        pytest.param(
            OCI_REPOSITORY_V1BETA2,
            [(8, 3, "unknown-field", "unknown field 'spec.credential'")],
            id="oci-repository-v1beta2",
        ),
        pytest.param(
            HELM_REPOSITORY,
            [
                (6, 9, "enum", "spec.type: must be one of default, oci; got 'OCI'"),
                (
                    7,
                    8,
                    "pattern",
                    "spec.url: 'ftp://charts.bitnami.com' does not match the pattern "
                    "^(http|https|oci)://.*$",
                ),
            ],
            id="helm-repository",
        ),
        pytest.param(
            GIT_REPOSITORY,
            [
                (5, 1, "required", "spec: missing required field 'url'"),
                (8, 5, "unknown-field", "unknown field 'spec.ref.brnach' (did you mean 'branch'?)"),
            ],
            id="git-repository",
        ),
        pytest.param(
            INFISICAL_SECRET,
            [
                (6, 19, "type", "spec.resyncInterval: expected integer, got string '1m'"),
                (
                    10,
                    5,
                    "required",
                    "spec.authentication.universalAuth: missing required field 'credentialsRef'",
                ),
                (
                    11,
                    7,
                    "required",
                    "spec.authentication.universalAuth.secretsScope: "
                    "missing required field 'secretsPath'",
                ),
            ],
            id="infisical-secret",
        ),
        pytest.param(
            KUSTOMIZATION_FILE,
            [
                (4, 1, "unknown-field", "unknown field 'resource' (did you mean 'resources'?)"),
                (
                    7,
                    30,
                    "type",
                    'commonLabels["app.kubernetes.io/version"]: expected string, got number 1.0',
                ),
                (10, 13, "type", "images[0].newTag: expected string, got integer 11"),
                (
                    13,
                    5,
                    "unknown-field",
                    "unknown field 'configMapGenerator[0].behaviour' (did you mean 'behavior'?)",
                ),
            ],
            id="kustomization-yaml",
        ),
        pytest.param(COMPONENT_FILE, [], id="component-yaml"),
    ],
)
def test_known_bad_manifests(
    registry: SchemaRegistry, text: str, expected: list[tuple[int, int, str, str]]
) -> None:
    assert found(text, registry) == expected


def test_builtin_sources(registry: SchemaRegistry) -> None:
    validator = registry.validator_for("helm.toolkit.fluxcd.io/v2", "HelmRelease")
    assert validator is not None
    assert validator.source == "homelab-kit helm.toolkit.fluxcd.io_helmrelease_v2.json"
    assert {(g, v, k) for g, v, k in builtin_schemas()} == {
        ("kustomize.toolkit.fluxcd.io", "v1", "Kustomization"),
        ("helm.toolkit.fluxcd.io", "v2", "HelmRelease"),
        ("source.toolkit.fluxcd.io", "v1", "OCIRepository"),
        ("source.toolkit.fluxcd.io", "v1beta2", "OCIRepository"),
        ("source.toolkit.fluxcd.io", "v1", "HelmRepository"),
        ("source.toolkit.fluxcd.io", "v1", "GitRepository"),
        ("secrets.infisical.com", "v1alpha1", "InfisicalSecret"),
        ("kustomize.config.k8s.io", "v1beta1", "Kustomization"),
        ("kustomize.config.k8s.io", "v1alpha1", "Component"),
    }


def test_builtin_metadata_is_the_strict_object_meta(registry: SchemaRegistry) -> None:
    text = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: app
  lables: {a: b}
spec:
  interval: 1h
  url: oci://ghcr.io/x/y
"""
    assert found(text, registry) == [
        (5, 3, "unknown-field", "unknown field 'metadata.lables' (did you mean 'labels'?)")
    ]


def test_generated_files_are_up_to_date() -> None:
    assert generate.main(["--check"]) == 0, "run: python -m homelab_kit.schema.crds.generate"


# Where our schemas deliberately differ from the (older) catalog: fields newer than the
# catalog's CRDs, and required fields the API server defaults.
DELIBERATE = {
    "helm.toolkit.fluxcd.io/helmrelease_v2.json": {"spec.chart.spec.verify"},
    "source.toolkit.fluxcd.io/ocirepository_v1.json": {
        "spec.audiences",
        "spec.audiences[]",
        "spec.credential",
    },
    "secrets.infisical.com/infisicalsecret_v1alpha1.json": {
        "spec",
        "spec.syncConfig",
        "spec.syncConfig.instantUpdates",
        "spec.syncConfig.resyncInterval",
        *(
            f"spec.{holder}.template.metadata{tail}"
            for holder in (
                "managedKubeConfigMapReferences[]",
                "managedKubeSecretReferences[]",
                "managedSecretReference",
            )
            for tail in ("", ".annotations", ".annotations{}", ".labels", ".labels{}")
        ),
    },
}


def _flatten(schema: dict[str, Any], root: dict[str, Any], path: str, out: dict[str, Any]) -> None:
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    kind = schema.get("type")
    out[path] = (
        tuple(kind) if isinstance(kind, list) else kind,
        tuple(schema.get("enum", ())),
        tuple(sorted(schema.get("required", ()))),
        schema.get("pattern"),
        schema.get("minLength"),
        schema.get("maxLength"),
        schema.get("additionalProperties") is False,
    )
    for name, sub in (schema.get("properties") or {}).items():
        _flatten(sub, root, f"{path}.{name}" if path else name, out)
    if isinstance(schema.get("items"), dict):
        _flatten(schema["items"], root, path + "[]", out)
    if isinstance(schema.get("additionalProperties"), dict):
        _flatten(schema["additionalProperties"], root, path + "{}", out)


@pytest.mark.parametrize(
    "catalog_file",
    [
        "kustomize.toolkit.fluxcd.io/kustomization_v1.json",
        "helm.toolkit.fluxcd.io/helmrelease_v2.json",
        "source.toolkit.fluxcd.io/ocirepository_v1.json",
        "source.toolkit.fluxcd.io/ocirepository_v1beta2.json",
        "source.toolkit.fluxcd.io/helmrepository_v1.json",
        "source.toolkit.fluxcd.io/gitrepository_v1.json",
        "secrets.infisical.com/infisicalsecret_v1alpha1.json",
    ],
)
def test_builtin_schemas_agree_with_the_upstream_crds(catalog: Path, catalog_file: str) -> None:
    """Field by field (types, enums, required, patterns, bounds) against the catalog."""
    group, name = catalog_file.split("/")
    ours = generate.all_schemas()[f"{group}_{name}"]
    theirs = json.loads((catalog / catalog_file).read_text(encoding="utf-8"))
    mine: dict[str, Any] = {}
    upstream: dict[str, Any] = {}
    _flatten(ours, ours, "", mine)
    _flatten(theirs, theirs, "", upstream)
    ignored = {"", "apiVersion", "kind", "metadata"}
    differing = {
        path
        for path in set(mine) | set(upstream)
        if path not in ignored
        and not path.startswith("status")
        and mine.get(path) != upstream.get(path)
    }
    assert differing == DELIBERATE.get(catalog_file, set())
