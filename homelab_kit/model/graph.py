"""The dependency graph between Flux Kustomizations (and between HelmReleases)."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Generic, TypeVar

import attrs

K = TypeVar("K", bound=Hashable)


@attrs.frozen
class DependencyGraph(Generic[K]):
    """Nodes and ``dependsOn`` edges: ``edges[a]`` are the nodes ``a`` depends on.

    ``missing`` lists edges whose target is not a node (a dangling ``dependsOn``).
    """

    nodes: tuple[K, ...]
    edges: Mapping[K, tuple[K, ...]]
    missing: tuple[tuple[K, K], ...]
    _memo: dict[str, dict[K, tuple[K, ...]]] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )

    @classmethod
    def build(cls, nodes: Iterable[K], edges: Iterable[tuple[K, K]]) -> DependencyGraph[K]:
        node_list = list(dict.fromkeys(nodes))
        known = set(node_list)
        out: dict[K, list[K]] = {n: [] for n in node_list}
        missing: list[tuple[K, K]] = []
        for a, b in edges:
            if b not in known:
                missing.append((a, b))
            elif a in out and b not in out[a]:
                out[a].append(b)
        return cls(tuple(node_list), {k: tuple(v) for k, v in out.items()}, tuple(missing))

    def dependents(self, node: K) -> tuple[K, ...]:
        """The nodes that depend on ``node`` directly."""
        reverse = self._memo.get("dependents")
        if reverse is None:
            found: dict[K, list[K]] = {}
            for a, deps in self.edges.items():
                for dep in dict.fromkeys(deps):
                    found.setdefault(dep, []).append(a)
            reverse = self._memo["dependents"] = {k: tuple(v) for k, v in found.items()}
        return reverse.get(node, ())

    def components(self) -> list[list[K]]:
        """The strongly connected components that form cycles.

        Each component of two or more nodes, or a single node that depends on
        itself, in discovery order.  Tarjan's algorithm, iteratively, so a cycle of
        thousands of nodes does not exhaust the stack.
        """
        index: dict[K, int] = {}
        low: dict[K, int] = {}
        on_stack: set[K] = set()
        stack: list[K] = []
        components: list[list[K]] = []
        counter = 0
        for start in self.nodes:
            if start in index:
                continue
            work: list[tuple[K, int]] = [(start, 0)]
            while work:
                node, i = work.pop()
                if i == 0:
                    index[node] = low[node] = counter
                    counter += 1
                    stack.append(node)
                    on_stack.add(node)
                deps = self.edges.get(node, ())
                if i < len(deps):
                    work.append((node, i + 1))
                    nxt = deps[i]
                    if nxt not in index:
                        work.append((nxt, 0))
                    elif nxt in on_stack:
                        low[node] = min(low[node], index[nxt])
                    continue
                if low[node] == index[node]:
                    comp: list[K] = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1 or node in deps:
                        components.append(comp)
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
        return components

    def cycles(self) -> list[list[K]]:
        """Every dependency cycle, each as the nodes in order (first node repeated last).

        One cycle per strongly connected component (see :meth:`components`), walked
        from its member that comes first in :attr:`nodes`.
        """
        return [self._walk(comp) for comp in self.components()]

    def _walk(self, component: Sequence[K]) -> list[K]:
        members = set(component)
        order = {n: i for i, n in enumerate(self.nodes)}
        start = min(component, key=lambda n: order[n])
        path = [start]
        seen = {start}
        node = start
        while True:
            nxt = next(
                (d for d in self.edges.get(node, ()) if d in members and d not in seen), None
            )
            if nxt is None:
                # close the cycle on the first member we can reach back to
                back = next((d for d in self.edges.get(node, ()) if d in members), start)
                path.append(back)
                return path
            path.append(nxt)
            seen.add(nxt)
            node = nxt

    def topological_order(self) -> list[K]:
        """Dependencies before dependents; nodes in cycles come last, in input order."""
        waiting = {n: len({d for d in self.edges.get(n, ()) if d != n}) for n in self.nodes}
        dependents: dict[K, list[K]] = {n: [] for n in self.nodes}
        for n in self.nodes:
            for d in set(self.edges.get(n, ())):
                if d != n:
                    dependents[d].append(n)
        ready = deque(n for n in self.nodes if not waiting[n])
        order: list[K] = []
        while ready:
            n = ready.popleft()
            order.append(n)
            for m in dependents[n]:
                waiting[m] -= 1
                if not waiting[m]:
                    ready.append(m)
        placed = set(order)
        return order + [n for n in self.nodes if n not in placed]
