"""Findings name their cluster when the repository has several."""

from __future__ import annotations

from pathlib import Path

from homelab_kit.testing import YamlTree, lint_path
from tests.rules.test_schema import ks
from tests.rules.test_workloads import UNTAGGED


def _clusters(names: tuple[str, ...]) -> dict[str, str]:
    tree: dict[str, str] = {}
    for name in names:
        tree[f"kubernetes/{name}/flux/cluster/ks.yaml"] = ks(
            "cluster-apps", f"./kubernetes/{name}/apps", namespace="flux-system"
        )
        tree[f"kubernetes/{name}/apps/deployment.yaml"] = UNTAGGED
    return tree


def test_a_finding_in_a_file_of_one_cluster_names_it(yaml_tree: YamlTree, tmp_path: Path) -> None:
    yaml_tree(_clusters(("main", "storage")))
    result = lint_path(tmp_path, select=["workload-image-tag"])
    assert [(d.location.path, d.cluster) for d in result.diagnostics] == [
        ("kubernetes/main/apps/deployment.yaml", "main"),
        ("kubernetes/storage/apps/deployment.yaml", "storage"),
    ]


def test_one_cluster_is_never_named(yaml_tree: YamlTree, tmp_path: Path) -> None:
    yaml_tree(_clusters(("main",)))
    result = lint_path(tmp_path, select=["workload-image-tag"])
    assert [(d.location.path, d.cluster) for d in result.diagnostics] == [
        ("kubernetes/main/apps/deployment.yaml", None)
    ]
