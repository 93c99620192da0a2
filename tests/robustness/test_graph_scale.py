"""Densely dependent graphs lay out in near-linear work, and still show every dependency.

A layered layout routes each edge through a dummy node in every layer it crosses:
with every Kustomization depending on every earlier one, that is ``n**3 / 6`` bends
(400 of them took 48 s and 3.1 GB). The layout now orders and routes the
transitive reduction, bounds its dummies, bends and sweeps, and the drawing lists
the implied edges in tooltips. Nothing here is timed: the bounds are counts (route
points, ``Layout.work``, bytes of SVG) and a subprocess timeout.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterable
from pathlib import Path

import pytest

from homelab_kit.graph import FluxGraph, GraphEdge, GraphNode, graph_layout, to_svg
from homelab_kit.graph.model import _finish

from .conftest import MEMORY_LIMIT, assert_no_crash, run_cli, write_files

SVG = "{http://www.w3.org/2000/svg}"


def _graph(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> FluxGraph:
    """``nodes`` as ``namespace/name``; ``edges`` as ``(dependency, dependent)``."""
    made = {}
    for label in nodes:
        ns, name = label.split("/")
        made[f"ks:{label}"] = GraphNode(f"ks:{label}", "Kustomization", name, ns)
    return _finish(made, [GraphEdge(f"ks:{a}", f"ks:{b}") for a, b in edges])


def complete(n: int) -> FluxGraph:
    """Every node depends on every earlier one, in two namespaces."""
    names = [f"{'apps' if i % 2 else 'infra'}/n{i}" for i in range(n)]
    return _graph(names, [(names[j], names[i]) for i in range(n) for j in range(i)])


def long_bipartite(k: int) -> FluxGraph:
    """``k`` sources each depended on by ``k`` targets spread along a chain of ``k``:
    no edge is implied by others, and their spans add up to ``k**3 / 2`` layers."""
    chain = [f"chain/c{i}" for i in range(k)]
    sources = [f"src/a{i}" for i in range(k)]
    targets = [f"dst/b{i}" for i in range(k)]
    edges = list(itertools.pairwise(chain))
    edges += [(chain[i], targets[i]) for i in range(k)]
    edges += [(a, b) for a in sources for b in targets]
    return _graph(chain + sources + targets, edges)


def all_cyclic(n: int) -> FluxGraph:
    """Every node depends on every other: one big cycle, half its edges drawn backwards."""
    names = [f"loop/n{i}" for i in range(n)]
    return _graph(names, [(a, b) for a in names for b in names if a != b])


@pytest.mark.parametrize(
    "make", [lambda: complete(240), lambda: long_bipartite(110), lambda: all_cyclic(120)]
)
def test_layout_work_is_near_linear_whatever_the_shape(make: object) -> None:
    graph = make()  # type: ignore[operator]
    size = len(graph.nodes) + len(graph.edges)
    layout = graph_layout(graph)
    # every node placed, every edge has a route (drawn, or flagged implied)
    assert set(layout.boxes) == {n.id for n in graph.nodes}
    assert {(r.source, r.target) for r in layout.routes} == {
        (e.dependency, e.dependent) for e in graph.edges
    }
    # before: one bend per layer crossed, ~n**3/3 points for the complete graph
    points = sum(len(r.points) for r in layout.routes)
    assert points <= 4 * size + 300_000, points
    assert 0 < layout.work <= 30 * size + 6_000_000, layout.work


def test_the_complete_graph_draws_its_skeleton_and_lists_the_rest() -> None:
    graph = complete(60)
    layout = graph_layout(graph)
    # longest-path layering is unchanged by the reduction: one node per layer
    assert [layout.boxes[f"ks:{'apps' if i % 2 else 'infra'}/n{i}"].layer for i in range(60)] == (
        list(range(60))
    )
    implied = {(r.source, r.target) for r in layout.routes if r.implied}
    assert len(implied) == len(graph.edges) - 59  # all but the chain n0 -> n1 -> ... -> n59
    assert layout.crossings == 0
    drawn, listed = _drawn_and_listed(graph, to_svg(graph, layout))
    assert len(drawn) == 59
    assert drawn | listed == {(e.dependency, e.dependent) for e in graph.edges}
    _assert_listed_follow_drawn_paths(drawn, listed)


def test_small_graphs_still_draw_every_edge() -> None:
    graph = _graph(["a/x", "a/y", "a/z"], [("a/x", "a/y"), ("a/y", "a/z"), ("a/x", "a/z")])
    layout = graph_layout(graph)
    assert not any(r.implied for r in layout.routes)
    drawn, listed = _drawn_and_listed(graph, to_svg(graph, layout))
    assert len(drawn) == 3
    assert not listed


def test_cycles_and_dangling_edges_are_always_drawn() -> None:
    """A dense graph lists its implied edges, but never hides a red or amber one."""
    names = [f"apps/n{i}" for i in range(120)]
    edges = [(names[j], names[i]) for i in range(120) for j in range(i)]
    edges += [("apps/n100", "apps/n50")]  # closes a cycle n50 -> ... -> n100 -> n50
    edges += [("apps/ghost", name) for name in names]  # dangling, and mostly implied
    graph = _graph(names, edges)
    drawn, listed = _drawn_and_listed(graph, to_svg(graph))
    special = {(e.dependency, e.dependent) for e in graph.edges if e.in_cycle or e.dangling}
    assert len(special) > 1000
    assert special <= drawn
    assert drawn | listed == {(e.dependency, e.dependent) for e in graph.edges}


def test_graph_command_on_400_densely_dependent_kustomizations(tmp_path: Path) -> None:
    """The issue's repository, through the CLI: bounded memory, bytes and time."""
    n = 400
    files = {}
    for i in range(n):
        deps = "".join(f"    - name: n{j}\n" for j in range(i))
        files[f"kubernetes/apps/dense/n{i}/ks.yaml"] = (
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
            f"metadata:\n  name: n{i}\n  namespace: dense\nspec:\n  interval: 1h\n"
            f"  path: ./kubernetes/apps/dense/n{i}/app\n  prune: true\n"
            "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
            + (f"  dependsOn:\n{deps}" if deps else "")
        )
    write_files(tmp_path, files)
    out = tmp_path / "graph.svg"
    run = run_cli("graph", tmp_path, "-f", "svg", "-o", out, memory_limit=MEMORY_LIMIT)
    assert_no_crash(run)
    assert run.returncode == 0, run.output[-2000:]
    svg = out.read_text(encoding="utf-8")
    edges = n * (n - 1) // 2
    # before: ~300 MB of paths; now the chain, and each node's implied list
    assert len(svg) <= 200 * (n + edges), len(svg)
    assert len(re.findall(r'<g class="node[^"]*" id=', svg)) == n
    assert len(re.findall(r'<path class="edge[^"]*" d="[^"]*" data-from=', svg)) == n - 1
    assert f"{edges - (n - 1)} implied dependencies listed in tooltips" in svg


def _drawn_and_listed(
    graph: FluxGraph, svg: str
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """The edges drawn as paths, and those listed in their dependent's tooltip."""
    root = ET.fromstring(svg)
    drawn = {
        (p.attrib["data-from"], p.attrib["data-to"])
        for p in root.iter(f"{SVG}path")
        if "data-from" in p.attrib
    }
    by_label = {n.label: n.id for n in graph.nodes}
    listed: set[tuple[str, str]] = set()
    for g in root.iter(f"{SVG}g"):
        if "data-id" not in g.attrib:
            continue
        title = next(g.iter(f"{SVG}title")).text or ""
        for line in title.splitlines():
            if line.startswith("also depends on (implied by the arrows drawn): "):
                for label in line.split(": ", 1)[1].split(", "):
                    listed.add((by_label[label], g.attrib["data-id"]))
    assert len(list(root.iter(f"{SVG}g"))) >= len(graph.nodes)
    assert {g.attrib["data-id"] for g in root.iter(f"{SVG}g") if "data-id" in g.attrib} == {
        n.id for n in graph.nodes
    }
    return drawn, listed


def _assert_listed_follow_drawn_paths(
    drawn: set[tuple[str, str]], listed: set[tuple[str, str]]
) -> None:
    """Each listed dependency is still visible: a path of drawn arrows leads there."""
    out: dict[str, list[str]] = {}
    for a, b in drawn:
        out.setdefault(a, []).append(b)
    for a, b in listed:
        seen, queue = {a}, deque([a])
        while queue and b not in seen:
            for nxt in out.get(queue.popleft(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        assert b in seen, (a, b)
