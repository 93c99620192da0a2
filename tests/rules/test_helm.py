"""The helm pack: chart pinning, chart sources, intervals, remediation, valuesFrom."""

from __future__ import annotations

import textwrap
from pathlib import Path

import attrs
import pytest

import homelab_kit
from homelab_kit.config import load_config
from homelab_kit.testing import LintTree, YamlTree, findings

CLUSTER_KS = "kubernetes/flux/cluster/ks.yaml"
DEFAULT_KFILE = "kubernetes/apps/default/kustomization.yaml"
ECHO_KS = "kubernetes/apps/default/echo/ks.yaml"
ECHO_KFILE = "kubernetes/apps/default/echo/app/kustomization.yaml"
ECHO_HR = "kubernetes/apps/default/echo/app/helmrelease.yaml"
ECHO_VALUES = "kubernetes/apps/default/echo/app/helm/values.yaml"

HELM_IDS = [
    "helm-chart-source-placement",
    "helm-chart-source-resolves",
    "helm-chart-source-unused",
    "helm-chart-version-pinned",
    "helm-interval-set",
    "helm-remediation-retries",
    "helm-values-from-resolves",
]

OCI = """
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: echo
spec:
  interval: 1h
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
  ref:
    tag: 4.2.0
"""

RELEASE = """
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: echo
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: echo
  install:
    remediation:
      retries: 3
  upgrade:
    remediation:
      retries: 3
  valuesFrom:
    - kind: ConfigMap
      name: echo-values
"""


def ks(name: str, path: str, namespace: str, extra: str = "") -> str:
    return f"""
---
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
{extra}"""


def cluster(hr: str = OCI + RELEASE) -> dict[str, str]:
    """A cluster every helm check passes: one app with its chart source co-located."""
    tree = {
        CLUSTER_KS: ks("cluster-apps", "./kubernetes/apps", "flux-system"),
        DEFAULT_KFILE: """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            namespace: default
            resources:
              - ./echo/ks.yaml
            """,
        ECHO_KS: ks(
            "echo", "./kubernetes/apps/default/echo/app", "default", "  targetNamespace: default\n"
        ),
        ECHO_KFILE: """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - ./helmrelease.yaml
            configMapGenerator:
              - name: echo-values
                files:
                  - values.yaml=./helm/values.yaml
            generatorOptions:
              disableNameSuffixHash: true  # so valuesFrom finds it by name
            """,
        ECHO_HR: hr,
        ECHO_VALUES: "replicas: 1\n",
    }
    return {path: textwrap.dedent(text).lstrip("\n") for path, text in tree.items()}


def edit(tree: dict[str, str], path: str, old: str, new: str) -> dict[str, str]:
    assert old in tree[path], old
    tree[path] = tree[path].replace(old, new)
    return tree


def test_clean_cluster_passes(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(cluster())
    assert lint_tree(select=HELM_IDS) == []


# ------------------------------------------------------------------- chart versions


def test_oci_semver_range_latest_and_missing_ref(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    edit(tree, ECHO_HR, "    tag: 4.2.0", '    semver: ">=4.0.0"')
    yaml_tree(tree)
    assert lint_tree(select=["helm-chart-version-pinned"]) == [
        (ECHO_HR, 10, "helm-chart-version-pinned"),
    ]
    tree = edit(cluster(), ECHO_HR, "tag: 4.2.0", "tag: latest")
    yaml_tree(tree)
    assert lint_tree(select=["helm-chart-version-pinned"]) == [
        (ECHO_HR, 10, "helm-chart-version-pinned"),
    ]
    tree = edit(cluster(), ECHO_HR, "  ref:\n    tag: 4.2.0\n", "")
    yaml_tree(tree)
    assert lint_tree(select=["helm-chart-version-pinned"]) == [
        (ECHO_HR, 7, "helm-chart-version-pinned"),
    ]


def test_oci_exact_semver_digest_and_variables_pass(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    for ref in ("semver: 4.2.0", "digest: sha256:0123abcd", "tag: ${CHART_VERSION}"):
        yaml_tree(edit(cluster(), ECHO_HR, "tag: 4.2.0", ref))
        assert lint_tree(select=["helm-chart-version-pinned"]) == [], ref


HELM_REPOSITORY = """
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: echo
spec:
  interval: 1h
  url: https://charts.example.com
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: echo
spec:
  interval: 1h
  chart:
    spec:
      chart: echo
      version: 1.2.3
      sourceRef:
        kind: HelmRepository
        name: echo
  install:
    remediation:
      retries: 3
  upgrade:
    remediation:
      retries: 3
"""


def test_chart_spec_version_ranges(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(cluster(HELM_REPOSITORY))
    assert lint_tree(select=HELM_IDS) == []
    for version in ('">=1.0"', "1.x", "~1.2", "^1.2", '"*"'):
        yaml_tree(edit(cluster(HELM_REPOSITORY), ECHO_HR, "version: 1.2.3", f"version: {version}"))
        assert lint_tree(select=["helm-chart-version-pinned"]) == [
            (ECHO_HR, 19, "helm-chart-version-pinned"),
        ], version
    yaml_tree(edit(cluster(HELM_REPOSITORY), ECHO_HR, "      version: 1.2.3\n", ""))
    assert lint_tree(select=["helm-chart-version-pinned"]) == [
        (ECHO_HR, 18, "helm-chart-version-pinned"),
    ]


# -------------------------------------------------------------------- chart sources


def test_chart_ref_name_and_namespace_must_resolve(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(
        edit(cluster(), ECHO_HR, "    name: echo\n  install", "    name: echo-chart\n  install")
    )
    assert lint_tree(select=["helm-chart-source-resolves"]) == [
        (ECHO_HR, 20, "helm-chart-source-resolves"),
    ]
    tree = edit(
        cluster(),
        ECHO_HR,
        "    name: echo\n  install",
        "    name: echo\n    namespace: flux-system\n  install",
    )
    yaml_tree(tree)
    assert lint_tree(select=["helm-chart-source-resolves"]) == [
        (ECHO_HR, 20, "helm-chart-source-resolves"),
    ]


def test_chart_ref_kind_and_missing_chart(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        edit(
            cluster(),
            ECHO_HR,
            "    kind: OCIRepository\n    name: echo\n  install",
            "    kind: HelmRepository\n    name: echo\n  install",
        )
    )
    assert lint_tree(select=["helm-chart-source-resolves"]) == [
        (ECHO_HR, 20, "helm-chart-source-resolves"),
    ]
    tree = edit(cluster(), ECHO_HR, "  chartRef:\n    kind: OCIRepository\n    name: echo\n", "")
    yaml_tree(tree)
    assert lint_tree(select=["helm-chart-source-resolves"]) == [
        (ECHO_HR, 18, "helm-chart-source-resolves"),
    ]


CHART_REF_PATCH = """
patches:
  - target:
      kind: HelmRelease
    patch: |-
      apiVersion: helm.toolkit.fluxcd.io/v2
      kind: HelmRelease
      metadata:
        name: _
      spec:
        chartRef:
          kind: OCIRepository
          name: {name}
"""


def test_a_chart_ref_a_patch_sets_resolves(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    """A kustomize patch (a component's, say) may give every HelmRelease its chartRef."""
    ids = ["helm-chart-source-resolves", "helm-chart-source-unused"]
    tree = edit(cluster(), ECHO_HR, "  chartRef:\n    kind: OCIRepository\n    name: echo\n", "")
    tree[ECHO_KFILE] += CHART_REF_PATCH.format(name="echo")
    yaml_tree(tree)
    assert lint_tree(select=ids) == []
    # A name the patch gets wrong is reported at the patch (and the source is unused).
    tree[ECHO_KFILE] = tree[ECHO_KFILE].replace("name: echo\n", "name: echoo\n")
    yaml_tree(tree)
    assert lint_tree(select=ids) == [
        (ECHO_HR, 5, "helm-chart-source-unused"),
        (ECHO_KFILE, 23, "helm-chart-source-resolves"),  # the patch's `name: echoo`
    ]


# ------------------------------------------------------------- unused sources

UNUSED = """---
apiVersion: source.toolkit.fluxcd.io/v1
kind: {kind}
metadata:
  name: old
spec:
  interval: 1h
  url: oci://ghcr.io/example/old
"""


def _with_unused(kind: str, hr: str = OCI + RELEASE) -> tuple[dict[str, str], int]:
    tree = cluster(hr)
    line = tree[ECHO_HR].count("\n") + 5  # metadata.name of the appended source
    tree[ECHO_HR] += UNUSED.format(kind=kind)
    return tree, line


@pytest.mark.parametrize("kind", ["OCIRepository", "HelmRepository"])
def test_chart_source_unused(yaml_tree: YamlTree, lint_tree: LintTree, kind: str) -> None:
    tree, line = _with_unused(kind, HELM_REPOSITORY if kind == "HelmRepository" else OCI + RELEASE)
    yaml_tree(tree)
    assert lint_tree(select=["helm-chart-source-unused"]) == [
        (ECHO_HR, line, "helm-chart-source-unused"),
    ]


def test_chart_source_used_by_a_flux_kustomization(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    tree, _ = _with_unused("OCIRepository")
    tree[ECHO_HR] += ks("manifests", "./", "default").replace(
        "    kind: GitRepository\n    name: flux-system\n    namespace: flux-system\n",
        "    kind: OCIRepository\n    name: old\n",
    )
    yaml_tree(tree)
    assert lint_tree(select=["helm-chart-source-unused"]) == []


RESOURCE_SET = """---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: old-releases
spec:
  resources:
    - apiVersion: helm.toolkit.fluxcd.io/v2
      kind: HelmRelease
      metadata:
        name: old
      spec:
        chartRef:
          kind: OCIRepository
          name: {name}
"""


@pytest.mark.parametrize("cache", [False, True])
def test_chart_source_used_only_where_sources_are_seldom_named(
    yaml_tree: YamlTree, cache: bool, tmp_path: Path
) -> None:
    """A template deep in another object (a ResourceSet's) names the source: it is used.

    The fields that usually name sources (chartRef, sourceRef) name only the other
    one here, so every object is read, with or without the cache.
    """
    tree, line = _with_unused("OCIRepository")
    tree[ECHO_HR] += RESOURCE_SET.format(name="old")
    yaml_tree(tree)
    assert _unused(tmp_path, cache) == []
    tree[ECHO_HR] = tree[ECHO_HR][: tree[ECHO_HR].rindex("name: old")] + "name: older\n"
    yaml_tree(tree)
    assert _unused(tmp_path, cache) == [(ECHO_HR, line, "helm-chart-source-unused")]


def _unused(root: Path, cache: bool) -> list[tuple[str, int, str]]:
    config = attrs.evolve(load_config(root), select=("helm-chart-source-unused",))
    return findings(homelab_kit.lint(root, config=config, cache=cache))


def test_chart_source_used_only_by_an_undeployed_file(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    tree, line = _with_unused("OCIRepository")
    tree["kubernetes/apps/default/echo/app/unlisted.yaml"] = RELEASE.replace(
        "name: echo\nspec", "name: unlisted\nspec"
    ).replace("    name: echo\n  install", "    name: old\n  install")
    yaml_tree(tree)
    assert lint_tree(select=["helm-chart-source-unused"]) == [
        (ECHO_HR, line, "helm-chart-source-unused"),
    ]


SHARED_OCI = "kubernetes/components/common/repos/app-template.yaml"
COMPONENT = "kubernetes/components/common/kustomization.yaml"
MEDIA_KFILE = "kubernetes/apps/media/kustomization.yaml"
SONARR_KS = "kubernetes/apps/media/sonarr/ks.yaml"
SONARR_KFILE = "kubernetes/apps/media/sonarr/app/kustomization.yaml"
SONARR_HR = "kubernetes/apps/media/sonarr/app/helmrelease.yaml"


def shared_source_tree() -> dict[str, str]:
    """app-template in a component two namespaces include; releases named via ${APP}."""
    tree = cluster(RELEASE.replace("name: echo\n  install", "name: app-template\n  install"))
    tree[DEFAULT_KFILE] += "components:\n  - ../../components/common\n"
    tree[COMPONENT] = textwrap.dedent(
        """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        resources:
          - ./repos/app-template.yaml
        """
    )
    tree[SHARED_OCI] = textwrap.dedent(OCI.replace("name: echo", "name: app-template"))
    tree[MEDIA_KFILE] = tree[DEFAULT_KFILE].replace("default", "media").replace("echo", "sonarr")
    tree[SONARR_KS] = textwrap.dedent(
        ks(
            "sonarr",
            "./kubernetes/apps/media/sonarr/app",
            "media",
            "  postBuild:\n    substitute:\n      APP: sonarr\n",
        )
    )
    tree[SONARR_KFILE] = "resources:\n  - ./helmrelease.yaml\n"
    tree[SONARR_HR] = textwrap.dedent(
        RELEASE.replace("name: echo\n  install", "name: app-template\n  install")
        .replace("  valuesFrom:\n    - kind: ConfigMap\n      name: echo-values\n", "")
        .replace("name: echo", "name: ${APP}")
    )
    return tree


def test_shared_source_in_a_component_resolves_in_each_namespace(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(shared_source_tree())
    assert lint_tree(select=HELM_IDS) == []


def test_placement_of_a_source_used_once(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    repos = "kubernetes/apps/default/echo/app/ocirepository.yaml"
    tree = cluster(RELEASE)
    tree[repos] = textwrap.dedent(OCI).lstrip("\n")
    tree[ECHO_KFILE] = tree[ECHO_KFILE].replace(
        "  - ./helmrelease.yaml\n", "  - ./helmrelease.yaml\n  - ./ocirepository.yaml\n"
    )
    yaml_tree(tree)
    assert lint_tree(select=HELM_IDS) == [(repos, 2, "helm-chart-source-placement")]
    options = {"placement": "folder", "file-names": ["ocirepository*.yaml"]}
    assert lint_tree(select=HELM_IDS, check_options={"helm-chart-source-placement": options}) == []


def test_placement_of_a_central_source(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = shared_source_tree()
    # Only sonarr uses the central source now: echo has its own.
    tree[ECHO_HR] = textwrap.dedent(OCI + RELEASE).lstrip("\n")
    yaml_tree(tree)
    assert lint_tree(select=["helm-chart-source-placement"]) == [
        (SHARED_OCI, 2, "helm-chart-source-placement"),
    ]


# ------------------------------------------------------------------------ intervals


def test_interval_missing_on_release_and_source(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    tree[ECHO_HR] = tree[ECHO_HR].replace("  interval: 1h\n", "")
    yaml_tree(tree)
    assert lint_tree(select=["helm-interval-set"]) == [
        (ECHO_HR, 7, "helm-interval-set"),
        (ECHO_HR, 17, "helm-interval-set"),
    ]


# ------------------------------------------------------------------ remediation


NO_REMEDIATION = RELEASE.replace(
    "  install:\n    remediation:\n      retries: 3\n  upgrade:\n    remediation:\n"
    "      retries: 3\n",
    "",
)

# onedr0p's cluster-apps: defaults for child Kustomizations, which patch HelmReleases.
CLUSTER_DEFAULTS = """  patches:
    - patch: |-
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: _
        spec:
          patches:
            - patch: |-
                apiVersion: helm.toolkit.fluxcd.io/v2
                kind: HelmRelease
                metadata:
                  name: _
                spec:
                  install:
                    strategy:
                      name: RetryOnFailure
                  upgrade:
                    remediation:
                      retries: 2
              target:
                group: helm.toolkit.fluxcd.io
                kind: HelmRelease
      target:
        group: kustomize.toolkit.fluxcd.io
        kind: Kustomization
"""


def test_remediation_missing(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(cluster(OCI + NO_REMEDIATION))
    assert lint_tree(select=["helm-remediation-retries"]) == [
        (ECHO_HR, 18, "helm-remediation-retries"),
        (ECHO_HR, 18, "helm-remediation-retries"),
    ]
    result = lint_tree(
        select=["helm-remediation-retries"],
        check_options={"helm-remediation-retries": {"require": ["upgrade"]}},
    )
    assert result == [(ECHO_HR, 18, "helm-remediation-retries")]


def test_remediation_unknown_when_the_build_failed(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    """A deployed release no build produced: what patches would set is unknown."""
    tree = cluster(OCI + NO_REMEDIATION)
    root = yaml_tree(
        edit(
            tree,
            ECHO_KFILE,
            "  - ./helmrelease.yaml\n",
            "  - ./helmrelease.yaml\n  - ./gone.yaml\n",
        )
    )
    repo = homelab_kit.load(root)
    assert repo.is_deployed(ECHO_HR)
    assert [o for c in repo.clusters for o in c.objects if o.source.path == ECHO_HR] == []
    assert lint_tree(select=["helm-remediation-retries"]) == []


def test_remediation_zero_retries(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        edit(
            cluster(),
            ECHO_HR,
            "    remediation:\n      retries: 3\n  valuesFrom",
            "    remediation:\n      retries: 0\n  valuesFrom",
        )
    )
    assert lint_tree(select=["helm-remediation-retries"]) == [
        (ECHO_HR, 27, "helm-remediation-retries"),
    ]


def test_remediation_injected_by_parent_kustomization_patches(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    tree = cluster(OCI + NO_REMEDIATION)
    tree[CLUSTER_KS] += CLUSTER_DEFAULTS
    yaml_tree(tree)
    assert lint_tree(select=HELM_IDS) == []


def test_remediation_injected_through_a_kustomize_patch_of_the_cluster_kustomization(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    # vrozaksen: kubernetes/flux/cluster/kustomization.yaml patches the cluster
    # Kustomizations with spec.patches that patch every child Kustomization.
    tree = cluster(OCI + NO_REMEDIATION)
    tree["kubernetes/flux/cluster/kustomization.yaml"] = textwrap.dedent(
        """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./ks.yaml
        patches:
          - path: patches/child-defaults.yaml
            target:
              group: kustomize.toolkit.fluxcd.io
              kind: Kustomization
              name: cluster-(apps|core)
        """
    )
    tree["kubernetes/flux/cluster/patches/child-defaults.yaml"] = (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        "metadata:\n  name: not-used\nspec:\n" + CLUSTER_DEFAULTS
    )
    yaml_tree(tree)
    assert lint_tree(select=HELM_IDS) == []


def test_remediation_patch_for_another_kind_does_not_count(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    tree = cluster(OCI + NO_REMEDIATION)
    tree[CLUSTER_KS] += CLUSTER_DEFAULTS.replace(
        "kind: HelmRelease\n      ", "kind: Deployment\n      "
    )
    yaml_tree(tree)
    assert lint_tree(select=["helm-remediation-retries"]) == [
        (ECHO_HR, 18, "helm-remediation-retries"),
        (ECHO_HR, 18, "helm-remediation-retries"),
    ]


# ---------------------------------------------------------------------- valuesFrom


def test_values_from_must_resolve(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(edit(cluster(), ECHO_HR, "name: echo-values", "name: echo-value"))
    assert lint_tree(select=["helm-values-from-resolves"]) == [
        (ECHO_HR, 29, "helm-values-from-resolves"),
    ]
    yaml_tree(
        edit(cluster(), ECHO_HR, "name: echo-values", "name: echo-value\n      optional: true")
    )
    assert lint_tree(select=["helm-values-from-resolves"]) == []


def test_values_from_secret_made_by_infisical(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    secret_values = "    - kind: Secret\n      name: echo-secret-values\n"
    tree = edit(
        cluster(), ECHO_HR, "      name: echo-values\n", "      name: echo-values\n" + secret_values
    )
    yaml_tree(tree)
    assert lint_tree(select=["helm-values-from-resolves"]) == [
        (ECHO_HR, 31, "helm-values-from-resolves"),
    ]
    tree[ECHO_HR] += textwrap.dedent(
        """
        ---
        apiVersion: secrets.infisical.com/v1alpha1
        kind: InfisicalSecret
        metadata:
          name: echo
        spec:
          managedSecretReference:
            secretName: echo-secret-values
        """
    )
    yaml_tree(tree)
    assert lint_tree(select=["helm-values-from-resolves"]) == []


def test_remediation_from_the_app_kustomization_patch(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    tree = cluster(OCI + NO_REMEDIATION)
    tree[ECHO_KFILE] += textwrap.dedent(
        """
        patches:
          - target:
              kind: HelmRelease
            patch: |-
              - op: add
                path: /spec/install
                value:
                  remediation:
                    retries: 3
              - op: add
                path: /spec/upgrade/remediation/retries
                value: 3
        """
    )
    yaml_tree(tree)
    assert lint_tree(select=["helm-remediation-retries"]) == []
