"""The structure pack: app folders, kustomizations and values files."""

from __future__ import annotations

import textwrap

import pytest

from homelab_kit.testing import LintTree, YamlTree, lint_path

CLUSTER_KS = "kubernetes/flux/cluster/ks.yaml"
APPS_KFILE = "kubernetes/apps/kustomization.yaml"
MEDIA_KFILE = "kubernetes/apps/media/kustomization.yaml"
SONARR_KS = "kubernetes/apps/media/sonarr/ks.yaml"
SONARR_KFILE = "kubernetes/apps/media/sonarr/app/kustomization.yaml"
SONARR_HR = "kubernetes/apps/media/sonarr/app/helmrelease.yaml"
SONARR_VALUES = "kubernetes/apps/media/sonarr/app/helm/values.yaml"
SONARR_KCONFIG = "kubernetes/apps/media/sonarr/app/helm/kustomizeconfig.yaml"

STRUCTURE_IDS = [
    "structure-app-kustomization",
    "structure-app-layout",
    "structure-app-unreachable",
    "structure-helmrelease-file",
    "structure-kustomize-missing",
    "structure-kustomize-outside",
    "structure-kustomize-remote",
    "structure-values-file",
    "structure-values-name-reference",
]


def _ks(name: str, path: str, namespace: str = "media") -> str:
    return f"""---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: {namespace}
spec:
  interval: 1h
  path: {path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
  wait: true
"""


def cluster() -> dict[str, str]:
    """``{path: text}`` of a cluster in the standard layout that every check passes."""
    tree = {
        CLUSTER_KS: _ks("cluster-apps", "./kubernetes/apps", "flux-system"),
        APPS_KFILE: """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - ./media
            """,
        MEDIA_KFILE: """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            namespace: media
            resources:
              - ./sonarr/ks.yaml
            """,
        SONARR_KS: _ks("sonarr", "./kubernetes/apps/media/sonarr/app"),
        SONARR_KFILE: """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - ./helmrelease.yaml
            configMapGenerator:
              - name: sonarr-values
                files:
                  - values.yaml=./helm/values.yaml
            configurations:
              - ./helm/kustomizeconfig.yaml
            """,
        SONARR_HR: """
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata:
              name: sonarr
            spec:
              interval: 1h
              chartRef:
                kind: OCIRepository
                name: app-template
              valuesFrom:
                - kind: ConfigMap
                  name: sonarr-values
            """,
        SONARR_VALUES: """
            controllers:
              sonarr: {}
            """,
        SONARR_KCONFIG: """
            nameReference:
              - kind: ConfigMap
                version: v1
                fieldSpecs:
                  - path: spec/valuesFrom/name
                    kind: HelmRelease
            """,
    }
    return {path: textwrap.dedent(text).lstrip("\n") for path, text in tree.items()}


def _edit(path: str, old: str, new: str, tree: dict[str, str] | None = None) -> dict[str, str]:
    tree = tree if tree is not None else cluster()
    assert old in tree[path], old
    tree[path] = tree[path].replace(old, new)
    return tree


def test_standard_layout_passes(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(cluster())
    assert lint_tree(select=STRUCTURE_IDS) == []


# ---------------------------------------------------------------- reachability


def test_app_not_listed(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    tree["kubernetes/apps/media/radarr/ks.yaml"] = _ks(
        "radarr", "./kubernetes/apps/media/radarr/app"
    )
    tree["kubernetes/apps/media/radarr/app/kustomization.yaml"] = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"
    )
    root = yaml_tree(tree)
    assert lint_tree(select=["structure-app-unreachable"]) == [
        (MEDIA_KFILE, 5, "structure-app-unreachable"),
    ]
    (diag,) = lint_path(root, select=["structure-app-unreachable"]).diagnostics
    assert diag.message == (
        "App kubernetes/apps/media/radarr is not deployed: "
        "kubernetes/apps/media/kustomization.yaml does not list radarr/ks.yaml"
    )


def test_namespace_not_listed(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(_edit(APPS_KFILE, "  - ./media\n", "  - ./network\n"))
    assert lint_tree(select=["structure-app-unreachable"]) == [
        (MEDIA_KFILE, 1, "structure-app-unreachable"),
    ]


def test_folder_without_ks_yaml(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    tree["kubernetes/apps/media/radarr/app/helmrelease.yaml"] = tree[SONARR_HR]
    tree["kubernetes/apps/media/deployed/app/configmap.yaml"] = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deployed\n"
    )
    tree[MEDIA_KFILE] += "  - ./deployed/app/configmap.yaml\n"
    yaml_tree(tree)
    assert lint_tree(select=["structure-app-unreachable"]) == [
        ("kubernetes/apps/media/radarr/app/helmrelease.yaml", 1, "structure-app-unreachable"),
    ]


def test_no_entry_point_nothing_judged(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    del tree[CLUSTER_KS]
    yaml_tree(tree)
    assert lint_tree(select=["structure-app-unreachable"]) == []


# ---------------------------------------------------------------- kustomize paths


def test_kustomize_entries_missing_outside_remote(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = _edit(
        SONARR_KFILE,
        "  - ./helmrelease.yaml\n",
        "  - ./helmrelease.yaml\n"
        "  - ./pvc.yaml\n"
        "  - ../../../../../../outside.yaml\n"
        "  - https://github.com/example/manifests/releases/download/v1.0.0/install.yaml\n"
        "  - ./empty-dir\n",
    )
    tree["kubernetes/apps/media/sonarr/app/empty-dir/configmap.yaml"] = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
    )
    tree = _edit(SONARR_KFILE, "./helm/kustomizeconfig.yaml", "./helm/kustomizeconf.yaml", tree)
    yaml_tree(tree)
    assert lint_tree(
        select=[
            "structure-kustomize-missing",
            "structure-kustomize-outside",
            "structure-kustomize-remote",
        ]
    ) == [
        (SONARR_KFILE, 5, "structure-kustomize-missing"),
        (SONARR_KFILE, 6, "structure-kustomize-outside"),
        (SONARR_KFILE, 7, "structure-kustomize-remote"),
        (SONARR_KFILE, 8, "structure-kustomize-missing"),
        (SONARR_KFILE, 14, "structure-kustomize-missing"),
    ]


# ---------------------------------------------------------------- layout


def test_flat_app_layout(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = _edit(SONARR_KS, "/sonarr/app", "/sonarr")
    tree["kubernetes/apps/media/sonarr/kustomization.yaml"] = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./app\n"
    )
    yaml_tree(tree)
    assert lint_tree(select=["structure-app-layout", "structure-app-kustomization"]) == [
        (SONARR_KS, 9, "structure-app-layout"),
    ]


def test_flat_secrets_folder_is_the_standard(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = _edit(MEDIA_KFILE, "resources:\n", "resources:\n  - ./secrets/ks.yaml\n")
    tree["kubernetes/apps/media/secrets/ks.yaml"] = _ks(
        "secrets", "./kubernetes/apps/media/secrets"
    )
    tree["kubernetes/apps/media/secrets/kustomization.yaml"] = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"
    )
    yaml_tree(tree)
    assert lint_tree(select=STRUCTURE_IDS) == []


def test_app_folder_without_kustomization(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    del tree[SONARR_KFILE]
    yaml_tree(tree)
    assert lint_tree(select=["structure-app-kustomization"]) == [
        (SONARR_KS, 9, "structure-app-kustomization"),
    ]


def test_helmrelease_file_name(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    tree["kubernetes/apps/media/sonarr/app/sonarr.yaml"] = tree.pop(SONARR_HR)
    tree = _edit(SONARR_KFILE, "./helmrelease.yaml", "./sonarr.yaml", tree)
    yaml_tree(tree)
    assert lint_tree(select=["structure-helmrelease-file"]) == [
        ("kubernetes/apps/media/sonarr/app/sonarr.yaml", 1, "structure-helmrelease-file"),
    ]


def test_second_release_beside_helmrelease_yaml(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    tree["kubernetes/apps/media/sonarr/app/helmrelease-redis.yaml"] = tree[SONARR_HR].replace(
        "name: sonarr\n", "name: sonarr-redis\n"
    )
    yaml_tree(tree)
    assert lint_tree(select=["structure-helmrelease-file"]) == []


# ---------------------------------------------------------------- values


def test_values_file_elsewhere(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    tree["kubernetes/apps/media/sonarr/app/values.yaml"] = tree.pop(SONARR_VALUES)
    tree = _edit(SONARR_KFILE, "./helm/values.yaml", "./values.yaml", tree)
    yaml_tree(tree)
    assert lint_tree(select=["structure-values-file"]) == [
        (SONARR_KFILE, 8, "structure-values-file"),
    ]


def test_values_file_option(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    tree["kubernetes/apps/media/sonarr/app/values.yaml"] = tree.pop(SONARR_VALUES)
    tree = _edit(SONARR_KFILE, "./helm/values.yaml", "./values.yaml", tree)
    tree[".homelab-kit.yaml"] = "checks:\n  structure-values-file:\n    values-file: values.yaml\n"
    yaml_tree(tree)
    assert lint_tree(select=["structure-values-file"]) == []


def test_inline_values_and_extra_values_files_are_fine(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    tree = _edit(SONARR_HR, "  valuesFrom:\n", "  values:\n    replicas: 1\n  valuesFrom:\n")
    tree = _edit(
        SONARR_HR,
        "name: sonarr-values\n",
        "name: sonarr-values\n      valuesKey: extra.yaml\n",
        tree,
    )
    tree = _edit(SONARR_KFILE, "values.yaml=./helm/values.yaml", "extra.yaml=./extra.yaml", tree)
    tree["kubernetes/apps/media/sonarr/app/extra.yaml"] = tree.pop(SONARR_VALUES)
    yaml_tree(tree)
    assert lint_tree(select=["structure-values-file"]) == []


def test_values_name_reference_missing(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = _edit(SONARR_KCONFIG, "spec/valuesFrom/name", "spec/chart/name")
    yaml_tree(tree)
    assert lint_tree(select=["structure-values-name-reference"]) == [
        (SONARR_HR, 11, "structure-values-name-reference"),
    ]


@pytest.mark.parametrize(
    "config", ["nameReference: true\n", "nameReference:\n  - kind: ConfigMap\n    fieldSpecs: 3\n"]
)
def test_values_name_reference_malformed_config_is_no_reference(
    yaml_tree: YamlTree, lint_tree: LintTree, config: str
) -> None:
    """A kustomizeconfig of the wrong shape covers nothing (found by the fuzz test: a crash)."""
    tree = cluster()
    tree[SONARR_KCONFIG] = config
    yaml_tree(tree)
    assert lint_tree(select=["structure-values-name-reference"]) == [
        (SONARR_HR, 11, "structure-values-name-reference"),
    ]


def test_values_name_reference_not_needed_without_hash(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    tree = _edit(SONARR_KFILE, "configurations:\n  - ./helm/kustomizeconfig.yaml\n", "")
    tree[SONARR_KFILE] += "generatorOptions:\n  disableNameSuffixHash: true\n"
    del tree[SONARR_KCONFIG]
    yaml_tree(tree)
    assert lint_tree(select=["structure-values-name-reference"]) == []
