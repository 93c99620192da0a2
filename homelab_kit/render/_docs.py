"""Reading Kubernetes documents for rendering: plain containers, scalar styles kept.

The renderer works on plain ``dict``/``list`` trees.  One fact about the source text
survives the trip: whether a string containing ``$`` was written quoted (or as a block
scalar); :class:`QuotedStr` remembers it.  Flux never sees that style (kustomize
writes its YAML from JSON, so ``port: "${PORT}"`` reaches substitution unquoted and
becomes an integer), so substitution does not depend on it; it is kept for tools
that show or edit the source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, overload

from homelab_kit.render.goyaml import kustomize_folded
from homelab_kit.yaml import YMap, YSeq, parse_text
from homelab_kit.yaml.reader import YamlDocument, resolve_plain

_LEGACY_OCTAL = re.compile(r"[-+]?0[0-7]+")


class QuotedStr(str):
    """A string that was written quoted or as a block scalar in its YAML source."""

    __slots__ = ()


class Lines(Sequence[str]):
    """The lines of a text (``text.splitlines()``), split when first asked for: most
    documents never need them (a quoted ``$``, a folded scalar, an octal number)."""

    __slots__ = ("_lines", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._lines: list[str] | None = None

    def _split(self) -> list[str]:
        if self._lines is None:
            self._lines = self._text.splitlines()
        return self._lines

    def __len__(self) -> int:
        return len(self._split())

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._split()[index]


def _char(lines: Sequence[str], line: int, column: int) -> str:
    if not 1 <= line <= len(lines):
        return ""
    text = lines[line - 1]
    index = column - 1
    return text[index] if 0 <= index < len(text) else ""


def _is_quoted(lines: Sequence[str], line: int, column: int) -> bool:
    char = _char(lines, line, column)
    return bool(char) and char in "\"'|>"


def _legacy_int(value: int, lines: Sequence[str], line: int, column: int) -> int:
    """``0400`` is octal (256) for kustomize and Kubernetes (YAML 1.1), not 400."""
    if not 1 <= line <= len(lines):
        return value
    match = _LEGACY_OCTAL.match(lines[line - 1], column - 1)
    if match is None or int(match.group(0)) != value:
        return value
    return int(match.group(0), 8)


def _scalar(
    item: Any, lines: Sequence[str], position: tuple[int, int] | None, folded: bool = False
) -> Any:
    if position is None:
        return item
    if isinstance(item, str):
        if folded and "\n" in item and _char(lines, *position) == ">":
            item = kustomize_folded(item)
        if "$" in item and _is_quoted(lines, *position):
            return QuotedStr(item)
    elif type(item) is int and abs(item) >= 8:
        return _legacy_int(item, lines, *position)
    return item


def _plain(value: Any, lines: Sequence[str], folded: bool = False) -> Any:
    """Copy a YMap/YSeq tree into plain containers, marking quoted ``$`` strings.

    ``folded``: give folded block scalars the value kustomize's YAML round trip
    gives them (:func:`~homelab_kit.render.goyaml.kustomize_folded`).
    """
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        marks = value.marks if isinstance(value, YMap) else {}
        for key, item in value.items():
            kind = type(item)
            if kind is str:
                # most scalars: a string needing no look at its source text
                if "$" not in item and not (folded and "\n" in item):
                    out[key] = item
                    continue
            elif kind is bool or item is None or kind is float:
                out[key] = item
                continue
            elif kind is YMap or kind is YSeq or isinstance(item, dict | list):
                out[key] = _plain(item, lines, folded)
                continue
            mark = marks.get(key)
            out[key] = _scalar(item, lines, (mark[2], mark[3]) if mark else None, folded)
        return out
    if isinstance(value, list):
        result: list[Any] = []
        positions = value.item_marks if isinstance(value, YSeq) else []
        for index, item in enumerate(value):
            kind = type(item)
            if kind is str:
                if "$" not in item and not (folded and "\n" in item):
                    result.append(item)
                    continue
            elif kind is bool or item is None or kind is float:
                result.append(item)
                continue
            elif kind is YMap or kind is YSeq or isinstance(item, dict | list):
                result.append(_plain(item, lines, folded))
                continue
            where = positions[index] if index < len(positions) else None
            result.append(_scalar(item, lines, where, folded))
        return result
    return value


# Problems the reader reports that leave the data as kustomize reads it: an explicit
# key after a ``<<`` merge of the same key is valid YAML (the explicit key wins).
_HARMLESS = frozenset({"duplicate-key"})


def parse_documents(text: str, path: str, *, folded: bool = False) -> tuple[list[Any], list[str]]:
    """Parse a YAML stream into plain documents (``None`` for empty ones) and errors.

    Errors are ``path:line:column: message`` strings for problems that stop kustomize.
    ``folded``: folded scalars get the value kustomize's output gives them.
    """
    docs, _, messages = parse_located(text, path, folded=folded)
    return docs, messages


def parse_located(
    text: str,
    path: str,
    *,
    folded: bool = False,
    parsed: Sequence[YamlDocument] | None = None,
    lines: Sequence[str] | None = None,
) -> tuple[list[Any], list[Any], list[str]]:
    """Like :func:`parse_documents`, plus each document's positioned tree.

    The second list holds the :class:`~homelab_kit.yaml.YMap`/``YSeq`` tree of each
    document (``None`` for empty ones): positions for provenance and messages.
    ``parsed``: the documents of ``text`` as the loader parsed them, without problems
    (they are read, never changed), used in place of parsing ``text`` again.
    ``lines``: ``text``'s lines, when the caller has them (:class:`Lines`).
    """
    documents, problems = (tuple(parsed), ()) if parsed is not None else parse_text(text, path)
    if lines is None:
        lines = Lines(text)
    docs = [_plain(doc.data, lines, folded) for doc in documents]
    messages = [
        f"{path}:{p.line}:{p.column}: {p.message}" if p.line else f"{path}: {p.message}"
        for p in problems
        if p.code not in _HARMLESS
    ]
    return docs, [doc.data for doc in documents], messages


def keep_annotation_text(obj: dict[str, Any], tree: Any, lines: Sequence[str]) -> None:
    """Annotations that are not strings become the text they were written with.

    kustomize writes every annotation back as a string, from the node's text:
    ``a: 0x10`` stays ``"0x10"``, ``a: ~`` stays ``"~"`` (not ``"16"``, ``""``).
    """
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    tree_meta = tree.get("metadata") if isinstance(tree, YMap) else None
    marks = tree_meta.get("annotations") if isinstance(tree_meta, YMap) else None
    if not isinstance(annotations, dict) or not isinstance(marks, YMap):
        return
    for key, value in annotations.items():
        if isinstance(value, str | dict | list):
            continue
        mark = marks.marks.get(key)
        raw = _raw_plain(lines, mark[2], mark[3], value) if mark else None
        if raw is not None:
            annotations[key] = raw


def _raw_plain(lines: Sequence[str], line: int, column: int, value: Any) -> str | None:
    """The text of the plain scalar at ``line``:``column`` that reads as ``value``."""
    if not 1 <= line <= len(lines):
        return None
    rest = lines[line - 1][column - 1 :].split(" #", 1)[0]
    for candidate in (rest.strip(), re.split(r"[,}\]]", rest, maxsplit=1)[0].strip()):
        resolved = resolve_plain(candidate)
        if type(resolved) is type(value) and resolved == value:
            return candidate
    return None


def deep_copy(value: Any) -> Any:
    """A copy of a plain tree (much faster than :func:`copy.deepcopy`); keeps QuotedStr."""
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_copy(v) for v in value]
    return value


def canonical_json(obj: Any) -> str:
    """One stable JSON text for an object: sorted keys, no spaces (for comparing).

    Keys that are not strings (``{0: null}``, which YAML allows) are written with
    their type (``"!int 0"``), so keys of mixed types still sort and ``0`` stays
    apart from ``"0"``.
    """
    try:
        return json.dumps(
            obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
    except TypeError:  # keys of mixed types cannot be sorted
        return json.dumps(
            _string_keys(obj),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=str,
        )


def _string_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            (k if isinstance(k, str) else f"!{type(k).__name__} {k!r}"): _string_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_string_keys(v) for v in value]
    return value
