"""The Flux dependency graph: build it from a repository, narrow it, lay it out, draw it.

::

    import homelab_kit
    from homelab_kit.graph import build_graph, focus_graph, render

    graph = build_graph(homelab_kit.load("."), helm=True)
    print(render(focus_graph(graph, "media/sonarr"), "mermaid"))
"""

from __future__ import annotations

from homelab_kit.graph.layout import Box, LaneBox, Layout, PlacedBox, Route, layered_layout
from homelab_kit.graph.model import (
    DEPENDS_ON,
    DEPLOYS,
    HELM_RELEASE,
    KUSTOMIZATION,
    FluxGraph,
    GraphEdge,
    GraphNode,
    build_cluster_graphs,
    build_graph,
    focus_graph,
    node_id,
)
from homelab_kit.graph.render import (
    FORMATS,
    LAYOUTS,
    graph_layout,
    graph_to_dict,
    render,
    to_dot,
    to_html,
    to_json,
    to_mermaid,
    to_svg,
)

__all__ = [
    "DEPENDS_ON",
    "DEPLOYS",
    "FORMATS",
    "HELM_RELEASE",
    "KUSTOMIZATION",
    "LAYOUTS",
    "Box",
    "FluxGraph",
    "GraphEdge",
    "GraphNode",
    "LaneBox",
    "Layout",
    "PlacedBox",
    "Route",
    "build_cluster_graphs",
    "build_graph",
    "focus_graph",
    "graph_layout",
    "graph_to_dict",
    "layered_layout",
    "node_id",
    "render",
    "to_dot",
    "to_html",
    "to_json",
    "to_mermaid",
    "to_svg",
]
