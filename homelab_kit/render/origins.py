"""Where the renderer's changes were written: the fields of a :class:`Provenance`.

The renderer records, for every field a patch or transformer sets, the place in the
repository that set it.  These helpers turn a patch's positioned tree (from
:func:`~homelab_kit.render._docs.parse_located`) and the path of the changed field
into :class:`~homelab_kit.location.Location` values.  They only read positions the
parser already has, so recording costs a dictionary entry per changed field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from homelab_kit.location import Location
from homelab_kit.model.provenance import FieldPath, value_at
from homelab_kit.render.patch import list_merge_key
from homelab_kit.yaml import YMap, YSeq, position_of

Note = Callable[[FieldPath, Location], None]
_IDENTITY = frozenset({("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace")})


@attrs.frozen
class Origin:
    """Where a patch's text is: a file, or a block scalar inside a kustomization.

    A position ``(line, column)`` of the patch text is ``path:line_offset +
    line:column_offset + column`` in the repository; ``fixed`` (when the text is not
    a block scalar) stands for every position.
    """

    path: str
    line_offset: int = 0
    column_offset: int = 0
    fixed: Location | None = None

    def at(self, line: int, column: int) -> Location:
        if self.fixed is not None:
            return self.fixed
        return Location(self.path, line + self.line_offset, column + self.column_offset)


@attrs.frozen
class LocatedPatch:
    """A patch document's positioned tree and where its text lives."""

    tree: Any
    origin: Origin


def note_smp(
    obj: Mapping[str, Any], tree: YMap, origin: Origin, note: Note, prefix: FieldPath = ()
) -> None:
    """Record each field a strategic-merge patch wrote, at the patch's key."""
    for key, value in tree.items():
        if isinstance(key, str) and key.startswith("$"):
            continue
        path = (*prefix, key)
        if path in _IDENTITY:
            continue
        if isinstance(value, YMap) and value:
            note_smp(obj, value, origin, note, path)
            continue
        if isinstance(value, YSeq) and value and all(isinstance(i, YMap) for i in value):
            current = value_at(obj, path)
            merge_key = list_merge_key(obj, path)
            if merge_key and isinstance(current, list):
                for item in value:
                    index = _index_of(current, merge_key, item.get(merge_key))
                    if index is None:
                        continue
                    # the item's own fields, not the item: the rest came from elsewhere
                    fields = YMap(item.line, item.column)
                    fields.update({k: v for k, v in item.items() if k != merge_key})
                    fields.marks = item.marks
                    note_smp(obj, fields, origin, note, (*path, index))
                continue
        note(path, origin.at(*tree.key_position(key)))


def note_json6902(
    obj: Mapping[str, Any], operations: list[Any], tree: Any, origin: Origin, note: Note
) -> None:
    """Record the path of each JSON 6902 operation that leaves a value, at the operation."""
    for number, operation in enumerate(operations):
        if not isinstance(operation, Mapping) or operation.get("op") in ("remove", "test"):
            continue
        path = _pointer_path(obj, operation.get("path"))
        if path is None:
            continue
        pos = position_of(tree, (number,)) if isinstance(tree, YSeq) else None
        note(path, origin.at(*pos) if pos else origin.at(1, 1))


def note_maps(
    objects: Iterable[tuple[Mapping[str, Any], Note]],
    paths: Callable[[Mapping[str, Any]], Iterable[tuple[str, ...]]],
    pairs: Mapping[str, str],
    where: Callable[[str], Location],
) -> None:
    """Record ``path + (key,)`` for each key of ``pairs`` and each map ``paths`` gives."""
    for obj, note in objects:
        for path in paths(obj):
            for key in pairs:
                note((*path, key), where(key))


def reaches(obj: Any, path: tuple[str, ...]) -> bool:
    """Whether ``path`` (mapping keys only) exists in ``obj``."""
    node = obj
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def tree_location(path: str, tree: Any, keys: Iterable[str | int]) -> Location:
    """The location of ``keys`` in a positioned tree read from ``path``."""
    pos = position_of(tree, tuple(keys))
    return Location(path, pos[0], pos[1]) if pos else Location(path)


def _index_of(items: list[Any], key: str, value: Any) -> int | None:
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get(key) == value:
            return index
    return None


def _pointer_path(obj: Any, pointer: Any) -> FieldPath | None:
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        return None
    path: list[str | int] = []
    node = obj
    for raw in pointer[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            if part == "-":
                index = len(node) - 1
            elif part.lstrip("-").isdigit():
                index = int(part) % len(node) if node else 0
            else:
                return None
            path.append(index)
            node = node[index] if 0 <= index < len(node) else None
        elif isinstance(node, dict):
            path.append(part)
            node = node.get(part)
        else:
            return None
    return tuple(path)
