"""The Talos pack: talconfig.yaml against talenv.yaml, its nodes and its network."""

from __future__ import annotations

import pytest

from homelab_kit import ConfigError
from homelab_kit.testing import LintTree, YamlTree

TALCONFIG = "talos/talconfig.yaml"
TALENV = "talos/talenv.yaml"

ENV = """
---
talosVersion: v1.10.6
kubernetesVersion: v1.33.4
"""


def _node(n: int, control_plane: bool = True, ip: str = "") -> str:
    return f"""\
  - hostname: homelab-0{n}
    ipAddress: {ip or f"192.168.121.1{n}"}
    controlPlane: {str(control_plane).lower()}
    networkInterfaces:
      - deviceSelector:
          hardwareAddr: "02:00:00:00:01:1{n}"
        addresses:
          - 192.168.121.1{n}/24
        vip:
          ip: 192.168.121.10
"""


def talconfig(nodes: str, talos: str = "${talosVersion}", k8s: str = "${kubernetesVersion}") -> str:
    return (
        "---\n"
        "clusterName: homelab\n"
        f'talosVersion: "{talos}"\n'
        f'kubernetesVersion: "{k8s}"\n'
        "endpoint: https://192.168.121.10:6443\n"
        "nodes:\n" + nodes
    )


GOOD = talconfig(_node(1) + _node(2) + _node(3))

ALL = [
    "talos-version-source",
    "talos-kubernetes-version",
    "talos-node-duplicate",
    "talos-node-network",
    "talos-control-plane-quorum",
    "talos-control-plane-ha",
    "talos-unresolved-variable",
]


def test_the_guide_layout_passes(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({TALCONFIG: GOOD, TALENV: ENV})
    assert lint_tree(select=ALL) == []


def test_literal_versions_equal_to_talenv_pass(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({TALCONFIG: talconfig(_node(1), talos="1.10.6", k8s="v1.33.4"), TALENV: ENV})
    assert lint_tree(select=["talos-version-source"]) == []


def test_version_source(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({TALCONFIG: talconfig(_node(1), talos="v1.10.7"), TALENV: ENV})
    assert lint_tree(select=["talos-version-source"]) == [(TALCONFIG, 3, "talos-version-source")]


def test_no_talenv_means_nothing_to_compare(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({TALCONFIG: talconfig(_node(1), talos="v1.13.7", k8s="v1.36.3")})
    assert lint_tree(select=["talos-version-source", "talos-kubernetes-version"]) == []


def test_kubernetes_version(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            ".homelab-kit.yaml": "kubernetes-version: v1.32.0\n",
            TALCONFIG: GOOD,
            TALENV: ENV,
        }
    )
    assert lint_tree(select=["talos-kubernetes-version"]) == [
        (TALENV, 3, "talos-kubernetes-version")
    ]


def test_kubernetes_version_matching_config_passes(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree({".homelab-kit.yaml": "kubernetes-version: 1.33.4\n", TALCONFIG: GOOD, TALENV: ENV})
    assert lint_tree(select=["talos-kubernetes-version"]) == []


def test_node_duplicates(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({TALCONFIG: talconfig(_node(1) + _node(2) + _node(1)), TALENV: ENV})
    assert lint_tree(select=["talos-node-duplicate"]) == [
        (TALCONFIG, 27, "talos-node-duplicate"),
        (TALCONFIG, 28, "talos-node-duplicate"),
    ]


def test_node_network_derived_from_interfaces(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    nodes = _node(1) + _node(2, ip="192.168.12.12") + _node(3).replace("121.10\n", "12.10\n")
    yaml_tree({TALCONFIG: talconfig(nodes), TALENV: ENV})
    assert lint_tree(select=["talos-node-network"]) == [
        (TALCONFIG, 18, "talos-node-network"),
        (TALCONFIG, 36, "talos-node-network"),
    ]


def test_node_network_from_the_option(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            ".homelab-kit.yaml": "checks:\n  talos-node-network:\n    node-cidrs: [10.0.0.0/8]\n",
            TALCONFIG: talconfig(
                "  - hostname: a\n    ipAddress: 192.168.1.2\n    controlPlane: true\n"
            ),
            TALENV: ENV,
        }
    )
    assert lint_tree(select=["talos-node-network"]) == [(TALCONFIG, 8, "talos-node-network")]


def test_node_network_without_static_addresses_is_unknown(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(
        {
            TALCONFIG: talconfig(
                "  - hostname: a\n    ipAddress: 192.168.1.2\n    controlPlane: true\n"
            ),
            TALENV: ENV,
        }
    )
    assert lint_tree(select=["talos-node-network"]) == []


def test_control_plane_counts(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({TALCONFIG: talconfig(_node(1) + _node(2) + _node(3, False)), TALENV: ENV})
    assert lint_tree(select=["talos-control-plane-quorum", "talos-control-plane-ha"]) == [
        (TALCONFIG, 7, "talos-control-plane-quorum"),
    ]


def test_a_single_control_plane_is_a_warning(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({TALCONFIG: talconfig(_node(1) + _node(2, False)), TALENV: ENV})
    assert lint_tree(select=["talos-control-plane-quorum", "talos-control-plane-ha"]) == [
        (TALCONFIG, 7, "talos-control-plane-ha"),
    ]


def test_no_control_plane_is_an_error(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({TALCONFIG: talconfig(_node(1, False)), TALENV: ENV})
    assert lint_tree(select=["talos-control-plane-quorum", "talos-control-plane-ha"]) == [
        (TALCONFIG, 7, "talos-control-plane-quorum"),
    ]


def test_unresolved_variables(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    nodes = _node(1).replace("homelab-01", "${nodeName}") + _node(2) + _node(3)
    yaml_tree(
        {
            TALCONFIG: talconfig(nodes, k8s="${k8sVersion}"),
            TALENV: ENV,
            "talos/talenv.sops.yaml": "---\nnodeName: ENC[AES256_GCM,data:x,type:str]\n"
            "sops:\n  version: 3.9.0\n",
        }
    )
    assert lint_tree(select=["talos-unresolved-variable"]) == [
        (TALCONFIG, 4, "talos-unresolved-variable"),
    ]


def test_node_cidrs_must_be_cidrs(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            ".homelab-kit.yaml": "checks:\n  talos-node-network:\n    node-cidrs: [lan]\n",
            TALCONFIG: GOOD,
        }
    )
    with pytest.raises(ConfigError, match="'lan' is not a CIDR"):
        lint_tree(select=["talos-node-network"])
