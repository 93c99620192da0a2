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
from typing import Any

from homelab_kit.yaml import YMap, YSeq, parse_text

_LEGACY_OCTAL = re.compile(r"[-+]?0[0-7]+")


class QuotedStr(str):
    """A string that was written quoted or as a block scalar in its YAML source."""

    __slots__ = ()


def _is_quoted(lines: list[str], line: int, column: int) -> bool:
    if not 1 <= line <= len(lines):
        return False
    text = lines[line - 1]
    index = column - 1
    return 0 <= index < len(text) and text[index] in "\"'|>"


def _legacy_int(value: int, lines: list[str], line: int, column: int) -> int:
    """``0400`` is octal (256) for kustomize and Kubernetes (YAML 1.1), not 400."""
    if not 1 <= line <= len(lines):
        return value
    match = _LEGACY_OCTAL.match(lines[line - 1], column - 1)
    if match is None or int(match.group(0)) != value:
        return value
    return int(match.group(0), 8)


def _scalar(item: Any, lines: list[str], position: tuple[int, int] | None) -> Any:
    if position is None:
        return item
    if isinstance(item, str):
        if "$" in item and _is_quoted(lines, *position):
            return QuotedStr(item)
    elif type(item) is int and abs(item) >= 8:
        return _legacy_int(item, lines, *position)
    return item


def _plain(value: Any, lines: list[str]) -> Any:
    """Copy a YMap/YSeq tree into plain containers, marking quoted ``$`` strings."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        marks = value.marks if isinstance(value, YMap) else {}
        for key, item in value.items():
            if isinstance(item, dict | list):
                out[key] = _plain(item, lines)
            else:
                mark = marks.get(key)
                out[key] = _scalar(item, lines, (mark[2], mark[3]) if mark else None)
        return out
    if isinstance(value, list):
        result: list[Any] = []
        positions = value.item_marks if isinstance(value, YSeq) else []
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                result.append(_plain(item, lines))
            else:
                where = positions[index] if index < len(positions) else None
                result.append(_scalar(item, lines, where))
        return result
    return value


# Problems the reader reports that leave the data as kustomize reads it: an explicit
# key after a ``<<`` merge of the same key is valid YAML (the explicit key wins).
_HARMLESS = frozenset({"duplicate-key"})


def parse_documents(text: str, path: str) -> tuple[list[Any], list[str]]:
    """Parse a YAML stream into plain documents (``None`` for empty ones) and errors.

    Errors are ``path:line:column: message`` strings for problems that stop kustomize.
    """
    documents, problems = parse_text(text, path)
    lines = text.splitlines()
    docs = [_plain(doc.data, lines) for doc in documents]
    messages = [
        f"{path}:{p.line}:{p.column}: {p.message}" if p.line else f"{path}: {p.message}"
        for p in problems
        if p.code not in _HARMLESS
    ]
    return docs, messages


def deep_copy(value: Any) -> Any:
    """A copy of a plain tree (much faster than :func:`copy.deepcopy`); keeps QuotedStr."""
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_copy(v) for v in value]
    return value


def canonical_json(obj: Any) -> str:
    """One stable JSON text for an object: sorted keys, no spaces (for comparing)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
