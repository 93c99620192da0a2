"""Scale: a 500-node dependency cycle, and the 1,000-app benchmark repository."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

import homelab_kit
from homelab_kit.graph import build_graph, graph_layout, render, to_svg
from homelab_kit.graph.model import FluxGraph, GraphEdge, GraphNode, _finish
from homelab_kit.secrets_map import build_secrets_map, to_text

from .conftest import ks
from .test_cli import run

PROJECT = Path(__file__).resolve().parents[2]


def _cycle_graph(n: int) -> FluxGraph:
    nodes = {
        f"ks:ring/n{i}": GraphNode(f"ks:ring/n{i}", "Kustomization", f"n{i}", "ring")
        for i in range(n)
    }
    edges = [GraphEdge(f"ks:ring/n{(i + 1) % n}", f"ks:ring/n{i}") for i in range(n)]
    return _finish(nodes, edges)


def test_a_500_node_cycle_end_to_end() -> None:
    graph = _cycle_graph(500)
    assert len(graph.cycles) == 1
    assert len(graph.cycles[0]) == 501
    assert all(n.in_cycle for n in graph.nodes)
    assert all(e.in_cycle for e in graph.edges)
    for fmt in ("mermaid", "dot", "json"):
        render(graph, fmt)
    layout = graph_layout(graph)
    svg = to_svg(graph, layout)
    assert len(re.findall(r'<path class="edge cycle" d="[^"]*" data-from=', svg)) == 500
    assert len(layout.reversed_edges) == 1


def test_a_500_node_cycle_in_a_repository(tmp_path: Path) -> None:
    n = 500
    files = {"kubernetes/flux/cluster/ks.yaml": ks("cluster-apps", "flux-system", "./kubernetes")}
    for i in range(n):
        files[f"kubernetes/apps/ring/n{i}/ks.yaml"] = ks(
            f"n{i}", "ring", f"./kubernetes/apps/ring/n{i}/app", ((f"n{(i + 1) % n}", None),)
        )
    homelab_kit.testing.write_tree(tmp_path, files)
    graph = build_graph(homelab_kit.load(tmp_path))
    assert len(graph.cycles) == 1
    assert len(graph.cycles[0]) == n + 1
    assert render(graph, "svg").startswith("<svg")


def _generate() -> object:
    spec = importlib.util.spec_from_file_location(
        "bench_generate", PROJECT / "benchmarks" / "generate.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """benchmarks/generate.py --namespaces 50 --apps 20: 1,000 apps (slow to write)."""
    out = tmp_path_factory.mktemp("bench") / "repo"
    _generate().generate(out, 50, 20)  # type: ignore[attr-defined]
    return out


@pytest.mark.slow
def test_a_thousand_apps(bench_repo: Path) -> None:
    repo = homelab_kit.load(bench_repo)
    assert len(repo.apps) > 1000
    graph = build_graph(repo, helm=True)
    layout = graph_layout(graph)
    assert to_svg(graph, layout).startswith("<svg")
    assert "flowchart" in render(graph, "mermaid")
    smap = build_secrets_map(repo)
    assert to_text(smap)
    assert len(graph.nodes) > 2000
    # the CLI end to end, as a user runs it
    result = run("graph", str(bench_repo), "--focus", "bench007/app007x003", "-f", "svg")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("<svg")
