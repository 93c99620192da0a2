"""Chart sources are resolved in the cluster that applies the HelmRelease.

A HelmRelease of one cluster never takes its chart from a source only another
cluster deploys: Flux looks the source up in its own cluster.
"""

from __future__ import annotations

import textwrap

from homelab_kit.testing import YamlTree, lint_path
from tests.rules.test_helm import ECHO_KFILE, OCI, RELEASE, cluster, ks

SHARED = "kubernetes/shared/echo/app"


def _cluster(name: str, with_source: bool) -> dict[str, str]:
    """Cluster ``name`` deploys the shared echo app; its own OCIRepository echo if asked."""
    apps = f"kubernetes/{name}/apps/default"
    resources = "  - ./echo/ks.yaml\n" + ("  - ./echo/ocirepository.yaml\n" if with_source else "")
    tree = {
        f"kubernetes/{name}/flux/cluster/ks.yaml": ks(
            "cluster-apps", f"./kubernetes/{name}/apps", "flux-system"
        ),
        f"{apps}/kustomization.yaml": (
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            f"namespace: default\nresources:\n{resources}"
        ),
        f"{apps}/echo/ks.yaml": ks(
            "echo", f"./{SHARED}", "default", "  targetNamespace: default\n"
        ),
        f"{apps}/echo/ocirepository.yaml": OCI,
    }
    return {path: textwrap.dedent(text).lstrip("\n") for path, text in tree.items()}


def _tree(main_source: bool, storage_source: bool) -> dict[str, str]:
    shared = {
        f"{SHARED}/kustomization.yaml": cluster()[ECHO_KFILE],
        f"{SHARED}/helmrelease.yaml": textwrap.dedent(RELEASE).lstrip("\n"),
        f"{SHARED}/helm/values.yaml": "replicas: 1\n",
    }
    return _cluster("main", main_source) | _cluster("storage", storage_source) | shared


def test_a_source_only_another_cluster_deploys_does_not_resolve(yaml_tree: YamlTree) -> None:
    root = yaml_tree(_tree(main_source=False, storage_source=True))
    result = lint_path(root, select=["helm-chart-source-resolves"])
    assert [(d.location.path, d.location.line, d.cluster) for d in result.diagnostics] == [
        (f"{SHARED}/helmrelease.yaml", 9, "main")
    ]
    assert result.diagnostics[0].message == (
        "HelmRelease echo takes its chart from OCIRepository echo, which is not declared "
        "in namespace default in this cluster (only another cluster declares it)"
    )


def test_a_source_each_cluster_deploys_resolves(yaml_tree: YamlTree) -> None:
    root = yaml_tree(_tree(main_source=True, storage_source=True))
    assert lint_path(root, select=["helm-chart-source-resolves"]).diagnostics == ()


def test_a_source_no_cluster_deploys_resolves_nowhere(yaml_tree: YamlTree) -> None:
    # The OCIRepository files exist but no kustomization lists them.
    root = yaml_tree(_tree(main_source=False, storage_source=False))
    result = lint_path(root, select=["helm-chart-source-resolves"])
    assert [(d.location.line, d.cluster) for d in result.diagnostics] == [(9, None)]
    assert result.diagnostics[0].message.endswith("which is not declared in namespace default")


def test_a_source_each_cluster_uses_once_is_placed_per_cluster(yaml_tree: YamlTree) -> None:
    # onedr0p__home-ops-2024: each cluster's central HelmRepository has one user in
    # its own cluster; the other cluster's same-named release is not a second user.
    root = yaml_tree(_tree(main_source=True, storage_source=True))
    result = lint_path(root, select=["helm-chart-source-placement"])
    assert [(d.location.path, d.cluster) for d in result.diagnostics] == [
        ("kubernetes/main/apps/default/echo/ocirepository.yaml", "main"),
        ("kubernetes/storage/apps/default/echo/ocirepository.yaml", "storage"),
    ]
