"""The API versions pack: deprecated and removed Kubernetes and Flux apiVersions."""

from __future__ import annotations

from pathlib import Path

from homelab_kit.diagnostic import Edit
from homelab_kit.testing import LintTree, YamlTree, lint_path

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
