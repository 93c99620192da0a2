"""kustomize ``replacements``: copy a field of one object into fields of others.

Follows kustomize's ``api/filters/replacement`` and kyaml's path matching, checked
against ``kubectl kustomize`` (kustomize v5.5):

* the **source** is the one object whose id (current or any earlier name, namespace
  or kind) matches ``group``/``version``/``kind``/``name``/``namespace`` exactly; its
  ``fieldPath`` (default ``metadata.name``) is read with kyaml's ``PathGetter``:
  fields, ``[field=value]`` (exact), list indexes, no ``*``; ``options.delimiter``
  and ``index`` pick one part of a scalar.  ``sourceValue`` (newer kustomize) gives
  the value itself.
* each **target** selects objects by id (exact), ``labelSelector`` and
  ``annotationSelector``, minus ``reject``; each of its ``fieldPaths`` (default
  ``metadata.name``) is matched with kyaml's ``PathMatcher``: ``[field=regex]``
  (an unanchored regular expression, as kustomize has it), ``[=regex]`` for scalar
  items, ``*`` for every item, list indexes; ``options.create`` creates what is
  missing.  A scalar target keeps its type (a string stays a string); a created
  field is typed from the text, as go-yaml reads an untagged scalar.
* a field path that matches nothing is an error, as in kustomize 5.

Path syntax: ``.`` separates fields, ``\\.`` is a literal dot, and ``[a.b/c]``
(brackets without ``=``) is one field whose name holds dots.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from homelab_kit.render._docs import deep_copy
from homelab_kit.render.fieldspecs import CLUSTER_SCOPED, split_api_version
from homelab_kit.yaml.reader import resolve_plain

DEFAULT_FIELD_PATH = "metadata.name"
FieldPath = tuple[str | int, ...]
# (group, version, kind, namespace, name), as the renderer's resource ids
ResId = tuple[str, str, str, str, str]
_ID_KEYS = ("group", "version", "kind", "name", "namespace")


class ReplacementError(ValueError):
    """A replacement cannot be applied (kustomize's message, never a field value)."""


class _Created:
    """A scalar field created by ``options.create``: typed from the text set into it."""

    __slots__ = ()


_CREATED = _Created()


# --------------------------------------------------------------------------- paths


def split_path(path: str) -> list[str]:
    """kyaml's ``SmarterPathSplitter``: split on ``.``, keep ``[...]`` and ``\\.`` whole."""
    pieces: list[str] = []
    for piece in path.split("."):
        if pieces and pieces[-1].endswith("\\"):
            pieces[-1] = pieces[-1][:-1] + "." + piece
        else:
            pieces.append(piece)
    result: list[str] = []
    index = 0
    while index < len(pieces):
        piece = pieces[index]
        if piece.startswith("[") and not piece.endswith("]"):
            bracketed = [piece]
            while index < len(pieces) - 1:
                index += 1
                bracketed.append(pieces[index])
                if pieces[index].endswith("]"):
                    break
            piece = ".".join(bracketed)
        result.append(piece)
        index += 1
    return [
        p[1:-1] if p.startswith("[") and p.endswith("]") and "=" not in p else p for p in result
    ]


def _is_list_match(part: str) -> bool:
    return part.startswith("[") and part.endswith("]")


def _is_index(part: str) -> bool:
    return part.isdigit() and part.isascii()


def _split_match(part: str) -> tuple[str, str]:
    field, sep, value = part[1:-1].partition("=")
    if not sep:
        raise ReplacementError(
            "list path element must contain fieldName=fieldValue for element to match"
        )
    return field, value


def _kind_name(value: Any) -> str:
    if isinstance(value, dict):
        return "MappingNode"
    if isinstance(value, list):
        return "SequenceNode"
    return "ScalarNode"


def _wrong_kind(expected: str, node: Any, path: FieldPath) -> ReplacementError:
    where = ".".join(str(p) for p in path) or "the object"
    return ReplacementError(
        f"wrong node kind at {where}: expected {expected} but got {_kind_name(node)}"
    )


def text_of(value: Any) -> str:
    """A scalar's text as kustomize holds it (``true``, ``3``, ``""`` for null)."""
    if value is None or isinstance(value, _Created):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return ""
    return str(value)


def lookup(obj: Any, parts: list[str]) -> Any:
    """kyaml's ``PathGetter`` (a replacement source): the value, or ``None`` if missing."""
    node = obj
    walked: FieldPath = ()
    for part in parts:
        if node is None:
            return None
        if part == "*":
            raise ReplacementError(
                "error looking up replacement source: wildcard is not supported in PathGetter"
            )
        if _is_list_match(part) or _is_index(part):
            if not isinstance(node, list):
                raise _wrong_kind("SequenceNode", node, walked)
            if _is_index(part):
                index = int(part)
                node = node[index] if index < len(node) else None
                walked += (index,)
                continue
            field, value = _split_match(part)
            found = None
            for index, item in enumerate(node):
                if field == "":
                    if not isinstance(item, dict | list) and text_of(item) == value:
                        found, walked = item, (*walked, index)
                        break
                elif (
                    isinstance(item, dict)
                    and not isinstance(item.get(field), dict | list)
                    and field in item
                    and text_of(item[field]) == value
                ):
                    found, walked = item, (*walked, index)
                    break
            node = found
            continue
        if not isinstance(node, dict):
            raise _wrong_kind("MappingNode", node, walked)
        node = node.get(part)
        walked += (part,)
    return node


# --------------------------------------------------------------------------- matching

Slot = tuple[Any, Any, FieldPath]  # (container, key or index, path from the object's root)


def _new_node(next_part: str, create: str) -> Any:
    if next_part and (_is_list_match(next_part) or _is_index(next_part)):
        return []
    if next_part:
        return {}
    return {} if create == "map" else [] if create == "list" else _CREATED


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ReplacementError(f"invalid regular expression {pattern!r}: {exc}") from None


def match(obj: dict[str, Any], parts: list[str], create: str | None) -> list[Slot]:
    """kyaml's ``PathMatcher``: every slot ``parts`` reaches in ``obj`` (created if asked).

    ``create`` is the kind of the value to be set (``"scalar"``, ``"map"`` or
    ``"list"``), or ``None`` not to create anything.
    """
    out: list[Slot] = []
    holder = [obj]
    _match(holder, 0, parts, create, (), out)
    return out


def _match(
    parent: Any, key: Any, parts: list[str], create: str | None, path: FieldPath, out: list[Slot]
) -> None:
    node = parent[key]
    if not parts:
        out.append((parent, key, path))
        return
    head, rest = parts[0], parts[1:]
    following = rest[0] if rest else ""
    if _is_index(head):
        if node is None:
            node = parent[key] = []
        if not isinstance(node, list):
            raise _wrong_kind("SequenceNode", node, path)
        index = int(head)
        if len(node) == index and create:
            node.append(_new_node(following, create))
        if len(node) < index + 1:
            raise ReplacementError(f"index {index} specified but only {len(node)} elements found")
        _match(node, index, rest, create, (*path, index), out)
        return
    if _is_list_match(head):
        _match_items(parent, key, head, rest, create, path, out)
        return
    if head == "*":
        if node is None:
            return
        if not isinstance(node, list):
            raise _wrong_kind("SequenceNode", node, path)
        for index in range(len(node)):
            _match(node, index, rest, create, (*path, index), out)
        return
    if node is None or isinstance(node, _Created):
        if not create:
            return
        node = parent[key] = {}
    if not isinstance(node, dict):
        raise _wrong_kind("MappingNode", node, path)
    if head not in node:
        if not create:
            return
        node[head] = _new_node(following, create)
    _match(node, head, rest, create, (*path, head), out)


def _match_items(
    parent: Any,
    key: Any,
    head: str,
    rest: list[str],
    create: str | None,
    path: FieldPath,
    out: list[Slot],
) -> None:
    field, pattern = _split_match(head)
    node = parent[key]
    if node is None or isinstance(node, _Created):
        node = []
    if not isinstance(node, list):
        raise _wrong_kind("SequenceNode", node, path)
    regex = _regex(pattern)
    before = len(out)
    for index, item in enumerate(node):
        if field == "":
            if not isinstance(item, dict | list) and regex.search(text_of(item).strip()):
                out.append((node, index, (*path, index)))
            continue
        if not isinstance(item, dict) or item.get(field) is None:
            continue
        if isinstance(item[field], dict | list) or not regex.search(text_of(item[field])):
            continue
        _match(node, index, rest, create, (*path, index), out)
    if len(out) > before or not create:
        return
    if node is not parent[key]:
        parent[key] = node
    if field == "":
        node.append(_CREATED)
        out.append((node, len(node) - 1, (*path, len(node) - 1)))
        return
    node.append({field: resolve_plain(pattern)})
    _match(node, len(node) - 1, rest, create, (*path, len(node) - 1), out)


# --------------------------------------------------------------------------- setting

_TAGS = ((bool, "!!bool"), (int, "!!int"), (float, "!!float"), (str, "!!str"))


def _tag(value: Any) -> str:
    if value is None:
        return "!!null"
    for kind, tag in _TAGS:
        if isinstance(value, kind):
            return tag
    return "!!map" if isinstance(value, dict) else "!!seq"


def _joined(options: Mapping[str, Any], current: Any, value: Any, index: int) -> str:
    delimiter = str(options["delimiter"])
    parts = text_of(current).split(delimiter)
    text = text_of(value)
    if index < 0:
        parts.insert(0, text)
    elif index >= len(parts):
        parts.append(text)
    else:
        parts[index] = text
    return delimiter.join(parts)


def set_value(slot: Slot, value: Any, options: Mapping[str, Any]) -> None:
    """kustomize's ``setFieldValue``: put ``value`` at ``slot``, keeping a scalar's type."""
    container, key, path = slot
    current = container[key]
    scalar_target = not isinstance(current, dict | list)
    text: str | None = None
    if options.get("delimiter"):
        if not scalar_target:
            raise ReplacementError("delimiter option can only be used with scalar nodes")
        text = _joined(options, current, value, _index(options))
    if not scalar_target:
        container[key] = deep_copy(value)
        return
    if text is None:
        text = text_of(value)
    if isinstance(current, _Created):
        container[key] = resolve_plain(text)
        return
    if isinstance(current, str):
        container[key] = text
        return
    resolved = resolve_plain(text)
    wanted = _tag(current)
    got = _tag(resolved)
    if got == wanted or (wanted == "!!float" and got == "!!int"):
        container[key] = float(resolved) if wanted == "!!float" else resolved
        return
    where = ".".join(str(p) for p in path)
    raise ReplacementError(f"cannot decode a {got} value as the {wanted} of {where}")


def _index(options: Mapping[str, Any]) -> int:
    raw = options.get("index", 0)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ReplacementError("options.index must be an integer")
    return raw


def refine(value: Any, options: Mapping[str, Any] | None) -> Any:
    """A source's ``options.delimiter``/``index``: one part of a scalar."""
    if not options or not options.get("delimiter"):
        return value
    if isinstance(value, dict | list):
        raise ReplacementError("delimiter option can only be used with scalar nodes")
    parts = text_of(value).split(str(options["delimiter"]))
    index = _index(options)
    if not 0 <= index < len(parts):
        raise ReplacementError(f"options.index {index} is out of bounds for the source value")
    return parts[index]


# --------------------------------------------------------------------------- selecting


def _effective_ns(kind: str, namespace: str) -> str:
    if kind in CLUSTER_SCOPED:
        return "~cluster"
    return namespace or "default"


def selected_by(rid: ResId, selector: Mapping[str, Any]) -> bool:
    """kustomize's ``ResId.IsSelectedBy``: every given field equal (namespaces effective)."""
    group, version, kind, namespace, name = rid
    for field, have in (("group", group), ("version", version), ("kind", kind), ("name", name)):
        want = selector.get(field)
        if want not in (None, "") and text_of(want) != have:
            return False
    want_ns = selector.get("namespace")
    if want_ns not in (None, ""):
        sel_kind = text_of(selector.get("kind"))
        if _effective_ns(sel_kind, text_of(want_ns)) != _effective_ns(kind, namespace):
            return False
    return True


def has_id(selector: Mapping[str, Any]) -> bool:
    return any(selector.get(k) not in (None, "") for k in _ID_KEYS)


def selector_text(selector: Mapping[str, Any], *, with_path: bool = True) -> str:
    """kustomize's ``SourceSelector.String()`` (``Kind.version.group/name.namespace``)."""
    kind = text_of(selector.get("kind")) or "[noKind]"
    version = text_of(selector.get("version")) or "[noVer]"
    group = text_of(selector.get("group")) or "[noGrp]"
    name = text_of(selector.get("name")) or "[noName]"
    namespace = text_of(selector.get("namespace")) or "[noNs]"
    result = [f"{kind}.{version}.{group}/{name}.{namespace}"]
    if with_path and selector.get("fieldPath"):
        result.append(text_of(selector["fieldPath"]))
    options = selector.get("options")
    if isinstance(options, Mapping) and (options.get("delimiter") or options.get("create")):
        create = "true" if options.get("create") else "false"
        result.append(
            f"{text_of(options.get('delimiter'))}({options.get('index', 0)}), create={create}"
        )
    return ":".join(result)


def gvk_of(obj: Mapping[str, Any]) -> tuple[str, str]:
    return split_api_version(obj.get("apiVersion"))


# --------------------------------------------------------------------------- applying


def source_value(
    replacement: Mapping[str, Any], candidates: Iterable[tuple[Any, list[ResId]]]
) -> Any:
    """The value a replacement copies: ``sourceValue``, or the source object's field."""
    if "sourceValue" in replacement and replacement.get("source") is not None:
        raise ReplacementError("value and resource selectors are mutually exclusive")
    if "sourceValue" in replacement:
        return text_of(replacement["sourceValue"])
    source = replacement.get("source")
    if not isinstance(source, Mapping):
        raise ReplacementError("replacements must specify a source and at least one target")
    found = None
    for obj, ids in candidates:
        if any(selected_by(rid, source) for rid in ids):
            if found is not None:
                raise ReplacementError(f"multiple matches for selector {selector_text(source)}")
            found = obj
    if found is None:
        raise ReplacementError(f"nothing selected by {selector_text(source)}")
    field_path = text_of(source.get("fieldPath")) or DEFAULT_FIELD_PATH
    value = lookup(found, split_path(field_path))
    if value is None or value == {} or value == []:
        raise ReplacementError(
            f"fieldPath `{field_path}` is missing for replacement source "
            f"{selector_text(source, with_path=False).split(':')[0]}"
        )
    options = source.get("options")
    return refine(value, options if isinstance(options, Mapping) else None)


def apply_target(
    target: Mapping[str, Any],
    value: Any,
    obj: dict[str, Any],
    note: Callable[[FieldPath, int], None],
) -> None:
    """Write ``value`` into every field path of ``target`` in ``obj``.

    ``note(path, number)`` is told each path set and the index of its field path.
    """
    raw_paths = target.get("fieldPaths") or [DEFAULT_FIELD_PATH]
    if not isinstance(raw_paths, list):
        raise ReplacementError("'fieldPaths' must be a list")
    raw_options = target.get("options")
    options: Mapping[str, Any] = raw_options if isinstance(raw_options, Mapping) else {}
    kind = "map" if isinstance(value, dict) else "list" if isinstance(value, list) else "scalar"
    create = kind if options.get("create") else None
    for number, raw in enumerate(raw_paths):
        field_path = text_of(raw)
        what = "find or create" if create else "find"
        try:
            slots = match(obj, split_path(field_path), create)
        except ReplacementError as exc:
            raise ReplacementError(
                f"unable to {what} field {field_path!r} in replacement target: {exc}"
            ) from None
        if not slots:
            raise ReplacementError(f"unable to {what} field {field_path!r} in replacement target")
        for slot in slots:
            set_value(slot, value, options)
            note(slot[2], number)


def target_selects(
    target: Mapping[str, Any],
    obj: Mapping[str, Any],
    ids: list[ResId],
    selector_matches: Callable[[Mapping[str, Any], Mapping[str, Any]], bool],
) -> bool:
    """Whether ``target`` (``select`` minus ``reject``) picks the object with ``ids``.

    ``selector_matches(selector, obj)`` answers the label and annotation selectors.
    """
    select = target.get("select")
    if not isinstance(select, Mapping):
        raise ReplacementError("target must specify resources to select")
    if not selector_matches(select, obj):
        return False
    rejects = target.get("reject") or []
    if not isinstance(rejects, list):
        raise ReplacementError("'reject' must be a list")
    for reject in rejects:
        if not isinstance(reject, Mapping):
            continue
        if (reject.get("labelSelector") or reject.get("annotationSelector")) and selector_matches(
            reject, obj
        ):
            return False
        if has_id(reject) and any(selected_by(rid, reject) for rid in ids):
            return False
    return any(selected_by(rid, select) for rid in ids)
