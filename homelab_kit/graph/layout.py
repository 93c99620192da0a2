"""A layered (Sugiyama-style) layout, left to right, with nodes grouped in lanes.

homelab-kit draws its own graphs, so the SVG and HTML outputs need nothing
installed.  The steps are the classic ones:

1. **Cycle breaking**: a depth-first search from the sources marks back edges;
   they are left out of the layering, then routed (reversed) like the others and
   drawn going backwards, right to left.
2. **Layering**: longest path, so every remaining edge goes from a lower layer
   to a higher one (left to right).
3. **Transitive reduction**: an edge ``a -> c`` is *implied* when a longer path
   ``a -> b -> ... -> c`` already puts ``a`` before ``c``.  Implied edges change
   no layer; when routing them all would take more than :data:`MAX_IMPLIED_BENDS`
   bends, they are left out of the ordering and flagged ``implied`` (the caller
   lists them instead of drawing them), so a densely dependent graph draws its
   skeleton, not a hairball of ``n**2`` edges each crossing ``n`` layers.
4. **Long edges** get a dummy node in every layer they cross, placed in the lane
   of the edge's target, so that they are routed around the nodes.  At most
   :data:`MAX_DUMMIES` dummies and :data:`MAX_BENDS` bends in all; an edge past
   either budget is drawn straight.
5. **Crossing reduction**: barycenter ordering, a few sweeps down and up, for a
   few candidate lane orders; the ordering with the fewest crossings wins (never
   more than the input order).  The sweeps stop when they have done
   :data:`SWEEP_WORK` units of work, so a huge graph keeps its input order.
6. **Coordinates**: a column per layer; lanes are horizontal bands, one per
   group, tall enough for their fullest layer; inside a band each node moves
   toward its neighbours (isotonic regression keeps the order and the spacing).

Every step is linear (or ``n log n``) in the nodes, the edges and the bounded
dummies, so the work is at most a small multiple of ``nodes + edges`` plus the
fixed budgets, whatever the shape of the graph (``Layout.work`` counts it).  The
transitive reduction keeps one bit set per node, ``nodes**2 / 8`` bytes at worst;
past :data:`MAX_REDUCTION_NODES` nodes it is skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

import attrs

Point = tuple[float, float]

# Beyond this many dummy nodes, or this many bends (dummy nodes visited, summed
# over the routed edges: edges that share a trunk visit its dummies again),
# further long edges are drawn straight: a graph whose edges cross hundreds of
# layers each is unreadable anyway.
MAX_DUMMIES = 60_000
MAX_BENDS = 120_000
# Implied edges are routed like the others only when all of them together take
# no more bends than this; else none is, and each is flagged ``implied``.
MAX_IMPLIED_BENDS = 10_000
# The crossing-reduction sweeps stop after this much work (items and segments
# visited); the first sweeps of the first candidate lane order go first.
SWEEP_WORK = 3_000_000
# The transitive reduction keeps a bit set per node: skipped past this size.
MAX_REDUCTION_NODES = 20_000


@attrs.frozen
class Box:
    """A node to place: its ``id``, size and ``group`` (the lane it belongs to)."""

    id: str
    width: float
    height: float
    group: str = ""


@attrs.frozen
class Spacing:
    """The distances the layout keeps, in pixels."""

    layer_gap: float = 64.0
    node_gap: float = 10.0
    dummy_height: float = 2.0
    dummy_gap: float = 8.0
    lane_gap: float = 14.0
    lane_padding: float = 12.0
    lane_header: float = 24.0
    margin: float = 12.0


@attrs.frozen
class PlacedBox:
    """A node where the layout put it: top-left ``x``/``y``, size, layer and lane."""

    id: str
    x: float
    y: float
    width: float
    height: float
    layer: int
    group: str

    @property
    def cx(self) -> float:
        """The horizontal centre."""
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        """The vertical centre."""
        return self.y + self.height / 2

    @property
    def right(self) -> float:
        """The right edge."""
        return self.x + self.width

    @property
    def bottom(self) -> float:
        """The bottom edge."""
        return self.y + self.height


@attrs.frozen
class Route:
    """How to draw one edge ``source -> target``.

    ``points`` run from the source's right side, through the dummy nodes, to the
    target's left side.  A ``reversed`` edge (one that closes a cycle) runs the
    other way, from the source's left side back to the target's right side, a
    little below their middles so that it never hides a forward edge; a
    ``self_loop`` has the node's top-right and right-middle as its points.  An
    ``implied`` edge is one a longer path of other edges already implies, left out
    of a layout too dense to route them all: its two points join the ends
    straight, and a drawing may list it rather than draw it.
    """

    source: str
    target: str
    points: tuple[Point, ...]
    reversed: bool = False
    self_loop: bool = False
    implied: bool = False


@attrs.frozen
class LaneBox:
    """The rectangle of one group (a labelled box around its nodes)."""

    group: str
    x: float
    y: float
    width: float
    height: float


@attrs.frozen
class Layout:
    """The result: placed nodes, edge routes, lane boxes and the overall size.

    ``layers`` lists the real node ids of each layer in their final order (top to
    bottom); ``crossings`` counts edge crossings between adjacent layers (dummy
    segments included); ``reversed_edges`` are the edges drawn backwards;
    ``work`` counts the elementary steps the layout took (edges, items and
    segments visited), which the module's budgets keep near-linear.
    """

    boxes: Mapping[str, PlacedBox]
    routes: tuple[Route, ...]
    lanes: tuple[LaneBox, ...]
    width: float
    height: float
    layers: tuple[tuple[str, ...], ...]
    crossings: int
    reversed_edges: frozenset[tuple[str, str]]
    work: int = 0


def layered_layout(
    boxes: Sequence[Box],
    edges: Iterable[tuple[str, str]],
    *,
    sweeps: int = 4,
    spacing: Spacing | None = None,
    lane_min_width: Mapping[str, float] | None = None,
) -> Layout:
    """Lay ``boxes`` out in layers from left to right, ``edges`` pointing rightwards.

    :param boxes: the nodes, in a stable order (it is the starting order).
    :param edges: ``(source, target)`` pairs: ``source`` is placed left of
        ``target`` unless the edge closes a cycle.  Unknown ids are ignored.
    :param sweeps: barycenter sweeps (down and up) per candidate; 0 keeps the
        input order, which tests use as the naive baseline.
    :param spacing: the distances to keep.
    :param lane_min_width: the least width of a group's box (to fit its label).
    :returns: the :class:`Layout`.

    Example::

        layout = layered_layout([Box("a", 40, 20), Box("b", 40, 20)], [("a", "b")])
        assert layout.boxes["a"].x < layout.boxes["b"].x
    """
    return _Layouter(boxes, edges, sweeps, spacing or Spacing(), lane_min_width or {}).run()


def count_crossings(layers: Sequence[Sequence[int]], segments: Iterable[tuple[int, int]]) -> int:
    """Crossings between adjacent layers: ``segments`` join an item to one in the next layer.

    :param layers: item ids per layer, in order.
    :param segments: ``(upper, lower)`` pairs where ``lower`` is in the layer after
        ``upper``'s.
    :returns: the number of pairs of segments that cross.
    """
    pos: dict[int, tuple[int, int]] = {}
    for li, layer in enumerate(layers):
        for p, item in enumerate(layer):
            pos[item] = (li, p)
    by_layer: dict[int, list[tuple[int, int]]] = {}
    for a, b in segments:
        la, pa = pos[a]
        by_layer.setdefault(la, []).append((pa, pos[b][1]))
    total = 0
    for li, pairs in by_layer.items():
        size = len(layers[li + 1]) if li + 1 < len(layers) else 0
        total += _inversions(sorted(pairs), size)
    return total


def _inversions(pairs: Sequence[tuple[int, int]], size: int) -> int:
    """Pairs ``i < j`` with ``pairs[i][1] > pairs[j][1]`` (a Fenwick tree)."""
    tree = [0] * (size + 2)
    count = 0
    for seen, (_, b) in enumerate(pairs):
        # how many earlier lower ends are <= b
        i, le = b + 1, 0
        while i > 0:
            le += tree[i]
            i -= i & -i
        count += seen - le
        i = b + 1
        while i <= size + 1:
            tree[i] += 1
            i += i & -i
    return count


class _Layouter:
    """The mutable working state of one layout run (items: nodes, then dummies)."""

    def __init__(
        self,
        boxes: Sequence[Box],
        edges: Iterable[tuple[str, str]],
        sweeps: int,
        spacing: Spacing,
        lane_min_width: Mapping[str, float],
    ) -> None:
        self.boxes = list({b.id: b for b in boxes}.values())
        self.index = {b.id: i for i, b in enumerate(self.boxes)}
        self.n = len(self.boxes)
        self.sweeps = sweeps
        self.sp = spacing
        self.lane_min_width = lane_min_width
        self.edges: list[tuple[int, int]] = []
        self.self_loops: list[int] = []
        self.work = 0
        seen: set[tuple[int, int]] = set()
        for s, t in edges:
            self.work += 1
            a, b = self.index.get(s), self.index.get(t)
            if a is None or b is None or (a, b) in seen:
                continue
            seen.add((a, b))
            if a == b:
                self.self_loops.append(a)
            else:
                self.edges.append((a, b))
        groups = list(dict.fromkeys(b.group for b in self.boxes))
        self.group_names = groups
        group_index = {g: i for i, g in enumerate(groups)}
        self.lane: list[int] = [group_index[b.group] for b in self.boxes]
        self.height: list[float] = [b.height for b in self.boxes]
        self.width: list[float] = [b.width for b in self.boxes]

    # ------------------------------------------------------------------ steps

    def run(self) -> Layout:
        back = self._back_edges()
        forward = [e for e in self.edges if e not in back]
        self.layer = self._layering(forward)
        implied = self._implied(forward)
        bends = sum(self.layer[b] - self.layer[a] - 1 for a, b in implied)
        if bends > MAX_IMPLIED_BENDS:
            # too dense to route every edge: order and route the skeleton only
            forward = [e for e in forward if e not in implied]
        else:
            implied = set()
        self.implied = implied
        routed = [(a, b, False) for a, b in forward] + [(b, a, True) for a, b in back]
        chains = self._dummies(routed)
        nlayers = max(self.layer, default=-1) + 1
        initial: list[list[int]] = [[] for _ in range(nlayers)]
        for item in range(len(self.layer)):
            initial[self.layer[item]].append(item)
        # the naive order: lanes in input order, items in input order
        for layer in initial:
            layer.sort(key=lambda i: (self.lane[i], i))
        order, crossings = self._order(initial)
        xs, colw = self._columns(order)
        ys, lanes = self._rows(order, xs, colw)
        return self._result(order, crossings, back, chains, xs, colw, ys, lanes)

    def _back_edges(self) -> set[tuple[int, int]]:
        """Edges closing a cycle: back edges of a DFS started from the sources."""
        self.work += 2 * (self.n + len(self.edges))
        out: list[list[int]] = [[] for _ in range(self.n)]
        indegree = [0] * self.n
        for a, b in self.edges:
            out[a].append(b)
            indegree[b] += 1
        state = [0] * self.n  # 0 new, 1 on the stack, 2 done
        back: set[tuple[int, int]] = set()
        starts = [i for i in range(self.n) if not indegree[i]] + list(range(self.n))
        for start in starts:
            if state[start]:
                continue
            state[start] = 1
            stack: list[tuple[int, int]] = [(start, 0)]
            while stack:
                node, i = stack[-1]
                if i < len(out[node]):
                    stack[-1] = (node, i + 1)
                    nxt = out[node][i]
                    if state[nxt] == 1:
                        back.add((node, nxt))
                    elif state[nxt] == 0:
                        state[nxt] = 1
                        stack.append((nxt, 0))
                else:
                    state[node] = 2
                    stack.pop()
        return back

    def _layering(self, forward: Sequence[tuple[int, int]]) -> list[int]:
        """Longest path from the sources (Kahn's order over the acyclic edges)."""
        self.work += self.n + len(forward)
        out: list[list[int]] = [[] for _ in range(self.n)]
        waiting = [0] * self.n
        for a, b in forward:
            out[a].append(b)
            waiting[b] += 1
        layer = [0] * self.n
        ready = [i for i in range(self.n) if not waiting[i]]
        while ready:
            node = ready.pop()
            for nxt in out[node]:
                layer[nxt] = max(layer[nxt], layer[node] + 1)
                waiting[nxt] -= 1
                if not waiting[nxt]:
                    ready.append(nxt)
        return layer

    def _implied(self, forward: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
        """The forward edges ``a -> c`` that a longer path from ``a`` to ``c`` implies.

        Nodes are visited from the last layer back; each keeps the set of nodes it
        reaches (a bit set).  A node's targets are taken nearest layer first: a
        target already reached through an earlier one is implied.  An edge that
        spans one layer is never implied (any other path takes two layers at least).
        """
        if self.n > MAX_REDUCTION_NODES:
            return set()
        out: list[list[int]] = [[] for _ in range(self.n)]
        for a, b in forward:
            out[a].append(b)
        self.work += self.n + len(forward)
        layer = self.layer
        reach = [0] * self.n
        implied: set[tuple[int, int]] = set()
        for node in sorted(range(self.n), key=lambda i: -layer[i]):
            seen = 0
            for target in sorted(out[node], key=layer.__getitem__):
                if seen >> target & 1:
                    implied.add((node, target))
                else:
                    seen |= reach[target] | 1 << target
            reach[node] = seen
        return implied

    def _dummies(
        self, routed: Sequence[tuple[int, int, bool]]
    ) -> dict[tuple[int, int, bool], list[int]]:
        """Split long edges into unit segments; returns each edge's chain of dummies.

        ``routed`` are ``(upper, lower, reversed)``: a reversed edge is routed from
        the target of the back edge to its source.  Edges from one node into one
        lane share their dummies (a trunk that fans out at the end), so a node
        many others depend on draws one line per lane, not one per dependent.
        """
        chains: dict[tuple[int, int, bool], list[int]] = {}
        trunks: dict[tuple[int, int, bool, int], int] = {}
        self.up: list[list[int]] = [[] for _ in range(self.n)]
        self.down: list[list[int]] = [[] for _ in range(self.n)]
        segments: set[tuple[int, int]] = set()
        budget = MAX_DUMMIES
        bends = MAX_BENDS
        for a, b, flipped in routed:
            span = self.layer[b] - self.layer[a]
            chain: list[int] = []
            self.work += 1
            if span > 1 and span - 1 <= budget and span - 1 <= bends:
                bends -= span - 1
                self.work += span - 1
                for layer in range(self.layer[a] + 1, self.layer[b]):
                    key = (a, self.lane[b], flipped, layer)
                    item = trunks.get(key, -1)
                    if item < 0:
                        budget -= 1
                        item = trunks[key] = len(self.layer)
                        self.layer.append(layer)
                        self.lane.append(self.lane[b])
                        self.height.append(self.sp.dummy_height)
                        self.width.append(0.0)
                        self.up.append([])
                        self.down.append([])
                    chain.append(item)
            chains[(a, b, flipped)] = chain
            path = [a, *chain, b]
            if span > 1 and not chain:
                continue  # drawn straight, not part of the ordering
            for x, y in itertools.pairwise(path):
                if (x, y) not in segments:
                    segments.add((x, y))
                    self.down[x].append(y)
                    self.up[y].append(x)
        return chains

    # --------------------------------------------------------------- ordering

    def _segments(self) -> list[tuple[int, int]]:
        return [(a, b) for a, downs in enumerate(self.down) for b in downs]

    def _order(self, initial: list[list[int]]) -> tuple[list[list[int]], int]:
        segments = self._segments()
        best = [list(layer) for layer in initial]
        best_crossings = count_crossings(best, segments)
        # a sweep down and up visits every item and segment twice, then counts
        cost = 3 * (len(self.layer) + len(segments)) + len(self.edges)
        self.work += cost
        budget = SWEEP_WORK
        self.lane_rank = list(range(len(self.group_names)))
        if self.sweeps <= 0 or best_crossings == 0:
            return best, best_crossings
        for lane_rank in self._lane_candidates():
            order = [sorted(layer, key=lambda i: (lane_rank[self.lane[i]], i)) for layer in initial]
            for _ in range(self.sweeps):
                if cost > budget:
                    return best, best_crossings
                budget -= cost
                self.work += cost
                for li in range(1, len(order)):
                    self._reorder(order, li, order[li - 1], self.up, lane_rank)
                for li in range(len(order) - 2, -1, -1):
                    self._reorder(order, li, order[li + 1], self.down, lane_rank)
                crossings = count_crossings(order, segments)
                if crossings < best_crossings:
                    best = [list(layer) for layer in order]
                    best_crossings = crossings
                    self.lane_rank = list(lane_rank)
                if best_crossings == 0:
                    return best, 0
        return best, best_crossings

    def _reorder(
        self,
        order: list[list[int]],
        li: int,
        fixed: Sequence[int],
        neighbours: Sequence[Sequence[int]],
        lane_rank: Sequence[int],
    ) -> None:
        pos = {item: p for p, item in enumerate(fixed)}
        scale = len(fixed) / max(len(order[li]), 1)
        keys: dict[int, tuple[int, float, int]] = {}
        for p, item in enumerate(order[li]):
            near = [pos[j] for j in neighbours[item] if j in pos]
            bary = sum(near) / len(near) if near else p * scale
            keys[item] = (lane_rank[self.lane[item]], bary, p)
        order[li].sort(key=keys.__getitem__)

    def _lane_candidates(self) -> list[list[int]]:
        """Lane orders to try: input order, by mean layer, and a barycentric refinement."""
        lanes = len(self.group_names)
        identity = list(range(lanes))
        if lanes <= 1:
            return [identity]
        self.work += self.n + len(self.edges)
        total = [0.0] * lanes
        count = [0] * lanes
        for i in range(self.n):
            total[self.lane[i]] += self.layer[i]
            count[self.lane[i]] += 1
        mean = [total[g] / count[g] if count[g] else 0.0 for g in range(lanes)]
        by_layer = sorted(identity, key=lambda g: (mean[g], g))
        weights: dict[tuple[int, int], int] = {}
        for a, b in self.edges:
            la, lb = self.lane[a], self.lane[b]
            if la != lb:
                key = (min(la, lb), max(la, lb))
                weights[key] = weights.get(key, 0) + 1
        position = [0.0] * lanes
        for rank, g in enumerate(by_layer):
            position[g] = float(rank)
        for _ in range(8):
            acc = list(position)
            norm = [1.0] * lanes
            for (la, lb), w in weights.items():
                acc[la] += w * position[lb]
                acc[lb] += w * position[la]
                norm[la] += w
                norm[lb] += w
            ranked = sorted(identity, key=lambda g: (acc[g] / norm[g], position[g]))
            for rank, g in enumerate(ranked):
                position[g] = float(rank)
        refined = sorted(identity, key=lambda g: position[g])
        candidates: list[list[int]] = []
        for perm in (identity, by_layer, refined):
            rank_of = [0] * lanes
            for rank, g in enumerate(perm):
                rank_of[g] = rank
            if rank_of not in candidates:
                candidates.append(rank_of)
        return candidates

    # ------------------------------------------------------------ coordinates

    def _columns(self, order: Sequence[Sequence[int]]) -> tuple[list[float], list[float]]:
        sp = self.sp
        colw = [max((self.width[i] for i in layer), default=0.0) for layer in order]
        colw = [max(w, 8.0) for w in colw]
        xs: list[float] = []
        x = sp.margin + sp.lane_padding
        for w in colw:
            xs.append(x)
            x += w + sp.layer_gap
        return xs, colw

    def _gap(self, a: int, b: int) -> float:
        return self.sp.dummy_gap if a >= self.n or b >= self.n else self.sp.node_gap

    def _rows(
        self, order: Sequence[Sequence[int]], xs: Sequence[float], colw: Sequence[float]
    ) -> tuple[list[float], list[tuple[int, float, float]]]:
        """Top ``y`` of every item, and each lane's (group, top, height)."""
        sp = self.sp
        lanes = len(self.group_names)
        # the items of each (lane, layer), in order
        cells: dict[tuple[int, int], list[int]] = {}
        for li, layer in enumerate(order):
            for item in layer:
                cells.setdefault((self.lane[item], li), []).append(item)
        inner = [0.0] * lanes
        for (lane, _), items in cells.items():
            stack = sum(self.height[i] for i in items)
            stack += sum(self._gap(a, b) for a, b in itertools.pairwise(items))
            inner[lane] = max(inner[lane], stack)
        used = {lane for lane, _ in cells}
        lane_seq = sorted(used, key=self.lane_rank.__getitem__)
        tops: dict[int, float] = {}
        y = sp.margin
        lane_rows: list[tuple[int, float, float]] = []
        for lane in lane_seq:
            height = sp.lane_header + inner[lane] + sp.lane_padding
            tops[lane] = y + sp.lane_header
            lane_rows.append((lane, y, height))
            y += height + sp.lane_gap
        ys = [0.0] * len(self.layer)
        for (lane, _), items in cells.items():
            top = tops[lane]
            for a, b in zip(items, [*items[1:], -1], strict=False):
                ys[a] = top
                if b >= 0:
                    top += self.height[a] + self._gap(a, b)
        self._straighten(order, cells, ys, tops, inner)
        return ys, lane_rows

    def _straighten(
        self,
        order: Sequence[Sequence[int]],
        cells: Mapping[tuple[int, int], list[int]],
        ys: list[float],
        tops: Mapping[int, float],
        inner: Sequence[float],
    ) -> None:
        """Move items toward their neighbours' centres, keeping order and spacing."""
        nlayers = len(order)
        by_layer: list[list[tuple[int, list[int]]]] = [[] for _ in range(nlayers)]
        for (lane, li), items in cells.items():
            by_layer[li].append((lane, items))
        segments = sum(len(d) for d in self.down)
        self.work += 6 * (len(ys) + 2 * segments)
        for step in range(6):
            layers = range(nlayers) if step % 2 == 0 else range(nlayers - 1, -1, -1)
            for li in layers:
                for lane, items in by_layer[li]:
                    desired = []
                    for item in items:
                        near = [*self.up[item], *self.down[item]]
                        if near:
                            centre = sum(ys[j] + self.height[j] / 2 for j in near) / len(near)
                        else:
                            centre = ys[item] + self.height[item] / 2
                        desired.append(centre)
                    self._place(items, desired, ys, tops[lane], tops[lane] + inner[lane])

    def _place(
        self, items: Sequence[int], centres: Sequence[float], ys: list[float], lo: float, hi: float
    ) -> None:
        """Isotonic regression: tops as close to ``centres`` as order and gaps allow."""
        offsets: list[float] = []
        off = 0.0
        for k, item in enumerate(items):
            offsets.append(off)
            if k + 1 < len(items):
                off += self.height[item] + self._gap(item, items[k + 1])
        total = off + self.height[items[-1]]
        targets = [
            c - self.height[i] / 2 - o for c, i, o in zip(centres, items, offsets, strict=True)
        ]
        # pool adjacent violators
        blocks: list[list[float]] = []  # [sum, count]
        for t in targets:
            blocks.append([t, 1.0])
            while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
                s, c = blocks.pop()
                blocks[-1][0] += s
                blocks[-1][1] += c
        z: list[float] = []
        for s, c in blocks:
            z += [s / c] * int(c)
        upper = max(lo, hi - total)
        for k, item in enumerate(items):
            ys[item] = round(min(max(z[k], lo), upper) + offsets[k], 1)

    # ----------------------------------------------------------------- output

    def _result(
        self,
        order: Sequence[Sequence[int]],
        crossings: int,
        back: set[tuple[int, int]],
        chains: Mapping[tuple[int, int, bool], list[int]],
        xs: Sequence[float],
        colw: Sequence[float],
        ys: Sequence[float],
        lane_rows: Sequence[tuple[int, float, float]],
    ) -> Layout:
        sp = self.sp
        placed: dict[str, PlacedBox] = {}
        for i, box in enumerate(self.boxes):
            li = self.layer[i]
            placed[box.id] = PlacedBox(
                id=box.id,
                x=round(xs[li] + (colw[li] - box.width) / 2, 1),
                y=ys[i],
                width=box.width,
                height=box.height,
                layer=li,
                group=box.group,
            )
        routes: list[Route] = []
        self.work += len(self.layer) + len(self.edges)
        ends = [placed[box.id] for box in self.boxes]
        # (right, centre) where an edge leaves a node; (left, centre) where it enters
        leave = [(p.right, p.cy) for p in ends]
        enter = [(p.x, p.cy) for p in ends]
        for a, b in self.edges:
            pa, pb = ends[a], ends[b]
            if (a, b) in back:
                low_a, low_b = pa.cy + pa.height / 4, pb.cy + pb.height / 4
                points = [(pa.x, low_a)]
                for d in reversed(chains.get((b, a, True), ())):
                    li = self.layer[d]
                    cy = ys[d] + self.height[d] / 2
                    points += [(xs[li] + colw[li], cy), (xs[li], cy)]
                points.append((pb.right, low_b))
                routes.append(Route(pa.id, pb.id, tuple(points), reversed=True))
                continue
            chain = chains.get((a, b, False))
            if not chain:
                implied = (a, b) in self.implied
                routes.append(Route(pa.id, pb.id, (leave[a], enter[b]), implied=implied))
                continue
            points = [leave[a]]
            for d in chain:
                li = self.layer[d]
                cy = ys[d] + self.height[d] / 2
                points += [(xs[li], cy), (xs[li] + colw[li], cy)]
            points.append(enter[b])
            routes.append(Route(pa.id, pb.id, tuple(points)))
        for a in self.self_loops:
            pa = placed[self.boxes[a].id]
            routes.append(
                Route(pa.id, pa.id, ((pa.right - 12, pa.y), (pa.right, pa.cy)), self_loop=True)
            )
        # lane boxes: around their items (dummies included), at least label-wide
        extent: dict[int, tuple[float, float]] = {}
        for item in range(len(self.layer)):
            li = self.layer[item]
            lane = self.lane[item]
            if item < self.n:
                left = xs[li] + (colw[li] - self.width[item]) / 2
                right = left + self.width[item]
            else:
                left, right = xs[li], xs[li] + colw[li]
            lo, hi = extent.get(lane, (left, right))
            extent[lane] = (min(lo, left), max(hi, right))
        # lanes are bands of one width: from the first column to the last item
        right = max((hi for _, hi in extent.values()), default=sp.margin)
        x0 = sp.margin
        w = max(
            [right + sp.lane_padding - x0]
            + [self.lane_min_width.get(self.group_names[lane], 0.0) for lane, _, _ in lane_rows]
        )
        lanes: list[LaneBox] = []
        height = sp.margin
        for lane, top, h in lane_rows:
            group = self.group_names[lane]
            lanes.append(LaneBox(group, round(x0, 1), round(top, 1), round(w, 1), round(h, 1)))
            height = top + h + sp.margin
        width = x0 + w + sp.margin
        layers = tuple(tuple(self.boxes[i].id for i in layer if i < self.n) for layer in order)
        reversed_edges = frozenset((self.boxes[a].id, self.boxes[b].id) for a, b in back)
        return Layout(
            boxes=placed,
            routes=tuple(routes),
            lanes=tuple(lanes),
            width=round(width, 1),
            height=round(height, 1),
            layers=layers,
            crossings=crossings,
            reversed_edges=reversed_edges,
            work=self.work,
        )
