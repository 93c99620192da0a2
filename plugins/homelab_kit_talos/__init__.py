"""Talos checks: talconfig.yaml (talhelper) against talenv.yaml, its nodes and its network."""

from __future__ import annotations

from typing import Any

from homelab_kit import hookimpl
from homelab_kit_talos import (
    control_plane_ha,
    control_plane_quorum,
    kubernetes_version,
    node_duplicate,
    node_network,
    unresolved_variable,
    version_source,
)


@hookimpl
def homelab_kit_register_checks() -> list[Any]:
    return [
        version_source,
        kubernetes_version,
        node_duplicate,
        node_network,
        control_plane_quorum,
        control_plane_ha,
        unresolved_variable,
    ]
