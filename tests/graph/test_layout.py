"""The builtin layered layout: directions, overlaps, crossings, lanes and speed."""

from __future__ import annotations

import random

import pytest

from homelab_kit.graph import layout as layout_module
from homelab_kit.graph.layout import SWEEP_WORK, Box, Layout, count_crossings, layered_layout


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def assert_well_formed(layout: Layout, edges: list[tuple[str, str]]) -> None:
    """Edges rightwards (except reversed ones), no node or lane overlaps, nodes in lanes."""
    boxes = layout.boxes
    for source, target in edges:
        if source == target:
            continue
        a, b = boxes[source], boxes[target]
        if (source, target) in layout.reversed_edges:
            assert a.layer > b.layer, (source, target)
        else:
            assert a.layer < b.layer, (source, target)
            assert a.right < b.x, (source, target)
    placed = list(boxes.values())
    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:
            assert not _overlap((a.x, a.y, a.width, a.height), (b.x, b.y, b.width, b.height)), (
                a.id,
                b.id,
            )
    lanes = {lane.group: lane for lane in layout.lanes}
    for a, b in zip(layout.lanes, layout.lanes[1:], strict=False):
        assert a.y + a.height <= b.y, (a.group, b.group)
    for box in placed:
        lane = lanes[box.group]
        assert lane.x <= box.x, box.id
        assert box.right <= lane.x + lane.width, box.id
        assert lane.y <= box.y, box.id
        assert box.bottom <= lane.y + lane.height, box.id
    assert all(0 <= p[0] <= layout.width for r in layout.routes for p in r.points)


def _boxes(names: str, group: str = "g") -> list[Box]:
    return [Box(n, 40 + 6 * len(n), 28, group) for n in names.split()]


def test_a_chain_goes_left_to_right() -> None:
    edges = [("a", "b"), ("b", "c"), ("a", "c")]
    layout = layered_layout(_boxes("a b c"), edges)
    assert [layout.boxes[n].layer for n in "abc"] == [0, 1, 2]
    assert layout.layers == (("a",), ("b",), ("c",))
    assert layout.reversed_edges == frozenset()
    assert_well_formed(layout, edges)
    # the long edge a -> c goes around b, through a dummy point in b's column
    (route,) = [r for r in layout.routes if (r.source, r.target) == ("a", "c")]
    assert len(route.points) == 4


def test_a_cycle_has_one_reversed_edge_drawn_backwards() -> None:
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
    layout = layered_layout(_boxes("a b c d"), edges)
    assert layout.reversed_edges == frozenset({("c", "a")})
    assert_well_formed(layout, edges)
    (back,) = [r for r in layout.routes if r.reversed]
    assert back.points[0][0] > back.points[-1][0]  # runs right to left


def test_self_loop() -> None:
    layout = layered_layout(_boxes("a b"), [("a", "a"), ("a", "b")])
    assert any(r.self_loop for r in layout.routes)
    assert_well_formed(layout, [("a", "b")])


def test_unknown_ids_and_duplicates_are_ignored() -> None:
    layout = layered_layout(_boxes("a b"), [("a", "b"), ("a", "b"), ("a", "zzz")])
    assert len(layout.routes) == 1


def test_empty_graph() -> None:
    layout = layered_layout([], [])
    assert layout.boxes == {}
    assert layout.routes == ()
    assert layout.crossings == 0


def test_lanes_are_bands_that_hold_their_nodes() -> None:
    boxes = _boxes("a b", "infra") + _boxes("x y z", "apps") + _boxes("q", "misc")
    edges = [("a", "x"), ("b", "y"), ("a", "z"), ("x", "q")]
    layout = layered_layout(boxes, edges)
    assert {lane.group for lane in layout.lanes} == {"infra", "apps", "misc"}
    assert_well_formed(layout, edges)


def _crossing_fixture() -> tuple[list[Box], list[tuple[str, str]]]:
    """Two layers wired in reverse input order, plus a third: the naive order crosses a lot."""
    top = [f"t{i}" for i in range(6)]
    mid = [f"m{i}" for i in range(6)]
    low = [f"l{i}" for i in range(6)]
    edges = [(t, mid[5 - i]) for i, t in enumerate(top)]
    edges += [(m, low[(i * 2) % 6]) for i, m in enumerate(mid)]
    edges += [(top[0], mid[0]), (top[5], mid[5])]
    boxes = [Box(n, 50, 28, "g") for n in (*top, *mid, *low)]
    return boxes, edges


def test_crossing_reduction_beats_the_naive_order() -> None:
    boxes, edges = _crossing_fixture()
    naive = layered_layout(boxes, edges, sweeps=0)
    reduced = layered_layout(boxes, edges)
    assert naive.crossings > 0
    assert reduced.crossings < naive.crossings
    assert_well_formed(reduced, edges)
    # the reported count is the real one, recomputed from the final order
    index = {n: i for i, n in enumerate(b.id for b in boxes)}
    layers = [[index[n] for n in layer] for layer in reduced.layers]
    segments = [(index[a], index[b]) for a, b in edges]
    assert count_crossings(layers, segments) == reduced.crossings


def test_crossings_never_worse_than_naive_on_random_graphs() -> None:
    rng = random.Random(7)
    for _ in range(20):
        n = rng.randint(5, 40)
        groups = [f"ns{i}" for i in range(rng.randint(1, 5))]
        boxes = [Box(f"n{i}", rng.randint(40, 160), 28, rng.choice(groups)) for i in range(n)]
        edges = list(
            {(f"n{rng.randrange(n)}", f"n{rng.randrange(n)}") for _ in range(rng.randint(0, 2 * n))}
        )
        naive = layered_layout(boxes, edges, sweeps=0)
        reduced = layered_layout(boxes, edges)
        assert reduced.crossings <= naive.crossings
        assert_well_formed(reduced, edges)


def test_layout_is_deterministic() -> None:
    boxes, edges = _crossing_fixture()
    assert layered_layout(boxes, edges) == layered_layout(boxes, edges)


def test_count_crossings() -> None:
    # 0 1      two segments 0->3 and 1->2 cross; 0->2 and 1->3 do not
    # 2 3
    assert count_crossings([[0, 1], [2, 3]], [(0, 3), (1, 2)]) == 1
    assert count_crossings([[0, 1], [2, 3]], [(0, 2), (1, 3)]) == 0


def test_a_500_node_cycle_lays_out() -> None:
    # How long it takes is measured by benchmarks/graph.py, never asserted here.
    n = 500
    boxes = [Box(f"n{i}", 80, 28, "g") for i in range(n)]
    edges = [(f"n{i}", f"n{(i + 1) % n}") for i in range(n)]
    layout = layered_layout(boxes, edges)
    # linear: the reversed edge's dummies through 499 layers, not n**2
    assert layout.work < 100 * (n + len(edges))
    assert len(layout.reversed_edges) == 1
    assert len(layout.layers) == n
    assert_well_formed(layout, edges)


@pytest.mark.slow
def test_a_thousand_apps_lay_out() -> None:
    rng = random.Random(3)
    boxes: list[Box] = []
    edges: list[tuple[str, str]] = []
    infra = [f"infra{i}" for i in range(20)]
    boxes += [Box(n, 90, 28, "infra") for n in infra]
    edges += [(infra[i], infra[i + 1]) for i in range(0, 19, 2)]
    for ns in range(50):
        secrets = f"ns{ns}-secrets"
        boxes.append(Box(secrets, 90, 28, f"ns{ns}"))
        edges.append((rng.choice(infra), secrets))
        for app in range(20):
            name = f"ns{ns}-app{app}"
            boxes.append(Box(name, 110, 28, f"ns{ns}"))
            edges += [(secrets, name), (rng.choice(infra), name), (rng.choice(infra), name)]
    layout = layered_layout(boxes, edges)
    assert layout.work < SWEEP_WORK + 100 * (len(boxes) + len(edges))
    assert len(layout.boxes) == len(boxes)
    assert layout.crossings <= layered_layout(boxes, edges, sweeps=0).crossings


def _brute_implied(n: int, edges: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Edges a -> c with another path from a to c (of two edges or more)."""
    out: dict[int, set[int]] = {}
    for a, b in edges:
        out.setdefault(a, set()).add(b)

    def reaches(a: int, c: int, skip: tuple[int, int]) -> bool:
        seen, stack = {a}, [a]
        while stack:
            cur = stack.pop()
            for nxt in out.get(cur, ()):
                if (cur, nxt) != skip and nxt not in seen:
                    if nxt == c:
                        return True
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    return {e for e in edges if reaches(*e, skip=e)}


def test_implied_edges_are_the_transitive_reduction(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forced to leave implied edges out, the layout flags exactly those (random DAGs)."""
    monkeypatch.setattr(layout_module, "MAX_IMPLIED_BENDS", -1)
    rng = random.Random(11)
    for _ in range(30):
        n = rng.randint(2, 30)
        edges = {(a, b) for a, b in ((rng.randrange(n), rng.randrange(n)) for _ in range(3 * n))}
        edges = {(a, b) for a, b in edges if a < b}
        names = [(f"n{a}", f"n{b}") for a, b in sorted(edges)]
        layout = layered_layout([Box(f"n{i}", 40, 28) for i in range(n)], names)
        implied = {(r.source, r.target) for r in layout.routes if r.implied}
        assert implied == {(f"n{a}", f"n{b}") for a, b in _brute_implied(n, edges)}
        skeleton = [e for e in names if e not in implied]
        assert_well_formed(layout, skeleton)
        for source, target in implied:  # still left to right, drawn straight
            assert layout.boxes[source].layer < layout.boxes[target].layer
            (route,) = [r for r in layout.routes if (r.source, r.target) == (source, target)]
            assert len(route.points) == 2


def test_the_layout_budgets_bound_the_work_on_a_dense_graph() -> None:
    """Every node depends on every earlier one: the skeleton is a chain, nothing crosses."""
    n = 150
    boxes = [Box(f"n{i}", 60, 28, "g") for i in range(n)]
    edges = [(f"n{j}", f"n{i}") for i in range(n) for j in range(i)]
    layout = layered_layout(boxes, edges)
    assert layout.crossings == 0
    assert sum(1 for r in layout.routes if not r.implied) == n - 1
    assert len(layout.routes) == len(edges)
    assert layout.work < 10 * (n + len(edges))
