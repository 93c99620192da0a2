"""example-secret-reload: pass and fail fixtures, options, the fix, the documentation."""

from __future__ import annotations

from pathlib import Path

import pytest
from homelab_kit import Diagnostic, Edit
from homelab_kit.lint.check import DOC_SECTIONS, Check
from homelab_kit.testing import LintTree, YamlTree, findings, lint_path

from homelab_kit_example import secret_reload

ID = secret_reload.ID
FIX_ANNOTATION = "reloader.stakater.com/auto"
REFERENCE_CLUSTER = Path(__file__).resolve().parents[3]

INFISICAL_SECRET = """\
    apiVersion: secrets.infisical.com/v1alpha1
    kind: InfisicalSecret
    metadata:
      name: sonarr-secrets
      namespace: media
    spec:
      resyncInterval: 60
      managedSecretReference:
        secretName: sonarr-secret
        secretNamespace: media
    """

APP = {
    "kubernetes/apps/media/secrets/sonarr-secrets.yaml": INFISICAL_SECRET,
    "kubernetes/apps/media/sonarr/app/kustomization.yaml": """\
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./helmrelease.yaml
        configMapGenerator:
          - name: sonarr-values
            files:
              - values.yaml=./helm/values.yaml
        """,
    "kubernetes/apps/media/sonarr/app/helmrelease.yaml": """\
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata:
          name: sonarr
          namespace: media
        spec:
          chartRef:
            kind: OCIRepository
            name: sonarr
          interval: 1h
          valuesFrom:
            - kind: ConfigMap
              name: sonarr-values
              valuesKey: values.yaml
        """,
}
VALUES = "kubernetes/apps/media/sonarr/app/helm/values.yaml"


def values(annotations: str = "", extra: str = "") -> dict[str, str]:
    """The app with helm/values.yaml reading sonarr-secret through envFrom."""
    text = (
        "controllers:\n"
        "  sonarr:\n"
        f"{annotations}"
        "    containers:\n"
        "      app:\n"
        "        image: {repository: ghcr.io/home-operations/sonarr, tag: 4.0.15}\n"
        "        envFrom:\n"
        "          - secretRef:\n"
        "              name: sonarr-secret\n"
        f"{extra}"
    )
    return {**APP, VALUES: text}


def deployment(annotations: str = "", secret: str = "sonarr-secret") -> str:
    return f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: sonarr
          namespace: media
        {annotations}
        spec:
          template:
            spec:
              containers:
                - name: app
                  image: ghcr.io/home-operations/sonarr:4.0.15
                  env:
                    - name: API_KEY
                      valueFrom:
                        secretKeyRef:
                          name: {secret}
                          key: API_KEY
        """


MANIFEST = "kubernetes/apps/media/sonarr/app/deployment.yaml"


# ----------------------------------------------------------------------------- fail


def test_app_template_controller_without_annotation(yaml_tree: YamlTree, lint_tree: LintTree):
    yaml_tree(values())
    assert lint_tree(select=[ID]) == [(VALUES, 3, ID)]


def test_message_names_the_secret_and_its_writer(yaml_tree: YamlTree, tmp_path: Path):
    yaml_tree(values())
    [finding] = _findings(tmp_path)
    assert finding.message == (
        "controller sonarr of HelmRelease media/sonarr reads Secret sonarr-secret, which "
        "InfisicalSecret media/sonarr-secrets writes from outside Git, but nothing restarts "
        "it when it changes"
    )
    assert str(finding.severity) == "warning"


def test_raw_deployment_without_annotation(yaml_tree: YamlTree, lint_tree: LintTree):
    yaml_tree({**APP, MANIFEST: deployment()})
    assert lint_tree(select=[ID]) == [(MANIFEST, 4, ID)]


def test_reload_annotation_naming_another_secret(yaml_tree: YamlTree, lint_tree: LintTree):
    other = "  annotations:\n            secret.reloader.stakater.com/reload: other-secret"
    yaml_tree({**APP, MANIFEST: deployment(other)})
    assert lint_tree(select=[ID]) == [(MANIFEST, 4, ID)]


def test_annotation_set_to_false(yaml_tree: YamlTree, lint_tree: LintTree):
    yaml_tree(values('    annotations:\n      secrets.infisical.com/auto-reload: "false"\n'))
    assert lint_tree(select=[ID]) == [(VALUES, 3, ID)]


def test_secret_volume_of_persistence(yaml_tree: YamlTree, lint_tree: LintTree):
    files = values(
        annotations='    annotations: {reloader.stakater.com/auto: "true"}\n',
        extra=(
            "  worker:\n"
            "    containers:\n"
            "      app:\n"
            "        image: {repository: ghcr.io/home-operations/sonarr, tag: 4.0.15}\n"
            "persistence:\n"
            "  config:\n"
            "    type: secret\n"
            "    name: sonarr-secret\n"
            "    advancedMounts:\n"
            "      worker:\n"
            "        app:\n"
            "          - path: /config\n"
        ),
    )
    yaml_tree(files)
    assert lint_tree(select=[ID]) == [(VALUES, 11, ID)]


# ----------------------------------------------------------------------------- pass


@pytest.mark.parametrize(
    "annotations",
    [
        '    annotations:\n      reloader.stakater.com/auto: "true"\n',
        '    annotations:\n      secret.reloader.stakater.com/auto: "true"\n',
        "    annotations:\n      secret.reloader.stakater.com/reload: a-secret, sonarr-secret\n",
        '    annotations:\n      secrets.infisical.com/auto-reload: "true"\n',
    ],
)
def test_annotated_controller(yaml_tree: YamlTree, lint_tree: LintTree, annotations: str):
    yaml_tree(values(annotations))
    assert lint_tree(select=[ID]) == []


def test_global_annotations(yaml_tree: YamlTree, lint_tree: LintTree):
    yaml_tree(values(extra='global:\n  annotations:\n    reloader.stakater.com/auto: "true"\n'))
    assert lint_tree(select=[ID]) == []


def test_annotated_deployment(yaml_tree: YamlTree, lint_tree: LintTree):
    annotated = '  annotations:\n            reloader.stakater.com/auto: "true"'
    yaml_tree({**APP, MANIFEST: deployment(annotated)})
    assert lint_tree(select=[ID]) == []


def test_secret_not_managed_by_an_operator(yaml_tree: YamlTree, lint_tree: LintTree):
    yaml_tree({**APP, MANIFEST: deployment(secret="hand-made-secret")})
    assert lint_tree(select=[ID]) == []


def test_cronjob_reads_the_secret_afresh_each_run(yaml_tree: YamlTree, lint_tree: LintTree):
    yaml_tree(values(annotations="    type: cronjob\n"))
    assert lint_tree(select=[ID]) == []


def test_managed_secret_in_another_namespace(yaml_tree: YamlTree, lint_tree: LintTree):
    files = values()
    files["kubernetes/apps/media/secrets/sonarr-secrets.yaml"] = INFISICAL_SECRET.replace(
        "secretNamespace: media", "secretNamespace: downloads"
    )
    yaml_tree(files)
    assert lint_tree(select=[ID]) == []


# ----------------------------------------------------------------------------- options


def test_all_secrets_option(yaml_tree: YamlTree, lint_tree: LintTree):
    yaml_tree(
        {
            **APP,
            MANIFEST: deployment(secret="hand-made-secret"),
            ".homelab-kit.yaml": f"checks:\n  {ID}:\n    all-secrets: true\n",
        }
    )
    assert lint_tree(select=[ID]) == [(MANIFEST, 4, ID)]


def test_reload_annotations_option(yaml_tree: YamlTree, lint_tree: LintTree):
    yaml_tree(
        {
            **values('    annotations:\n      my.org/restart-on-change: "true"\n'),
            ".homelab-kit.yaml": (
                f"checks:\n  {ID}:\n    reload-annotations: [my.org/restart-on-change]\n"
            ),
        }
    )
    assert lint_tree(select=[ID]) == []


# ----------------------------------------------------------------------------- fix


def test_fix_adds_the_annotations_mapping(yaml_tree: YamlTree, tmp_path: Path):
    yaml_tree(values())
    [finding] = _findings(tmp_path)
    assert finding.fix is not None
    assert finding.fix.edits == (
        Edit(VALUES, 0, ("controllers", "sonarr", "annotations"), {FIX_ANNOTATION: "true"}),
    )


def test_fix_extends_existing_annotations(yaml_tree: YamlTree, tmp_path: Path):
    other = "  annotations:\n            team: media"
    yaml_tree({**APP, MANIFEST: deployment(other)})
    [finding] = _findings(tmp_path)
    assert finding.fix is not None
    assert finding.fix.edits == (
        Edit(MANIFEST, 0, ("metadata", "annotations", FIX_ANNOTATION), "true"),
    )


# ----------------------------------------------------------------------------- meta


def test_documented_like_every_check():
    check = Check.from_module(secret_reload, plugin="example")
    check.validate()
    for heading in DOC_SECTIONS:
        assert f"## {heading}\n" in check.doc + "\n", heading
    for field in secret_reload.Options.__attrs_attrs__:
        assert field.name.replace("_", "-") + ":" in check.doc, field.name


def test_reference_cluster_is_clean():
    if not (REFERENCE_CLUSTER / "kubernetes" / "apps").is_dir():
        pytest.skip("not inside a homelab-kit checkout: the reference cluster is absent")
    assert findings(lint_path(REFERENCE_CLUSTER, select=[ID])) == []


def _findings(root: Path) -> list[Diagnostic]:
    """The findings themselves, for what ``lint_tree``'s tuples leave out."""
    return list(lint_path(root, select=[ID]).diagnostics)
