"""The YAML reader: positions, tolerance of real-world YAML, problems instead of exceptions."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import attrs
import pytest

from homelab_kit.yaml import YMap, YSeq, parse_bytes, parse_text, position_of
from homelab_kit.yaml.reader import load_file


def test_positions_are_one_based_for_keys_values_and_items() -> None:
    docs, problems = parse_text("a:\n  b: [x, {c: 1}]\n")
    assert problems == ()
    data = docs[0].data
    assert isinstance(data, YMap)
    assert data.key_position("a") == (1, 1)
    assert position_of(data, ("a", "b")) == (2, 6)
    assert position_of(data, ("a", "b", 1, "c")) == (2, 14)
    # A missing key points at the deepest existing parent.
    assert position_of(data, ("a", "missing", "deeper")) == (2, 3)
    assert isinstance(data["a"]["b"], YSeq)


def test_core_schema_scalars() -> None:
    text = 'a: 1\nb: "1"\nc: true\nd: yes\ne: ~\nf: 1.5\ng: 0x1f\nh: "true"\ni: =\n'
    docs, _ = parse_text(text)
    assert docs[0].data == {
        "a": 1,
        "b": "1",
        "c": True,
        "d": "yes",
        "e": None,
        "f": 1.5,
        "g": 31,
        "h": "true",
        "i": "=",
    }


def test_anchor_redefined_within_a_document_is_accepted() -> None:
    docs, problems = parse_text("a: &x 1\nb: *x\nc: &x 2\nd: *x\n")
    assert problems == ()
    assert docs[0].data == {"a": 1, "b": 1, "c": 2, "d": 2}
    assert [(a.name, a.line, a.uses) for a in docs[0].anchors] == [("x", 1, 1), ("x", 3, 1)]


def test_custom_tags_are_kept_as_data() -> None:
    docs, problems = parse_text("password: !env_var DB_PASSWORD\nlist: !custom [1]\n")
    assert problems == ()
    assert docs[0].data == {"password": "DB_PASSWORD", "list": [1]}


def test_merge_keys() -> None:
    docs, _ = parse_text("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n")
    assert docs[0].data["child"] == {"x": 1, "y": 3}


@pytest.mark.parametrize(
    ("text", "code", "line", "column"),
    [
        ("a: 1\na: 2\n", "duplicate-key", 2, 1),
        ("a: *nope\n", "undefined-alias", 1, 4),
        ("a: &x 1\n---\nb: *x\n", "cross-document-alias", 3, 4),
        ("a: b\n\tc: d\n", "tab", 2, 1),
        ("a: [1, 2\n", "syntax", 2, 1),
    ],
)
def test_problems_have_positions(text: str, code: str, line: int, column: int) -> None:
    _, problems = parse_text(text)
    assert [(p.code, p.line, p.column) for p in problems] == [(code, line, column)]


def test_documents_before_a_syntax_error_are_kept() -> None:
    docs, problems = parse_text("a: 1\n---\nb: 2\n---\nc: [\n")
    assert [d.data for d in docs] == [{"a": 1}, {"b": 2}]
    assert problems[0].code == "syntax"


def test_alias_bomb_is_bounded() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 10)}]")
    docs, problems = parse_text("\n".join(lines) + "\n")
    assert [p.code for p in problems] == ["alias-bomb"]
    assert docs[0].data is None


def test_deep_nesting_is_bounded() -> None:
    text = "[" * 5000 + "]" * 5000 + "\n"
    _docs, problems = parse_text(text)
    assert problems
    assert problems[0].code in ("too-deep", "syntax")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (codecs.BOM_UTF8 + b"a: 1\n", {"a": 1}),
        ("a: é\n".encode("utf-16"), {"a": "é"}),
        (b"a: 1\r\nb: 2\r\n", {"a": 1, "b": 2}),
    ],
)
def test_encodings(data: bytes, expected: dict[str, object]) -> None:
    yfile = parse_bytes(data, "x.yaml")
    assert yfile.problems == ()
    assert yfile.documents[0].data == expected


def test_binary_and_invalid_utf8_are_problems() -> None:
    assert parse_bytes(b"\x00\x01\x02", "x.yaml").problems[0].code == "binary"
    problem = parse_bytes(b"a: \xff\n", "x.yaml").problems[0]
    assert (problem.code, problem.line, problem.column) == ("encoding", 1, 4)


def test_empty_and_comment_only_files() -> None:
    assert parse_bytes(b"", "x.yaml").documents == ()
    yfile = parse_bytes(b"# only a comment\n", "x.yaml")
    assert yfile.problems == ()
    assert all(d.data is None for d in yfile.documents)


def test_suppression_comments() -> None:
    yfile = parse_bytes(
        b"# homelab-kit: ignore-file[yaml-x]\n"
        b"a: 1  # homelab-kit: ignore[flux-ks-prune, flux-ks-wait] kept on purpose\n"
        b"# homelab-kit: ignore\n"
        b"b: 2\n",
        "x.yaml",
    )
    got = [(s.scope, s.check_ids, s.line, s.target_line, s.reason) for s in yfile.suppressions]
    assert got == [
        ("file", ("yaml-x",), 1, 1, ""),
        ("line", ("flux-ks-prune", "flux-ks-wait"), 2, 2, "kept on purpose"),
        ("line", (), 3, 4, ""),
    ]


def test_containers_survive_pickling() -> None:
    import pickle

    docs, _ = parse_text("a:\n  - b: 1\n")
    copy = pickle.loads(pickle.dumps(docs[0].data))
    assert copy == docs[0].data
    assert position_of(copy, ("a", 0, "b")) == (2, 8)


def _positions(node: object) -> object:
    """Everything a tree holds, positions included, as plain comparable data."""
    if isinstance(node, YMap):
        items = [(k, _positions(v)) for k, v in node.items()]
        return ("map", node.line, node.column, items, sorted(node.marks.items(), key=repr))
    if isinstance(node, YSeq):
        return ("seq", node.line, node.column, [_positions(v) for v in node], node.item_marks)
    return node


@pytest.mark.parametrize("how", ["pickle", "dumps_parsed", "cache", "copy", "deepcopy"])
def test_every_copy_and_pickle_keeps_trees_whole(how: str) -> None:
    """Maps and sequences pickle as a call of their class with their positions: every
    way of copying or storing them gives back the same items, positions (a merged key's
    too, a key without marks still without), and nodes an alias shares stay shared."""
    import copy
    import pickle

    from homelab_kit.cache import loads_models
    from homelab_kit.yaml.reader import dumps_parsed

    text = "base: &b {x: 1, y: [2, {z: 3}]}\nchild:\n  <<: *b\n  w: 4\nalias: *b\n"
    data = parse_text(text)[0][0].data
    data["built"] = YMap(7, 9)  # made by code (the renderer), no marks of its own
    data["built"]["k"] = YSeq(8, 1)
    copies = {
        "pickle": lambda tree: pickle.loads(pickle.dumps(tree)),
        "dumps_parsed": lambda tree: pickle.loads(dumps_parsed(tree)),
        "cache": lambda tree: loads_models(dumps_parsed(tree)),
        "copy": copy.copy,
        "deepcopy": copy.deepcopy,
    }
    again = copies[how](data)
    assert type(again) is YMap
    assert _positions(again) == _positions(data)
    assert position_of(again, ("child", "y", 1, "z")) == (1, 28)  # merged from base
    assert again["built"].key_position("k") == (7, 9)  # no marks: the map's own
    assert again["child"].key_position("w") == (4, 3)
    assert again["base"] is again["alias"]  # an alias is one node, before and after
    if how != "copy":
        assert again["base"] is not data["base"]


def test_mapping_keys_are_one_string_per_text() -> None:
    """A key written many times (in one file or in many) is one string object: fewer
    objects kept, pickled and unpickled."""
    first = parse_bytes(b"metadata:\n  name: a\n---\nmetadata: {name: b}\n", "a.yaml")
    second = parse_bytes(b"- metadata:\n    name: c\n", "b.yaml")
    keys = [
        next(iter(first.documents[0].data)),
        next(iter(first.documents[1].data)),
        next(iter(second.documents[0].data[0])),
    ]
    assert keys == ["metadata"] * 3
    assert keys[0] is keys[1] is keys[2]
    names = [
        next(iter(first.documents[0].data["metadata"])),
        next(iter(second.documents[0].data[0]["metadata"])),
    ]
    assert names[0] is names[1]


def test_explicit_key_overriding_a_merge_is_not_a_duplicate() -> None:
    docs, problems = parse_text("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n  y: 4\n")
    assert docs[0].data["child"] == {"x": 1, "y": 4}
    assert [(p.code, p.line) for p in problems] == [("duplicate-key", 5)]


def test_leading_zero_integers_are_octal_as_kubernetes_reads_them() -> None:
    docs, _ = parse_text("mode: 0400\nnot_octal: 0900\nplain: 10\nquoted: '0400'\n")
    assert docs[0].data == {"mode": 256, "not_octal": 900, "plain": 10, "quoted": "0400"}


@pytest.mark.parametrize(
    ("size", "max_size", "expected"),
    [
        (20, 100, 20),  # as fstat said
        (3, 100, 20),  # grew since its fstat: the rest is read too
        (3, 10, 11),  # grew past the limit: one byte more than the limit, no more
        (20, 10, 11),
        (0, 100, 20),
    ],
)
def test_a_file_is_read_whole_up_to_one_byte_past_the_limit(
    tmp_path: Path, size: int, max_size: int, expected: int
) -> None:
    from homelab_kit.yaml.reader import _read_fd

    path = tmp_path / "grown.yaml"
    path.write_bytes(b"a: 1\n" * 4)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert _read_fd(fd, size, max_size) == (b"a: 1\n" * 4)[:expected]
    finally:
        os.close(fd)


def test_a_directory_named_like_yaml_is_a_problem_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "folder.yaml").mkdir()
    yfile = load_file(str(tmp_path / "folder.yaml"), "folder.yaml")
    assert [(p.code, p.message) for p in yfile.problems] == [
        ("unreadable", "is a directory; skipped")
    ]


def _doubled(value: int) -> int:
    return value * 2


@attrs.frozen
class _Converted:
    value: int = attrs.field(converter=_doubled)


@attrs.frozen
class _PostInit:
    value: int
    seen: list[int] = attrs.field(factory=list, eq=False)

    def __attrs_post_init__(self) -> None:
        self.seen.append(self.value)


def test_pickled_models_come_back_whole() -> None:
    """attrs classes are pickled as a call of the class when that rebuilds them exactly:
    fields left out of equality (positions) come back too; a class whose creation
    converts or runs code is pickled as before."""
    import pickle

    from homelab_kit.cache import loads_models
    from homelab_kit.location import Location
    from homelab_kit.yaml.reader import dumps_parsed

    where = Location("a.yaml", 3, 4, end_line=5, end_column=6)
    parsed = parse_bytes(b"a: &x 1\nb: *x\n", "a.yaml")
    again = loads_models(dumps_parsed((where, parsed)))
    assert again == (where, parsed)
    assert (again[0].end_line, again[0].end_column) == (5, 6)
    assert again[1].documents[0].data.marks == parsed.documents[0].data.marks
    assert pickle.loads(dumps_parsed(_Converted(2))).value == 4  # not converted twice
    assert pickle.loads(dumps_parsed(_PostInit(1))).seen == [1]


def test_ruamel_event_objects_compose_as_the_event_tuples(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the tuple factories (no libyaml, or a ruamel.yaml.clib that names its
    events otherwise), ruamel's event objects are converted: the same documents,
    positions, anchors and problems."""
    from homelab_kit.yaml import reader

    text = (
        "a: &x {b: [1, '2', !!int 3, ~, .inf, 0x1f, 0755]}\n"
        "c: *x\n"
        "d: !custom text\n"
        "a: again\n"
        "<<: {m: merged}\n"
        "--- |\n  literal\n"
        "---\n- *x\n- *nowhere\n"
        "...\n"
        "---\nbad: [\n"
    )
    expected = reader._parse(text, 256, 1000)
    monkeypatch.setattr(reader, "_LIBYAML", None)
    converted = reader._parse(text, 256, 1000)
    assert converted == expected
    codes = ["duplicate-key", "cross-document-alias", "undefined-alias", "syntax"]
    assert [p.code for p in expected[1]] == codes
    assert [d.data.marks for d in expected[0][:1]] == [d.data.marks for d in converted[0][:1]]


def test_parses_in_threads_at_once_read_the_same() -> None:
    """Concurrent parses share libyaml's event factories: each reads what it reads alone."""
    import concurrent.futures

    import _ruamel_yaml
    from ruamel.yaml import events

    texts = [f"a{i}: &x [{i}, b]\nc: *x\n" * 50 for i in range(40)]
    alone = [parse_text(t) for t in texts]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        together = list(pool.map(parse_text, texts * 5))
    assert together == alone * 5
    assert _ruamel_yaml.ScalarEvent is events.ScalarEvent  # put back after the last
