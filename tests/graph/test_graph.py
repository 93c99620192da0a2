"""The dependency graph and its formats: mermaid, dot, json, svg, html; cycles, dangling, focus."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import homelab_kit
from homelab_kit.errors import HomelabKitError
from homelab_kit.graph import build_graph, focus_graph, graph_layout, render, to_svg
from homelab_kit.graph.model import FluxGraph, GraphNode

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def reference_graph() -> FluxGraph:
    root = Path(__file__).resolve().parents[2]
    return build_graph(homelab_kit.load(root))


@pytest.fixture
def cyclic_graph(cyclic_repo: Path) -> FluxGraph:
    return build_graph(homelab_kit.load(cyclic_repo), helm=True)


# ---------------------------------------------------------------------- model


def test_reference_cluster_graph(reference_graph: FluxGraph) -> None:
    g = reference_graph
    ids = {n.id for n in g.nodes}
    assert "ks:media/sonarr" in ids
    assert "ks:media/secrets" in ids
    assert ("ks:media/secrets", "ks:media/sonarr") in {(e.dependency, e.dependent) for e in g.edges}
    assert g.cycles == ()
    assert g.dangling == ()
    assert not any(n.missing or n.in_cycle for n in g.nodes)
    assert "media" in g.namespaces
    sonarr = g.node("ks:media/sonarr")
    assert sonarr is not None
    assert sonarr.app == ("media", "sonarr")
    assert sonarr.location is not None
    assert sonarr.location.path == "kubernetes/apps/media/sonarr/ks.yaml"


def test_cycle_and_dangling_are_marked(cyclic_graph: FluxGraph) -> None:
    g = cyclic_graph
    assert g.cycles == (("ks:apps/a", "ks:apps/b", "ks:apps/c", "ks:apps/a"),)
    cyclic = {n.id for n in g.nodes if n.in_cycle}
    assert cyclic == {"ks:apps/a", "ks:apps/b", "ks:apps/c"}
    in_cycle = {(e.dependency, e.dependent) for e in g.edges if e.in_cycle}
    assert in_cycle == {
        ("ks:apps/b", "ks:apps/a"),
        ("ks:apps/c", "ks:apps/b"),
        ("ks:apps/a", "ks:apps/c"),
    }
    missing = {n.id for n in g.nodes if n.missing}
    assert missing == {"ks:apps/ghost", "hr:apps/phantom"}
    dangling = {(e.dependency, e.dependent) for e in g.dangling}
    assert dangling == {("ks:apps/ghost", "ks:apps/d"), ("hr:apps/phantom", "hr:apps/d")}
    (edge,) = [e for e in g.dangling if e.dependent == "ks:apps/d"]
    assert edge.location is not None
    assert (edge.location.path, edge.location.line) == ("kubernetes/apps/apps/d/ks.yaml", 16)
    # --helm: each HelmRelease hangs off the Kustomization that deploys it
    assert ("ks:apps/d", "hr:apps/d", "deploys") in {
        (e.dependency, e.dependent, e.kind) for e in g.edges
    }
    assert ("ks:infra/base", "ks:apps/e") in {(e.dependency, e.dependent) for e in g.edges}


def test_without_helm_there_are_only_kustomizations(cyclic_repo: Path) -> None:
    g = build_graph(homelab_kit.load(cyclic_repo))
    assert {n.kind for n in g.nodes} == {"Kustomization"}
    assert all(e.kind == "dependsOn" for e in g.edges)


# ---------------------------------------------------------------------- focus


def test_focus_keeps_dependencies_and_dependents(reference_graph: FluxGraph) -> None:
    g = focus_graph(reference_graph, "sonarr")
    ids = {n.id for n in g.nodes}
    assert "ks:media/sonarr" in ids
    assert "ks:media/secrets" in ids  # what it depends on, transitively
    assert "ks:media/radarr" not in ids  # a sibling: neither
    assert g.focus == "sonarr"
    assert all(e.dependency in ids and e.dependent in ids for e in g.edges)
    upstream = focus_graph(reference_graph, "media/secrets")
    assert "ks:media/sonarr" in {n.id for n in upstream.nodes}  # a dependent


def test_focus_unknown_app_lists_close_matches(reference_graph: FluxGraph) -> None:
    with pytest.raises(HomelabKitError, match=r"no app or Kustomization named 'sonar'.*sonarr"):
        focus_graph(reference_graph, "sonar")


def test_focus_ambiguous_name_asks_for_the_namespace(reference_graph: FluxGraph) -> None:
    with pytest.raises(HomelabKitError, match=r"several namespaces.*media/secrets"):
        focus_graph(reference_graph, "secrets")


def test_focus_on_a_cycle(cyclic_graph: FluxGraph) -> None:
    g = focus_graph(cyclic_graph, "apps/e")
    ids = {n.id for n in g.nodes}
    assert {"ks:apps/e", "ks:infra/base", "hr:apps/e", "hr:apps/d", "hr:apps/phantom"} <= ids
    assert "ks:apps/a" not in ids
    assert g.cycles == ()


# -------------------------------------------------------------------- formats


def test_mermaid_reference(reference_graph: FluxGraph) -> None:
    text = render(reference_graph, "mermaid")
    assert text.startswith("flowchart LR\n")
    assert '  subgraph ns4["media"]' in text or 'subgraph ns5["media"]' in text
    assert text.count("subgraph ") == len(reference_graph.namespaces)
    assert text.count(" --> ") == len(reference_graph.edges)
    assert "classDef cycle" in text
    assert "class " not in text.split("classDef helm")[1]  # nothing to highlight


def test_mermaid_highlights_cycles_and_dangling(cyclic_graph: FluxGraph) -> None:
    text = render(cyclic_graph, "mermaid")
    ids = {n.id: f"n{i}" for i, n in enumerate(cyclic_graph.nodes)}
    cycle_class = next(line for line in text.splitlines() if line.endswith(" cycle"))
    assert set(cycle_class.split()[1].split(",")) == {
        ids["ks:apps/a"],
        ids["ks:apps/b"],
        ids["ks:apps/c"],
    }
    missing_class = next(line for line in text.splitlines() if line.endswith(" missing"))
    assert set(missing_class.split()[1].split(",")) == {
        ids["ks:apps/ghost"],
        ids["hr:apps/phantom"],
    }
    assert '["ghost (missing)"]' in text
    styles = [line for line in text.splitlines() if line.strip().startswith("linkStyle")]
    assert len(styles) == 2
    edge_lines = [line for line in text.splitlines() if "-->" in line or "-.->" in line]
    cycle_links = {int(i) for i in styles[0].split()[1].split(",")}
    assert all(" --> " in edge_lines[i] for i in cycle_links)
    assert f"{ids['ks:apps/ghost']} -.-> {ids['ks:apps/d']}" in text


def test_mermaid_escapes_labels() -> None:
    node = GraphNode('ks:x/we"ird', "Kustomization", 'we"ird<b>', "x")
    text = render(FluxGraph((node,), ()), "mermaid")
    assert '"we#34;ird#60;b#62;"' in text


def test_dot(cyclic_graph: FluxGraph) -> None:
    text = render(cyclic_graph, "dot")
    assert text.startswith("digraph flux {")
    assert "rankdir=LR;" in text
    assert text.count("subgraph cluster_") == len(cyclic_graph.namespaces)
    assert re.search(r'"ks:apps/b" -> "ks:apps/a" \[color="#cf222e", penwidth=2\]', text)
    assert re.search(r'"ks:apps/ghost" -> "ks:apps/d" \[style=dashed', text)
    assert '"ks:apps/ghost" [label="ghost", tooltip=' in text
    node = GraphNode('ks:x/a"b\\c', "Kustomization", 'a"b\\c', "x")
    assert '"ks:x/a\\"b\\\\c"' in render(FluxGraph((node,), ()), "dot")


def test_json(cyclic_graph: FluxGraph) -> None:
    data = json.loads(render(cyclic_graph, "json"))
    assert data["version"] == 1
    assert data["cycles"] == [["ks:apps/a", "ks:apps/b", "ks:apps/c", "ks:apps/a"]]
    assert {(d["dependent"], d["dependency"]) for d in data["dangling"]} == {
        ("ks:apps/d", "ks:apps/ghost"),
        ("hr:apps/d", "hr:apps/phantom"),
    }
    ghost = next(n for n in data["nodes"] if n["id"] == "ks:apps/ghost")
    assert ghost["missing"] is True
    assert ghost["path"] is None
    a = next(n for n in data["nodes"] if n["id"] == "ks:apps/a")
    assert a == {
        "id": "ks:apps/a",
        "kind": "Kustomization",
        "name": "a",
        "namespace": "apps",
        "app": "apps/a",
        "path": "kubernetes/apps/apps/a/ks.yaml",
        "line": 1,
        "missing": False,
        "in_cycle": True,
        "suspended": False,
        "cluster": None,
    }


def _parse_svg(text: str) -> ET.Element:
    return ET.fromstring(text)


def test_svg_reference(reference_graph: FluxGraph) -> None:
    text = render(reference_graph, "svg")
    root = _parse_svg(text)  # well-formed XML
    assert root.tag == f"{SVG}svg"
    nodes = root.findall(f".//{SVG}g[@data-id]")
    assert len(nodes) == len(reference_graph.nodes)
    lanes = root.findall(f".//{SVG}g[@class='lane']")
    assert {lane.get("data-namespace") for lane in lanes} == set(reference_graph.namespaces)
    edges = root.findall(f".//{SVG}path[@data-from]")
    assert len(edges) == len(reference_graph.edges)
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")


def test_svg_highlights_cycles_and_dangling(cyclic_graph: FluxGraph) -> None:
    root = _parse_svg(render(cyclic_graph, "svg"))
    by_id = {g.get("data-id"): g.get("class", "") for g in root.findall(f".//{SVG}g[@data-id]")}
    assert "cycle" in by_id["ks:apps/a"].split()
    assert "missing" in by_id["ks:apps/ghost"].split()
    assert "hr" in by_id["hr:apps/d"].split()
    edges = {
        (p.get("data-from"), p.get("data-to")): p.get("class", "").split()
        for p in root.findall(f".//{SVG}path[@data-from]")
    }
    assert "cycle" in edges[("ks:apps/b", "ks:apps/a")]
    assert "dangling" in edges[("ks:apps/ghost", "ks:apps/d")]
    assert "cycle" not in edges[("ks:infra/base", "ks:apps/e")]
    legend = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "cycle (1)" in legend
    assert "dangling dependsOn (2)" in legend
    # the colours differ: red for cycles, amber for dangling
    style = root.find(f"{SVG}style")
    assert style is not None
    assert style.text is not None
    assert "#cf222e" in style.text
    assert "#9a6700" in style.text


def test_svg_escapes_text() -> None:
    node = GraphNode("ks:x/<script>", "Kustomization", "<script>alert(1)</script>", "x&y")
    text = to_svg(FluxGraph((node,), ()))
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    _parse_svg(text)


def test_svg_nodes_do_not_overlap(cyclic_graph: FluxGraph) -> None:
    layout = graph_layout(cyclic_graph)
    boxes = list(layout.boxes.values())
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a.right <= b.x or b.right <= a.x or a.bottom <= b.y or b.bottom <= a.y


def test_html_is_self_contained(cyclic_graph: FluxGraph) -> None:
    text = render(cyclic_graph, "html", title="Graph <of> things")
    assert text.startswith("<!DOCTYPE html>")
    assert "<title>Graph &lt;of&gt; things</title>" in text
    assert "<script src" not in text
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", text)
    assert "@import" not in text
    assert "url(http" not in text
    assert text.count("<svg") == 1
    assert "Cycles" in text
    assert "Dangling dependencies" in text


def test_unknown_format_and_layout(cyclic_graph: FluxGraph) -> None:
    with pytest.raises(HomelabKitError, match="unknown format"):
        render(cyclic_graph, "png")
    with pytest.raises(HomelabKitError, match="unknown layout"):
        render(cyclic_graph, "svg", layout="neato")


def test_graphviz_layout_needs_dot(
    cyclic_graph: FluxGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(HomelabKitError, match="needs Graphviz"):
        render(cyclic_graph, "svg", layout="graphviz")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graphviz_layout(cyclic_graph: FluxGraph) -> None:
    text = render(cyclic_graph, "svg", layout="graphviz")
    assert "<svg" in text
    assert "html" in render(cyclic_graph, "html", layout="graphviz")
