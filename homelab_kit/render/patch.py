"""Patches as kustomize applies them: strategic merge, JSON 6902 and label selectors.

Strategic merge follows kustomize's own merge (kyaml ``merge2``), not kubectl's:
lists of built-in Kubernetes types with a merge key (``containers`` by ``name``,
``volumeMounts`` by ``mountPath``...) are merged element by element, the patch's
elements first; every other list, and every list of a custom resource (kustomize has
no schema for those), is replaced.  ``null`` deletes a field; ``$patch: delete`` and
``$patch: replace`` work on maps and list elements.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from homelab_kit.render._docs import deep_copy
from homelab_kit.render.fieldspecs import split_api_version

_DELETE = object()

# API groups whose types kustomize knows from its built-in OpenAPI data.
_BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "policy",
        "autoscaling",
        "extensions",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "node.k8s.io",
        "certificates.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "resource.k8s.io",
    }
)

# List fields of built-in types that merge by a key, by field name.
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "schedulingGates": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "webhooks": "name",
    "ports": "containerPort",
}
_PRIMITIVE_MERGE = frozenset({"finalizers"})


class PatchError(ValueError):
    """A patch could not be applied (the message says why, without values)."""


def is_builtin_type(obj: Mapping[str, Any]) -> bool:
    """Whether kustomize has a schema for ``obj`` (a built-in Kubernetes type)."""
    group, _ = split_api_version(obj.get("apiVersion"))
    return group in _BUILTIN_GROUPS


def _merge_key(path: tuple[str, ...], kind: str) -> str | None:
    field = path[-1]
    if field == "ports" and kind == "Service" and path == ("spec", "ports"):
        return "port"
    return _MERGE_KEYS.get(field)


def list_merge_key(obj: Mapping[str, Any], path: tuple[Any, ...]) -> str | None:
    """The key by which a strategic merge merges the list at ``path`` of ``obj``, if any."""
    if not is_builtin_type(obj) or not path or not isinstance(path[-1], str):
        return None
    return _merge_key(tuple(str(p) for p in path), str(obj.get("kind") or ""))


def strip_directives(value: Any) -> Any:
    """A copy of a patch value without ``$patch``-style directives."""
    if isinstance(value, dict):
        return {
            k: strip_directives(v)
            for k, v in value.items()
            if not (isinstance(k, str) and k.startswith("$")) and v is not None
        }
    if isinstance(value, list):
        return [
            strip_directives(v)
            for v in value
            if not (isinstance(v, dict) and v.get("$patch") in ("delete", "replace"))
        ]
    return value


def strategic_merge(target: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Apply a strategic-merge ``patch`` to ``target`` and return the result (new dict)."""
    known = is_builtin_type(target)
    kind = str(target.get("kind") or "")
    result = _merge_map(target, patch, (), known, kind)
    if result is _DELETE:
        return {}
    assert isinstance(result, dict)
    return result


def _merge_map(
    dest: Mapping[str, Any],
    patch: Mapping[str, Any],
    path: tuple[str, ...],
    known: bool,
    kind: str,
) -> Any:
    directive = patch.get("$patch")
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return strip_directives(patch)
    result = dict(dest)
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if isinstance(key, str) and key.startswith("$"):
            if key.startswith("$deleteFromPrimitiveList/"):
                field = key.split("/", 1)[1]
                if isinstance(result.get(field), list) and isinstance(value, list):
                    result[field] = [v for v in result[field] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
            continue
        current = result.get(key)
        here = (*path, str(key))
        if isinstance(value, dict) and isinstance(current, dict):
            merged = _merge_map(current, value, here, known, kind)
            if merged is _DELETE:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and isinstance(current, list):
            result[key] = _merge_list(current, value, here, known, kind)
        elif isinstance(value, dict) and value.get("$patch") == "delete":
            result.pop(key, None)
        else:
            result[key] = strip_directives(value)
    if isinstance(retain, list):
        keep = {str(k) for k in retain}
        result = {k: v for k, v in result.items() if k in keep or k not in dest}
    return result


def _merge_list(
    dest: list[Any], patch: list[Any], path: tuple[str, ...], known: bool, kind: str
) -> list[Any]:
    if any(isinstance(v, dict) and v.get("$patch") == "replace" for v in patch):
        return [strip_directives(v) for v in patch if not isinstance(v, dict) or "$patch" not in v]
    key = _merge_key(path, kind) if known else None
    if known and path[-1] in _PRIMITIVE_MERGE:
        merged = [deep_copy(v) for v in patch]
        merged += [v for v in dest if v not in merged]
        return merged
    if key is None or not all(isinstance(v, dict) for v in (*dest, *patch)):
        return [strip_directives(v) for v in patch if not _is_directive(v, "delete")]
    by_key = {item.get(key): item for item in dest if key in item}
    seen: set[Any] = set()
    result: list[Any] = []
    for item in patch:
        if key not in item:
            result.append(strip_directives(item))
            continue
        value = item[key]
        if value in seen:
            continue
        seen.add(value)
        if item.get("$patch") == "delete":
            continue
        if value in by_key:
            merged = _merge_map(by_key[value], item, path, known, kind)
            if merged is _DELETE or not merged:
                continue
            result.append(merged)
        else:
            result.append(strip_directives(item))
    for item in dest:
        if key in item and item[key] in seen:
            continue
        result.append(item)
    return result


def _is_directive(value: Any, name: str) -> bool:
    return isinstance(value, dict) and value.get("$patch") == name


# --------------------------------------------------------------------------- JSON 6902


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchError(f"invalid JSON pointer {path!r}")
    if path == "":
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _resolve(doc: Any, parts: list[str], op: str, path: str) -> Any:
    node = doc
    for part in parts:
        if isinstance(node, dict):
            if part not in node:
                raise PatchError(f"{op} operation does not apply: doc is missing path: {path}")
            node = node[part]
        elif isinstance(node, list):
            index = _index(part, len(node), path, op)
            if index >= len(node):
                raise PatchError(f"{op} operation does not apply: doc is missing path: {path}")
            node = node[index]
        else:
            raise PatchError(f"{op} operation does not apply: doc is missing path: {path}")
    return node


def _index(part: str, length: int, path: str, op: str) -> int:
    if part == "-":
        return length
    if not re.fullmatch(r"-?[0-9]+", part):
        raise PatchError(f"{op} operation does not apply: invalid index in {path}")
    index = int(part)
    if index < 0:
        index += length
    if index < 0:
        raise PatchError(f"{op} operation does not apply: index out of range in {path}")
    return index


def _add(doc: Any, parts: list[str], value: Any, path: str, op: str = "add") -> Any:
    if not parts:
        return value
    parent = _resolve(doc, parts[:-1], op, path)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        index = _index(last, len(parent), path, op)
        if index > len(parent):
            raise PatchError(f"{op} operation does not apply: index out of range in {path}")
        parent.insert(index, value)
    else:
        raise PatchError(f"{op} operation does not apply: doc is missing path: {path}")
    return doc


def _remove(doc: Any, parts: list[str], path: str, op: str = "remove") -> Any:
    if not parts:
        raise PatchError(f"{op} operation does not apply: cannot remove the document root")
    parent = _resolve(doc, parts[:-1], op, path)
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"{op} operation does not apply: doc is missing path: {path}")
        return parent.pop(last)
    if isinstance(parent, list):
        index = _index(last, len(parent), path, op)
        if index >= len(parent):
            raise PatchError(f"{op} operation does not apply: doc is missing path: {path}")
        return parent.pop(index)
    raise PatchError(f"{op} operation does not apply: doc is missing path: {path}")


def apply_json6902(target: dict[str, Any], operations: list[Any]) -> dict[str, Any]:
    """Apply RFC 6902 ``operations`` to a copy of ``target``."""
    doc: Any = deep_copy(target)
    for number, operation in enumerate(operations):
        if not isinstance(operation, Mapping):
            raise PatchError(f"operation {number} is not a mapping")
        op = operation.get("op")
        path = operation.get("path", "")
        parts = _pointer(path)
        if op == "add":
            doc = _add(doc, parts, deep_copy(operation.get("value")), path)
        elif op == "remove":
            _remove(doc, parts, path)
        elif op == "replace":
            if not parts:
                doc = deep_copy(operation.get("value"))
                continue
            _resolve(doc, parts, "replace", path)
            parent = _resolve(doc, parts[:-1], "replace", path)
            if isinstance(parent, dict):
                parent[parts[-1]] = deep_copy(operation.get("value"))
            else:
                parent[_index(parts[-1], len(parent), path, "replace")] = deep_copy(
                    operation.get("value")
                )
        elif op in ("move", "copy"):
            source = operation.get("from", "")
            from_parts = _pointer(source)
            if op == "move":
                value = _remove(doc, from_parts, source, op)
            else:
                value = deep_copy(_resolve(doc, from_parts, op, source))
            doc = _add(doc, parts, value, path, op)
        elif op == "test":
            if _resolve(doc, parts, "test", path) != operation.get("value"):
                raise PatchError(f"test operation failed at {path}")
        else:
            raise PatchError(f"unknown JSON patch operation {op!r}")
    if not isinstance(doc, dict):
        raise PatchError("JSON patch turned the object into a non-object")
    return doc


# --------------------------------------------------------------------------- selectors

_REQUIREMENT = re.compile(
    r"\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9_./-]+)\s*"
    r"(?:(?P<op>==|=|!=|\s+in\s+|\s+notin\s+)\s*(?P<value>\([^)]*\)|[A-Za-z0-9_.-]*))?\s*"
)


def _split_selector(selector: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def matches_label_selector(selector: str, labels: Mapping[str, Any]) -> bool:
    """Whether ``labels`` satisfy a Kubernetes label selector string.

    Raises :class:`PatchError` for a selector that cannot be parsed.
    """
    for requirement in _split_selector(selector):
        match = _REQUIREMENT.fullmatch(requirement)
        if match is None:
            raise PatchError(f"cannot parse label selector {selector!r}")
        key = match["key"]
        op = (match["op"] or "").strip()
        value = match["value"] or ""
        present = key in labels
        actual = str(labels.get(key, ""))
        if match["neg"]:
            if op or present:
                return False
        elif not op:
            if not present:
                return False
        elif op in ("=", "=="):
            if not present or actual != value:
                return False
        elif op == "!=":
            if present and actual == value:
                return False
        else:
            values = {v.strip() for v in value.strip("()").split(",")}
            if op == "in" and (not present or actual not in values):
                return False
            if op == "notin" and present and actual in values:
                return False
    return True
