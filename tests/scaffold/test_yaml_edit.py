"""Round-trip YAML editing: the edit happens, and every other line stays byte-identical.

The property tests draw real files from ../shared/corpora and the reference cluster,
a document, a path that exists in it and an operation, then check three things: the
file reads back as the original with exactly that change; the lines outside the
touched node are byte-identical; a byte-order mark and CRLF line breaks survive.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from homelab_kit import Edit
from homelab_kit.yaml import parse_text
from homelab_kit.yaml.edit import (
    EditError,
    _find,
    _parse,
    append_to_sequence,
    apply_edits,
    atomic_write,
    delete_key,
    scalar_text,
    set_value,
)
from tests.conftest import CORPORA, PROJECT_ROOT

# --------------------------------------------------------------------------- inputs


@functools.cache
def _real_files() -> tuple[tuple[str, str], ...]:
    roots = [CORPORA, PROJECT_ROOT / "kubernetes", PROJECT_ROOT / "talos"]
    found: list[tuple[str, str]] = []
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*.yaml")):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            docs, problems = parse_text(text)
            if problems or not any(isinstance(d.data, dict | list) and d.data for d in docs):
                continue
            if "\r" in text or text.startswith("\ufeff"):
                continue
            found.append((str(path), text))
    return tuple(found)


def _files() -> tuple[tuple[str, str], ...]:
    files = _real_files()
    if not files:
        pytest.skip("no real YAML files (../shared/corpora and kubernetes/ are absent)")
    return files


def _paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    out: list[tuple[str | int, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str | int) and not isinstance(key, bool):
                out.append((*prefix, key))
                out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.append((*prefix, i))
            out += _paths(value, (*prefix, i))
    return out


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _strict_equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_strict_equal(v, b[k]) for k, v in a.items())
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_strict_equal, a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, width=32),
    _TEXT,
    st.sampled_from(
        [
            "yes",
            "no",
            "on",
            "1.0",
            "0777",
            "2024-01-01",
            "~",
            "",
            " x",
            "a: b",
            "#x",
            "- y",
            "${VAR}",
            "{{ .X.Value }}",
            "./app/ks.yaml",
            "1.43.3",
        ]
    ),
)
KEYS = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_.-]{0,12}", fullmatch=True)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=6,
)


# --------------------------------------------------------------------------- the property


def _span_lines(text: str, index: int, path: tuple[str | int, ...]) -> tuple[int, int]:
    """0-based first and last line of the node at ``path`` (its key line included)."""
    root = _parse(text)[index].root
    assert root is not None
    chain, found = _find(root, path)
    assert found == len(path)
    slot = chain[-1]
    node = slot.node
    start = node.start
    if slot.parent is not None and slot.parent.kind == "map":
        start = slot.parent.keys[slot.index].start
    elif slot.parent is not None and not slot.parent.flow:
        start = text.rfind("-", 0, node.start)
    end = node.end
    if end > 0 and text[end - 1] == "\n":
        end -= 1
    return text.count("\n", 0, start), text.count("\n", 0, max(end, start))


def _changed_region(old: str, new: str, suffix_first: bool = False) -> tuple[int, int]:
    """The original lines (0-based, half-open) that differ, by common prefix and suffix.

    Where lines repeat (a deleted list item followed by an item that starts alike), the
    region is ambiguous: the longest common prefix places it last, ``suffix_first`` (the
    longest common suffix) places it first.
    """
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    p = s = 0
    if suffix_first:
        while s < len(a) and s < len(b) and a[-1 - s] == b[-1 - s]:
            s += 1
        while p < len(a) - s and p < len(b) - s and a[p] == b[p]:
            p += 1
        return p, len(a) - s
    while p < len(a) and p < len(b) and a[p] == b[p]:
        p += 1
    while s < len(a) - p and s < len(b) - p and a[-1 - s] == b[-1 - s]:
        s += 1
    return p, len(a) - s


def _expected(data: Any, op: str, path: tuple[str | int, ...], value: Any) -> Any:
    data = copy.deepcopy(data)
    *parents, last = path
    parent = _get(data, tuple(parents))
    if op == "set":
        parent[last] = value
    elif op == "delete":
        del parent[last]
    elif op == "append":
        parent[last].append(value)
    return data


def _with_style(text: str, crlf: bool, bom: bool) -> str:
    if crlf:
        text = text.replace("\n", "\r\n")
    return ("\ufeff" if bom else "") + text


def _plain(text: str) -> str:
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


@st.composite
def edit_cases(draw: st.DrawFn) -> dict[str, Any]:
    name, text = draw(st.sampled_from(_files()))
    docs, _ = parse_text(text)
    doc = draw(st.sampled_from([d for d in docs if isinstance(d.data, dict | list) and d.data]))
    paths = _paths(doc.data)
    op = draw(st.sampled_from(["set", "delete", "append", "insert"]))
    lists = [p for p in paths if isinstance(_get(doc.data, p), list)]
    maps = [()] if isinstance(doc.data, dict) else []
    maps += [p for p in paths if isinstance(_get(doc.data, p), dict)]
    if op == "append" and not lists:
        op = "set"
    if op == "insert" and not maps:
        op = "set"
    value = draw(VALUES)
    if op in ("set", "delete"):
        path = draw(st.sampled_from(paths))
    elif op == "append":
        path = draw(st.sampled_from(lists))
    else:
        parent = draw(st.sampled_from(maps))
        existing = _get(doc.data, parent)
        key = draw(KEYS.filter(lambda k: k not in existing))
        path = (*parent, key)
    return {
        "name": name,
        "text": text,
        "doc": doc,
        "op": op,
        "path": path,
        "value": value,
        "crlf": draw(st.booleans()),
        "bom": draw(st.booleans()),
    }


@settings(
    max_examples=int(os.environ.get("HK_EDIT_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(edit_cases())
def test_edits_change_only_the_touched_lines(case: dict[str, Any]) -> None:
    text, doc, op, path, value = (case[k] for k in ("text", "doc", "op", "path", "value"))
    styled = _with_style(text, case["crlf"], case["bom"])
    aliased = any(a.uses for a in doc.anchors)
    refusal = ""
    try:
        if op in ("set", "insert"):
            new = set_value(styled, doc.index, path, value)
        elif op == "delete":
            new = delete_key(styled, doc.index, path)
        else:
            new = append_to_sequence(styled, doc.index, path, value)
    except EditError as exc:
        refusal = str(exc)
    if refusal:
        # Only anchors and aliases (whose meaning an edit could change) may refuse.
        assert aliased, f"{case['name']}: {op} {path}: {refusal}"
        event("refused (anchors)")
        return
    event(op)
    # A byte-order mark and CRLF line breaks survive.
    assert new.startswith("\ufeff") == case["bom"]
    if case["crlf"]:
        assert "\n" not in new.replace("\r\n", "")
    plain = _plain(new)

    # It reads back as the original with exactly this change.
    new_docs, problems = parse_text(plain)
    assert problems == ()
    old_docs, _ = parse_text(text)
    assert len(new_docs) == len(old_docs)
    for old_doc, new_doc in zip(old_docs, new_docs, strict=True):
        if old_doc.index != doc.index:
            assert _strict_equal(old_doc.data, new_doc.data)
    fresh = new_docs[doc.index].data
    if op == "delete":
        *parents, last = path
        holder = _get(fresh, tuple(parents))
        if isinstance(holder, dict):
            assert last not in holder
    else:
        got = _get(fresh, path) if op != "append" else _get(fresh, path)[-1]
        assert _strict_equal(_normalized(value), got)
    if not aliased:
        expected = _expected(doc.data, "set" if op == "insert" else op, path, _normalized(value))
        assert _strict_equal(expected, fresh)

    # Every line outside the touched node is byte-identical.
    first, last_changed = _changed_region(text, plain)
    if first >= last_changed:
        return
    if op == "insert":
        touched = path[:-1]
    elif op == "delete":
        container = _get(doc.data, path[:-1])
        touched = path[:-1] if len(container) == 1 else path
    else:
        touched = path
    if touched:
        lo, hi = _span_lines(text, doc.index, touched)
    else:
        lo, hi = 0, text.count("\n")
    if op == "delete":
        hi += 1
    if op in ("insert", "append") and len(_get(doc.data, touched)) > 0 and touched:
        node_is_block = _get_node_is_block(text, doc.index, touched)
        if node_is_block:
            # A pure insertion: no original line changes (but a last line without
            # a line break gains one).
            assert (first, last_changed) == (len(text.splitlines()) - 1, len(text.splitlines()))
            assert not text.endswith("\n")
            return
    # Repeated lines let the changed block slide between its two extreme alignments;
    # any alignment within the touched node's lines is the same text.
    early, early_end = _changed_region(text, plain, suffix_first=True)
    length = last_changed - first
    starts = range(min(early, first), max(early, first) + 1)
    if early_end - early != length:  # not a shifted copy of one block: the two ends only
        starts = range(0)
        assert (lo <= early and early_end - 1 <= hi) or (lo <= first and last_changed - 1 <= hi)
    assert not starts or any(lo <= f and f + length - 1 <= hi for f in starts), (
        (first, last_changed),
        (early, early_end),
        lo,
        hi,
    )


def _get_node_is_block(text: str, index: int, path: tuple[str | int, ...]) -> bool:
    root = _parse(text)[index].root
    assert root is not None
    chain, _ = _find(root, path)
    return chain[-1].node.is_block


def _normalized(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalized(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalized(v) for v in value]
    return value


@settings(max_examples=300, deadline=None)
@given(SCALARS)
@example("0?")  # libyaml ends a plain scalar at '?' inside [...]
def test_scalar_text_reads_back_as_the_same_value(value: Any) -> None:
    for flow in (False, True):
        written = scalar_text(value, flow=flow)
        text = f"k: [{written}]\n" if flow else f"k: {written}\n"
        docs, problems = parse_text(text)
        assert problems == ()
        got = docs[0].data["k"] if not flow else docs[0].data["k"][0]
        assert _strict_equal(value, got), text


# --------------------------------------------------------------------------- examples

KS = """\
---
# yaml-language-server: $schema=https://example.com/ks.json
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: &app echo
  namespace: &namespace default
spec:
  commonMetadata:
    labels:
      app.kubernetes.io/name: *app
  interval: 1h   # how often
  path: ./kubernetes/apps/default/echo/app
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  targetNamespace: *namespace
  wait: false
"""


def test_append_creates_the_key_in_sorted_position_and_keeps_comments() -> None:
    new = append_to_sequence(
        KS, 0, ("spec", "dependsOn"), {"name": "secrets", "namespace": "default"}
    )
    assert "  dependsOn:\n    - name: secrets\n      namespace: default\n  interval: 1h" in new
    assert "interval: 1h   # how often" in new
    assert new.replace("  dependsOn:\n    - name: secrets\n      namespace: default\n", "") == KS


def test_append_follows_the_sequence_style() -> None:
    text = "resources:\n- './a.yaml'   # first\n- './b.yaml'\n"
    assert append_to_sequence(text, 0, ("resources",), "./c.yaml") == (text + "- './c.yaml'\n")
    flow = "resources: [a, b]  # keep\n"
    assert append_to_sequence(flow, 0, ("resources",), "c") == "resources: [a, b, c]  # keep\n"
    empty = "resources: []\n"
    assert append_to_sequence(empty, 0, ("resources",), "./x") == "resources:\n  - ./x\n"


def test_append_at_an_index_and_sorted() -> None:
    text = "resources:\n  - ./b\n  - ./d\n"
    assert append_to_sequence(text, 0, ("resources",), "./a", index=0) == (
        "resources:\n  - ./a\n  - ./b\n  - ./d\n"
    )
    assert append_to_sequence(text, 0, ("resources",), "./c", keep_sorted=True) == (
        "resources:\n  - ./b\n  - ./c\n  - ./d\n"
    )


def test_set_keeps_quotes_anchor_and_comment() -> None:
    text = 'a: "old"  # note\nb: &x 1\nc: *x\n'
    assert set_value(text, 0, ("a",), "new") == 'a: "new"  # note\nb: &x 1\nc: *x\n'
    assert set_value(text, 0, ("b",), 2) == 'a: "old"  # note\nb: &x 2\nc: *x\n'


def test_set_creates_missing_parents() -> None:
    text = "spec:\n  interval: 1h\n"
    assert set_value(text, 0, ("spec", "postBuild", "substitute", "APP"), "echo") == (
        "spec:\n  interval: 1h\n  postBuild:\n    substitute:\n      APP: echo\n"
    )


def test_set_replaces_a_mapping_key_by_key() -> None:
    text = "r:\n  requests:  # min\n    cpu: 10m\n    memory: 64Mi\n"
    new = set_value(text, 0, ("r", "requests"), {"cpu": "20m", "memory": "64Mi"})
    assert new == "r:\n  requests:  # min\n    cpu: 20m\n    memory: 64Mi\n"


def test_quotes_what_yaml_1_1_would_misread() -> None:
    assert set_value("a: x\n", 0, ("a",), "yes") == 'a: "yes"\n'
    assert set_value("a: x\n", 0, ("a",), "1.0") == 'a: "1.0"\n'
    assert set_value("a: x\n", 0, ("a",), "1.43.3") == "a: 1.43.3\n"


def test_multi_document_files() -> None:
    text = "---\na: 1\n---\nb: 2\n---\nc: 3\n"
    assert set_value(text, 1, ("b",), 5) == "---\na: 1\n---\nb: 5\n---\nc: 3\n"
    assert set_value(text, 1, ("z",), 5) == "---\na: 1\n---\nb: 2\nz: 5\n---\nc: 3\n"
    assert delete_key(text, 2, ("c",)) == "---\na: 1\n---\nb: 2\n---\n{}\n"
    with pytest.raises(EditError, match="no document 3"):
        set_value(text, 3, ("a",), 1)


def test_crlf_and_bom_are_kept() -> None:
    text = "\ufeffa: 1\r\nlist:\r\n  - x\r\n"
    appended = append_to_sequence(text, 0, ("list",), "z")
    assert appended == "\ufeffa: 1\r\nlist:\r\n  - x\r\n  - z\r\n"
    assert set_value(text, 0, ("b", "c"), 2) == "\ufeffa: 1\r\nlist:\r\n  - x\r\nb:\r\n  c: 2\r\n"


def test_delete_keeps_the_neighbours() -> None:
    text = "a: 1\n# about b\nb:\n  c: 2\n  d: 3\ne: 4\n"
    assert delete_key(text, 0, ("b",)) == "a: 1\n# about b\ne: 4\n"
    assert delete_key(text, 0, ("b", "c")) == "a: 1\n# about b\nb:\n  d: 3\ne: 4\n"
    assert delete_key(text, 0, ("missing",)) == text
    items = "deps:\n  - name: a\n    namespace: x\n  - name: b\n"
    assert delete_key(items, 0, ("deps", 0, "name")) == "deps:\n  - namespace: x\n  - name: b\n"
    assert delete_key(items, 0, ("deps", 1)) == "deps:\n  - name: a\n    namespace: x\n"


def test_no_trailing_newline() -> None:
    assert append_to_sequence("l:\n  - a", 0, ("l",), "b") == "l:\n  - a\n  - b"
    assert set_value("a: 1", 0, ("b",), 2) == "a: 1\nb: 2"


def test_refuses_what_it_cannot_do_cleanly() -> None:
    with pytest.raises(EditError, match="not a sequence"):
        append_to_sequence("a: 1\n", 0, ("a",), "x")
    with pytest.raises(EditError, match="not a mapping"):
        set_value("a: 1\n", 0, ("a", "b"), "x")
    with pytest.raises(EditError, match="not valid YAML"):
        set_value("a: [\n", 0, ("a",), 1)
    with pytest.raises(EditError):  # deleting the anchor would leave *app dangling
        delete_key("a: &app x\nb: *app\n", 0, ("a",))
    with pytest.raises(EditError, match="cannot write"):
        set_value("a: 1\n", 0, ("a",), object())


def test_apply_edits() -> None:
    edits = [
        Edit("ks.yaml", 0, ("spec", "wait"), True),
        Edit("ks.yaml", 0, ("spec", "interval"), delete=True),
    ]
    new = apply_edits(KS, edits)
    assert "  wait: true\n" in new
    assert "interval" not in new
    with pytest.raises(EditError, match="one file"):
        apply_edits(KS, [*edits, Edit("other.yaml", 0, ("a",), 1)])


# --------------------------------------------------------------------------- atomic_write


def test_atomic_write_keeps_mode_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a.yaml"
    target.write_text("a: 1\n")
    target.chmod(0o640)
    atomic_write(target, "a: 2\r\n", tmp_path)
    assert target.read_bytes() == b"a: 2\r\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    atomic_write("b.yaml", "\ufeffb: 1\n", tmp_path)
    assert (tmp_path / "b.yaml").read_bytes() == b"\xef\xbb\xbfb: 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]


def test_atomic_write_refuses_symlinks_out_of_the_repository(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    repo.mkdir()
    outside.mkdir()
    (outside / "victim.yaml").write_text("safe: true\n")
    (repo / "link.yaml").symlink_to(outside / "victim.yaml")
    (repo / "dir").symlink_to(outside, target_is_directory=True)
    for path in ("link.yaml", "dir/new.yaml", "../outside/x.yaml"):
        with pytest.raises(EditError, match="outside the repository"):
            atomic_write(path, "pwned: true\n", repo)
    assert (outside / "victim.yaml").read_text() == "safe: true\n"
    assert sorted(os.listdir(outside)) == ["victim.yaml"]


def test_atomic_write_follows_a_symlink_inside_the_repository(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text("a: 1\n")
    (tmp_path / "link.yaml").symlink_to("real.yaml")
    atomic_write("link.yaml", "a: 2\n", tmp_path)
    assert (tmp_path / "link.yaml").is_symlink()
    assert (tmp_path / "real.yaml").read_text() == "a: 2\n"


def test_atomic_write_failure_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.yaml"
    target.write_text("a: 1\n")

    def broken(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, "a: 2\n", tmp_path)
    assert target.read_text() == "a: 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.yaml"]


ALIAS_KEYS = """\
---
metadata:
  name: &app radarr
spec:
  values:
    controllers:
      *app :
        containers:
          app:
            image: {repository: x, tag: "1"}
            envFrom:
              - secretRef:
                  name: other  # keep
    service:
      app:
        controller: *app
"""


def test_an_alias_key_is_followed_to_its_anchor() -> None:
    # was: internal error IndexError in _insert_key (an alias key is no "name")
    path = ("spec", "values", "controllers", "radarr", "containers", "app", "envFrom")
    new = append_to_sequence(ALIAS_KEYS, 0, path, {"secretRef": {"name": "radarr-secret"}})
    added = "              - secretRef:\n                  name: radarr-secret\n"
    assert new == ALIAS_KEYS.replace("# keep\n", "# keep\n" + added)


def test_a_new_key_beside_an_alias_key_goes_after_it() -> None:
    new = set_value(ALIAS_KEYS, 0, ("spec", "values", "controllers", "sidecar"), {"a": 1})
    assert new.splitlines()[-5:-3] == ["      sidecar:", "        a: 1"]
    assert parse_text(new, "x.yaml")[0][0].data["spec"]["values"]["controllers"]["sidecar"] == {
        "a": 1
    }
