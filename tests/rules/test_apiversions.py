"""The API versions pack: deprecated and removed Kubernetes and Flux apiVersions."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab_kit import Severity
from homelab_kit.diagnostic import Edit
from homelab_kit.testing import LintTree, YamlTree, lint_path
from tests.rules.test_helm import ks

APP = "kubernetes/apps/default/echo"

OLD = """
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: echo
spec:
  interval: 1h
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
---
apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata:
  name: echo
spec:
  interval: 1h
---
apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: backup
---
apiVersion: flowcontrol.apiserver.k8s.io/v1beta3
kind: FlowSchema
metadata:
  name: fs
"""

CURRENT = """
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: echo
spec:
  interval: 1h
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: echo
spec:
  interval: 1h
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: extensions-v1beta1-is-not-an-issue-for-configmaps
"""

KS = """
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: echo
  namespace: flux-system
spec:
  interval: 1h
  path: ./kubernetes/apps/default/echo/app
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  healthChecks:
    - apiVersion: helm.toolkit.fluxcd.io/v2beta2
      kind: HelmRelease
      name: echo
      namespace: default
"""

IDS = ["api-removed", "api-deprecated"]


def test_current_api_versions_pass(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({f"{APP}/app/objects.yaml": CURRENT})
    assert lint_tree(select=IDS) == []


def test_unknown_targets_mean_the_newest_releases(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({f"{APP}/app/objects.yaml": OLD, f"{APP}/ks.yaml": KS})
    assert lint_tree(select=IDS) == [
        (f"{APP}/app/objects.yaml", 2, "api-removed"),
        (f"{APP}/app/objects.yaml", 10, "api-removed"),
        (f"{APP}/app/objects.yaml", 17, "api-removed"),
        (f"{APP}/app/objects.yaml", 22, "api-removed"),
        (f"{APP}/ks.yaml", 15, "api-removed"),
    ]


def test_targets_from_config_and_flux_instance(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            ".homelab-kit.yaml": "kubernetes-version: v1.30.2\n",
            f"{APP}/app/objects.yaml": OLD,
            f"{APP}/ks.yaml": KS,
            "kubernetes/apps/flux-system/flux/instance.yaml": """
            ---
            apiVersion: fluxcd.controlplane.io/v1
            kind: FluxInstance
            metadata:
              name: flux
              namespace: flux-system
            spec:
              distribution:
                version: 2.6.x
            """,
        }
    )
    assert lint_tree(select=IDS) == [
        (f"{APP}/app/objects.yaml", 2, "api-deprecated"),  # OCIRepository v1beta2 in Flux 2.6
        (f"{APP}/app/objects.yaml", 10, "api-deprecated"),  # helm v2beta1: removed in 2.7
        (f"{APP}/app/objects.yaml", 17, "api-removed"),  # batch/v1beta1: removed in 1.25
        (f"{APP}/app/objects.yaml", 22, "api-deprecated"),  # flowcontrol v1beta3: 1.29 to 1.32
        (f"{APP}/ks.yaml", 15, "api-deprecated"),  # helm v2beta2: deprecated in Flux 2.3
    ]


def test_flux_version_option(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            ".homelab-kit.yaml": "checks:\n  api-removed:\n    flux-version: '2.8'\n",
            f"{APP}/app/objects.yaml": OLD.split("---\napiVersion: batch")[0],
        }
    )
    assert lint_tree(select=["api-removed"]) == [
        (f"{APP}/app/objects.yaml", 2, "api-removed"),
        (f"{APP}/app/objects.yaml", 10, "api-removed"),
    ]


def test_compatible_replacements_carry_a_fix(yaml_tree: YamlTree, tmp_path: Path) -> None:
    yaml_tree({f"{APP}/app/objects.yaml": OLD, f"{APP}/ks.yaml": KS})
    fixes = {
        (d.location.path, d.location.line): d.fix
        for d in lint_path(tmp_path, select=["api-removed"]).diagnostics
    }
    oci = fixes[(f"{APP}/app/objects.yaml", 2)]
    assert oci is not None
    assert oci.edits == (
        Edit(f"{APP}/app/objects.yaml", 0, ("apiVersion",), "source.toolkit.fluxcd.io/v1"),
    )
    health = fixes[(f"{APP}/ks.yaml", 15)]
    assert health is not None
    assert health.edits[0].key_path == ("spec", "healthChecks", 0, "apiVersion")
    assert fixes[(f"{APP}/app/objects.yaml", 10)] is None  # v2beta1 to v2 renames fields


def test_flux_version_from_the_flux_instance_chart_values(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(
        {
            f"{APP}/app/objects.yaml": OLD.split("---\napiVersion: helm")[0],
            "kubernetes/apps/flux-system/flux-instance/app/helmrelease.yaml": """
            ---
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata:
              name: flux-instance
              namespace: flux-system
            spec:
              interval: 1h
              values:
                instance:
                  distribution:
                    version: 2.6.4
            """,
        }
    )
    assert lint_tree(select=IDS) == [(f"{APP}/app/objects.yaml", 2, "api-deprecated")]


def test_patches_use_current_versions_too(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            f"{APP}/app/kustomization.yaml": """
            ---
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - ./helmrelease.yaml
            patches:
              - path: ./patch.yaml
            """,
            f"{APP}/app/helmrelease.yaml": CURRENT.split("---\napiVersion: batch")[0],
            f"{APP}/app/patch.yaml": """
            ---
            apiVersion: helm.toolkit.fluxcd.io/v2beta2
            kind: HelmRelease
            metadata:
              name: echo
            spec:
              interval: 2h
            """,
        }
    )
    assert lint_tree(select=IDS) == [(f"{APP}/app/patch.yaml", 2, "api-removed")]


# ---------------------------------------------------------------- the desired state

_ROOT = ks("cluster-apps", "./kubernetes/apps", "flux-system")


def _child(name: str, path: str, extra: str = "") -> str:
    return ks(name, path, "flux-system", extra)


def _cluster(apps: dict[str, str], root_extra: str = "") -> dict[str, str]:
    """kubernetes/flux/cluster/ks.yaml applying kubernetes/apps, which lists ``apps``."""
    return {
        "kubernetes/flux/cluster/ks.yaml": _ROOT + root_extra,
        "kubernetes/apps/kustomization.yaml": "resources: [./default]\n",
        "kubernetes/apps/default/kustomization.yaml": "resources:\n"
        + "".join(f"  - ./{name}/ks.yaml\n" for name in apps),
        **{f"kubernetes/apps/default/{name}/ks.yaml": text for name, text in apps.items()},
    }


def test_a_health_check_a_parent_patch_injects_is_reported_at_the_patch(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    patch = """\
  patches:
    - patch: |
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: not-used
        spec:
          healthChecks:
            - apiVersion: helm.toolkit.fluxcd.io/v2beta1
              kind: HelmRelease
              name: app
              namespace: default
      target:
        kind: Kustomization
"""
    apps = {name: _child(name, f"./kubernetes/apps/default/{name}/app") for name in ("echo", "web")}
    files = _cluster(apps, patch)
    for name in apps:
        files[f"kubernetes/apps/default/{name}/app/kustomization.yaml"] = "resources: []\n"
    yaml_tree(files)
    result = lint_path(tmp_path, select=IDS)
    # once for both children, at the line the user edits: the patch's healthChecks
    assert [(d.location.path, d.location.line, d.check_id) for d in result.diagnostics] == [
        ("kubernetes/flux/cluster/ks.yaml", 23, "api-removed")
    ]
    (diagnostic,) = result.diagnostics
    assert diagnostic.message.startswith(
        "a healthChecks entry of Kustomization echo (and 1 more) uses "
        "helm.toolkit.fluxcd.io/v2beta1"
    )
    assert diagnostic.fix is None  # the children's files hold no apiVersion to change


def test_an_api_version_substitution_fills_is_judged_at_its_reference(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    substitute = "  postBuild:\n    substitute:\n      HELM_API: v2beta1\n"
    yaml_tree(
        {
            **_cluster({"echo": _child("echo", f"./{APP}/app", substitute)}),
            f"{APP}/app/kustomization.yaml": "resources: [./helmrelease.yaml]\n",
            f"{APP}/app/helmrelease.yaml": """
            apiVersion: helm.toolkit.fluxcd.io/${HELM_API}
            kind: HelmRelease
            metadata:
              name: echo
              namespace: default
            spec:
              interval: 1h
            """,
        }
    )
    result = lint_path(tmp_path, select=IDS)
    assert [(d.location.path, d.location.line, d.check_id) for d in result.diagnostics] == [
        (f"{APP}/app/helmrelease.yaml", 1, "api-removed")
    ]
    (diagnostic,) = result.diagnostics
    assert "HelmRelease echo uses helm.toolkit.fluxcd.io/v2beta1" in diagnostic.message
    assert diagnostic.fix is None  # the file says ${HELM_API}: the fix is elsewhere


def test_a_file_no_cluster_deploys_is_not_checked(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            **_cluster({"echo": _child("echo", f"./{APP}/app")}),
            f"{APP}/app/kustomization.yaml": "resources: [./objects.yaml]\n",
            f"{APP}/app/objects.yaml": CURRENT,
            # commented out of the list: nothing applies it
            "kubernetes/apps/default/old/ks.yaml": _child(
                "old", "./kubernetes/apps/default/old/app"
            ),
            "kubernetes/apps/default/old/app/kustomization.yaml": "resources: [./objects.yaml]\n",
            "kubernetes/apps/default/old/app/objects.yaml": OLD,
        }
    )
    assert [f for f in lint_tree(select=IDS) if f[2].startswith("api-")] == []


def test_the_cluster_is_named_when_clusters_apply_a_file_differently(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    files: dict[str, str] = {
        "kubernetes/shared/backup/kustomization.yaml": "resources: [./cronjob.yaml]\n",
        "kubernetes/shared/backup/cronjob.yaml": """
        apiVersion: batch/${BATCH_API}
        kind: CronJob
        metadata:
          name: backup
          namespace: default
        """,
    }
    for cluster, version in (("main", "v1beta1"), ("storage", "v1")):
        base = f"kubernetes/{cluster}"
        files[f"{base}/flux/cluster/ks.yaml"] = _ROOT.replace("./kubernetes/apps", f"./{base}/apps")
        files[f"{base}/apps/kustomization.yaml"] = "resources: [./backup.yaml]\n"
        files[f"{base}/apps/backup.yaml"] = _child(
            "backup",
            "./kubernetes/shared/backup",
            f"  postBuild:\n    substitute:\n      BATCH_API: {version}\n",
        )
    yaml_tree(files)
    result = lint_path(tmp_path, select=IDS)
    assert [(d.location.path, d.location.line, d.cluster) for d in result.diagnostics] == [
        ("kubernetes/shared/backup/cronjob.yaml", 1, "main")
    ]
    assert result.diagnostics[0].labelled_message.startswith(
        "[cluster main] CronJob backup uses batch/v1beta1, removed in Kubernetes 1.25"
    )


# ---------------------------------------------------------------- the Flux release pinned

_FLUX_MANIFESTS = """
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: flux-manifests
  namespace: flux-system
spec:
  interval: 10m
  url: oci://ghcr.io/fluxcd/flux-manifests
  ref:
    {ref}
"""

# Judged against Flux 2.3: OCIRepository v1beta2 is current (deprecated in 2.6),
# helm v2beta1 deprecated (removed in 2.7); batch/v1beta1 still removed (Kubernetes).
_ON_FLUX_2_3 = [
    (f"{APP}/app/objects.yaml", 10, "api-deprecated"),
    (f"{APP}/app/objects.yaml", 17, "api-removed"),
]
_OLD_ON_2_3 = OLD.split("---\napiVersion: flowcontrol")[0]


def test_flux_version_from_the_flux_manifests_oci_repository(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(
        {
            f"{APP}/app/objects.yaml": _OLD_ON_2_3,
            "kubernetes/flux/config/flux.yaml": _FLUX_MANIFESTS.format(ref="tag: v2.3.0"),
        }
    )
    # the flux-manifests OCIRepository itself uses v1beta2, current in 2.3
    assert lint_tree(select=IDS) == _ON_FLUX_2_3


def test_a_semver_range_pins_its_lowest_release(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            f"{APP}/app/objects.yaml": _OLD_ON_2_3,
            "kubernetes/flux/config/flux.yaml": _FLUX_MANIFESTS.format(ref="semver: '>=2.3.0'"),
        }
    )
    assert lint_tree(select=IDS) == _ON_FLUX_2_3


def test_another_oci_repository_pins_no_flux(yaml_tree: YamlTree, tmp_path: Path) -> None:
    other = _FLUX_MANIFESTS.format(ref="tag: v2.3.0").replace("fluxcd/flux-manifests", "x/y")
    yaml_tree({f"{APP}/app/objects.yaml": _OLD_ON_2_3, "kubernetes/flux/config/flux.yaml": other})
    found = {
        (d.location.path, d.location.line): d.severity
        for d in lint_path(tmp_path, select=["api-removed"]).diagnostics
    }
    assert found[("kubernetes/flux/config/flux.yaml", 2)] == Severity.WARNING


@pytest.mark.parametrize(
    "resource",
    [
        "github.com/fluxcd/flux2/manifests/install?ref=v2.3.0",
        "https://github.com/fluxcd/flux2//manifests/install?ref=v2.3.0",
        "https://github.com/fluxcd/flux2/releases/download/v2.3.0/install.yaml",
    ],
)
def test_flux_version_from_the_flux2_install_kustomization(
    yaml_tree: YamlTree, lint_tree: LintTree, resource: str
) -> None:
    yaml_tree(
        {
            f"{APP}/app/objects.yaml": _OLD_ON_2_3,
            "bootstrap/flux/kustomization.yaml": f"resources:\n  - {resource}\n",
        }
    )
    assert lint_tree(select=IDS) == _ON_FLUX_2_3


def test_flux_version_from_the_gotk_components_header(yaml_tree: YamlTree, tmp_path: Path) -> None:
    yaml_tree({f"{APP}/app/objects.yaml": _OLD_ON_2_3})
    components = tmp_path / "kubernetes/flux/flux-system/gotk-components.yaml"
    components.parent.mkdir(parents=True)
    components.write_text(
        "---\n# This manifest was generated by flux. DO NOT EDIT.\n"
        "# Flux Version: v2.3.0\n# Components: source-controller\n"
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n"
    )
    result = lint_path(tmp_path, select=IDS)
    assert [(d.location.path, d.location.line, d.check_id) for d in result.diagnostics] == (
        _ON_FLUX_2_3
    )


def test_clusters_pinning_different_releases_are_judged_by_the_oldest(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(
        {
            f"{APP}/app/objects.yaml": _OLD_ON_2_3,
            "kubernetes/main/flux/config/flux.yaml": _FLUX_MANIFESTS.format(ref="tag: v2.8.0"),
            "kubernetes/storage/flux/config/flux.yaml": _FLUX_MANIFESTS.format(ref="tag: v2.3.0"),
        }
    )
    assert lint_tree(select=IDS) == _ON_FLUX_2_3


def test_an_unpinned_flux_removal_is_a_warning_that_says_so(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    yaml_tree({f"{APP}/app/objects.yaml": _OLD_ON_2_3})
    found = {
        d.location.line: (d.severity, d.message)
        for d in lint_path(tmp_path, select=["api-removed"]).diagnostics
    }
    severity, text = found[2]  # OCIRepository v1beta2, removed in Flux 2.8
    assert severity == Severity.WARNING
    assert text == (
        "OCIRepository echo uses source.toolkit.fluxcd.io/v1beta2, removed in Flux 2.8 "
        "(this repository does not pin its Flux version; set the flux-version option to the "
        "release its clusters run); use source.toolkit.fluxcd.io/v1"
    )
    # a Kubernetes removal stays an error; so does a Flux one where Flux is pinned
    assert found[17][0] == Severity.ERROR


def test_a_pinned_flux_removal_is_an_error(yaml_tree: YamlTree, tmp_path: Path) -> None:
    yaml_tree(
        {
            f"{APP}/app/objects.yaml": _OLD_ON_2_3,
            "kubernetes/flux/config/flux.yaml": _FLUX_MANIFESTS.format(ref="tag: v2.8.0"),
        }
    )
    found = {
        (d.location.path, d.location.line): (d.severity, d.message)
        for d in lint_path(tmp_path, select=["api-removed"]).diagnostics
    }
    severity, text = found[("kubernetes/flux/config/flux.yaml", 2)]
    assert severity == Severity.ERROR
    assert "removed in Flux 2.8 (targeting 2.8); use source.toolkit.fluxcd.io/v1" in text
