"""Minimal-diff YAML editing: change what was asked and keep every other byte.

Edits to existing files go through round-trip YAML: comments, order, quoting and
indentation are kept, and every line outside the insertion is byte-identical.

How: the file is parsed into events that carry character offsets; an edit is a
splice of one contiguous span of the text (usually whole lines inserted or
removed), written in the style the file already uses (its indentation, its
sequence indentation, its quotes, its line breaks).  Every splice is then
*verified*: the edited text is parsed again and must produce exactly the events of
the original outside the edited node, and the edited node must read back as the
value asked for.  An edit that cannot be made this way raises :class:`EditError`
and changes nothing; nothing is ever silently reformatted.

The API, used by the scaffolder and by ``homelab-kit lint --fix``::

    text = append_to_sequence(text, 0, ("resources",), "./myapp/ks.yaml")
    text = set_value(text, 0, ("spec", "wait"), True)
    text = delete_key(text, 0, ("spec", "timeout"))
    text = apply_edits(text, diagnostic.fix.edits)
    atomic_write("kubernetes/apps/kustomization.yaml", text, root=repo.root)

``document_index`` counts the documents of the file from 0, as
:class:`homelab_kit.yaml.YamlDocument` does.  A byte-order mark and CRLF line
breaks are kept.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
from ruamel.yaml import events as ev
from ruamel.yaml.error import YAMLError

from homelab_kit.diagnostic import Edit
from homelab_kit.errors import HomelabKitError
from homelab_kit.fsutil import atomic_write_bytes, inside
from homelab_kit.yaml.reader import resolve_plain, scalar_value

try:  # libyaml through ruamel.yaml.clib: fast, and what the reader uses
    from _ruamel_yaml import CParser as _CParser
except ImportError:  # pragma: no cover - depends on the platform
    _CParser = None

__all__ = [
    "EditError",
    "KeyPath",
    "append_to_sequence",
    "apply_edits",
    "atomic_write",
    "delete_key",
    "scalar_text",
    "set_value",
]

KeyPath = Sequence[str | int]

_BOM = "\ufeff"
_MAX_DEPTH = 200
_MAX_NODES = 1_000_000


class EditError(HomelabKitError):
    """An edit that cannot be made without reformatting or breaking the file.

    Nothing was changed; the message says what and where.
    """


# --------------------------------------------------------------------------- scalars

_YAML11_SPECIAL = re.compile(
    r"""(?x)
    (?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|true|True|TRUE|false|False|FALSE
      |null|Null|NULL|~|=|<<)\Z
    | [-+]?(?:0|[1-9][0-9_]*)(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z
    | [-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?\Z
    | [-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?\Z
    | [-+]?0b[01_]+\Z | [-+]?0x[0-9a-fA-F_]+\Z | [-+]?0o?[0-7_]+\Z
    | [-+]?\.(?:inf|Inf|INF)\Z | \.(?:nan|NaN|NAN)\Z
    | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?\Z
    """
)
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_INDICATORS = frozenset(",[]{}")
_BREAKS = frozenset("\x85\u2028\u2029")


def _plain_ok(text: str, flow: bool) -> bool:
    if not text or text != text.strip() or text[0] in _INDICATORS:
        return False
    if not text.isprintable() or _BOM in text or any(c in _BREAKS for c in text):
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    if flow and any(c in _FLOW_INDICATORS or c in ":?" for c in text):
        return False  # libyaml (YAML 1.1) ends a flow plain scalar at ':' and '?'
    if _YAML11_SPECIAL.match(text):
        return False
    return isinstance(resolve_plain(text), str)


def _double_quoted(text: str) -> str:
    out = ['"']
    for c in text:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif not c.isprintable() or c in _BREAKS or c == _BOM:
            code = ord(c)
            if code < 0x100:
                out.append(f"\\x{code:02x}")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def scalar_text(value: Any, *, flow: bool = False, quote: str | None = None) -> str:
    """``value`` written as a YAML scalar that every Kubernetes tool reads back as it is.

    Strings stay plain when that is unambiguous under both YAML 1.1 and 1.2
    (``yes``, ``1.0``, ``0777`` or ``2024-01-01`` are quoted), else they are
    double-quoted.  ``quote`` (``'"'`` or ``"'"``) asks for that quoting when the
    string allows it; ``flow`` is for scalars inside ``[...]``/``{...}``.

    :raises EditError: for a type YAML scalars cannot hold (dates, objects).
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, str):
        if (
            quote == "'"
            and value.isprintable()
            and _BOM not in value
            and not any(c in _BREAKS for c in value)
        ):
            return "'" + value.replace("'", "''") + "'"
        if quote == '"':
            return _double_quoted(value)
        if _plain_ok(value, flow):
            return value
        return _double_quoted(value)
    raise EditError(f"cannot write a {type(value).__name__} value to YAML")


def _normalize(value: Any, depth: int = 0) -> Any:
    """Plain data: tuples to lists, mappings to dicts; anything else is refused."""
    if depth > _MAX_DEPTH:
        raise EditError("value nested too deeply")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if not (isinstance(k, str | int) and not isinstance(k, bool)):
                raise EditError(f"cannot write mapping key {k!r}: keys are strings or integers")
            out[k] = _normalize(v, depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [_normalize(v, depth + 1) for v in value]
    raise EditError(f"cannot write a {type(value).__name__} value to YAML")


def _same(a: Any, b: Any) -> bool:
    """Equality that tells ``1`` from ``True`` from ``1.0`` from ``"1"``."""
    if isinstance(a, Mapping):
        return (
            isinstance(b, Mapping)
            and len(a) == len(b)
            and all(k in b and _same(v, b[k]) for k, v in a.items())
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


# --------------------------------------------------------------------------- parsing


@attrs.define(eq=False)
class _Node:
    """A parsed node with character offsets and the range of its events."""

    kind: str  # "map", "seq", "scalar" or "alias"
    start: int
    end: int
    line: int
    column: int
    first: int
    last: int
    flow: bool = False
    anchor: str | None = None
    style: str | None = None
    event: Any = None
    keys: list[_Node] = attrs.field(factory=list)
    items: list[_Node] = attrs.field(factory=list)
    target: _Node | None = None

    @property
    def is_block(self) -> bool:
        return self.kind in ("map", "seq") and not self.flow

    @property
    def is_block_scalar(self) -> bool:
        return self.kind == "scalar" and self.style in ("|", ">")

    @property
    def is_empty_null(self) -> bool:
        return self.kind == "scalar" and self.start == self.end and not self.style


@attrs.define(eq=False)
class _Doc:
    events: list[Any]
    root: _Node | None
    sigs: list[tuple[Any, ...]]


def _parser(text: str) -> Any:
    if _CParser is not None:
        return _CParser(text)
    from ruamel.yaml.parser import Parser  # pragma: no cover
    from ruamel.yaml.reader import Reader  # pragma: no cover
    from ruamel.yaml.scanner import Scanner  # pragma: no cover

    loader: Any = type("_Loader", (), {})()  # pragma: no cover
    loader.reader = Reader(text, loader)  # pragma: no cover
    loader.scanner = Scanner(loader)  # pragma: no cover
    loader.parser = Parser(loader)  # pragma: no cover
    loader.comment_handling = None  # pragma: no cover
    return loader.parser  # pragma: no cover


def _sig(event: Any) -> tuple[Any, ...]:
    """What an event means, without where it is."""
    name = type(event).__name__
    if isinstance(event, ev.ScalarEvent):
        return (name, event.anchor, event.tag, tuple(event.implicit), event.value, event.style)
    if isinstance(event, ev.CollectionStartEvent):
        return (name, event.anchor, event.tag, event.implicit, bool(event.flow_style))
    if isinstance(event, ev.AliasEvent):
        return (name, event.anchor)
    if isinstance(event, ev.DocumentStartEvent):
        return (name, bool(event.explicit), event.version, event.tags)
    if isinstance(event, ev.DocumentEndEvent):
        return (name, bool(event.explicit))
    return (name,)


def _parse(body: str) -> list[_Doc]:
    try:
        parser = _parser(body)
        events: list[Any] = []
        while True:
            event = parser.get_event()
            events.append(event)
            if isinstance(event, ev.StreamEndEvent):
                break
    except (YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise EditError(f"cannot edit: not valid YAML{where}: {problem}") from None
    docs: list[_Doc] = []
    i = 1
    while not isinstance(events[i], ev.StreamEndEvent):
        j = i
        while not isinstance(events[j], ev.DocumentEndEvent):
            j += 1
        doc_events = events[i : j + 1]
        root = None
        if len(doc_events) > 2:
            root, _ = _Builder(doc_events).build(1, 0)
        docs.append(_Doc(doc_events, root, [_sig(e) for e in doc_events]))
        i = j + 1
    return docs


class _Builder:
    def __init__(self, events: list[Any]) -> None:
        self.events = events
        self.anchors: dict[str, _Node] = {}

    def build(self, p: int, depth: int) -> tuple[_Node, int]:
        if depth > _MAX_DEPTH:
            raise EditError("cannot edit: YAML nested too deeply")
        e = self.events[p]
        start, end = e.start_mark, e.end_mark
        if isinstance(e, ev.ScalarEvent):
            node = _Node(
                "scalar",
                start.index,
                end.index,
                start.line,
                start.column,
                p,
                p + 1,
                anchor=e.anchor,
                style=e.style or None,
                event=e,
            )
            self._anchor(node)
            return node, p + 1
        if isinstance(e, ev.AliasEvent):
            node = _Node("alias", start.index, end.index, start.line, start.column, p, p + 1)
            node.target = self.anchors.get(e.anchor)
            return node, p + 1
        is_map = isinstance(e, ev.MappingStartEvent)
        node = _Node(
            "map" if is_map else "seq",
            start.index,
            start.index,
            start.line,
            start.column,
            p,
            p,
            flow=bool(e.flow_style),
            anchor=e.anchor,
            event=e,
        )
        self._anchor(node)
        q = p + 1
        while not isinstance(self.events[q], ev.CollectionEndEvent):
            if is_map:
                key, q = self.build(q, depth + 1)
                node.keys.append(key)
            item, q = self.build(q, depth + 1)
            node.items.append(item)
        close = self.events[q]
        node.last = q + 1
        if node.flow:
            node.end = close.end_mark.index
        elif node.items:
            node.end = node.items[-1].end
        return node, q + 1

    def _anchor(self, node: _Node) -> None:
        if node.anchor is not None:
            self.anchors[node.anchor] = node


def _data(node: _Node, budget: list[int]) -> Any:
    """The value a node means (aliases followed; merge keys kept as written)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise EditError("cannot edit: the document expands to too many nodes")
    if node.kind == "alias":
        return _data(node.target, budget) if node.target is not None else None
    if node.kind == "scalar":
        return scalar_value(node.event)
    if node.kind == "seq":
        return [_data(item, budget) for item in node.items]
    out: dict[Any, Any] = {}
    for key, item in zip(node.keys, node.items, strict=True):
        k = _data(key, budget)
        with contextlib.suppress(TypeError):
            out[k] = _data(item, budget)
    return out


def _key_matches(key: _Node, part: str | int) -> bool:
    if key.kind == "alias" and key.target is not None:  # `*app :` means the anchored scalar
        key = key.target
    if key.kind != "scalar":
        return False
    value = scalar_value(key.event)
    return type(value) is type(part) and value == part


@attrs.define(eq=False)
class _Slot:
    """Where a node sits: its parent container (``None`` for the root) and index."""

    parent: _Node | None
    index: int
    node: _Node


def _find(root: _Node, path: Sequence[str | int]) -> tuple[list[_Slot], int]:
    """The slots along ``path`` as far as it exists, and how many parts were found."""
    chain = [_Slot(None, -1, root)]
    node = root
    for n, part in enumerate(path):
        if node.kind == "alias" and node.target is not None:
            raise EditError(f"cannot edit through the alias at {_show(path[:n])}")
        if node.kind == "map":
            found = [i for i, k in enumerate(node.keys) if _key_matches(k, part)]
            if not found:
                return chain, n
            index = found[-1]
        elif node.kind == "seq" and isinstance(part, int) and not isinstance(part, bool):
            if not -len(node.items) <= part < len(node.items):
                return chain, n
            index = part % len(node.items)
        else:
            return chain, n
        child = node.items[index]
        chain.append(_Slot(node, index, child))
        node = child
    return chain, len(path)


def _show(path: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in path) or "the document"


# --------------------------------------------------------------------------- text helpers


def _line_start(text: str, i: int) -> int:
    return text.rfind("\n", 0, i) + 1


def _line_end(text: str, i: int) -> int:
    """End of the content of the line where a node ending at ``i`` ends (before its break)."""
    if i > 0 and text[i - 1] == "\n":  # block scalars end after their line break
        j = i - 1
        return j - 1 if j > 0 and text[j - 1] == "\r" else j
    j = text.find("\n", i)
    if j < 0:
        return len(text)
    return j - 1 if j - 1 >= i and text[j - 1] == "\r" else j


def _after_line(text: str, i: int) -> int:
    """Just after the line break of the line where a node ending at ``i`` ends."""
    if i > 0 and text[i - 1] == "\n":
        return i
    j = text.find("\n", i)
    return len(text) if j < 0 else j + 1


def _dash_index(text: str, item: _Node) -> int:
    """Where the ``-`` of a block sequence item is.

    Usually on the item's line (``- item``); an item may also start below its dash
    when the dash line holds only a comment (``- # why`` then the item).
    """
    ls = _line_start(text, item.start)
    segment = text[ls : item.start].rstrip(" ")
    if segment.endswith("-"):
        return ls + len(segment) - 1
    if not segment.strip():
        while ls > 0:
            prev = _line_start(text, ls - 1)
            line = text[prev:ls].rstrip("\r\n")
            stripped = line.lstrip(" ")
            if (
                stripped.startswith("-")
                and (len(stripped) == 1 or stripped[1:].strip().startswith("#"))
                and (len(stripped) == 1 or stripped[1] in " \t")
            ):
                return prev + len(line) - len(stripped)
            if stripped and not stripped.startswith("#"):
                break
            ls = prev
    raise EditError("cannot edit: a sequence item is not written as '- item'")


def _same_line(text: str, a: int, b: int) -> bool:
    return text.find("\n", a, b) < 0


def _first_on_line(text: str, i: int) -> bool:
    return not text[_line_start(text, i) : i].strip(" ")


def _colon_after(text: str, key: _Node) -> int:
    i = key.end
    while i < len(text) and text[i] in " \t":
        i += 1
    if i >= len(text) or text[i] != ":":
        raise EditError("cannot edit: a mapping key is not followed by ':'")
    return i


def _comment_from(text: str, i: int) -> str:
    """The trailing comment (with its leading spaces) from ``i`` to the end of the line."""
    rest = text[i : _line_end(text, i)]
    return rest if rest.strip(" \t").startswith("#") else ""


@attrs.frozen
class _Style:
    nl: str = "\n"
    map_indent: int = 2
    seq_indent: int = 2
    item_offset: int = 2


def _detect_style(body: str, docs: list[_Doc]) -> _Style:
    """The indentation the file already uses (most common), else two spaces."""
    maps: Counter[int] = Counter()
    seqs: Counter[int] = Counter()
    offsets: Counter[int] = Counter()
    stack = [d.root for d in docs if d.root is not None]
    while stack:
        node = stack.pop()
        if node.kind == "map" and not node.flow:
            for key, value in zip(node.keys, node.items, strict=True):
                if value.kind == "map" and not value.flow and value.keys:
                    if value.keys[0].line > key.line:
                        maps[value.keys[0].column - key.column] += 1
                elif value.kind == "seq" and not value.flow and value.items:
                    with contextlib.suppress(EditError):
                        dash = _dash_index(body, value.items[0])
                        seqs[dash - _line_start(body, dash) - key.column] += 1
        if node.kind == "seq" and not node.flow:
            for item in node.items:
                with contextlib.suppress(EditError):
                    dash = _dash_index(body, item)
                    if item.start > dash + 1 and _same_line(body, dash, item.start):
                        offsets[item.start - dash] += 1
        stack.extend(node.keys)
        stack.extend(node.items)
    nl = "\r\n" if "\r\n" in body else "\n"
    map_indent = max((n for n in maps if n > 0), key=lambda n: (maps[n], -n), default=2)
    seq_indent = max((n for n in seqs if n >= 0), key=lambda n: (seqs[n], -n), default=2)
    item_offset = max((n for n in offsets if n >= 2), key=lambda n: (offsets[n], -n), default=2)
    return _Style(nl, map_indent, seq_indent, item_offset)


# --------------------------------------------------------------------------- rendering


def _is_inline(value: Any) -> bool:
    return not (isinstance(value, dict | list) and value)


def _flow_text(value: Any) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{scalar_text(k, flow=True)}: {_flow_text(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow_text(v) for v in value) + "]"
    return scalar_text(value, flow=True)


def _inline_text(value: Any, quote: str | None = None) -> str:
    if isinstance(value, dict | list):
        return _flow_text(value)
    return scalar_text(value, quote=quote)


def _map_lines(value: dict[Any, Any], col: int, style: _Style) -> list[str]:
    lines: list[str] = []
    for k, v in value.items():
        head = " " * col + scalar_text(k) + ":"
        if _is_inline(v):
            lines.append(f"{head} {_inline_text(v)}")
        elif isinstance(v, dict):
            lines.append(head)
            lines += _map_lines(v, col + style.map_indent, style)
        else:
            lines.append(head)
            lines += _seq_lines(v, col + style.seq_indent, style)
    return lines


def _seq_lines(
    value: list[Any], col: int, style: _Style, offset: int | None = None, quote: str | None = None
) -> list[str]:
    offset = offset or style.item_offset
    prefix = " " * col + "-" + " " * (offset - 1)
    inner = col + offset
    lines: list[str] = []
    for item in value:
        if _is_inline(item):
            lines.append(prefix + _inline_text(item, quote))
            continue
        sub = (
            _map_lines(item, inner, style)
            if isinstance(item, dict)
            else _seq_lines(item, inner, style)
        )
        lines.append(prefix + sub[0][inner:])
        lines += sub[1:]
    return lines


def _block_lines(value: Any, col: int, style: _Style) -> list[str]:
    if isinstance(value, dict):
        return _map_lines(value, col, style)
    return _seq_lines(value, col, style)


def _common_quote(nodes: Sequence[_Node]) -> str | None:
    styles = {n.style for n in nodes if n.kind == "scalar"}
    if len(styles) == 1 and all(n.kind == "scalar" for n in nodes):
        style = styles.pop()
        return style if style in ("'", '"') else None
    return None


def _insert_lines(text: str, pos: int, lines: list[str], nl: str) -> str:
    block = nl.join(lines)
    if pos >= len(text) and text and not text.endswith("\n"):
        return text + nl + block
    return text[:pos] + block + nl + text[pos:]


# --------------------------------------------------------------------------- verification


@attrs.frozen
class _Splice:
    """One edit: replace ``text[start:end]`` and, in events, ``events[first:last]``."""

    start: int
    end: int
    replacement: str
    first: int
    last: int
    expected: list[Any]


def _compose(events: list[Any]) -> list[Any]:
    """Values of a run of events (the edited region); aliases are not expected there."""
    out: list[Any] = []
    stack: list[tuple[Any, list[Any]]] = []

    def add(value: Any) -> None:
        if stack:
            stack[-1][1].append(value)
        else:
            out.append(value)

    for e in events:
        if isinstance(e, ev.ScalarEvent):
            add(scalar_value(e))
        elif isinstance(e, ev.CollectionStartEvent):
            stack.append((e, []))
        elif isinstance(e, ev.CollectionEndEvent):
            start, items = stack.pop()
            if isinstance(start, ev.MappingStartEvent):
                try:
                    add(dict(zip(items[::2], items[1::2], strict=True)))
                except TypeError:
                    add(None)
            else:
                add(items)
        else:
            raise EditError("cannot edit: unexpected YAML in the edited region")
    if stack:
        raise EditError("cannot edit: unbalanced YAML in the edited region")
    return out


def _dangling(doc: _Doc) -> int:
    """How many aliases of the document name no anchor defined before them."""
    defined: set[str] = set()
    count = 0
    for e in doc.events:
        if isinstance(e, ev.AliasEvent):
            count += e.anchor not in defined
        elif getattr(e, "anchor", None):
            defined.add(e.anchor)
    return count


def _apply(body: str, docs: list[_Doc], index: int, splice: _Splice, what: str) -> str:
    new = body[: splice.start] + splice.replacement + body[splice.end :]
    try:
        new_docs = _parse(new)
    except EditError:
        new_docs = []
    ok = len(new_docs) == len(docs) and _dangling(new_docs[index]) <= _dangling(docs[index])
    ok = ok and all(
        a.sigs == b.sigs for n, (a, b) in enumerate(zip(docs, new_docs, strict=True)) if n != index
    )
    if ok:
        old, fresh = docs[index].sigs, new_docs[index].sigs
        tail = len(old) - splice.last
        middle_end = len(fresh) - tail
        ok = (
            middle_end >= splice.first
            and fresh[: splice.first] == old[: splice.first]
            and fresh[middle_end:] == old[splice.last :]
        )
        if ok:
            try:
                got = _compose(new_docs[index].events[splice.first : middle_end])
            except EditError:
                ok = False
            else:
                ok = _same(got, splice.expected)
    if not ok:
        raise EditError(f"cannot {what} without reformatting the file; edit it by hand")
    return new


# --------------------------------------------------------------------------- operations


def _document(docs: list[_Doc], index: int) -> _Doc:
    if not isinstance(index, int) or not 0 <= index < len(docs):
        raise EditError(f"the file has no document {index} (it has {len(docs)})")
    return docs[index]


def _root(doc: _Doc, index: int) -> _Node:
    if doc.root is None:
        raise EditError(f"document {index} is empty")
    return doc.root


def _replace(body: str, docs: list[_Doc], slot: _Slot, value: Any, what: str, index: int) -> str:
    """Replace the node in ``slot`` with ``value``."""
    style = _detect_style(body, docs)
    nl = style.nl
    x, parent = slot.node, slot.parent
    anchor = f"&{x.anchor}" if x.anchor else ""
    flow = (parent is not None and parent.flow) or (x.flow and bool(x.items))
    quote = x.style if x.kind == "scalar" and x.style in ("'", '"') else None
    if flow or _is_inline(value):
        text = _flow_text(value) if flow else _inline_text(value, quote)
        text = f"{anchor} {text}" if anchor else text
        if x.is_block:
            if parent is not None and parent.kind == "map":
                start = _colon_after(body, parent.keys[slot.index]) + 1
                text = " " + text
            else:
                start = x.start
            splice = _Splice(start, _line_end(body, x.end), text, x.first, x.last, [value])
        elif x.is_block_scalar:
            tail = nl if x.end > 0 and body[x.end - 1] == "\n" else ""
            splice = _Splice(x.start, x.end, text + tail, x.first, x.last, [value])
        elif x.is_empty_null and x.start > 0 and body[x.start - 1] in ":-":
            splice = _Splice(x.start, x.end, " " + text, x.first, x.last, [value])
        else:
            splice = _Splice(x.start, x.end, text, x.first, x.last, [value])
        return _apply(body, docs, index, splice, what)
    # A non-empty collection written as a block.
    if parent is not None and parent.kind == "map":
        key = parent.keys[slot.index]
        colon = _colon_after(body, key)
        single_line = not x.is_block and not x.is_block_scalar
        on_key_line = single_line and body.find("\n", colon, x.start) < 0 and not x.is_empty_null
        comment = _comment_from(body, x.end) if on_key_line else _comment_from(body, colon + 1)
        col = key.column + (style.map_indent if isinstance(value, dict) else style.seq_indent)
        lines = _block_lines(value, col, style)
        head = f" {anchor}" if anchor else ""
        text = head + comment + nl + nl.join(lines)
        end = _line_end(body, x.end)
        splice = _Splice(colon + 1, end, text, x.first, x.last, [value])
        return _apply(body, docs, index, splice, what)
    if parent is not None:  # an item of a block sequence
        dash = _dash_index(body, x)
        col = dash - _line_start(body, dash)
        item_col = col + style.item_offset if x.is_empty_null else x.column
        lines = _block_lines(value, item_col, style)
        if anchor:
            text = anchor + nl + nl.join(lines)
        else:
            text = lines[0][item_col:] + "".join(nl + line for line in lines[1:])
        start = x.start
        if x.start == dash + 1:
            text = " " + text
        splice = _Splice(start, _line_end(body, x.end), text, x.first, x.last, [value])
        return _apply(body, docs, index, splice, what)
    # The document root.
    lines = _block_lines(value, 0, style)
    text = nl.join(lines)
    if anchor:
        text = anchor + nl + text
    start = x.start
    if x.is_empty_null:
        before = body[_line_start(body, start) : start]
        lead = nl if before.strip() else ""
        after = body[start : start + 1]
        trail = "" if after in ("", "\n", "\r") else nl
        splice = _Splice(start, x.end, lead + text + trail, x.first, x.last, [value])
    else:
        splice = _Splice(start, _line_end(body, x.end), text, x.first, x.last, [value])
    return _apply(body, docs, index, splice, what)


def _insert_key(
    body: str, docs: list[_Doc], mapping: _Node, key: str, value: Any, what: str, index: int
) -> str:
    """Add ``key: value`` to a mapping that lacks the key."""
    style = _detect_style(body, docs)
    nl = style.nl
    before = len(mapping.keys)  # insert before this entry
    raw = [scalar_value(k.event) if k.kind == "scalar" else None for k in mapping.keys]
    names = [n for n in raw if isinstance(n, str)]
    if (
        not mapping.flow
        and mapping is not docs[index].root
        and len(names) == len(raw) >= 2
        and names == sorted(names)
    ):
        before = next((i for i, n in enumerate(names) if n > key), len(names))
        if before == 0 and not _first_on_line(body, mapping.keys[0].start):
            before = len(mapping.keys)
    if mapping.flow:
        entry = f"{scalar_text(key, flow=True)}: {_flow_text(value)}"
        if mapping.items:
            last = mapping.items[-1]
            splice = _Splice(
                last.end, last.end, ", " + entry, mapping.last - 1, mapping.last - 1, [key, value]
            )
        else:
            close = mapping.end - 1
            splice = _Splice(close, close, entry, mapping.last - 1, mapping.last - 1, [key, value])
        return _apply(body, docs, index, splice, what)
    col = mapping.keys[0].column
    lines = _map_lines({key: value}, col, style)
    if before == len(mapping.keys):
        pos = _after_line(body, mapping.end)
        first = mapping.last - 1
    elif before == 0:
        pos = _line_start(body, mapping.keys[0].start)
        pos = _skip_back_comments(body, pos, col)
        first = mapping.keys[0].first
    else:
        pos = _after_line(body, mapping.items[before - 1].end)
        first = mapping.keys[before].first
    new = _insert_lines(body, pos, lines, nl)
    splice = _Splice(0, len(body), new, first, first, [key, value])
    return _apply(body, docs, index, splice, what)


def _skip_back_comments(body: str, pos: int, col: int) -> int:
    """Move ``pos`` (a line start) above the comment lines written just above it at ``col``."""
    while pos > 0:
        prev = _line_start(body, pos - 1)
        line = body[prev:pos].rstrip("\r\n")
        if line.startswith(" " * col + "#"):
            pos = prev
        else:
            break
    return pos


def _insert_item(
    body: str,
    docs: list[_Doc],
    seq: _Node,
    item: Any,
    position: int,
    what: str,
    index: int,
) -> str:
    """Insert ``item`` into a non-empty sequence before ``position`` (``len`` = append)."""
    style = _detect_style(body, docs)
    nl = style.nl
    items = seq.items
    if seq.flow:
        entry = _flow_text(item)
        if position < len(items):
            at = items[position].start
            splice = _Splice(
                at, at, entry + ", ", items[position].first, items[position].first, [item]
            )
        else:
            last = items[-1]
            splice = _Splice(last.end, last.end, ", " + entry, seq.last - 1, seq.last - 1, [item])
        return _apply(body, docs, index, splice, what)
    first_dash = _dash_index(body, items[0])
    col = first_dash - _line_start(body, first_dash)
    same = items[0].start > first_dash + 1 and _same_line(body, first_dash, items[0].start)
    offset = items[0].start - first_dash if same else None
    quote = _common_quote(items) if isinstance(item, str) else None
    lines = _seq_lines([item], col, style, offset, quote)
    if position >= len(items):
        pos = _after_line(body, items[-1].end)
        first = seq.last - 1
    elif position == 0:
        if not _first_on_line(body, first_dash):
            raise EditError(f"cannot {what}: the sequence starts on the line of its parent")
        pos = _skip_back_comments(body, _line_start(body, first_dash), col)
        first = items[0].first
    else:
        pos = _after_line(body, items[position - 1].end)
        first = items[position].first
    new = _insert_lines(body, pos, lines, nl)
    splice = _Splice(0, len(body), new, first, first, [item])
    return _apply(body, docs, index, splice, what)


def _delete(body: str, docs: list[_Doc], chain: list[_Slot], what: str, index: int) -> str:
    slot = chain[-1]
    container = slot.parent
    if container is None:
        raise EditError(f"cannot {what}: the whole document cannot be deleted")
    n = slot.index
    count = len(container.items)
    if count == 1:
        empty: Any = {} if container.kind == "map" else []
        return _replace(body, docs, chain[-2], empty, what, index)
    item = container.items[n]
    head = container.keys[n] if container.kind == "map" else item
    first, last = head.first, item.last
    if container.flow:
        if n < count - 1:
            nxt = container.keys[n + 1] if container.kind == "map" else container.items[n + 1]
            start, end = head.start, nxt.start
        else:
            start, end = container.items[n - 1].end, item.end
        return _apply(body, docs, index, _Splice(start, end, "", first, last, []), what)
    if container.kind == "seq":
        dash = _dash_index(body, item)
        if _first_on_line(body, dash):
            start, end = _line_start(body, dash), _after_line(body, item.end)
        elif n == 0:
            start, end = dash, _dash_index(body, container.items[1])
        else:
            raise EditError(f"cannot {what}: unusual sequence layout")
    elif _first_on_line(body, head.start):
        start, end = _line_start(body, head.start), _after_line(body, item.end)
    elif n == 0:
        start, end = head.start, container.keys[1].start
    else:
        raise EditError(f"cannot {what}: unusual mapping layout")
    return _apply(body, docs, index, _Splice(start, end, "", first, last, []), what)


# --------------------------------------------------------------------------- public API


@contextlib.contextmanager
def _unplaceable(what: str) -> Iterator[None]:
    """A layout the splicer has no rule for is an :class:`EditError`, never a crash.

    Nothing has been written when this fires (edits return new text), so the
    caller reports one line and leaves the file as it was.
    """
    try:
        yield
    except (IndexError, KeyError, TypeError, AttributeError) as exc:
        raise EditError(
            f"cannot {what}: the file's layout here is one this editor cannot place an "
            f"edit in ({type(exc).__name__})"
        ) from None


def _split_bom(text: str) -> tuple[str, str]:
    if text.startswith(_BOM):
        return _BOM, text[1:]
    return "", text


def _checked(text: str) -> tuple[str, str]:
    if not isinstance(text, str):
        raise EditError("edit YAML text (str), not bytes")
    bom, body = _split_bom(text)
    if re.search(r"\r(?!\n)", body) or any(c in _BREAKS for c in body):
        raise EditError("cannot edit: the file uses line breaks other than LF or CRLF")
    return bom, body


def _path(key_path: KeyPath) -> tuple[str | int, ...]:
    if isinstance(key_path, str):
        return (key_path,)
    path = tuple(key_path)
    for part in path:
        if isinstance(part, bool) or not isinstance(part, str | int):
            raise EditError(f"key path parts are strings or integers, not {part!r}")
    return path


def _set(body: str, index: int, path: tuple[str | int, ...], value: Any) -> str:
    docs = _parse(body)
    doc = _document(docs, index)
    root = _root(doc, index)
    what = f"set {_show(path)}"
    chain, found = _find(root, path)
    node = chain[-1].node
    if found == len(path):
        old = _data(node, [_MAX_NODES])
        if _same(old, value):
            return body
        if isinstance(value, dict) and value and node.kind == "map":
            for k, v in value.items():
                body = _set(body, index, (*path, k), v)
            removed = [k for k in old if k not in value and k != "<<"]
            for k in removed:
                body = _delete_path(body, index, (*path, k))
            return body
        if isinstance(value, list) and value and node.kind == "seq":
            common = min(len(old), len(value))
            for i in range(common):
                body = _set(body, index, (*path, i), value[i])
            for item in value[common:]:
                body = _append(body, index, path, item, None, False)
            for i in reversed(range(len(value), len(old))):
                body = _delete_path(body, index, (*path, i))
            return body
        return _replace(body, docs, chain[-1], value, what, index)
    rest = path[found:]
    if not isinstance(rest[0], str):
        raise EditError(f"cannot {what}: {_show(path[: found + 1])} does not exist")
    nested = value
    for part in reversed(rest[1:]):
        if not isinstance(part, str):
            raise EditError(f"cannot {what}: {_show(path[:found])} has no item {part}")
        nested = {part: nested}
    if node.kind == "map":
        return _insert_key(body, docs, node, rest[0], nested, what, index)
    if node.kind == "scalar" and _data(node, [1]) is None:
        return _replace(body, docs, chain[-1], {rest[0]: nested}, what, index)
    raise EditError(f"cannot {what}: {_show(path[:found])} is not a mapping")


def _append(
    body: str,
    index: int,
    path: tuple[str | int, ...],
    item: Any,
    position: int | None,
    keep_sorted: bool,
) -> str:
    docs = _parse(body)
    doc = _document(docs, index)
    root = _root(doc, index)
    what = f"add an item to {_show(path)}"
    chain, found = _find(root, path)
    if found < len(path):
        return _set(body, index, path, [item])
    node = chain[-1].node
    if node.kind == "scalar" and _data(node, [1]) is None:
        return _replace(body, docs, chain[-1], [item], what, index)
    if node.kind != "seq":
        raise EditError(f"cannot {what}: it is not a sequence")
    if not node.items:
        return _replace(body, docs, chain[-1], [item], what, index)
    count = len(node.items)
    where = count if position is None else max(0, min(position, count))
    if keep_sorted and position is None and isinstance(item, str):
        raw = [_data(n, [1]) if n.kind == "scalar" else None for n in node.items]
        values = [v for v in raw if isinstance(v, str)]
        if len(values) == len(raw) and values == sorted(values):
            where = next((i for i, v in enumerate(values) if v > item), count)
    return _insert_item(body, docs, node, item, where, what, index)


def _delete_path(body: str, index: int, path: tuple[str | int, ...]) -> str:
    docs = _parse(body)
    doc = _document(docs, index)
    if not path:
        raise EditError("cannot delete the whole document")
    root = _root(doc, index)
    chain, found = _find(root, path)
    if found < len(path):
        return body
    return _delete(body, docs, chain, f"delete {_show(path)}", index)


def set_value(text: str, document_index: int, key_path: KeyPath, value: Any) -> str:
    """Set the value at ``key_path``, creating missing parent mappings.

    A scalar replaces the old value in place (keeping its quotes and anchor); a
    mapping is merged key by key and a list item by item, so unchanged entries and
    their comments stay.  A new key goes in alphabetical position when the mapping
    is already sorted, else at its end.

    :param text: the file's text.
    :param document_index: which document (0-based).
    :param key_path: keys (``str``) and sequence indexes (``int``), from the root.
    :param value: plain data: ``None``, ``bool``, ``int``, ``float``, ``str``, or
        mappings and lists of them.
    :returns: the new text (the same text when the value is already there).
    :raises EditError: when the edit cannot be made without reformatting.
    """
    bom, body = _checked(text)
    path = _path(key_path)
    with _unplaceable(f"set {_show(path)}"):
        new = _set(body, document_index, path, _normalize(value))
    return bom + new


def append_to_sequence(
    text: str,
    document_index: int,
    key_path: KeyPath,
    item: Any,
    *,
    index: int | None = None,
    keep_sorted: bool = False,
) -> str:
    """Add ``item`` to the sequence at ``key_path``, creating the key when missing.

    The item is written like its siblings (same dash column, same quotes).

    :param index: insert before this position instead of appending.
    :param keep_sorted: insert in alphabetical position when the items are sorted.
    :returns: the new text.
    :raises EditError: when the value there is not a sequence or cannot be edited.
    """
    bom, body = _checked(text)
    path = _path(key_path)
    with _unplaceable(f"add an item to {_show(path)}"):
        new = _append(body, document_index, path, _normalize(item), index, keep_sorted)
    return bom + new


def delete_key(text: str, document_index: int, key_path: KeyPath) -> str:
    """Remove the key (or sequence item) at ``key_path`` with its value.

    Its lines go; every other line stays.  Removing the last entry leaves ``{}``
    (or ``[]``).  A missing key is not an error: the text comes back unchanged.
    """
    bom, body = _checked(text)
    path = _path(key_path)
    with _unplaceable(f"delete {_show(path)}"):
        new = _delete_path(body, document_index, path)
    return bom + new


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply :class:`homelab_kit.Edit` objects, in order, to the text of one file.

    :raises EditError: when the edits name more than one file or one cannot be made.
    """
    paths = {e.path for e in edits}
    if len(paths) > 1:
        raise EditError(f"apply_edits edits one file; got {', '.join(sorted(paths))}")
    for edit in edits:
        if edit.delete:
            text = delete_key(text, edit.document, edit.key_path)
        else:
            text = set_value(text, edit.document, edit.key_path, edit.value)
    return text


# --------------------------------------------------------------------------- writing


def atomic_write(path: str | os.PathLike[str], text: str, root: str | os.PathLike[str]) -> None:
    """Write ``text`` (UTF-8, line breaks as given) to ``path`` atomically.

    A temporary file in the same folder is written, flushed to disk and renamed
    over the target, so readers see the old file or the new one, never half of
    one.  The target's permissions are kept; a symbolic link inside the repository
    is written through; one leading out of ``root`` is refused.

    :param path: the file; a relative path is taken relative to ``root``.
    :param root: the repository root.
    :raises EditError: when the path leaves the repository or its folder is missing.
    """
    target = os.fspath(path)
    if not os.path.isabs(target):
        target = os.path.join(os.fspath(root), target)
    if not inside(target, root):
        raise EditError(f"{path}: refusing to write outside the repository (symbolic link?)")
    real = os.path.realpath(target)
    directory = os.path.dirname(real)
    if not os.path.isdir(directory):
        raise EditError(f"{path}: folder {directory} does not exist")
    if os.path.isdir(real):
        raise EditError(f"{path}: is a directory")
    atomic_write_bytes(real, text.encode("utf-8"))
