"""Plain Python containers that remember where their keys and items are.

The reader turns YAML into ``YMap`` (a ``dict``) and ``YSeq`` (a ``list``); scalars
are ordinary ``str``/``int``/``float``/``bool``/``None``.  Because they *are* dicts
and lists, checks, jsonschema and json.dumps use them as they are; the extra slots
hold 1-based positions, so any value can be traced back to its line and column.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# (key line, key column, value line, value column), all 1-based.
Marks = tuple[int, int, int, int]


class YMap(dict[Any, Any]):
    """A mapping with the position of itself, each key and each value."""

    __slots__ = ("column", "line", "marks")

    def __init__(
        self, line: int = 0, column: int = 0, marks: dict[Any, Marks] | None = None
    ) -> None:
        # no dict.__init__: the mapping starts empty (the reader makes thousands)
        self.line = line
        self.column = column
        self.marks: dict[Any, Marks] = {} if marks is None else marks

    def key_position(self, key: Any) -> tuple[int, int]:
        """Where ``key`` is written; the mapping's own position if unknown."""
        m = self.marks.get(key)
        return (m[0], m[1]) if m else (self.line, self.column)

    def value_position(self, key: Any) -> tuple[int, int]:
        """Where the value of ``key`` starts; the mapping's own position if unknown."""
        m = self.marks.get(key)
        return (m[2], m[3]) if m else (self.line, self.column)

    def __reduce__(self) -> Any:
        # A call of the class with its positions, then the items (pickle's SETITEMS):
        # unpickling makes one argument tuple per node instead of a state dict set
        # attribute by attribute, and writing it builds no state dict (see
        # homelab_kit.yaml.reader.dumps_parsed).
        return (YMap, (self.line, self.column, self.marks), None, None, iter(self.items()))


class YSeq(list[Any]):
    """A sequence with the position of itself and of each item."""

    __slots__ = ("column", "item_marks", "line")

    def __init__(
        self, line: int = 0, column: int = 0, item_marks: list[tuple[int, int]] | None = None
    ) -> None:
        # no list.__init__: the sequence starts empty (the reader makes thousands)
        self.line = line
        self.column = column
        self.item_marks: list[tuple[int, int]] = [] if item_marks is None else item_marks

    def item_position(self, index: int) -> tuple[int, int]:
        """Where item ``index`` starts; the sequence's own position if unknown."""
        if 0 <= index < len(self.item_marks):
            return self.item_marks[index]
        return (self.line, self.column)

    def __reduce__(self) -> Any:
        # as YMap's: the class called with its positions, then the items (APPENDS)
        return (YSeq, (self.line, self.column, self.item_marks), None, iter(self), None)


def position_of(root: Any, path: Iterable[str | int]) -> tuple[int, int] | None:
    """The 1-based (line, column) of the value at ``path`` under ``root``.

    Walks as far as the path exists and returns the deepest position found, so a
    missing key still points at the mapping that should hold it.  ``None`` when
    ``root`` carries no positions at all.
    """
    # Written out (no call per step): checks and models ask for some 100,000
    # positions per 1,000 apps.
    kind = type(root)
    if kind is YMap or kind is YSeq or isinstance(root, _POSITIONED):
        here: tuple[int, int] | None = (root.line, root.column)
    else:
        here = None
    node = root
    for part in path:
        kind = type(node)
        if kind is YMap or (kind is not YSeq and isinstance(node, YMap)):
            if part not in node:
                return here
            m = node.marks.get(part)
            here = (m[2], m[3]) if m else (node.line, node.column)
            node = node[part]
        elif (kind is YSeq or isinstance(node, YSeq)) and isinstance(part, int):
            size = len(node)
            if not -size <= part < size:
                return here
            index = part % size
            marks = node.item_marks
            here = marks[index] if index < len(marks) else (node.line, node.column)
            node = node[index]
        else:
            return here
    return here


_POSITIONED = (YMap, YSeq)


def key_position_of(root: Any, path: tuple[str | int, ...]) -> tuple[int, int] | None:
    """Like :func:`position_of`, but for a mapping key: where the key is written."""
    if not path:
        return position_of(root, path)
    parent = root
    for part in path[:-1]:
        if isinstance(parent, dict):  # step() written out
            parent = parent.get(part, _ABSENT)
            if parent is _ABSENT:
                return position_of(root, path)
        elif isinstance(parent, list) and isinstance(part, int):
            if not -len(parent) <= part < len(parent):
                return position_of(root, path)
            parent = parent[part]
        else:
            return position_of(root, path)
    last = path[-1]
    if isinstance(parent, YMap) and last in parent:
        m = parent.marks.get(last)
        return (m[0], m[1]) if m else (parent.line, parent.column)
    return position_of(root, path)


_ABSENT = object()


def step(node: Any, part: str | int) -> tuple[bool, Any]:
    """One step down a path: ``(True, child)``, or ``(False, None)`` when absent."""
    if isinstance(node, dict):
        return (True, node[part]) if part in node else (False, None)
    if isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
        return True, node[part]
    return False, None
