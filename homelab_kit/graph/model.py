"""The Flux dependency graph of a repository, as the ``graph`` command draws it.

Nodes are Flux Kustomizations (and, on request, HelmReleases), keyed
``ks:<namespace>/<name>`` and ``hr:<namespace>/<name>``; a ``dependsOn`` that
names nothing becomes a *missing* node so the dangling edge can be drawn.  An
edge always points from the dependency to its dependent (``dependency ->
dependent``: the dependency is applied first), so drawings flow left to right.
"""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence

import attrs

from homelab_kit.errors import HomelabKitError
from homelab_kit.location import Location
from homelab_kit.model.clusters import Cluster
from homelab_kit.model.graph import DependencyGraph
from homelab_kit.model.repo import Repo

KUSTOMIZATION = "Kustomization"
HELM_RELEASE = "HelmRelease"
DEPENDS_ON = "dependsOn"
DEPLOYS = "deploys"
NO_NAMESPACE = "(no namespace)"

_PREFIX = {KUSTOMIZATION: "ks", HELM_RELEASE: "hr"}


def node_id(kind: str, namespace: str | None, name: str) -> str:
    """The id of a node: ``ks:media/sonarr``, ``hr:media/sonarr``."""
    return f"{_PREFIX[kind]}:{namespace or ''}/{name}"


@attrs.frozen
class GraphNode:
    """A Kustomization or HelmRelease of the graph.

    ``app`` is ``(namespace, app)`` of the app folder that holds it, when there is
    one; ``missing`` marks the target of a dangling ``dependsOn`` (nothing by that
    name is declared); ``in_cycle`` that it belongs to a dependency cycle.
    """

    id: str
    kind: str
    name: str
    namespace: str | None
    app: tuple[str, str] | None = None
    location: Location | None = None
    missing: bool = False
    in_cycle: bool = False
    suspended: bool = False
    cluster: str | None = None

    @property
    def label(self) -> str:
        """``namespace/name``, as people write it."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def lane(self) -> str:
        """The group the node is drawn in: its namespace (``cluster: namespace`` in a
        graph of several clusters)."""
        namespace = self.namespace or NO_NAMESPACE
        return f"{self.cluster}: {namespace}" if self.cluster else namespace


@attrs.frozen
class GraphEdge:
    """``dependent`` depends on ``dependency`` (``dependsOn``), or a Kustomization deploys a
    HelmRelease (``deploys``: the Kustomization is the ``dependency``).

    ``location`` is the ``dependsOn`` entry; ``dangling`` when the dependency is
    missing; ``in_cycle`` when both ends are in the same dependency cycle.
    """

    dependency: str
    dependent: str
    kind: str = DEPENDS_ON
    location: Location | None = None
    in_cycle: bool = False
    dangling: bool = False


@attrs.frozen
class FluxGraph:
    """Nodes, edges and the cycles between them.

    ``cycles`` are the dependency cycles, each as node ids in order with the first
    repeated last; ``focus`` names the app the graph was narrowed to, if any.
    """

    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    cycles: tuple[tuple[str, ...], ...] = ()
    focus: str | None = None
    _index: dict[str, GraphNode] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", {n.id: n for n in self.nodes})

    def node(self, node_id: str) -> GraphNode | None:
        """The node with this id."""
        return self._index.get(node_id)

    @property
    def namespaces(self) -> tuple[str, ...]:
        """The lanes, sorted."""
        return tuple(sorted({n.lane for n in self.nodes}))

    @property
    def dangling(self) -> tuple[GraphEdge, ...]:
        """The edges whose dependency is not declared."""
        return tuple(e for e in self.edges if e.dangling)


def build_graph(repo: Repo, *, helm: bool = False, cluster: Cluster | None = None) -> FluxGraph:
    """The dependency graph of ``repo``: Kustomizations, and HelmReleases with ``helm``.

    :param repo: the loaded repository.
    :param helm: also show HelmReleases, their ``dependsOn`` and which
        Kustomization deploys each.
    :param cluster: only what this cluster applies (one of ``repo.clusters``), so
        names repeating in another cluster do not merge into its nodes.
    :returns: the :class:`FluxGraph`, nodes sorted by namespace, kind and name.
    """
    kustomizations = repo.kustomizations
    releases = repo.helm_releases
    if cluster is not None:
        built = {k.source for k in cluster.kustomizations}
        kustomizations = tuple(k for k in kustomizations if k.source in built)
        releases = tuple(h for h in releases if cluster.reaches(h.source.path))
    nodes: dict[str, GraphNode] = {}
    edges: list[GraphEdge] = []
    app_of: dict[str, tuple[str, str] | None] = {}

    def app_key(path: str) -> tuple[str, str] | None:
        if path not in app_of:
            app = repo.app_of_file(path)
            app_of[path] = (app.namespace, app.name) if app else None
        return app_of[path]

    for ks in kustomizations:
        nid = node_id(KUSTOMIZATION, ks.namespace, ks.name)
        if nid not in nodes:
            nodes[nid] = GraphNode(
                nid,
                KUSTOMIZATION,
                ks.name,
                ks.namespace,
                app_key(ks.source.path),
                ks.source,
                suspended=ks.suspend,
            )
    for ks in kustomizations:
        nid = node_id(KUSTOMIZATION, ks.namespace, ks.name)
        for dep in ks.depends_on:
            edges.append(
                GraphEdge(
                    node_id(KUSTOMIZATION, dep.resolved_namespace, dep.name),
                    nid,
                    DEPENDS_ON,
                    dep.source,
                )
            )
    if helm:
        for hr in releases:
            nid = node_id(HELM_RELEASE, hr.namespace, hr.name)
            if nid not in nodes:
                nodes[nid] = GraphNode(
                    nid, HELM_RELEASE, hr.name, hr.namespace, app_key(hr.source.path), hr.source
                )
        for hr in releases:
            nid = node_id(HELM_RELEASE, hr.namespace, hr.name)
            for dep in hr.depends_on:
                edges.append(
                    GraphEdge(
                        node_id(HELM_RELEASE, dep.resolved_namespace, dep.name),
                        nid,
                        DEPENDS_ON,
                        dep.source,
                    )
                )
            for ns, name in repo.deployed_by.get(hr.source.path, ()):
                ks_id = node_id(KUSTOMIZATION, ns, name)
                if ks_id in nodes:
                    edges.append(GraphEdge(ks_id, nid, DEPLOYS, hr.source))
    return _finish(nodes, edges)


def build_cluster_graphs(
    repo: Repo, clusters: Sequence[Cluster], *, helm: bool = False
) -> FluxGraph:
    """One graph holding several clusters, each drawn apart from the others.

    Each cluster's graph is :func:`build_graph` with ``cluster``; its nodes get
    ``cluster`` set (so they are grouped under ``cluster: namespace``) and their ids
    the prefix ``cluster:`` (``main:ks:flux-system/cluster-apps``), so names repeating
    across clusters never merge.  With one cluster this is ``build_graph(repo,
    cluster=...)`` unchanged.
    """
    if len(clusters) == 1:
        return build_graph(repo, helm=helm, cluster=clusters[0])
    nodes: list[GraphNode] = []
    edges: list[GraphEdge] = []
    cycles: list[tuple[str, ...]] = []
    for cluster in clusters:
        graph = build_graph(repo, helm=helm, cluster=cluster)
        prefix = f"{cluster.name}:"
        nodes += [attrs.evolve(n, id=prefix + n.id, cluster=cluster.name) for n in graph.nodes]
        edges += [
            attrs.evolve(e, dependency=prefix + e.dependency, dependent=prefix + e.dependent)
            for e in graph.edges
        ]
        cycles += [tuple(prefix + i for i in cycle) for cycle in graph.cycles]
    return FluxGraph(tuple(nodes), tuple(edges), tuple(cycles))


def _finish(nodes: dict[str, GraphNode], raw: Iterable[GraphEdge]) -> FluxGraph:
    """Add missing nodes, drop duplicate edges, mark cycles, sort."""
    edges: dict[tuple[str, str, str], GraphEdge] = {}
    for edge in raw:
        key = (edge.dependency, edge.dependent, edge.kind)
        if key in edges:
            continue
        if edge.dependency not in nodes:
            kind, _, rest = edge.dependency.partition(":")
            ns, _, name = rest.partition("/")
            nodes[edge.dependency] = GraphNode(
                edge.dependency,
                KUSTOMIZATION if kind == "ks" else HELM_RELEASE,
                name,
                ns or None,
                missing=True,
            )
        dangling = nodes[edge.dependency].missing
        edges[key] = attrs.evolve(edge, dangling=dangling)
    depends = [(e.dependent, e.dependency) for e in edges.values() if e.kind == DEPENDS_ON]
    component = strongly_connected(list(nodes), depends)
    self_loops = {a for a, b in depends if a == b}
    cyclic = {n for n, c in component.items() if c is not None} | self_loops
    marked_nodes = {
        nid: attrs.evolve(n, in_cycle=nid in cyclic) if nid in cyclic else n
        for nid, n in nodes.items()
    }
    marked_edges = [
        attrs.evolve(e, in_cycle=True)
        if e.kind == DEPENDS_ON
        and (
            e.dependency == e.dependent
            or (
                component.get(e.dependency) is not None
                and component.get(e.dependency) == component.get(e.dependent)
            )
        )
        else e
        for e in edges.values()
    ]
    order = sorted(marked_nodes.values(), key=lambda n: (n.lane, n.kind != KUSTOMIZATION, n.name))
    cycles = _cycles(order, depends, component, self_loops)
    marked_edges.sort(key=lambda e: (e.dependent, e.dependency, e.kind))
    return FluxGraph(tuple(order), tuple(marked_edges), cycles)


def strongly_connected(
    nodes: Sequence[str], edges: Iterable[tuple[str, str]]
) -> dict[str, int | None]:
    """Each node's cycle: the index of its strongly connected component, when that has
    two nodes or more, else None (self-loops are reported separately by the caller).
    """
    graph = DependencyGraph.build(nodes, ((a, b) for a, b in edges if a != b))
    result: dict[str, int | None] = dict.fromkeys(graph.nodes)
    for label, members in enumerate(graph.components()):
        for member in members:
            result[member] = label
    return result


def _cycles(
    order: Sequence[GraphNode],
    depends: Sequence[tuple[str, str]],
    component: Mapping[str, int | None],
    self_loops: set[str],
) -> tuple[tuple[str, ...], ...]:
    """One walk per cycle, from its first node in display order, closed on itself."""
    out: dict[str, list[str]] = {}
    for a, b in depends:
        out.setdefault(a, []).append(b)
    walks: list[tuple[str, ...]] = []
    done: set[int] = set()
    for node in order:
        nid = node.id
        if nid in self_loops:
            walks.append((nid, nid))
        comp = component.get(nid)
        if comp is None or comp in done:
            continue
        done.add(comp)
        # a shortest way back to the start: breadth-first inside the component
        parent: dict[str, str] = {}
        queue = deque([nid])
        end: str | None = None
        while queue and end is None:
            cur = queue.popleft()
            for nxt in out.get(cur, ()):
                if component.get(nxt) != comp:
                    continue
                if nxt == nid:
                    end = cur
                    break
                if nxt not in parent:
                    parent[nxt] = cur
                    queue.append(nxt)
        path = [nid]
        cur = end if end is not None else nid
        back: list[str] = []
        while cur != nid:
            back.append(cur)
            cur = parent[cur]
        path += reversed(back)
        path.append(nid)
        walks.append(tuple(path))
    return tuple(walks)


# ---------------------------------------------------------------------- focus


def focus_graph(graph: FluxGraph, query: str) -> FluxGraph:
    """One app with everything it depends on and everything that depends on it.

    :param graph: the whole graph.
    :param query: an app or node name, ``name`` or ``namespace/name`` (the app
        folder's name, or a Kustomization's or HelmRelease's).
    :returns: the subgraph, with ``focus`` set.
    :raises HomelabKitError: when nothing matches (the message lists close
        matches) or a bare name matches in several namespaces.
    """
    seeds = _match(graph, query)
    upstream: dict[str, list[str]] = {}
    downstream: dict[str, list[str]] = {}
    for e in graph.edges:
        upstream.setdefault(e.dependent, []).append(e.dependency)
        downstream.setdefault(e.dependency, []).append(e.dependent)
    keep: set[str] = set(seeds)
    for links in (upstream, downstream):
        queue = deque(seeds)
        seen = set(seeds)
        while queue:
            cur = queue.popleft()
            for nxt in links.get(cur, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    keep.add(nxt)
                    queue.append(nxt)
    nodes = tuple(n for n in graph.nodes if n.id in keep)
    edges = tuple(e for e in graph.edges if e.dependency in keep and e.dependent in keep)
    cycles = tuple(c for c in graph.cycles if all(n in keep for n in c))
    return FluxGraph(nodes, edges, cycles, focus=query)


def _match(graph: FluxGraph, query: str) -> list[str]:
    wanted_ns, _, wanted = query.strip().rpartition("/")
    if not wanted:
        raise HomelabKitError("--focus needs an app name (NAME or NAMESPACE/NAME)")
    hits: list[GraphNode] = []
    for node in graph.nodes:
        if node.missing:
            continue
        app_ns, app_name = node.app or (None, None)
        by_app = app_name == wanted and (not wanted_ns or app_ns == wanted_ns)
        by_name = node.name == wanted and (not wanted_ns or node.namespace == wanted_ns)
        if by_app or by_name:
            hits.append(node)
    if not hits:
        candidates = sorted(
            {n.name for n in graph.nodes if not n.missing}
            | {n.label for n in graph.nodes if not n.missing}
            | {f"{n.app[0]}/{n.app[1]}" for n in graph.nodes if n.app}
            | {n.app[1] for n in graph.nodes if n.app}
        )
        close = difflib.get_close_matches(query, candidates, n=5, cutoff=0.5)
        hint = f" (close matches: {', '.join(close)})" if close else ""
        raise HomelabKitError(f"--focus: no app or Kustomization named {query!r}{hint}")
    spaces = sorted({n.lane for n in hits})
    if not wanted_ns and len(spaces) > 1:
        choices = ", ".join(f"{ns}/{wanted}" for ns in spaces)
        raise HomelabKitError(f"--focus: {wanted!r} is in several namespaces; say which: {choices}")
    return [n.id for n in hits]
