"""Fast YAML reading that keeps positions and never raises on bad input.

libyaml (through ruamel.yaml.clib's ``CParser``) produces events; a small
iterative composer of our own turns them into :class:`YMap`/:class:`YSeq` trees.
Our composer, unlike ruamel's, accepts anchors redefined within a document (valid
YAML, common in real repositories), and it bounds hostile input: nesting depth,
alias expansion and file size.  Every problem becomes a :class:`YamlProblem` with a
1-based line and column; the documents read before a syntax error are kept.
"""

from __future__ import annotations

import codecs
import copyreg
import errno
import hashlib
import io
import os
import pickle
import re
import stat
import sys
import threading
from collections.abc import Iterator
from typing import Any

import attrs
from ruamel.yaml import events as ev
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from homelab_kit.yaml.nodes import YMap, YSeq, position_of

try:  # the C accelerator; without it ruamel's pure-Python parser (10x slower)
    from _ruamel_yaml import CParser as _Parser

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - depends on the platform
    from ruamel.yaml.parser import Parser as _PyParser
    from ruamel.yaml.reader import Reader as _Reader
    from ruamel.yaml.scanner import Scanner as _Scanner

    HAVE_LIBYAML = False

    class _Parser:  # type: ignore[no-redef]
        def __init__(self, text: str) -> None:
            loader: Any = type("L", (), {})()
            loader.reader = _Reader(text, loader)
            loader.scanner = _Scanner(loader)
            loader.parser = _PyParser(loader)
            loader.comment_handling = None
            self._parser = loader.parser

        def get_event(self) -> Any:
            return self._parser.get_event()


DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
DEFAULT_MAX_DEPTH = 256
DEFAULT_MAX_NODES = 1_000_000
DEFAULT_MAX_ALIAS_NODES = 10_000_000  # nodes from alias expansion in one run, all files
# What parse_bytes returns and how it pickles; bumped when either changes (the caches key
# on it).  3: maps and sequences pickled as a call of their class, keys interned.
PARSED_FORMAT = 3

# Alias expansion, bounded as Go's YAML reader (yaml.v2/v3, what kubectl and Flux
# read with) bounds one decode, but over a whole file: past 1,000 nodes and 100 of
# them from aliases, at most 99% may come from aliases up to 400,000 nodes, scaling
# down to 10% at 4,000,000 (``allowedAliasRatio`` in yaml.v3's decode.go).
_ALIAS_RATIO_LOW = 400_000
_ALIAS_RATIO_HIGH = 4_000_000

_SUPPRESS_RE = re.compile(r"#\s*homelab-kit:\s*(ignore(?:-document|-file)?)(?:\[([^\]]*)\])?(.*)$")


@attrs.frozen
class YamlProblem:
    """Something wrong with a file's YAML itself (1-based position)."""

    code: str
    message: str
    line: int = 0
    column: int = 0


@attrs.frozen
class Anchor:
    """An anchor defined in a document and how many aliases use it."""

    name: str
    line: int
    column: int
    uses: int


@attrs.frozen
class Suppression:
    """An inline ``# homelab-kit: ignore[...]`` comment.

    ``scope`` is ``"line"`` (the comment's line, or the next line when the comment
    stands alone), ``"document"`` or ``"file"``.  An empty ``check_ids`` means all.
    """

    scope: str
    check_ids: tuple[str, ...]
    line: int
    column: int
    target_line: int
    reason: str = ""


@attrs.frozen
class YamlDocument:
    """One document of a YAML stream.

    ``data`` is the parsed content (``YMap``/``YSeq``/scalar, ``None`` when empty);
    ``index`` counts documents from 0; lines are 1-based and inclusive.
    """

    index: int
    data: Any = attrs.field(repr=False)
    start_line: int
    end_line: int
    explicit_start: bool
    anchors: tuple[Anchor, ...] = ()

    def position(self, path: tuple[str | int, ...] = ()) -> tuple[int, int]:
        """1-based (line, column) of the value at ``path`` (or its nearest parent)."""
        pos = position_of(self.data, path)
        return pos if pos is not None else (self.start_line, 1)


@attrs.frozen
class YamlFile:
    """A YAML file as read: its documents, its problems and facts about its text."""

    path: str
    documents: tuple[YamlDocument, ...]
    problems: tuple[YamlProblem, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    sha256: str = ""
    size: int = 0
    line_count: int = 0
    ends_with_newline: bool = True
    has_bom: bool = False
    crlf: bool = False
    alias_nodes: int = 0  # nodes of its documents that come from alias expansion

    def document_at(self, line: int) -> YamlDocument | None:
        """The document that contains 1-based ``line``."""
        for doc in self.documents:
            if doc.start_line <= line <= doc.end_line:
                return doc
        return None


# --------------------------------------------------------------------------- scalars

_INT_RE = re.compile(r"[-+]?[0-9]+\Z")
_OCTAL_RE = re.compile(r"0[0-7]+\Z")
_FLOAT_RE = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_TRUE = frozenset(("true", "True", "TRUE"))
_FALSE = frozenset(("false", "False", "FALSE"))
_MAYBE_SPECIAL = frozenset("0123456789-+.~nNtTfF")


def resolve_plain(value: str) -> Any:
    """Resolve a plain (unquoted, untagged) scalar by the YAML 1.2 core schema."""
    if not value:
        return None
    if value[0] not in _MAYBE_SPECIAL:
        return value
    if value in _NULLS:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if _INT_RE.match(value):
        digits = value.lstrip("+-")
        if len(digits) > 1 and digits[0] == "0" and _OCTAL_RE.match(digits):
            # YAML 1.1 octal, as Kubernetes and kustomize read it (defaultMode: 0400)
            number = int(digits, 8)
            return -number if value.startswith("-") else number
        return int(value)
    if value.startswith(("0x", "0o")) and len(value) > 2:
        try:
            return int(value[2:], 16 if value[1] == "x" else 8)
        except ValueError:
            return value
    if _FLOAT_RE.match(value):
        return float(value)
    lower = value.lower()
    if lower in (".inf", "+.inf"):
        return float("inf")
    if lower == "-.inf":
        return float("-inf")
    if lower == ".nan":
        return float("nan")
    return value


_STANDARD_TAGS = {
    "tag:yaml.org,2002:str": str,
    "tag:yaml.org,2002:int": int,
    "tag:yaml.org,2002:float": float,
}


def scalar_value(event: Any) -> Any:
    """What a scalar event means: core-schema resolution, standard tags, custom tags as text."""
    return _scalar(event.tag, event.value, event.style, event.implicit)


def _scalar(tag: str | None, value: str, style: str | None, implicit: tuple[bool, bool]) -> Any:
    """:func:`scalar_value` of a scalar event's parts."""
    if tag is None or tag == "!":
        if style or not implicit[0]:
            return value
        return resolve_plain(value)
    convert = _STANDARD_TAGS.get(tag)
    if convert is not None:
        try:
            return convert(value)
        except ValueError:
            return value
    if tag == "tag:yaml.org,2002:bool":
        resolved = resolve_plain(value)
        return resolved if isinstance(resolved, bool) else value
    if tag == "tag:yaml.org,2002:null":
        return None
    # Custom tags (!env_var, !secret, ...) are data, never instructions: keep the text.
    return value


# --------------------------------------------------------------------------- events

# The composer reads events as small tuples, not ruamel's event objects: building
# one of those runs three Python ``__init__`` methods, and there are about 75 events
# per file (half of the parse time went to making them).  libyaml's ``CParser``
# (ruamel.yaml.clib) makes its events by calling the classes its module names
# (``ScalarEvent(anchor, tag, implicit, value, start_mark, end_mark, style)``, ...);
# while this module parses, those names are the factories below, and they are put
# back afterwards, so every other user of ``CParser`` (homelab_kit.yaml.edit) gets
# ruamel's events.  Parses in several threads at once share the factories (they are
# put back when the last one ends); a ``CParser`` of someone else's running in another
# thread meanwhile would get tuples: homelab-kit parses and edits in one thread.
# Tuples: (kind, ...) with the fields the composer reads.
_SCALAR = 0  # (_SCALAR, anchor, tag, implicit, value, start_mark, style)
_MAPPING_START = 1  # (_MAPPING_START, anchor, start_mark)
_SEQUENCE_START = 2  # (_SEQUENCE_START, anchor, start_mark)
_COLLECTION_END = 3  # (_COLLECTION_END,), a mapping's or a sequence's
_ALIAS = 4  # (_ALIAS, anchor, start_mark)
_DOC_START = 5  # (_DOC_START, start_mark, explicit)
_DOC_END = 6  # (_DOC_END, start_mark, explicit)
_STREAM_START = 7  # (_STREAM_START,)
_STREAM_END = 8  # (_STREAM_END,)
_END = (_COLLECTION_END,)


def _scalar_event(
    anchor: Any,
    tag: Any,
    implicit: Any,
    value: Any,
    start_mark: Any,
    end_mark: Any = None,
    style: Any = None,
    comment: Any = None,
) -> tuple[Any, ...]:
    return (_SCALAR, anchor, tag, implicit, value, start_mark, style)


def _mapping_start_event(
    anchor: Any, tag: Any, implicit: Any, start_mark: Any, *_: Any
) -> tuple[Any, ...]:
    return (_MAPPING_START, anchor, start_mark)


def _sequence_start_event(
    anchor: Any, tag: Any, implicit: Any, start_mark: Any, *_: Any
) -> tuple[Any, ...]:
    return (_SEQUENCE_START, anchor, start_mark)


def _end_event(*_: Any) -> tuple[int]:
    return _END


def _alias_event(anchor: Any, start_mark: Any, *_: Any) -> tuple[Any, ...]:
    return (_ALIAS, anchor, start_mark)


def _document_start_event(
    start_mark: Any, end_mark: Any = None, explicit: Any = None, *_: Any
) -> tuple[Any, ...]:
    return (_DOC_START, start_mark, explicit)


def _document_end_event(
    start_mark: Any, end_mark: Any = None, explicit: Any = None, *_: Any
) -> tuple[Any, ...]:
    return (_DOC_END, start_mark, explicit)


def _stream_start_event(*_: Any) -> tuple[int]:
    return (_STREAM_START,)


def _stream_end_event(*_: Any) -> tuple[int]:
    return (_STREAM_END,)


_FACTORIES = {
    "ScalarEvent": _scalar_event,
    "MappingStartEvent": _mapping_start_event,
    "SequenceStartEvent": _sequence_start_event,
    "MappingEndEvent": _end_event,
    "SequenceEndEvent": _end_event,
    "AliasEvent": _alias_event,
    "DocumentStartEvent": _document_start_event,
    "DocumentEndEvent": _document_end_event,
    "StreamStartEvent": _stream_start_event,
    "StreamEndEvent": _stream_end_event,
}


def _as_tuple(event: Any) -> tuple[Any, ...]:
    """A ruamel event object as the tuple its factory above makes."""
    if isinstance(event, ev.ScalarEvent):
        return _scalar_event(
            event.anchor,
            event.tag,
            tuple(event.implicit),
            event.value,
            event.start_mark,
            style=event.style,
        )
    if isinstance(event, ev.MappingStartEvent):
        return _mapping_start_event(event.anchor, None, None, event.start_mark)
    if isinstance(event, ev.SequenceStartEvent):
        return _sequence_start_event(event.anchor, None, None, event.start_mark)
    if isinstance(event, ev.CollectionEndEvent):
        return _END
    if isinstance(event, ev.AliasEvent):
        return _alias_event(event.anchor, event.start_mark)
    if isinstance(event, ev.DocumentStartEvent):
        return _document_start_event(event.start_mark, None, event.explicit)
    if isinstance(event, ev.DocumentEndEvent):
        return _document_end_event(event.start_mark, None, event.explicit)
    if isinstance(event, ev.StreamStartEvent):
        return (_STREAM_START,)
    return (_STREAM_END,)


def _libyaml_module() -> Any:
    """ruamel.yaml.clib's module when its parser can make our tuples, else None."""
    if not HAVE_LIBYAML:  # pragma: no cover - depends on the platform
        return None
    import _ruamel_yaml

    if all(isinstance(getattr(_ruamel_yaml, name, None), type) for name in _FACTORIES):
        return _ruamel_yaml
    return None  # pragma: no cover - a ruamel.yaml.clib that names its events otherwise


_LIBYAML = _libyaml_module()
# ruamel's event classes, as CParser's module names them (put back after each parse)
_LIBYAML_EVENTS = {name: getattr(_LIBYAML, name) for name in _FACTORIES} if _LIBYAML else {}


_factories_lock = threading.Lock()
_parsing = [0]  # parses under way (in any thread) while the factories are in place


def _factories_in() -> None:
    """Put the factories in ``CParser``'s module (the first of concurrent parses)."""
    with _factories_lock:
        if _parsing[0] == 0:
            vars(_LIBYAML).update(_FACTORIES)
        _parsing[0] += 1


def _factories_out() -> None:
    """Put ruamel's event classes back (the last of concurrent parses)."""
    with _factories_lock:
        _parsing[0] -= 1
        if _parsing[0] == 0:
            vars(_LIBYAML).update(_LIBYAML_EVENTS)


def _events(text: str) -> tuple[Any, Any]:
    """A parser of ``text`` and its ``get()`` of event tuples.

    With libyaml the factories must be in place while ``get`` is called (see
    :func:`_parse`); otherwise each of ruamel's events is converted.
    """
    parser = _Parser(text)
    if _LIBYAML is not None:
        return parser, parser.get_event
    next_event = parser.get_event  # pragma: no cover - without libyaml

    def get() -> tuple[Any, ...]:  # pragma: no cover - without libyaml
        return _as_tuple(next_event())

    return parser, get  # pragma: no cover - without libyaml


# --------------------------------------------------------------------------- composer


def allowed_alias_ratio(nodes: int) -> float:
    """The share of ``nodes`` that may come from alias expansion (Go's yaml.v3 rule)."""
    if nodes <= _ALIAS_RATIO_LOW:
        return 0.99
    if nodes >= _ALIAS_RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (nodes - _ALIAS_RATIO_LOW) / (_ALIAS_RATIO_HIGH - _ALIAS_RATIO_LOW)


def excessive_aliasing(aliased: int, nodes: int) -> bool:
    """Whether ``aliased`` of ``nodes`` nodes from aliases is more than Go's reader allows."""
    return aliased > 100 and nodes > 1000 and aliased > allowed_alias_ratio(nodes) * nodes


class _TooBig(Exception):
    """A bound was hit: the document is skipped (and the rest of the file, ``rest``)."""

    def __init__(self, code: str, message: str, line: int, column: int, rest: bool = False) -> None:
        super().__init__(message)
        self.code, self.message, self.line, self.column = code, message, line, column
        self.rest = rest


_NO_KEY = object()

# Plain scalars that may not be strings, resolved (``name``, ``true``, ``1h``, ``8080``:
# a repository repeats a few thousand of them); bounded, short ones only.
_RESOLVED: dict[str, Any] = {}
_RESOLVED_MAX = 8192
_RESOLVED_LEN = 64


class _Composer:
    """Turns the event stream of one file into documents, collecting problems."""

    def __init__(self, max_depth: int, max_nodes: int) -> None:
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.problems: list[YamlProblem] = []
        self.nodes = 0  # nodes of the documents kept so far, aliases expanded
        self.alias_nodes = 0  # how many of them came from aliases

    def compose(self, get: Any) -> Iterator[YamlDocument]:
        """Documents from ``get``, which returns the next event tuple (:func:`_events`)."""
        earlier_anchors: set[str] = set()
        index = 0
        get()  # StreamStart
        while True:
            start = get()
            if start[0] == _STREAM_END:
                return
            # start: (DOC_START, start_mark, explicit)
            anchors: dict[str, tuple[Any, int, int, int, int]] = {}
            defined: list[list[Any]] = []  # [name, line, column, uses]
            stop = False
            try:
                data, end = self._document(get, anchors, defined, earlier_anchors)
            except _TooBig as big:
                self.problems.append(YamlProblem(big.code, big.message, big.line, big.column))
                stop = big.rest
                if not stop:
                    self._skip_document(get)
                data, end = None, None
                defined.clear()  # a skipped document has no anchors to report on
            start_line = start[1].line + 1
            end_line = end[1].line if end is not None else start_line
            if end is not None and end[2]:
                end_line = end[1].line + 1
            yield YamlDocument(
                index=index,
                data=data,
                start_line=start_line,
                end_line=max(end_line, start_line),
                explicit_start=bool(start[2]),
                anchors=tuple(Anchor(n, ln, col, u) for n, ln, col, u in defined),
            )
            if stop:
                return
            earlier_anchors.update(anchors)
            index += 1

    def _skip_document(self, get: Any) -> None:
        depth = 0
        while True:
            kind = get()[0]
            if kind in (_MAPPING_START, _SEQUENCE_START):
                depth += 1
            elif kind == _COLLECTION_END:
                depth -= 1
            elif kind == _DOC_END and depth <= 0:
                return

    def _document(
        self,
        get: Any,
        anchors: dict[str, tuple[Any, int, int, int, int]],
        defined: list[list[Any]],
        earlier: set[str],
    ) -> tuple[Any, Any]:
        # The innermost open collection lives in local variables (reading and writing
        # them is what most events do); the ones around it wait on ``stack``, each as
        # the tuple of those variables.
        stack: list[tuple[Any, ...]] = []
        open_anchored: set[int] = set()  # id() of anchored collections not yet closed
        root: Any = None
        total = 0
        decoded = 0  # nodes, each once, aliases expanded (Go's decodeCount)
        aliased = 0  # how many of them came from aliases (Go's aliasCount)
        max_depth = self.max_depth
        max_nodes = self.max_nodes
        problems = self.problems
        maybe_special = _MAYBE_SPECIAL
        no_key = _NO_KEY
        resolved = _RESOLVED
        intern, str_ = sys.intern, str
        SCALAR, ALIAS, COLLECTION_END = _SCALAR, _ALIAS, _COLLECTION_END
        MAPPING_START, SEQUENCE_START = _MAPPING_START, _SEQUENCE_START
        # the open collection (when ``open_``): a mapping (``is_map``, its ``marks``,
        # the ``key`` read and not yet given a value, where that key is, the keys a
        # ``<<`` merge added) or a sequence (its ``item_marks``); its anchor, where it
        # starts, and how many nodes it holds (itself included)
        open_ = False
        is_map = False
        container: Any = None
        marks: Any = None
        item_marks: Any = None
        key: Any = no_key
        key_line = key_column = 0
        merged: set[Any] | None = None
        anchor: str | None = None
        frame_line = 0
        size = 0
        while True:
            event = get()
            kind = event[0]
            if kind == SCALAR:
                # The hot path (most events are scalars): a plain scalar resolved
                # inline, then stored straight into its parent.
                _, scalar_anchor, tag, implicit, value, mark, style = event
                if implicit[0]:  # plain, untagged (or tagged "!")
                    if style:
                        pass
                    elif not value:
                        value = None
                    elif value[0] in maybe_special:
                        found = resolved.get(value, no_key)
                        if found is no_key:
                            found = resolve_plain(value)
                            if len(resolved) < _RESOLVED_MAX and len(value) <= _RESOLVED_LEN:
                                resolved[value] = found
                        value = found
                else:
                    value = _scalar(tag, value, style, implicit)
                if scalar_anchor is not None:
                    self._define(scalar_anchor, value, mark, 1, anchors, defined)
                total += 1
                decoded += 1
                line, column = mark.line + 1, mark.column + 1
                if total > max_nodes:
                    raise _TooBig(
                        "alias-bomb",
                        f"document expands to more than {max_nodes:,} nodes "
                        "(alias expansion); document skipped",
                        line,
                        column,
                    )
                if not open_:
                    root = value
                    continue
                size += 1
                if not is_map:
                    container.append(value)
                    item_marks.append((line, column))
                    continue
                if key is no_key:
                    # One string object per distinct key text (a repository repeats a
                    # few hundred keys): fewer objects to keep, pickle and unpickle.
                    key = intern(value) if type(value) is str_ else value
                    key_line, key_column = line, column
                    continue
                if merged and key in merged:
                    merged.discard(key)  # an explicit key overrides a merged one
                elif key in container:
                    problems.append(_duplicate(key, marks, key_line, key_column))
                container[key] = value
                marks[key] = (key_line, key_column, line, column)
                key = no_key
                continue
            if kind == COLLECTION_END:
                value, value_size = container, size
                if anchor is not None:
                    open_anchored.discard(id(value))
                    entry = anchors.get(anchor)
                    if entry is not None and entry[0] is value:
                        anchors[anchor] = (value, entry[1], entry[2], value_size, entry[4])
                if stack:
                    (
                        is_map,
                        container,
                        marks,
                        item_marks,
                        key,
                        key_line,
                        key_column,
                        merged,
                        anchor,
                        frame_line,
                        size,
                    ) = stack.pop()
                else:
                    open_ = False
                mark = None
            elif kind in (MAPPING_START, SEQUENCE_START):
                mark = event[2]
                depth = len(stack) + 1 if open_ else 0
                if depth >= max_depth:
                    raise _TooBig(
                        "too-deep",
                        f"nesting deeper than {max_depth} levels; document skipped",
                        mark.line + 1,
                        mark.column + 1,
                    )
                decoded += 1
                if open_:
                    stack.append(
                        (
                            is_map,
                            container,
                            marks,
                            item_marks,
                            key,
                            key_line,
                            key_column,
                            merged,
                            anchor,
                            frame_line,
                            size,
                        )
                    )
                open_ = True
                is_map = kind == MAPPING_START
                frame_line = mark.line + 1
                if is_map:
                    container = YMap(frame_line, mark.column + 1)
                    marks = container.marks
                    item_marks = None
                    key = no_key
                    merged = None
                else:
                    container = YSeq(frame_line, mark.column + 1)
                    item_marks = container.item_marks
                    marks = None
                anchor = event[1]
                size = 1
                if anchor is not None:
                    # Registered now so that an alias to it from inside is recognised.
                    self._define(anchor, container, mark, 1, anchors, defined)
                    open_anchored.add(id(container))
                continue
            elif kind == ALIAS:
                _, name, mark = event
                target = anchors.get(name)
                if target is None:
                    if name in earlier:
                        msg = (
                            f"alias *{name} refers to an anchor of an earlier document; "
                            "anchors do not cross '---'"
                        )
                        problems.append(
                            YamlProblem("cross-document-alias", msg, mark.line + 1, mark.column + 1)
                        )
                    else:
                        msg = f"alias *{name} refers to an undefined anchor"
                        problems.append(
                            YamlProblem("undefined-alias", msg, mark.line + 1, mark.column + 1)
                        )
                    value, value_size = None, 1
                elif id(target[0]) in open_anchored:
                    defined[target[4]][3] += 1
                    # YAML allows it, but a node that contains itself is a cycle no
                    # walker survives; kubectl refuses it too ("value contains itself").
                    raise _TooBig(
                        "recursive-alias",
                        f"alias *{name} is inside the node its anchor names (a node that "
                        "contains itself); document skipped",
                        mark.line + 1,
                        mark.column + 1,
                    )
                else:
                    value, value_size = target[0], target[3]
                    defined[target[4]][3] += 1
                    aliased += value_size
                    decoded += value_size
                    if excessive_aliasing(self.alias_nodes + aliased, self.nodes + decoded):
                        raise _TooBig(
                            "alias-bomb",
                            f"{self.alias_nodes + aliased:,} of the file's "
                            f"{self.nodes + decoded:,} nodes come from alias expansion, "
                            "more than Go's YAML reader allows; the rest of the file is skipped",
                            mark.line + 1,
                            mark.column + 1,
                            rest=True,
                        )
            elif kind == _DOC_END:
                self.nodes += decoded
                self.alias_nodes += aliased
                return root, event
            else:  # pragma: no cover - libyaml emits nothing else inside a document
                continue

            # A collection just closed, or an alias: its value goes to the open one.
            total += value_size
            if total > max_nodes:
                line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
                raise _TooBig(
                    "alias-bomb",
                    f"document expands to more than {max_nodes:,} nodes "
                    "(alias expansion); document skipped",
                    line,
                    col,
                )
            if not open_:
                root = value
                continue
            size += value_size
            if mark is not None:
                vmark = (mark.line + 1, mark.column + 1)
            elif isinstance(value, YMap | YSeq):
                vmark = (value.line, value.column)
            else:
                vmark = None
            if not is_map:
                container.append(value)
                item_marks.append(vmark if vmark is not None else (frame_line, 0))
                continue
            if key is no_key:
                key = _hashable(value) if isinstance(value, dict | list) else value
                key_line, key_column = (
                    (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
                )
                continue
            if vmark is None:
                vmark = (key_line, key_column)
            if key == "<<":
                merged = (merged or set()) | self._merge(container, value)
                key = no_key
                continue
            if merged and key in merged:
                merged.discard(key)  # an explicit key overrides a merged one
            elif key in container:
                problems.append(_duplicate(key, marks, key_line, key_column))
            container[key] = value
            marks[key] = (key_line, key_column, vmark[0], vmark[1])
            key = no_key

    @staticmethod
    def _define(
        name: str,
        value: Any,
        mark: Any,
        size: int,
        anchors: dict[str, tuple[Any, int, int, int, int]],
        defined: list[list[Any]],
    ) -> None:
        anchors[name] = (value, mark.line + 1, mark.column + 1, size, len(defined))
        defined.append([name, mark.line + 1, mark.column + 1, 0])

    @staticmethod
    def _merge(container: YMap, value: Any) -> set[Any]:
        added: set[Any] = set()
        sources = value if isinstance(value, list) else [value]
        for source in sources:
            if not isinstance(source, dict):
                continue
            for k, v in source.items():
                if k not in container:
                    container[k] = v
                    added.add(k)
                    if isinstance(source, YMap) and k in source.marks:
                        container.marks[k] = source.marks[k]
        return added


def _duplicate(key: Any, marks: dict[Any, Any], line: int, column: int) -> YamlProblem:
    """The problem of ``key`` written again at ``line``:``column`` (``marks``: its mapping's)."""
    return YamlProblem(
        "duplicate-key", f"duplicate key {key!r} (first at line {marks[key][0]})", line, column
    )


def _hashable(value: Any) -> Any:
    """A complex mapping key (rare, legal YAML) as something a dict accepts."""
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


# --------------------------------------------------------------------------- decoding


def decode(data: bytes) -> tuple[str | None, bool, YamlProblem | None]:
    """Bytes to text: UTF-8 (with or without BOM) or UTF-16/32 with a BOM.

    Returns ``(text, had_bom, problem)``; ``text`` is ``None`` when undecodable.
    """
    if data.startswith(codecs.BOM_UTF8):
        encoding, had_bom, data = "utf-8", True, data[3:]
    elif data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding, had_bom = "utf-32", True
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, had_bom = "utf-16", True
    else:
        encoding, had_bom = "utf-8", False
        if b"\x00" in data[:8192]:
            guess = _bomless_utf16_or_32(data)
            if guess is not None:
                message = f"{guess} text without a byte-order mark (save it as UTF-8); skipped"
                return None, False, YamlProblem("encoding", message, 1, 1)
            return None, False, YamlProblem("binary", "binary file (contains NUL bytes); skipped")
    try:
        return data.decode(encoding), had_bom, None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return (
            None,
            had_bom,
            YamlProblem(
                "encoding",
                f"not valid {encoding.upper()} (byte 0x{data[exc.start]:02x}); skipped",
                line,
                column,
            ),
        )


def _bomless_utf16_or_32(data: bytes) -> str | None:
    """``"UTF-16"`` or ``"UTF-32"`` for text without a byte-order mark, else None.

    The first character tells, as YAML 1.2's encoding table says (``00 00 00 x``,
    ``x 00 00 00``, ``00 x``, ``x 00``), and the first kilobytes must decode to
    printable text: binary data stays binary.
    """
    h = data[:4].ljust(4, b"\xff")
    for name, codec, first in (
        ("UTF-32", "utf-32-be", h[:3] == b"\0\0\0" and h[3] != 0),
        ("UTF-32", "utf-32-le", h[0] != 0 and h[1:4] == b"\0\0\0"),
        ("UTF-16", "utf-16-be", h[0] == 0 and h[1] != 0),
        ("UTF-16", "utf-16-le", h[0] != 0 and h[1] == 0),
    ):
        if not first:
            continue
        width = 4 if name == "UTF-32" else 2
        try:
            text = data[: 4096 // width * width].decode(codec)
        except UnicodeDecodeError:
            continue
        if all(c.isprintable() or c in "\t\r\n" for c in text):
            return name
    return None


def _suppressions(text: str) -> tuple[Suppression, ...]:
    if "homelab-kit:" not in text:
        return ()
    found: list[Suppression] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if "homelab-kit:" not in line:
            continue
        match = _SUPPRESS_RE.search(line)
        if match is None:
            continue
        kind, ids, rest = match.groups()
        scope = {"ignore": "line", "ignore-document": "document", "ignore-file": "file"}[kind]
        check_ids = tuple(i.strip() for i in (ids or "").split(",") if i.strip())
        column = match.start() + 1
        standalone = not line[: match.start()].strip()
        target = number + 1 if (scope == "line" and standalone) else number
        reason = rest.strip().lstrip("-:").strip()
        found.append(Suppression(scope, check_ids, number, column, target, reason))
    return tuple(found)


def _char_at(text: str, line: int, column: int) -> str:
    """The character at 1-based ``line`` and ``column`` of ``text`` ("" when none)."""
    if line <= 0 or column <= 0:
        return ""
    lines = text.split("\n", line)
    row = lines[line - 1] if len(lines) >= line else ""
    return row[column - 1] if column <= len(row) else ""


def parse_text(
    text: str,
    path: str = "<string>",
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> tuple[tuple[YamlDocument, ...], tuple[YamlProblem, ...]]:
    """Parse YAML text into documents and problems; never raises for bad YAML.

    ``text`` may be a ``str`` subclass (a scalar the renderer marks as quoted): the
    C parser takes only ``str`` itself.
    """
    if type(text) is not str:
        text = str(text)
    documents, problems, _aliased = _parse(text, max_depth, max_nodes)
    return documents, problems


def _parse(
    text: str, max_depth: int, max_nodes: int
) -> tuple[tuple[YamlDocument, ...], tuple[YamlProblem, ...], int]:
    """Documents, problems and how many nodes of the documents come from aliases."""
    composer = _Composer(max_depth, max_nodes)
    documents: list[YamlDocument] = []
    tuples = _LIBYAML is not None
    if tuples:
        _factories_in()
    try:
        _parser, get = _events(text)
        for document in composer.compose(get):
            documents.append(document)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        column = mark.column + 1 if mark is not None else 0
        problem = (exc.problem or exc.context or "syntax error").strip()
        code = "syntax"
        if "tab" in problem or _char_at(text, line, column) == "\t":
            code = "tab"
            problem = "tab character where YAML allows only spaces (" + problem + ")"
        composer.problems.append(YamlProblem(code, problem, line, column))
    except (YAMLError, RecursionError, MemoryError, ValueError) as exc:
        composer.problems.append(YamlProblem("syntax", f"cannot parse YAML: {exc}".splitlines()[0]))
    finally:
        if tuples:
            _factories_out()
    return tuple(documents), tuple(composer.problems), composer.alias_nodes


def parse_bytes(
    data: bytes,
    path: str,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> YamlFile:
    """Parse the bytes of one file into a :class:`YamlFile`."""
    digest = hashlib.sha256(data).hexdigest()
    text, had_bom, problem = decode(data)
    if text is None:
        assert problem is not None
        return YamlFile(path, (), (problem,), sha256=digest, size=len(data), has_bom=had_bom)
    documents, problems, aliased = _parse(text, max_depth, max_nodes)
    return YamlFile(
        path=path,
        documents=documents,
        problems=problems,
        suppressions=_suppressions(text),
        sha256=digest,
        size=len(data),
        line_count=text.count("\n") + (0 if text.endswith("\n") or not text else 1),
        ends_with_newline=not text or text.endswith("\n"),
        has_bom=had_bom,
        crlf="\r\n" in text,
        alias_nodes=aliased,
    )


# Open without waiting (a FIFO named like a YAML file must not hang the run), without
# handing the descriptor to a child process, in binary on every platform.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_GROWN_CHUNK = 1 << 16  # what is read at a time of a file that grew since its fstat


def _open_file(path: str) -> int:
    """A read-only descriptor of ``path`` (:data:`_OPEN_FLAGS`)."""
    return os.open(path, _OPEN_FLAGS)


def _read_fd(fd: int, size: int, max_size: int) -> bytes:
    """The bytes of ``fd`` (a regular file of ``size`` bytes), never past ``max_size + 1``.

    Asks for the size the file has (``os.read(n)`` allocates n bytes up front), and
    for the rest should it have grown meanwhile.
    """
    limit = min(size, max_size) + 1
    data = os.read(fd, limit)
    if len(data) < limit:  # a short read (rare for a regular file) or the end
        chunks = [data]
        got = len(data)
        while got < limit and (chunk := os.read(fd, limit - got)):
            chunks.append(chunk)
            got += len(chunk)
        data = b"".join(chunks)
    if len(data) == limit <= max_size:  # it grew
        chunks = [data]
        got = len(data)
        while got <= max_size and (chunk := os.read(fd, min(_GROWN_CHUNK, max_size + 1 - got))):
            chunks.append(chunk)
            got += len(chunk)
        data = b"".join(chunks)
    return data


def load_file(
    abspath: str,
    path: str,
    *,
    max_size: int = DEFAULT_MAX_FILE_SIZE,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> YamlFile:
    """Read and parse a file; unreadable and oversized files become problems."""
    try:
        fd = _open_file(abspath)
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            if not stat.S_ISREG(info.st_mode):
                message = "not a regular file (a FIFO, socket or device); skipped"
                return YamlFile(path, (), (YamlProblem("unreadable", message),))
            data = _read_fd(fd, info.st_size, max_size)
        finally:
            os.close(fd)
    except IsADirectoryError:
        return YamlFile(path, (), (YamlProblem("unreadable", "is a directory; skipped"),))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return YamlFile(path, (), (YamlProblem("unreadable", f"cannot read file: {reason}"),))
    if len(data) > max_size:
        return YamlFile(
            path,
            (),
            (
                YamlProblem(
                    "too-large",
                    f"file is larger than {max_size:,} bytes (the max-file-size limit); skipped",
                ),
            ),
            size=len(data),
        )
    return parse_bytes(data, path, max_depth=max_depth, max_nodes=max_nodes)


# --------------------------------------------------------------------------- pickling


def _rebuilt_by_init(cls: type) -> bool:
    """Whether ``cls(*fields)`` rebuilds an instance of ``cls`` exactly: an attrs class
    whose every field its ``__init__`` takes as it is (positional, no converter, no
    validator) and that runs nothing else on creation."""
    if not attrs.has(cls) or hasattr(cls, "__attrs_post_init__"):
        return False
    if hasattr(cls, "__attrs_pre_init__"):
        return False
    return all(
        f.init and not f.kw_only and f.converter is None and f.validator is None
        for f in attrs.fields(cls)
    )


def _init_reducer(cls: type) -> Any:
    names = tuple(f.name for f in attrs.fields(cls))

    def reduce(obj: Any) -> tuple[Any, ...]:
        return (cls, tuple([getattr(obj, name) for name in names]))

    return reduce


class _Dispatch(dict[type, Any]):
    """Pickling's dispatch table: maps and sequences (their ``__reduce__``), and attrs value classes
    as a call of the class with their fields, which unpickling runs as the attrs
    ``__init__`` (a third faster than attrs' ``__setstate__``, and smaller)."""

    def __missing__(self, cls: type) -> Any:
        if not _rebuilt_by_init(cls):
            raise KeyError(cls)
        reducer = self[cls] = _init_reducer(cls)
        return reducer


_DISPATCH = _Dispatch({**copyreg.dispatch_table, YMap: YMap.__reduce__, YSeq: YSeq.__reduce__})


class _TreePickler(pickle.Pickler):
    dispatch_table = _DISPATCH


def dumps_parsed(value: Any) -> bytes:
    """Pickle parsed YAML (``YamlFile``, ``YMap``, ...) for a fast ``pickle.loads``.

    Maps and sequences are written as a call of their class with their positions,
    then their items (``YMap.__reduce__``); attrs value classes as a call of the
    class with their fields (:class:`_Dispatch`).
    """
    buffer = io.BytesIO()
    _TreePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()
