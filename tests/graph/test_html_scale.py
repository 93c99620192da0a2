"""The HTML graph and report at scale: namespaces that collapse and expand, fit,
search over every app, and the cluster selector (issue 20, item 7).

The static tests read the generated HTML; the behaviour tests run the page's
script in headless Chromium (skipped with the reason where it is missing), click
its controls from an added script and read what they did from the dumped DOM.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import homelab_kit
from homelab_kit.graph import build_graph, to_svg
from homelab_kit.graph.model import FluxGraph, GraphEdge, GraphNode, _finish
from homelab_kit.graph.render import COLLAPSE_ABOVE, WHOLE_REPOSITORY, to_html
from homelab_kit.html_report import OPEN_SECRETS_UP_TO
from homelab_kit.secrets_map import build_secrets_map

from ..conftest import corpus_path
from .conftest import Browse
from .test_cli import run
from .test_html_report import _page_errors
from .test_scale import _generate

PROJECT = Path(__file__).resolve().parents[2]
TWO_CLUSTERS = "onedr0p__home-ops-2024"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def repo_100(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """benchmarks/generate.py --namespaces 4 --apps 20: the reference cluster + 80 apps."""
    out = tmp_path_factory.mktemp("bench") / "repo"
    _generate().generate(out, 4, 20)  # type: ignore[attr-defined]
    return out


@pytest.fixture(scope="module")
def page_100(repo_100: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = tmp_path_factory.mktemp("page") / "graph.html"
    result = run("graph", str(repo_100), "--helm", "-f", "html", "-o", str(page))
    assert result.returncode == 0, result.stderr
    return page


def _wide_graph(namespaces: int, per_namespace: int) -> FluxGraph:
    """``namespaces`` x ``per_namespace`` Kustomizations, each depending on ``infra/base``."""
    nodes = {"ks:infra/base": GraphNode("ks:infra/base", "Kustomization", "base", "infra")}
    edges = []
    for i in range(namespaces):
        for j in range(per_namespace):
            nid = f"ks:ns{i:02}/app{j:02}"
            nodes[nid] = GraphNode(nid, "Kustomization", f"app{j:02}", f"ns{i:02}")
            edges.append(GraphEdge("ks:infra/base", nid))
    return _finish(nodes, edges)


# ------------------------------------------------------------------ static


def test_controls_and_start_state() -> None:
    small = to_html(_wide_graph(3, 5))
    big_graph = _wide_graph(25, 20)
    assert len(big_graph.nodes) > COLLAPSE_ABOVE
    big = to_html(big_graph)
    for text in (small, big):
        assert '<button data-lanes="collapse">collapse all</button>' in text
        assert '<button data-lanes="expand">expand all</button>' in text
        assert '<button data-zoom="fit">fit</button>' in text
        assert "<select" not in text  # one drawing: no cluster selector
    assert 'class="graph-view" data-start="expanded"' in small
    assert 'class="graph-view" data-start="collapsed"' in big
    # every namespace is a lane the script can fold
    for ns in big_graph.namespaces:
        assert f'<g class="lane" data-namespace="{ns}">' in big


def test_search_data_for_every_app(page_100: Path, repo_100: Path) -> None:
    repo = homelab_kit.load(repo_100)
    assert len(repo.apps) >= 100
    text = page_100.read_text(encoding="utf-8")
    searchable = re.findall(r'data-id="([^"]*)" data-namespace="[^"]*" data-search="([^"]*)"', text)
    haystack = "\n".join(f"{nid.lower()} {html.unescape(s)}" for nid, s in searchable)
    for app in repo.apps:
        assert f"{app.namespace}/{app.name}".lower() in haystack, app
        assert app.ks_path.lower() in haystack, app
    graph = build_graph(repo, helm=True)
    assert len(searchable) == len(graph.nodes)


def test_a_large_report_opens_folded(repo_100: Path, tmp_path: Path) -> None:
    """100 apps: the graph's namespaces start expanded (212 nodes), the secrets map's
    namespaces folded, one summary line each."""
    out = tmp_path / "report.html"
    result = run("report", str(repo_100), "--helm", "--html", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert 'class="graph-view" data-start="expanded"' in text
    smap = build_secrets_map(homelab_kit.load(repo_100))
    assert sum(len(ns.secrets) for ns in smap.namespaces) > OPEN_SECRETS_UP_TO
    folded = re.findall(r'<details class="secrets"><summary><h3 id="secrets-([^"]*)"', text)
    assert folded == [ns.namespace for ns in smap.namespaces]
    assert '<details class="secrets" open>' not in text


def _numbers(d: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", d)]


def test_the_drawing_contains_every_node_and_edge(repo_100: Path) -> None:
    """The viewBox holds every node and edge; each lane holds its nodes, lanes do not
    overlap (the script's collapsing moves lanes as bands and relies on it)."""
    graph = build_graph(homelab_kit.load(repo_100), helm=True)
    root = ET.fromstring(to_svg(graph))
    _, _, width, height = map(float, root.get("viewBox", "").split())
    content = next(
        g for g in root.iter(f"{SVG}g") if g.get("transform", "").startswith("translate(0,")
    )
    dy = float(re.findall(r"[\d.]+", content.get("transform", ""))[-1])
    lanes = {}
    for lane in content.iter(f"{SVG}g"):
        if lane.get("class") == "lane":
            rect = lane.find(f"{SVG}rect")
            assert rect is not None
            top = float(rect.get("y", ""))
            lanes[lane.get("data-namespace")] = (top, top + float(rect.get("height", "")))
    assert set(lanes) == set(graph.namespaces)
    bands = sorted(lanes.values())
    assert all(a[1] < b[0] for a, b in itertools.pairwise(bands))
    nodes = [g for g in content.iter(f"{SVG}g") if g.get("data-id")]
    assert len(nodes) == len(graph.nodes)
    for node in nodes:
        rect = node.find(f".//{SVG}rect")
        assert rect is not None
        x, y = float(rect.get("x", "")), float(rect.get("y", ""))
        w, h = float(rect.get("width", "")), float(rect.get("height", ""))
        assert x >= 0
        assert x + w <= width
        assert y + dy >= 0
        assert y + h + dy <= height
        top, bottom = lanes[node.get("data-namespace")]
        assert y >= top
        assert y + h <= bottom
    paths = [p for p in content.iter(f"{SVG}path") if "edge" in (p.get("class") or "")]
    assert paths
    for path in paths:
        for x, y in _numbers(path.get("d", "")):
            assert 0 <= x <= width
            assert 0 <= y + dy <= height


def test_the_page_is_deterministic(repo_100: Path, page_100: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.html"
    result = run("graph", str(repo_100), "--helm", "-f", "html", "-o", str(again))
    assert result.returncode == 0, result.stderr
    assert again.read_bytes() == page_100.read_bytes()


def _options(text: str) -> list[str]:
    select = re.search(r'<select class="view-select"[^>]*>(.*?)</select>', text, re.S)
    assert select is not None
    return [html.unescape(v) for v in re.findall(r'<option value="([^"]*)"', select.group(1))]


def test_a_cluster_selector_for_two_clusters(tmp_path: Path) -> None:
    root = corpus_path(TWO_CLUSTERS)
    repo = homelab_kit.load(root)
    names = [c.name for c in repo.clusters]
    assert names == ["main", "storage"]
    page = tmp_path / "graph.html"
    result = run("graph", str(root), "-f", "html", "-o", str(page))
    assert result.returncode == 0, result.stderr
    text = page.read_text(encoding="utf-8")
    assert _options(text) == [WHOLE_REPOSITORY, *names]
    for name in (WHOLE_REPOSITORY, *names):
        assert f'data-view="{name}"' in text
    # each cluster's drawing is that cluster's graph
    storage = build_graph(repo, cluster=repo.clusters[1])
    view = text[text.index('data-view="storage"') :]
    assert f"<b>{len(storage.nodes)}</b><span>Kustomizations</span>" in view[:2000]
    # one cluster asked for: no selector
    result = run("graph", str(root), "-f", "html", "--cluster", "storage")
    assert result.returncode == 0, result.stderr
    assert "<select" not in result.stdout
    # the report has the selector too
    report = tmp_path / "report.html"
    result = run("report", str(root), "--html", str(report))
    assert result.returncode == 0, result.stderr
    assert _options(report.read_text(encoding="utf-8")) == [WHOLE_REPOSITORY, *names]


def test_one_cluster_no_selector(reference_root: Path) -> None:
    result = run("graph", str(reference_root), "-f", "html")
    assert result.returncode == 0, result.stderr
    assert "<select" not in result.stdout


# ---------------------------------------------------------------- chromium


def _run_in_page(browse: Browse, page: Path, script: str) -> dict[str, Any]:
    """Open ``page`` with ``script`` added after its own; what the script put in
    ``document.body.dataset.result`` (JSON)."""
    text = page.read_text(encoding="utf-8")
    probe = page.with_name(page.stem + ".probe.html")
    probe.write_text(text.replace("</body>", f"<script>{script}</script>\n</body>"))
    done = browse(probe, "--window-size=1400,900", "--enable-logging=stderr", "--v=0", "--dump-dom")
    ready, errors, console = _page_errors(done)
    assert ready == "yes", done.stderr[-2000:]
    assert errors == "", errors
    assert console == "", console
    found = re.search(r'data-result="([^"]*)"', done.stdout)
    assert found is not None, done.stdout[-2000:]
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


COLLAPSE_AND_SEARCH = """
(function () {
  var r = {};
  var view = document.querySelector('.graph-view');
  var svg = view.querySelector('svg');
  var box = view.querySelector('.graph-box');
  function num(el, a) { return parseFloat(el.getAttribute(a)); }
  function visible(sel) { return svg.querySelectorAll(sel + ':not(.folded)').length; }
  function dy(n) {
    var m = /translate\\(0,(-?[\\d.]+)\\)/.exec(n.getAttribute('transform') || '');
    return m ? parseFloat(m[1]) : 0;
  }
  function lane(ns) { return svg.querySelector('g.lane[data-namespace="' + ns + '"]'); }
  function inside(ns) {
    var rect = lane(ns).querySelector('rect'), top = num(rect, 'y');
    var bottom = top + num(rect, 'height');
    return Array.prototype.every.call(
      svg.querySelectorAll('.node[data-namespace="' + ns + '"]'), function (n) {
        var b = n.querySelector('rect'), y = num(b, 'y') + dy(n);
        return y >= top && y + num(b, 'height') <= bottom;
      });
  }
  function edgesInside() {
    var limit = parseFloat(svg.getAttribute('viewBox').split(' ')[3]);
    return Array.prototype.every.call(svg.querySelectorAll('.edge[data-from]:not(.folded)'),
      function (e) {
        var ys = (e.getAttribute('d').match(/,(-?[\\d.]+)/g) || []).map(function (s) {
          return parseFloat(s.slice(1)); });
        return ys.every(function (y) { return y >= 0 && y + 34 <= limit; });
      });
  }
  r.start = view.getAttribute('data-start');
  r.lanes = svg.querySelectorAll('g.lane').length;
  r.nodes = svg.querySelectorAll('.node[data-id]').length;
  r.fullHeight = num(svg, 'height');
  view.querySelector('button[data-lanes=collapse]').click();
  r.collapsedLanes = svg.querySelectorAll('g.lane.collapsed').length;
  r.visibleNodesCollapsed = visible('.node[data-id]');
  r.collapsedHeight = num(svg, 'height');
  r.edgesInsideCollapsed = edgesInside();
  lane('bench002').querySelector('rect.head').dispatchEvent(new MouseEvent('click'));
  r.visibleAfterClick = visible('.node[data-id]');
  r.bench002Nodes = svg.querySelectorAll('.node[data-namespace="bench002"]').length;
  r.bench002Inside = inside('bench002');
  r.edgesInsideOne = edgesInside();
  var input = view.querySelector('input[type=search]');
  input.value = 'bench003/app003x005';
  input.dispatchEvent(new Event('input'));
  r.matches = view.dataset.matches;
  r.bench003Open = !lane('bench003').classList.contains('collapsed');
  r.hitsVisible = svg.querySelectorAll('.node.hit:not(.folded)').length;
  r.bench003Inside = inside('bench003');
  r.hitsText = view.querySelector('.hits').textContent;
  input.value = '';
  input.dispatchEvent(new Event('input'));
  r.bench003AfterClear = lane('bench003').classList.contains('collapsed');
  view.querySelector('button[data-lanes=expand]').click();
  r.expandedHeight = num(svg, 'height');
  r.foldedAfterExpand = svg.querySelectorAll('.folded').length;
  view.querySelector('button[data-zoom=fit]').click();
  r.fitWidth = svg.getBoundingClientRect().width;
  r.fitHeight = svg.getBoundingClientRect().height;
  r.boxWidth = box.clientWidth;
  r.boxMaxHeight = parseFloat(getComputedStyle(box).maxHeight);
  r.scrollable = box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1;
  document.body.dataset.result = JSON.stringify(r);
})();
"""


def test_collapse_expand_search_and_fit_in_chromium(
    browse: Browse, page_100: Path, repo_100: Path, tmp_path: Path
) -> None:
    r = _run_in_page(browse, page_100, COLLAPSE_AND_SEARCH)
    graph = build_graph(homelab_kit.load(repo_100), helm=True)
    assert r["start"] == "expanded"  # 100 apps open expanded
    assert r["lanes"] == len(graph.namespaces)
    assert r["nodes"] == len(graph.nodes)
    # collapse all: every lane folded, no node shown, the drawing much shorter
    assert r["collapsedLanes"] == r["lanes"]
    assert r["visibleNodesCollapsed"] == 0
    assert r["collapsedHeight"] < r["fullHeight"] / 3
    assert r["edgesInsideCollapsed"]
    # a click on one header opens that namespace only, its nodes inside its band
    assert r["visibleAfterClick"] == r["bench002Nodes"] > 0
    assert r["bench002Inside"]
    assert r["edgesInsideOne"]
    # search finds an app in a collapsed namespace and opens it; clearing folds it again
    assert r["matches"] == "2"  # its Kustomization and its HelmRelease
    assert r["bench003Open"]
    assert r["hitsVisible"] == 2
    assert r["bench003Inside"]
    assert r["hitsText"].startswith("2 matches in 1 namespace")
    assert r["bench003AfterClear"]
    # expand all restores the full drawing
    assert r["foldedAfterExpand"] == 0
    assert abs(r["expandedHeight"] - r["fullHeight"]) < 1
    # fit: both axes inside the box, nothing left to scroll
    assert r["fitWidth"] <= r["boxWidth"]
    assert r["fitHeight"] <= r["boxMaxHeight"]
    assert not r["scrollable"]


START_COLLAPSED = """
(function () {
  var r = {}, view = document.querySelector('.graph-view'), svg = view.querySelector('svg');
  r.lanes = svg.querySelectorAll('g.lane').length;
  r.collapsed = svg.querySelectorAll('g.lane.collapsed').length;
  r.visible = svg.querySelectorAll('.node[data-id]:not(.folded)').length;
  var input = view.querySelector('input[type=search]');
  input.value = 'app07';  // one per namespace: too many to open while typing
  input.dispatchEvent(new Event('input'));
  r.typed = [view.dataset.matches, svg.querySelectorAll('g.lane.collapsed').length,
             svg.querySelectorAll('g.lane.has-hit').length];
  input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter'}));
  r.entered = [view.dataset.matches, svg.querySelectorAll('g.lane.collapsed').length,
               svg.querySelectorAll('.node.hit:not(.folded)').length];
  document.body.dataset.result = JSON.stringify(r);
})();
"""


def test_a_big_graph_starts_collapsed_in_chromium(browse: Browse, tmp_path: Path) -> None:
    graph = _wide_graph(60, 10)  # 601 nodes, 61 namespaces
    page = tmp_path / "big.html"
    page.write_text(to_html(graph), encoding="utf-8")
    r = _run_in_page(browse, page, START_COLLAPSED)
    assert r["lanes"] == r["collapsed"] == 61
    assert r["visible"] == 0
    # typing: 60 matches, more than typing opens; their namespaces are marked instead
    assert r["typed"] == ["60", 61, 60]
    # Enter opens the 60 namespaces that hold them (infra stays collapsed)
    assert r["entered"] == ["60", 1, 60]


SWITCH_CLUSTER = """
(function () {
  var r = {}, select = document.querySelector('select.view-select');
  function shown() {
    return Array.prototype.filter.call(document.querySelectorAll('.graph-view'),
      function (v) { return !v.hidden; }).map(function (v) { return v.dataset.view; });
  }
  r.options = Array.prototype.map.call(select.options, function (o) { return o.value; });
  r.before = shown();
  select.value = 'storage';
  select.dispatchEvent(new Event('change'));
  r.after = shown();
  var view = document.querySelector('.graph-view[data-view="storage"]');
  r.nodes = view.querySelectorAll('.node[data-id]').length;
  var input = view.querySelector('input[type=search]');
  input.value = 'flux-system/';
  input.dispatchEvent(new Event('input'));
  r.matches = view.dataset.matches;
  document.body.dataset.result = JSON.stringify(r);
})();
"""


def test_the_cluster_selector_in_chromium(browse: Browse, tmp_path: Path) -> None:
    root = corpus_path(TWO_CLUSTERS)
    page = tmp_path / "graph.html"
    result = run("graph", str(root), "-f", "html", "-o", str(page))
    assert result.returncode == 0, result.stderr
    r = _run_in_page(browse, page, SWITCH_CLUSTER)
    assert r["options"] == [WHOLE_REPOSITORY, "main", "storage"]
    assert r["before"] == [WHOLE_REPOSITORY]
    assert r["after"] == ["storage"]
    repo = homelab_kit.load(root)
    storage = build_graph(repo, cluster=repo.clusters[1])
    assert r["nodes"] == len(storage.nodes)
    in_flux_system = [n for n in storage.nodes if n.namespace == "flux-system"]
    assert r["matches"] == str(len(in_flux_system))
