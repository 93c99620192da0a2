"""Draw a :class:`FluxGraph`: Mermaid, Graphviz DOT, JSON, SVG and a standalone HTML page.

Every format shows the same things: nodes grouped by namespace, an edge from each
dependency to its dependent (so drawings read left to right), cycles in red and
dangling dependencies (and the missing node they point at) in amber.  SVG and
HTML are laid out by :mod:`homelab_kit.graph.layout`, with nothing installed;
``layout="graphviz"`` hands the DOT text to Graphviz's ``dot`` instead.

Text that comes from the repository (names, namespaces, paths) is escaped for
each format; no format ever holds a secret value (the graph has none).
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import Any

from homelab_kit.errors import HomelabKitError
from homelab_kit.graph.layout import Box, Layout, Route, layered_layout
from homelab_kit.graph.model import (
    DEPLOYS,
    HELM_RELEASE,
    FluxGraph,
    GraphEdge,
    GraphNode,
)

FORMATS = ("mermaid", "dot", "json", "svg", "html")
LAYOUTS = ("builtin", "graphviz")
JSON_VERSION = 1

# GitHub's Primer colours: readable on white, distinct for people with the
# common colour-vision deficiencies (red vs amber also differ in line style).
COLOR = {
    "text": "#1f2328",
    "muted": "#59636e",
    "edge": "#8c959f",
    "node_fill": "#ffffff",
    "node_stroke": "#6e7781",
    "hr_fill": "#ddf4ff",
    "hr_stroke": "#0969da",
    "lane_fill": "#f6f8fa",
    "lane_stroke": "#d1d9e0",
    "cycle": "#cf222e",
    "cycle_fill": "#ffebe9",
    "dangling": "#9a6700",
    "missing_fill": "#fff8c5",
    "suspended_fill": "#eaeef2",
}

FONT = 'ui-sans-serif, system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif'
CHAR_WIDTH = 7.2  # a generous average advance of 12px sans text
NODE_HEIGHT = 28.0
LEGEND_HEIGHT = 34.0


def render(
    graph: FluxGraph,
    fmt: str,
    *,
    layout: str = "builtin",
    title: str = "",
    clusters: Sequence[tuple[str, FluxGraph]] = (),
) -> str:
    """``graph`` in format ``fmt`` (one of :data:`FORMATS`).

    :param graph: what to draw.
    :param fmt: ``mermaid``, ``dot``, ``json``, ``svg`` or ``html``.
    :param layout: ``builtin`` (homelab-kit's own) or ``graphviz`` (runs ``dot``).
    :param title: the HTML page's title.
    :param clusters: for ``html``, one graph per cluster, ``(name, graph)``: the
        page gets a selector between ``graph`` (the whole repository) and these.
    :returns: the text.
    :raises HomelabKitError: for an unknown format or layout, or when Graphviz is
        asked for and ``dot`` is not installed.

    Example::

        print(render(build_graph(homelab_kit.load(".")), "mermaid"))
    """
    if layout not in LAYOUTS:
        raise HomelabKitError(f"unknown layout {layout!r} (choose from {', '.join(LAYOUTS)})")
    renderers: dict[str, Callable[[], str]] = {
        "mermaid": lambda: to_mermaid(graph),
        "dot": lambda: to_dot(graph),
        "json": lambda: to_json(graph),
        "svg": lambda: to_svg(graph) if layout == "builtin" else graphviz_svg(graph),
        "html": lambda: to_html(
            graph,
            title=title,
            svg=None if layout == "builtin" else graphviz_svg(graph),
            clusters=clusters,
            cluster_svgs=[None if layout == "builtin" else graphviz_svg(g) for _, g in clusters],
        ),
    }
    if fmt not in renderers:
        raise HomelabKitError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return renderers[fmt]()


def _kind_label(node: GraphNode) -> str:
    return "HelmRelease" if node.kind == HELM_RELEASE else "Kustomization"


# ----------------------------------------------------------------------- json


def graph_to_dict(graph: FluxGraph) -> dict[str, Any]:
    """The JSON document of ``graph`` (see docs/graph.md for the fields)."""

    def where(loc: Any) -> dict[str, Any]:
        return {"path": loc.path if loc else None, "line": loc.line if loc else None}

    return {
        "version": JSON_VERSION,
        "focus": graph.focus,
        "namespaces": list(graph.namespaces),
        "nodes": [
            {
                "id": n.id,
                "kind": n.kind,
                "name": n.name,
                "namespace": n.namespace,
                "app": f"{n.app[0]}/{n.app[1]}" if n.app else None,
                **where(n.location),
                "missing": n.missing,
                "in_cycle": n.in_cycle,
                "suspended": n.suspended,
                "cluster": n.cluster,
            }
            for n in graph.nodes
        ],
        "edges": [
            {
                "dependency": e.dependency,
                "dependent": e.dependent,
                "kind": e.kind,
                **where(e.location),
                "in_cycle": e.in_cycle,
                "dangling": e.dangling,
            }
            for e in graph.edges
        ],
        "cycles": [list(c) for c in graph.cycles],
        "dangling": [
            {"dependent": e.dependent, "dependency": e.dependency, **where(e.location)}
            for e in graph.dangling
        ],
    }


def to_json(graph: FluxGraph) -> str:
    """``graph`` as indented JSON (:func:`graph_to_dict`), newline-terminated."""
    return json.dumps(graph_to_dict(graph), indent=2) + "\n"


# -------------------------------------------------------------------- mermaid


def _mermaid_text(text: str) -> str:
    """Text safe inside a Mermaid ``"..."`` label (entity codes, no markup)."""
    out = []
    for ch in text:
        if ch.isalnum() or ch in " -_./:()":
            out.append(ch)
        else:
            out.append(f"#{ord(ch)};")
    return "".join(out)


def to_mermaid(graph: FluxGraph) -> str:
    """A Mermaid ``flowchart LR``: one subgraph per namespace, cycles and dangling styled.

    Paste it into a GitHub comment or README inside a ``mermaid`` code block.
    """
    ids = {n.id: f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    if graph.focus:
        lines.append(f"  %% focus: {_mermaid_text(graph.focus)}")
    by_lane: dict[str, list[GraphNode]] = {}
    for node in graph.nodes:
        by_lane.setdefault(node.lane, []).append(node)
    for i, (lane, nodes) in enumerate(by_lane.items()):
        lines.append(f'  subgraph ns{i}["{_mermaid_text(lane)}"]')
        for node in nodes:
            label = _mermaid_text(node.name + (" (missing)" if node.missing else ""))
            shape = ('(["', '"])') if node.kind == HELM_RELEASE else ('["', '"]')
            lines.append(f"    {ids[node.id]}{shape[0]}{label}{shape[1]}")
        lines.append("  end")
    cycle_links: list[int] = []
    dangling_links: list[int] = []
    for i, edge in enumerate(graph.edges):
        arrow = "-.->" if edge.kind == DEPLOYS or edge.dangling else "-->"
        lines.append(f"  {ids[edge.dependency]} {arrow} {ids[edge.dependent]}")
        if edge.in_cycle:
            cycle_links.append(i)
        if edge.dangling:
            dangling_links.append(i)
    lines.append(
        f"  classDef cycle fill:{COLOR['cycle_fill']},stroke:{COLOR['cycle']},stroke-width:2px"
    )
    lines.append(
        f"  classDef missing fill:{COLOR['missing_fill']},stroke:{COLOR['dangling']},"
        "stroke-dasharray:4 3"
    )
    lines.append(f"  classDef helm fill:{COLOR['hr_fill']},stroke:{COLOR['hr_stroke']}")
    for cls, members in (
        ("helm", [n for n in graph.nodes if n.kind == HELM_RELEASE and not n.in_cycle]),
        ("cycle", [n for n in graph.nodes if n.in_cycle]),
        ("missing", [n for n in graph.nodes if n.missing]),
    ):
        if members:
            lines.append(f"  class {','.join(ids[n.id] for n in members)} {cls}")
    if cycle_links:
        lines.append(
            f"  linkStyle {','.join(map(str, cycle_links))} "
            f"stroke:{COLOR['cycle']},stroke-width:2px"
        )
    if dangling_links:
        lines.append(
            f"  linkStyle {','.join(map(str, dangling_links))} "
            f"stroke:{COLOR['dangling']},stroke-width:2px"
        )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------ dot


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: FluxGraph) -> str:
    """A Graphviz digraph, left to right, one ``cluster_`` subgraph per namespace."""
    lines = [
        "digraph flux {",
        "  rankdir=LR;",
        "  newrank=true;",
        f'  graph [fontname="Helvetica", fontsize=11, fontcolor="{COLOR["muted"]}"];',
        f'  node [shape=box, style="rounded,filled", fillcolor="{COLOR["node_fill"]}", '
        f'color="{COLOR["node_stroke"]}", fontname="Helvetica", fontsize=11];',
        f'  edge [color="{COLOR["edge"]}", arrowsize=0.7];',
    ]
    by_lane: dict[str, list[GraphNode]] = {}
    for node in graph.nodes:
        by_lane.setdefault(node.lane, []).append(node)
    for i, (lane, nodes) in enumerate(by_lane.items()):
        lines.append(f"  subgraph cluster_{i} {{")
        lines.append(
            f'    label={_dot_text(lane)}; style="rounded,filled"; '
            f'fillcolor="{COLOR["lane_fill"]}"; color="{COLOR["lane_stroke"]}";'
        )
        for node in nodes:
            attrs_ = [f"label={_dot_text(node.name)}", f"tooltip={_dot_text(_tooltip(node))}"]
            if node.kind == HELM_RELEASE:
                attrs_.append(
                    f'shape=box, style="rounded,filled", fillcolor="{COLOR["hr_fill"]}", '
                    f'color="{COLOR["hr_stroke"]}"'
                )
            if node.in_cycle:
                attrs_.append(
                    f'fillcolor="{COLOR["cycle_fill"]}", color="{COLOR["cycle"]}", penwidth=2'
                )
            if node.missing:
                attrs_.append(
                    f"label={_dot_text(node.name + ' (missing)')}, "
                    f'style="rounded,filled,dashed", fillcolor="{COLOR["missing_fill"]}", '
                    f'color="{COLOR["dangling"]}"'
                )
            lines.append(f"    {_dot_text(node.id)} [{', '.join(attrs_)}];")
        lines.append("  }")
    for edge in graph.edges:
        style: list[str] = []
        if edge.kind == DEPLOYS:
            style.append(f'style=dotted, color="{COLOR["hr_stroke"]}"')
        if edge.in_cycle:
            style.append(f'color="{COLOR["cycle"]}", penwidth=2')
        if edge.dangling:
            style.append(f'style=dashed, color="{COLOR["dangling"]}", penwidth=2')
        suffix = f" [{', '.join(style)}]" if style else ""
        lines.append(f"  {_dot_text(edge.dependency)} -> {_dot_text(edge.dependent)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def graphviz_svg(graph: FluxGraph) -> str:
    """The SVG Graphviz's ``dot`` draws from :func:`to_dot`.

    :raises HomelabKitError: when ``dot`` is not installed or fails.
    """
    dot = shutil.which("dot")
    if dot is None:
        raise HomelabKitError(
            "--layout graphviz needs Graphviz's `dot` on PATH; the builtin layout needs nothing"
        )
    try:
        done = subprocess.run(
            [dot, "-Tsvg"],
            input=to_dot(graph),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise HomelabKitError("Graphviz's dot took longer than 2 minutes") from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[0]
        raise HomelabKitError(f"Graphviz's dot failed: {first}")
    return done.stdout


# ------------------------------------------------------------------------ svg


def _tooltip(node: GraphNode, implied: Sequence[str] = ()) -> str:
    lines = [f"{_kind_label(node)} {node.label}"]
    if implied:
        lines.append("also depends on (implied by the arrows drawn): " + ", ".join(implied))
    if node.missing:
        lines.append("not declared anywhere in the repository (dangling dependsOn)")
    if node.location is not None:
        lines.append(str(node.location))
    if node.in_cycle:
        lines.append("part of a dependency cycle")
    if node.suspended:
        lines.append("suspended")
    return "\n".join(lines)


def node_width(text: str) -> float:
    """The width of a node box that fits ``text``."""
    return max(64.0, round(len(text) * CHAR_WIDTH + 22, 1))


def graph_layout(graph: FluxGraph, *, sweeps: int = 4) -> Layout:
    """The builtin layout of ``graph``: namespaces as lanes, dependencies left."""
    boxes = [
        Box(n.id, node_width(n.name + (" (missing)" if n.missing else "")), NODE_HEIGHT, n.lane)
        for n in graph.nodes
    ]
    lane_width = {lane: len(lane) * 7.6 + 60 for lane in graph.namespaces}
    edges = [(e.dependency, e.dependent) for e in graph.edges]
    return layered_layout(boxes, edges, sweeps=sweeps, lane_min_width=lane_width)


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _edge_path(route: Route) -> str:
    pts = route.points
    if route.self_loop:
        (x0, y0), (x1, y1) = pts
        return (
            f"M{_num(x0)},{_num(y0)} C{_num(x0)},{_num(y0 - 26)} "
            f"{_num(x1 + 30)},{_num(y1)} {_num(x1)},{_num(y1)}"
        )
    x, y = pts[0]
    parts = [f"M{_num(x)},{_num(y)}"]
    for x1, y1 in pts[1:]:
        if abs(y1 - y) < 0.5:
            parts.append(f"L{_num(x1)},{_num(y1)}")
        else:
            mid = (x + x1) / 2
            parts.append(f"C{_num(mid)},{_num(y)} {_num(mid)},{_num(y1)} {_num(x1)},{_num(y1)}")
        x, y = x1, y1
    return " ".join(parts)


SVG_STYLE = f"""
.hk-graph text {{ font-family: {FONT}; font-size: 12px; fill: {COLOR["text"]}; }}
.hk-graph .lane rect {{ fill: {COLOR["lane_fill"]}; stroke: {COLOR["lane_stroke"]}; }}
.hk-graph .lane text {{ font-weight: 600; fill: {COLOR["muted"]}; }}
.hk-graph .lane text .count {{ font-weight: 400; }}
.hk-graph .node rect {{ fill: {COLOR["node_fill"]}; stroke: {COLOR["node_stroke"]}; }}
.hk-graph .node.hr rect {{ fill: {COLOR["hr_fill"]}; stroke: {COLOR["hr_stroke"]}; }}
.hk-graph .node.suspended rect {{ fill: {COLOR["suspended_fill"]}; stroke-dasharray: 2 2; }}
.hk-graph .node.suspended text {{ fill: {COLOR["muted"]}; font-style: italic; }}
.hk-graph .node.cycle rect {{ fill: {COLOR["cycle_fill"]}; stroke: {COLOR["cycle"]};
  stroke-width: 2; }}
.hk-graph .node.missing rect {{ fill: {COLOR["missing_fill"]}; stroke: {COLOR["dangling"]};
  stroke-width: 1.5; stroke-dasharray: 5 3; }}
.hk-graph .edge {{ fill: none; stroke: {COLOR["edge"]}; stroke-width: 1.2; }}
.hk-graph .edge.deploys {{ stroke: {COLOR["hr_stroke"]}; stroke-dasharray: 2 3; }}
.hk-graph .edge.cycle {{ stroke: {COLOR["cycle"]}; stroke-width: 2; }}
.hk-graph .edge.dangling {{ stroke: {COLOR["dangling"]}; stroke-width: 2;
  stroke-dasharray: 6 4; }}
.hk-graph .legend text {{ fill: {COLOR["muted"]}; }}
.hk-graph .dim {{ opacity: 0.15; }}
.hk-graph .hit rect {{ stroke-width: 3; }}
"""

_MARKERS = (
    ("edge", "edge"),
    ("cycle", "cycle"),
    ("dangling", "dangling"),
    ("deploys", "hr_stroke"),
)


def to_svg(
    graph: FluxGraph,
    layout: Layout | None = None,
    *,
    id_prefix: str = "hk",
    link: Callable[[GraphNode], str | None] | None = None,
) -> str:
    """A standalone SVG drawing of ``graph`` with a legend.

    :param graph: what to draw.
    :param layout: a precomputed :func:`graph_layout` (computed when omitted).
    :param id_prefix: prefix of the element ids (several SVGs in one page).
    :param link: where a node links to (an ``href``), or None for no link.
    :returns: the SVG document text.
    """
    lay = layout or graph_layout(graph)
    edge_of = {(e.dependency, e.dependent): e for e in graph.edges}
    drawn: list[tuple[GraphEdge, Route]] = []
    listed: dict[str, list[str]] = {}
    for route in lay.routes:
        edge = edge_of.get((route.source, route.target))
        if edge is None:
            continue
        if route.implied and edge.kind != DEPLOYS and not (edge.in_cycle or edge.dangling):
            # too dense to draw: the dependent's tooltip lists it
            listed.setdefault(edge.dependent, []).append(_short(graph, edge.dependency))
        else:
            drawn.append((edge, route))
    legend, legend_width = _legend(graph, id_prefix, sum(map(len, listed.values())))
    width = max(lay.width, legend_width, 320.0)
    height = lay.height + LEGEND_HEIGHT
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="hk-graph" '
        f'width="{_num(width)}" height="{_num(height)}" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" role="img" '
        f'aria-label="Flux dependency graph">',
        f"<title>Flux dependency graph{_focus_suffix(graph)}</title>",
        f"<style>{SVG_STYLE}</style>",
        "<defs>",
    ]
    for name, colour in _MARKERS:
        out.append(
            f'<marker id="{id_prefix}-arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" '
            f'markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" '
            f'orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{COLOR[colour]}"/></marker>'
        )
    out.append("</defs>")
    out.append(f'<rect width="{_num(width)}" height="{_num(height)}" fill="#ffffff"/>')
    out += legend
    out.append(f'<g transform="translate(0,{_num(LEGEND_HEIGHT)})">')
    counts: dict[str, int] = {}
    for node in graph.nodes:
        counts[node.lane] = counts.get(node.lane, 0) + 1
    for lane in lay.lanes:
        out.append(
            f'<g class="lane" data-namespace="{_attr(lane.group)}">'
            f'<rect x="{_num(lane.x)}" y="{_num(lane.y)}" width="{_num(lane.width)}" '
            f'height="{_num(lane.height)}" rx="8"/>'
            f'<text x="{_num(lane.x + 10)}" y="{_num(lane.y + 17)}">{_esc(lane.group)}'
            f'<tspan class="count" dx="6">{counts.get(lane.group, 0)}</tspan></text></g>'
        )
    out.append('<g class="edges">')
    for edge, route in drawn:
        out.append(_svg_edge(edge, route, id_prefix))
    out.append("</g>")
    out.append('<g class="nodes">')
    for node in graph.nodes:
        box = lay.boxes[node.id]
        classes = ["node"]
        if node.kind == HELM_RELEASE:
            classes.append("hr")
        if node.suspended:
            classes.append("suspended")
        if node.in_cycle:
            classes.append("cycle")
        if node.missing:
            classes.append("missing")
        radius = box.height / 2 if node.kind == HELM_RELEASE else 5
        label = node.name + (" (missing)" if node.missing else "")
        body = (
            f"<title>{_esc(_tooltip(node, listed.get(node.id, ())))}</title>"
            f'<rect x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.width)}" '
            f'height="{_num(box.height)}" rx="{_num(radius)}"/>'
            f'<text x="{_num(box.cx)}" y="{_num(box.cy + 4)}" '
            f'text-anchor="middle">{_esc(label)}</text>'
        )
        href = link(node) if link is not None else None
        if href:
            body = f'<a href="{_attr(href)}">{body}</a>'
        out.append(
            f'<g class="{" ".join(classes)}" id="{id_prefix}-{_attr(_safe_id(node.id))}" '
            f'data-id="{_attr(node.id)}" data-namespace="{_attr(node.lane)}" '
            f'data-search="{_attr(search_text(node))}">{body}</g>'
        )
    out.append("</g></g></svg>")
    return "\n".join(out) + "\n"


def search_text(node: GraphNode) -> str:
    """What the page's search box matches a node on (besides its id), lowercased.

    Its ``namespace/name``, its app folder's ``namespace/app`` and the file that
    declares it, so a search by app, name or path finds it.
    """
    parts = [node.label]
    if node.app is not None:
        parts.append(f"{node.app[0]}/{node.app[1]}")
    if node.location is not None:
        parts.append(node.location.path)
    return " ".join(dict.fromkeys(parts)).lower()


def _svg_edge(edge: GraphEdge, route: Route, id_prefix: str) -> str:
    classes = ["edge"]
    marker = "edge"
    if edge.kind == DEPLOYS:
        classes.append("deploys")
        marker = "deploys"
    if edge.in_cycle:
        classes.append("cycle")
        marker = "cycle"
    if edge.dangling:
        classes.append("dangling")
        marker = "dangling"
    title = f"{edge.dependent} depends on {edge.dependency}"
    if edge.kind == DEPLOYS:
        title = f"{edge.dependency} deploys {edge.dependent}"
    if edge.dangling:
        title += " (not declared)"
    if edge.location is not None:
        title += f"\n{edge.location}"
    return (
        f'<path class="{" ".join(classes)}" d="{_edge_path(route)}" '
        f'data-from="{_attr(edge.dependency)}" data-to="{_attr(edge.dependent)}" '
        f'marker-end="url(#{id_prefix}-arrow-{marker})"><title>{_esc(title)}</title></path>'
    )


def _legend(graph: FluxGraph, id_prefix: str, implied: int = 0) -> tuple[list[str], float]:
    """One row at the top: what the shapes, colours and arrows mean; and its width.

    ``implied`` counts the dependencies listed in tooltips instead of drawn.
    """
    out = ['<g class="legend" transform="translate(12,8)">']
    x = 0.0

    def sample(cls: str, text: str, rx: float = 5) -> None:
        nonlocal x
        out.append(
            f'<g class="node {cls}"><rect x="{_num(x)}" y="2" width="26" height="14" '
            f'rx="{_num(rx)}"/></g><text x="{_num(x + 32)}" y="14">{_esc(text)}</text>'
        )
        x += 44 + len(text) * 7.0

    def line(cls: str, marker: str, text: str) -> None:
        nonlocal x
        out.append(
            f'<path class="edge {cls}" d="M{_num(x)},9 L{_num(x + 28)},9" '
            f'marker-end="url(#{id_prefix}-arrow-{marker})"/>'
            f'<text x="{_num(x + 36)}" y="14">{_esc(text)}</text>'
        )
        x += 50 + len(text) * 7.0

    sample("", "Kustomization")
    if any(n.kind == HELM_RELEASE for n in graph.nodes):
        sample("hr", "HelmRelease", rx=7)
        line("deploys", "deploys", "deploys")
    line("", "edge", "A → B: B depends on A")
    line("cycle", "cycle", f"cycle ({len(graph.cycles)})")
    line("dangling", "dangling", f"dangling dependsOn ({len(graph.dangling)})")
    sample("missing", "not declared")
    if implied:
        text = f"{implied} implied dependencies listed in tooltips, not drawn"
        out.append(f'<text class="implied" x="{_num(x)}" y="14">{_esc(text)}</text>')
        x += len(text) * 7.0
    out.append("</g>")
    return out, x + 24


def _focus_suffix(graph: FluxGraph) -> str:
    return f" around {_esc(graph.focus)}" if graph.focus else ""


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _safe_id(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)


# ----------------------------------------------------------------------- html

PAGE_STYLE = f"""
:root {{ color-scheme: light; }}
* {{ box-sizing: border-box; }}
body {{ margin: 0; font-family: {FONT}; color: {COLOR["text"]}; background: #ffffff;
  font-size: 14px; line-height: 1.45; }}
header.top {{ padding: 14px 24px; border-bottom: 1px solid {COLOR["lane_stroke"]};
  background: {COLOR["lane_fill"]}; }}
header.top h1 {{ margin: 0; font-size: 20px; }}
header.top p {{ margin: 2px 0 0; color: {COLOR["muted"]}; }}
main {{ padding: 0 24px 40px; }}
nav.top {{ position: sticky; top: 0; z-index: 2; background: #ffffff; padding: 8px 0;
  border-bottom: 1px solid {COLOR["lane_stroke"]}; }}
section {{ scroll-margin-top: 44px; }}
h2 {{ font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px;
  border-bottom: 1px solid {COLOR["lane_stroke"]}; }}
h3 {{ font-size: 15px; margin: 18px 0 6px; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0; }}
.card {{ border: 1px solid {COLOR["lane_stroke"]}; border-radius: 8px; padding: 8px 14px;
  min-width: 120px; background: #ffffff; }}
.card b {{ display: block; font-size: 22px; }}
.card span {{ color: {COLOR["muted"]}; font-size: 12px; }}
.card.bad b {{ color: {COLOR["cycle"]}; }}
.card.warn b {{ color: {COLOR["dangling"]}; }}
.card.good b {{ color: #1a7f37; }}
.graph-box {{ border: 1px solid {COLOR["lane_stroke"]}; border-radius: 8px; overflow: auto;
  max-height: 78vh; background: #ffffff; }}
.graph-box svg {{ display: block; }}
main > .cards:first-child, main > .toolbar:first-of-type {{ margin-top: 16px; }}
.toolbar {{ display: flex; gap: 8px; align-items: center; margin: 6px 0; flex-wrap: wrap; }}
.toolbar input {{ font: inherit; padding: 3px 8px; border: 1px solid {COLOR["lane_stroke"]};
  border-radius: 6px; min-width: 280px; }}
.toolbar button {{ font: inherit; padding: 2px 10px; border: 1px solid {COLOR["lane_stroke"]};
  border-radius: 6px; background: {COLOR["lane_fill"]}; cursor: pointer; }}
table {{ border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 13px; }}
th, td {{ text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2;
  vertical-align: top; }}
th {{ background: {COLOR["lane_fill"]}; font-weight: 600; }}
code, .mono {{ font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 12px; }}
a {{ color: {COLOR["hr_stroke"]}; text-decoration: none; }}
a:hover {{ text-decoration: underline; }}
.sev {{ display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px;
  font-weight: 600; }}
.sev.error {{ background: {COLOR["cycle_fill"]}; color: {COLOR["cycle"]}; }}
.sev.warning {{ background: {COLOR["missing_fill"]}; color: {COLOR["dangling"]}; }}
.sev.info {{ background: {COLOR["hr_fill"]}; color: {COLOR["hr_stroke"]}; }}
.flag {{ display: inline-block; border-radius: 10px; padding: 0 7px; font-size: 11px;
  margin-right: 4px; background: {COLOR["missing_fill"]}; color: {COLOR["dangling"]}; }}
.flag.bad {{ background: {COLOR["cycle_fill"]}; color: {COLOR["cycle"]}; }}
.muted {{ color: {COLOR["muted"]}; }}
details {{ margin: 4px 0; }}
summary {{ cursor: pointer; }}
details.secrets > summary h3 {{ display: inline; }}
details.secrets > summary h3 .muted {{ font-weight: 400; }}
ul.plain {{ margin: 4px 0; padding-left: 20px; }}
.toolbar select {{ font: inherit; padding: 2px 6px; border: 1px solid {COLOR["lane_stroke"]};
  border-radius: 6px; background: #ffffff; }}
.toolbar .hits {{ color: {COLOR["hr_stroke"]}; }}
.hk-graph .folded {{ display: none; }}
.hk-graph .lane rect.head {{ fill: transparent; stroke: none; cursor: pointer; }}
.hk-graph .lane rect.head:focus {{ outline: none; stroke: {COLOR["hr_stroke"]}; }}
.hk-graph .lane text {{ cursor: pointer; user-select: none; }}
.hk-graph .lane.collapsed > rect:first-child {{ fill: #eaeef2; }}
.hk-graph .lane.has-hit > rect:first-child {{ stroke: {COLOR["hr_stroke"]}; stroke-width: 2; }}
"""

# Runs first: any script error lands in <body data-errors> (tests read it).
ERROR_CATCHER = """
window.__hkErrors = [];
window.addEventListener('error', function (e) {
  window.__hkErrors.push(String(e.message || e));
  if (document.body) { document.body.dataset.errors = window.__hkErrors.join(' | '); }
});
document.addEventListener('DOMContentLoaded', function () {
  document.body.dataset.errors = window.__hkErrors.join(' | ');
  document.body.dataset.ready = 'yes';
});
"""

# Namespaces that collapse and expand, zoom and fit, search, neighbours on hover and
# the cluster selector: plain DOM, no library (graph.js, shipped in the package).
GRAPH_SCRIPT = (resources.files("homelab_kit.graph") / "graph.js").read_text(encoding="utf-8")

# A drawing of more nodes than this opens with its namespaces collapsed: one bar
# each, with its count, expanded by a click (or a search that finds something in it).
COLLAPSE_ABOVE = 400
# The cluster selector's name for the drawing of the whole repository.
WHOLE_REPOSITORY = "all clusters"


def html_page(title: str, body: str, *, subtitle: str = "", scripts: tuple[str, ...] = ()) -> str:
    """A self-contained HTML page: inline CSS and scripts only, no network.

    :param title: the page and header title (escaped here).
    :param body: the HTML of the ``<main>`` element (already escaped).
    :param subtitle: a line under the title (escaped here).
    :param scripts: inline scripts run at the end of the body.
    """
    tail = "".join(f"<script>{s}</script>\n" for s in scripts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{_esc(title)}</title>\n"
        f"<script>{ERROR_CATCHER}</script>\n"
        f"<style>{PAGE_STYLE}</style>\n</head>\n<body>\n"
        f'<header class="top"><h1>{_esc(title)}</h1>'
        + (f"<p>{_esc(subtitle)}</p>" if subtitle else "")
        + "</header>\n<main>\n"
        + body
        + "\n</main>\n"
        + tail
        + "</body>\n</html>\n"
    )


def graph_section(
    graph: FluxGraph,
    *,
    svg: str | None = None,
    id_prefix: str = "hk",
    link: Callable[[GraphNode], str | None] | None = None,
    href: Callable[[Any], str] | None = None,
    collapsed: bool | None = None,
    view: str | None = None,
) -> str:
    """The graph block of a page: counts, toolbar, the drawing, cycles and dangling lists.

    :param graph: what to draw.
    :param svg: a drawing made elsewhere (Graphviz); the builtin one when omitted.
    :param id_prefix: element id prefix for this drawing.
    :param link: where a node links to.
    :param href: the link of a :class:`Location` (for the cycle and dangling lists).
    :param collapsed: whether the namespaces start collapsed; by default, when the
        graph has more than :data:`COLLAPSE_ABOVE` nodes.
    :param view: the name the cluster selector shows this drawing under
        (:func:`graph_views`), None for the only one.
    """
    if collapsed is None:
        collapsed = len(graph.nodes) > COLLAPSE_ABOVE
    drawing = svg if svg is not None else to_svg(graph, id_prefix=id_prefix, link=link)
    if drawing.startswith("<?xml"):
        drawing = drawing[drawing.index("?>") + 2 :]
    kinds: dict[str, int] = {}
    for n in graph.nodes:
        if not n.missing:
            kinds[n.kind] = kinds.get(n.kind, 0) + 1
    start = "collapsed" if collapsed else "expanded"
    view_attr = f' data-view="{_attr(view)}"' if view is not None else ""
    parts = [f'<div class="graph-view" data-start="{start}"{view_attr}>', '<div class="cards">']
    for kind, count in sorted(kinds.items()):
        parts.append(f'<div class="card"><b>{count}</b><span>{_esc(kind)}s</span></div>')
    parts.append(
        f'<div class="card"><b>{len(graph.namespaces)}</b><span>namespaces</span></div>'
        f'<div class="card {"bad" if graph.cycles else "good"}"><b>{len(graph.cycles)}</b>'
        "<span>cycles</span></div>"
        f'<div class="card {"warn" if graph.dangling else "good"}"><b>{len(graph.dangling)}</b>'
        "<span>dangling dependsOn</span></div></div>"
    )
    parts.append(
        '<div class="toolbar"><input type="search" placeholder="Find a node (name or '
        'namespace)" aria-label="Find a node"><button data-zoom="1.25">+</button>'
        '<button data-zoom="0.8">&minus;</button><button data-zoom="fit">fit</button>'
        '<button data-lanes="collapse">collapse all</button>'
        '<button data-lanes="expand">expand all</button>'
        '<span class="hits" aria-live="polite"></span>'
        '<span class="muted">Click a namespace to collapse or expand it; hover a node to see '
        "its neighbours.</span></div>"
    )
    parts.append(f'<div class="graph-box">{drawing}</div>')

    def where(loc: Any) -> str:
        if loc is None:
            return ""
        text = _esc(str(loc))
        link = f'<a class="mono" href="{_attr(href(loc))}">{text}</a>' if href else text
        return f'<span class="muted">({link})</span>'

    if graph.cycles:
        parts.append(
            '<h3>Cycles</h3><p class="muted">Each depends on the next; Flux never applies '
            'them.</p><ul class="plain">'
        )
        for cycle in graph.cycles:
            names = " &rarr; ".join(_esc(_short(graph, c)) for c in cycle)
            first = graph.node(cycle[0])
            parts.append(f"<li>{names} {where(first.location if first else None)}</li>")
        parts.append("</ul>")
    if graph.dangling:
        parts.append('<h3>Dangling dependencies</h3><ul class="plain">')
        for edge in graph.dangling:
            parts.append(
                f"<li>{_esc(_short(graph, edge.dependent))} depends on "
                f"{_esc(_short(graph, edge.dependency))}, which is not declared "
                f"{where(edge.location)}</li>"
            )
        parts.append("</ul>")
    parts.append("</div>")
    return "\n".join(parts)


def graph_views(
    views: Sequence[tuple[str, FluxGraph]],
    *,
    svgs: Sequence[str | None] = (),
    id_prefix: str = "hk",
    link: Callable[[GraphNode], str | None] | None = None,
    href: Callable[[Any], str] | None = None,
) -> str:
    """One :func:`graph_section` per view, and a selector showing one at a time.

    Each view is ``(name, graph)``: the whole repository and each of its clusters,
    say.  A single view is drawn as :func:`graph_section` draws it, without a
    selector.

    :param views: the drawings, the first shown first.
    :param svgs: drawings made elsewhere (Graphviz), by position; builtin where None.
    :param id_prefix: element id prefix; each view adds its position.
    :param link: where a node links to.
    :param href: the link of a :class:`Location` (for the cycle and dangling lists).
    """
    drawn = list(svgs) + [None] * (len(views) - len(svgs))
    if len(views) == 1:
        return graph_section(views[0][1], svg=drawn[0], id_prefix=id_prefix, link=link, href=href)
    options = "".join(
        f'<option value="{_attr(name)}"{" selected" if i == 0 else ""}>{_esc(name)} '
        f"({len(graph.nodes)} nodes)</option>"
        for i, (name, graph) in enumerate(views)
    )
    parts = [
        '<div class="graph-views">',
        f'<div class="toolbar views"><label>Cluster <select class="view-select" '
        f'aria-label="Cluster">{options}</select></label>'
        f'<span class="muted">{len(views) - 1} clusters in this repository</span></div>',
    ]
    for i, (name, graph) in enumerate(views):
        parts.append(
            graph_section(
                graph,
                svg=drawn[i],
                id_prefix=f"{id_prefix}{i}",
                link=link,
                href=href,
                view=name,
            )
        )
    parts.append("</div>")
    return "\n".join(parts)


def _short(graph: FluxGraph, nid: str) -> str:
    node = graph.node(nid)
    return node.label if node else nid


def to_html(
    graph: FluxGraph,
    *,
    title: str = "",
    svg: str | None = None,
    clusters: Sequence[tuple[str, FluxGraph]] = (),
    cluster_svgs: Sequence[str | None] = (),
) -> str:
    """A standalone page with the drawing, a legend, search and zoom; no network.

    :param graph: what to draw (the whole repository, say).
    :param title: the page title.
    :param svg: ``graph`` drawn elsewhere (Graphviz); the builtin drawing when None.
    :param clusters: more drawings, ``(cluster name, graph)``, that a selector
        shows instead of ``graph`` (see :func:`graph_views`).
    :param cluster_svgs: those drawn elsewhere, by position.
    """
    heading = "Flux dependency graph" + (f" around {graph.focus}" if graph.focus else "")
    views = [(WHOLE_REPOSITORY, graph), *clusters]
    return html_page(
        title or heading,
        graph_views(views, svgs=[svg, *cluster_svgs]),
        subtitle="Dependencies on the left, their dependents to the right.",
        scripts=(GRAPH_SCRIPT,),
    )


def counts(graph: FluxGraph) -> Mapping[str, int]:
    """Node counts by kind (missing nodes apart), for summaries."""
    out: dict[str, int] = {}
    for n in graph.nodes:
        key = "missing" if n.missing else n.kind
        out[key] = out.get(key, 0) + 1
    return out
