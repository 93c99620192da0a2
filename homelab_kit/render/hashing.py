"""The name suffix kustomize gives generated ConfigMaps and Secrets.

kustomize hashes the JSON encoding (Go's ``encoding/json``: sorted keys, HTML
characters escaped) of a small map taken from the object, with SHA-256, and turns
the first ten hex digits into a name-safe string by swapping the characters that
could spell words or be confused (``0``, ``1``, ``3``, ``a``, ``e``).

The map is ``{kind, name, data}`` (plus ``binaryData`` for a ConfigMap, ``type`` and
``stringData`` for a Secret), but kustomize looks the name up with
``yaml.Lookup("metadata/name")``, a single field literally called
``metadata/name``, which never exists: the name is always ``""``.  Two generators
with the same data therefore get the same suffix.  We reproduce that exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

_ENCODE = str.maketrans({"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"})
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028"}
_GO_ESCAPES["\u2029"] = "\\u2029"


def go_json(value: Any) -> str:
    """Encode ``value`` as Go's ``json.Marshal`` does for maps, strings and numbers."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if any(ch in text for ch in _GO_ESCAPES):
        for raw, escaped in _GO_ESCAPES.items():
            text = text.replace(raw, escaped)
    return text


def encode_hash(hex_digest: str) -> str:
    """kustomize's ``encode``: the first 10 hex digits with confusable characters swapped."""
    if len(hex_digest) < 10:
        raise ValueError("input length must be at least 10")
    return hex_digest[:10].translate(_ENCODE)


def _field(obj: Mapping[str, Any], key: str) -> Any:
    value = obj.get(key)
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return dict(value)
    return value if isinstance(value, str) else str(value)


def name_hash(obj: Mapping[str, Any]) -> str:
    """The hash suffix kustomize appends to the name of a generated object.

    >>> name_hash({"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}})
    'bdg947hgcc'
    """
    kind = obj.get("kind")
    name = ""  # see the module docstring: kustomize never finds the name
    encoded: dict[str, Any]
    if kind == "ConfigMap":
        encoded = {"kind": "ConfigMap", "name": name, "data": _field(obj, "data")}
        if isinstance(obj.get("binaryData"), Mapping):
            encoded["binaryData"] = dict(obj["binaryData"])
    elif kind == "Secret":
        encoded = {
            "kind": "Secret",
            "type": _field(obj, "type"),
            "name": name,
            "data": _field(obj, "data"),
        }
        if isinstance(obj.get("stringData"), Mapping):
            encoded["stringData"] = dict(obj["stringData"])
    else:
        encoded = dict(obj)
    digest = hashlib.sha256(go_json(encoded).encode("utf-8")).hexdigest()
    return encode_hash(digest)
