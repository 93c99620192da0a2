"""A HelmRelease's values as Helm receives them, and which of them are secret.

helm-controller merges, in order: each ``spec.valuesFrom`` entry (a ConfigMap's
or Secret's ``valuesKey``, default ``values.yaml``), deep-merged into what came
before, or, with ``targetPath``, set at that path as ``helm --set`` would; then
``spec.values`` on top.  The ConfigMaps and Secrets are looked up in the
cluster's desired state (what the repository declares); one that is not there
(created at run time by an operator, say) is named in a note, never guessed.
Every path whose value came from a Secret is returned, so the diff can mask it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from typing import Any

from homelab_kit.model.secrets import is_sops_document
from homelab_kit.yaml import parse_text

Path = tuple[str | int, ...]
Lookup = Callable[[str, str | None, str], Mapping[str, Any] | None]
"""``lookup(kind, namespace, name)``: a ConfigMap or Secret of the cluster, or None."""

_INDEX = re.compile(r"^(.*?)\[(\d+)\]$")


def secret_entries(secret: Mapping[str, Any]) -> dict[str, str | None]:
    """Each key of a Secret and its value as text (``stringData`` wins, as the API server does).

    A value that is not valid base64 (or not text) maps to None.
    """
    out: dict[str, str | None] = {}
    data = secret.get("data")
    for key, value in data.items() if isinstance(data, Mapping) else ():
        try:
            out[str(key)] = base64.b64decode(str(value), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            out[str(key)] = None
    string_data = secret.get("stringData")
    for key, value in string_data.items() if isinstance(string_data, Mapping) else ():
        out[str(key)] = None if value is None else str(value)
    return out


def merged_values(
    release: Mapping[str, Any], namespace: str | None, lookup: Lookup
) -> tuple[dict[str, Any], set[Path], list[str]]:
    """``release``'s values as Helm gets them, the paths that came from Secrets, and notes.

    Notes name a ``valuesFrom`` source the repository does not declare, or one that
    is SOPS-encrypted; they never hold a value.
    """
    spec = release.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    result: dict[str, Any] = {}
    secret_paths: set[Path] = set()
    notes: list[str] = []
    refs = spec.get("valuesFrom")
    for ref in refs if isinstance(refs, list) else ():
        if not isinstance(ref, Mapping):
            continue
        kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        key = str(ref.get("valuesKey") or "values.yaml")
        source = lookup(kind, namespace, name)
        if source is None:
            notes.append(f"valuesFrom {kind}/{name} is not in the repository; not merged")
            continue
        if kind == "Secret" and is_sops_document(source):
            notes.append(f"valuesFrom Secret/{name} is SOPS-encrypted; not merged")
            continue
        if kind == "Secret":
            text = secret_entries(source).get(key)
        else:
            data = source.get("data")
            raw = data.get(key) if isinstance(data, Mapping) else None
            text = None if raw is None else str(raw)
        if text is None:
            if ref.get("optional") is not True:
                notes.append(f"valuesFrom {kind}/{name} has no key {key!r}")
            continue
        target = ref.get("targetPath")
        if isinstance(target, str) and target:
            path = _target_path(target)
            _set(result, path, _typed(text))
            if kind == "Secret":
                secret_paths.add(path)
            continue
        documents, problems = parse_text(text, f"{kind}/{name}:{key}")
        values = documents[0].data if documents and not problems else None
        if not isinstance(values, Mapping):
            if text.strip():
                notes.append(f"valuesFrom {kind}/{name} key {key!r} is not a YAML mapping")
            continue
        if kind == "Secret":
            secret_paths.update(_leaves(values, ()))
        _merge(result, values)
    inline = spec.get("values")
    if isinstance(inline, Mapping):
        _merge(result, inline)
    return result, secret_paths, notes


def _merge(into: dict[str, Any], values: Mapping[str, Any]) -> None:
    """Helm's ``MergeMaps``: mappings merge key by key, anything else replaces."""
    for key, value in values.items():
        here = into.get(key)
        if isinstance(value, Mapping) and isinstance(here, dict):
            _merge(here, value)
        elif isinstance(value, Mapping):
            fresh: dict[str, Any] = {}
            _merge(fresh, value)
            into[key] = fresh
        else:
            into[key] = value


def _leaves(node: Any, path: Path) -> list[Path]:
    if isinstance(node, Mapping):
        return [leaf for k, v in node.items() for leaf in _leaves(v, (*path, str(k)))] or [path]
    if isinstance(node, list):
        return [leaf for i, v in enumerate(node) for leaf in _leaves(v, (*path, i))] or [path]
    return [path]


def _target_path(text: str) -> Path:
    """``a.b\\.c[1]`` -> ``("a", "b.c", 1)`` (Helm's ``--set`` path syntax)."""
    parts: list[str] = []
    current = ""
    escaped = False
    for char in text:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ".":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    path: list[str | int] = []
    for part in parts:
        indexes: list[int] = []
        while match := _INDEX.match(part):
            part, index = match[1], int(match[2])
            indexes.insert(0, index)
        path.append(part)
        path.extend(indexes)
    return tuple(path)


def _typed(text: str) -> Any:
    """A ``--set`` value: ``true``/``false``, ``null``, integers, else the text."""
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if re.fullmatch(r"-?[1-9]\d{0,17}|0", text):
        return int(text)
    return text


def _set(into: dict[str, Any], path: Path, value: Any) -> None:
    node: Any = into
    for i, part in enumerate(path):
        last = i == len(path) - 1
        nxt: Any = value if last else ([] if isinstance(path[i + 1], int) else {})
        if isinstance(part, int) and isinstance(node, list):
            while len(node) <= part:
                node.append(None)
            if last or not isinstance(node[part], (dict, list)):
                node[part] = nxt
            node = node[part]
        elif isinstance(node, dict):
            if last or not isinstance(node.get(part), (dict, list)):
                node[part] = nxt
            node = node[part]
        else:
            return
