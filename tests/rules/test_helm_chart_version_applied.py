"""helm-chart-version-pinned reads the objects Flux applies: substituted versions,
versions a patch sets, one file two clusters apply differently (issue 16)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from homelab_kit.testing import YamlTree, lint_path
from tests.rules.test_helm import (
    DEFAULT_KFILE,
    ECHO_HR,
    ECHO_KFILE,
    ECHO_KS,
    cluster,
    edit,
    ks,
)

ID = "helm-chart-version-pinned"

REPOSITORY_RELEASE = """
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
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
      version: ${CHART_VERSION}
      sourceRef:
        kind: HelmRepository
        name: charts
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

SETTINGS = "kubernetes/flux/vars/cluster-settings.yaml"


def _found(root: Path) -> list[tuple[str, int, str | None, str]]:
    result = lint_path(root, select=[ID])
    return [(d.location.path, d.location.line, d.cluster, d.message) for d in result.diagnostics]


def _substituted(version: str) -> dict[str, str]:
    """The echo app's chart version from ${CHART_VERSION}, which the parent's
    substituteFrom ConfigMap fills."""
    tree = cluster(REPOSITORY_RELEASE)
    edit(
        tree,
        ECHO_KS,
        "  targetNamespace: default\n",
        "  targetNamespace: default\n  postBuild:\n    substituteFrom:\n"
        "      - kind: ConfigMap\n        name: cluster-settings\n",
    )
    tree[SETTINGS] = textwrap.dedent(
        f"""\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: cluster-settings
          namespace: default
        data:
          CHART_VERSION: "{version}"
        """
    )
    tree["kubernetes/apps/default/settings.yaml"] = tree.pop(SETTINGS)
    edit(
        tree,
        "kubernetes/apps/default/kustomization.yaml",
        "  - ./echo/ks.yaml",
        "  - ./echo/ks.yaml\n  - ./settings.yaml",
    )
    return tree


def test_a_substituted_range_is_reported_at_its_reference(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    yaml_tree(_substituted("1.x"))
    ((path, line, named, message),) = _found(tmp_path)
    assert (path, line, named) == (ECHO_HR, 19, None)  # version: ${CHART_VERSION}
    assert message.startswith(
        "HelmRelease echo chart version '1.x' is a version range (${CHART_VERSION} from "
        "ConfigMap default/cluster-settings key CHART_VERSION (kubernetes/apps/default/"
        "settings.yaml:7:"
    )


def test_a_substituted_exact_version_passes(yaml_tree: YamlTree, tmp_path: Path) -> None:
    yaml_tree(_substituted("1.2.3"))
    assert _found(tmp_path) == []


def test_a_version_a_patch_sets_is_reported_at_the_patch(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    tree = cluster(REPOSITORY_RELEASE.replace("${CHART_VERSION}", "1.2.3"))
    edit(
        tree,
        ECHO_KFILE,
        "  - ./helmrelease.yaml\n",
        "  - ./helmrelease.yaml\npatches:\n  - path: ./version.yaml\n",
    )
    tree["kubernetes/apps/default/echo/app/version.yaml"] = textwrap.dedent(
        """\
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata:
          name: echo
        spec:
          chart:
            spec:
              version: ">=1.0"
        """
    )
    yaml_tree(tree)
    assert _found(tmp_path) == [
        (
            "kubernetes/apps/default/echo/app/version.yaml",
            8,
            None,
            "HelmRelease echo chart version '>=1.0' is a version range",
        )
    ]


def test_a_version_a_parent_kustomization_patch_removes_is_reported_at_the_patch(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    # the echo Kustomization's own spec.patches empties the version: follows the latest
    tree = cluster(REPOSITORY_RELEASE.replace("${CHART_VERSION}", "1.2.3"))
    edit(
        tree,
        ECHO_KS,
        "  targetNamespace: default\n",
        "  targetNamespace: default\n"
        "  patches:\n"
        "    - patch: |\n"
        "        - op: replace\n"
        "          path: /spec/chart/spec/version\n"
        '          value: "*"\n'
        "      target:\n"
        "        kind: HelmRelease\n",
    )
    yaml_tree(tree)
    ((path, line, _, message),) = _found(tmp_path)
    assert path == ECHO_KS
    assert line == 19  # the operation's path: not line 0 of a kustomization.yaml
    assert message == "HelmRelease echo chart version '*' is a version range"


def test_the_cluster_is_named_when_two_clusters_apply_a_release_differently(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    shared = "kubernetes/shared/echo"
    tree = {
        f"{shared}/kustomization.yaml": "resources: [./helmrelease.yaml]\n",
        f"{shared}/helmrelease.yaml": textwrap.dedent(REPOSITORY_RELEASE).lstrip("\n"),
    }
    for name, version in (("main", "1.2.3"), ("storage", "~1.2")):
        base = f"kubernetes/{name}"
        tree[f"{base}/flux/ks.yaml"] = ks("cluster-apps", f"./{base}/apps", "flux-system")
        tree[f"{base}/apps/kustomization.yaml"] = "resources: [./echo.yaml]\n"
        tree[f"{base}/apps/echo.yaml"] = ks(
            "echo",
            f"./{shared}",
            "flux-system",
            f"  targetNamespace: default\n  postBuild:\n    substitute:\n"
            f'      CHART_VERSION: "{version}"\n',
        )
    yaml_tree(tree)
    assert [(p, line, c) for p, line, c, _ in _found(tmp_path)] == [
        (f"{shared}/helmrelease.yaml", 19, "storage")
    ]


def test_a_release_no_cluster_deploys_is_not_checked(yaml_tree: YamlTree, tmp_path: Path) -> None:
    tree = cluster()
    tree["kubernetes/apps/default/old/app/helmrelease.yaml"] = textwrap.dedent(
        REPOSITORY_RELEASE.replace("${CHART_VERSION}", '">=0"')
    )
    tree["kubernetes/apps/default/old/app/kustomization.yaml"] = "resources: [helmrelease.yaml]\n"
    tree["kubernetes/apps/default/old/ks.yaml"] = ks(
        "old", "./kubernetes/apps/default/old/app", "default"
    )  # not listed in kubernetes/apps/default/kustomization.yaml
    yaml_tree(tree)
    assert _found(tmp_path) == []
    # Listed, the same release is deployed and its range reported.
    edit(tree, DEFAULT_KFILE, "  - ./echo/ks.yaml", "  - ./echo/ks.yaml\n  - ./old/ks.yaml")
    yaml_tree(tree)
    assert [(p, c) for p, _, c, _ in _found(tmp_path)] == [
        ("kubernetes/apps/default/old/app/helmrelease.yaml", None)
    ]


def test_a_version_a_secret_fills_is_judged_but_never_quoted(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    tree = _substituted("9.x-hidden")
    settings = "kubernetes/apps/default/settings.yaml"
    secret = tree[settings].replace("kind: ConfigMap", "kind: Secret")
    tree[settings] = secret.replace("\ndata:", "\nstringData:")
    edit(tree, ECHO_KS, "- kind: ConfigMap\n", "- kind: Secret\n")
    yaml_tree(tree)
    ((path, line, _, message),) = _found(tmp_path)
    assert (path, line) == (ECHO_HR, 19)
    assert "hidden" not in message
    assert message.startswith(
        "HelmRelease echo chart version from a Secret is not an exact version "
        "(${CHART_VERSION} from Secret default/cluster-settings key CHART_VERSION"
    )
