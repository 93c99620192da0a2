"""CustomResourceDefinitions to strict JSON schemas, and the on-disk schema cache.

A CRD's ``openAPIV3Schema`` is OpenAPI, not JSON Schema, and the API server reads it
with rules of its own.  :func:`strict_schema` applies them so a plain JSON-schema
validator judges an object the way the API server would, and strictly, the way
``kubeconform -strict`` means to:

* every object that declares ``properties`` rejects unknown fields, the root included
  (kubeconform's ``openapi2jsonschema`` leaves the root open, so ``sepc:`` passes);
* ``x-kubernetes-preserve-unknown-fields: true`` keeps a node open (openapi2jsonschema
  closes such nodes by mistake);
* ``x-kubernetes-int-or-string`` becomes ``integer or string``, ``nullable`` adds
  ``null`` to the type;
* a required field that has a ``default`` is not required: the API server defaults
  it before validating;
* ``x-kubernetes-embedded-resource`` objects may carry apiVersion, kind and metadata.

Patterns are kept as written; the compiler translates Go RE2 syntax Python lacks, or
skips the pattern, rather than crash.

The same function hardens schemas read from a user's schema directory (kubeconform
layout) and from the cache, which holds schemas converted from CRDs or pulled from a
live cluster, laid out as ``{group}/{kind}_{version}.json`` like kubeconform expects.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from homelab_kit.errors import HomelabKitError
from homelab_kit.fsutil import atomic_write_bytes

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = (
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "additionalItems",
    "unevaluatedItems",
    "unevaluatedProperties",
)


@attrs.frozen
class CrdSchema:
    """The strict JSON schema of one served version of a CRD."""

    group: str
    kind: str
    version: str
    schema: dict[str, Any] = attrs.field(repr=False, eq=False)

    @property
    def api_version(self) -> str:
        """``group/version`` as objects write it."""
        return f"{self.group}/{self.version}" if self.group else self.version


def strict_schema(node: Any, *, root: bool = True, _junctor: bool = False) -> Any:
    """A strict JSON-schema copy of an OpenAPI v3 (CRD) schema; see the module docstring.

    Inside ``allOf``/``anyOf``/``oneOf``/``not`` (the API server's "value validations",
    which may not declare fields) nothing is made strict, and an
    ``additionalProperties: false`` that openapi2jsonschema put there is removed: a
    branch such as ``{properties: {endpointSelector: {}}, required: [...]}`` only
    requires a field and must not reject its siblings.
    """
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        junctor = _junctor or key in ("allOf", "anyOf", "oneOf", "not")
        if key in _SCHEMA_MAPS and isinstance(value, Mapping):
            out[key] = {
                name: strict_schema(sub, root=False, _junctor=junctor)
                for name, sub in value.items()
            }
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [strict_schema(sub, root=False, _junctor=junctor) for sub in value]
        elif key in _SCHEMA_ONE and isinstance(value, Mapping):
            out[key] = strict_schema(value, root=False, _junctor=junctor)
        elif key == "items":
            out[key] = (
                [strict_schema(sub, root=False, _junctor=junctor) for sub in value]
                if isinstance(value, list)
                else strict_schema(value, root=False, _junctor=junctor)
            )
        else:
            out[key] = _plain(value)
    if _junctor:
        if out.get("additionalProperties") is False:
            del out["additionalProperties"]
        return out

    nullable = out.pop("nullable", None) is True
    if out.get("x-kubernetes-int-or-string") is True:
        out["type"] = ["integer", "string"]
        for combinator in ("anyOf", "oneOf"):
            if _only_types(out.get(combinator)):
                del out[combinator]
    if nullable:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]

    preserve = out.get("x-kubernetes-preserve-unknown-fields") is True
    if preserve:
        if out.get("additionalProperties") is False:
            del out["additionalProperties"]
    elif out.get("x-kubernetes-embedded-resource") is True and "properties" in out:
        properties = dict(out["properties"])
        properties.setdefault("apiVersion", {"type": "string"})
        properties.setdefault("kind", {"type": "string"})
        properties.setdefault("metadata", {"type": "object"})
        out["properties"] = properties

    if root:
        properties = dict(out.get("properties") or {})
        properties.setdefault("apiVersion", {"type": "string"})
        properties.setdefault("kind", {"type": "string"})
        properties.setdefault("metadata", {"type": "object"})
        out["properties"] = properties
        out.setdefault("type", "object")
    if (
        ("properties" in out or root)
        and "additionalProperties" not in out
        and "patternProperties" not in out
        and not preserve
    ):
        out["additionalProperties"] = False

    required = out.get("required")
    if isinstance(required, list):
        properties = out.get("properties") or {}
        kept = [
            name
            for name in required
            if not (isinstance(properties.get(name), Mapping) and "default" in properties[name])
        ]
        if kept:
            out["required"] = kept
        else:
            del out["required"]
    return out


def _plain(value: Any) -> Any:
    """A deep copy made of plain dicts and lists (parsed YAML carries position-aware ones)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _only_types(branches: Any) -> bool:
    return isinstance(branches, list) and all(
        isinstance(b, Mapping) and set(b) <= {"type", "description", "format"} for b in branches
    )


def crd_schemas(crd: Mapping[str, Any]) -> list[CrdSchema]:
    """The strict schema of every served version of a CustomResourceDefinition manifest.

    Accepts ``apiextensions.k8s.io/v1`` and the older ``v1beta1`` layout (one schema in
    ``spec.validation``).  A version without a schema accepts anything, as the API
    server would.  Raises :class:`HomelabKitError` for a document that is not a CRD.
    """
    if crd.get("kind") != "CustomResourceDefinition" or not isinstance(crd.get("spec"), Mapping):
        raise HomelabKitError("not a CustomResourceDefinition manifest")
    spec = crd["spec"]
    group = spec.get("group")
    names = spec.get("names")
    kind = names.get("kind") if isinstance(names, Mapping) else None
    if not isinstance(group, str) or not isinstance(kind, str):
        raise HomelabKitError("CustomResourceDefinition without spec.group or spec.names.kind")
    shared = _openapi(spec.get("validation"))
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        version = spec.get("version")
        versions = [{"name": version, "served": True}] if isinstance(version, str) else []
    found: list[CrdSchema] = []
    for entry in versions:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue
        if entry.get("served") is False:
            continue
        raw = _openapi(entry.get("schema")) or shared
        if raw is None:
            schema: dict[str, Any] = {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
            }
        else:
            schema = strict_schema(raw)
        schema = {"$schema": SCHEMA_DIALECT, **schema}
        schema["x-kubernetes-group-version-kind"] = [
            {"group": group, "kind": kind, "version": entry["name"]}
        ]
        found.append(CrdSchema(group, kind, entry["name"], schema))
    return found


def _openapi(holder: Any) -> Any:
    if isinstance(holder, Mapping) and isinstance(holder.get("openAPIV3Schema"), Mapping):
        return holder["openAPIV3Schema"]
    return None


def content_hash(document: Any) -> str:
    """A stable SHA-256 of a JSON-like document (key order does not matter)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- cache


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/homelab-kit/schemas`` (``~/.cache/...`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "homelab-kit" / "schemas"


def cache_path(cache_dir: Path, group: str, kind: str, version: str) -> Path:
    """Where a schema lives in the cache: kubeconform's ``{group}/{kind}_{version}.json``."""
    for part in (group, kind, version):
        if not part or "/" in part or "\\" in part or part in (".", ".."):
            raise HomelabKitError(f"cannot cache a schema named {group!r}/{kind!r}/{version!r}")
    return cache_dir / group / f"{kind.lower()}_{version}.json"


def write_cache(
    schema: Mapping[str, Any],
    group: str,
    kind: str,
    version: str,
    cache_dir: Path | None = None,
) -> Path:
    """Write ``schema`` into the cache under kubeconform's file name; return the path.

    The file is replaced atomically (write to a temporary file, then rename), and not
    rewritten at all when it already holds the same content (by SHA-256), so
    concurrent runs and repeated ``homelab-kit schemas pull`` are safe and cheap.
    """
    target = cache_path(cache_dir or default_cache_dir(), group, kind, version)
    payload = json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    data = payload.encode("utf-8")
    with contextlib.suppress(OSError):
        if hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(data).digest():
            return target
    _atomic_write(target, data)
    return target


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, data)


def converted_crd_schemas(crd: Mapping[str, Any], cache_dir: Path | None = None) -> list[CrdSchema]:
    """:func:`crd_schemas`, remembered by the CRD's content hash.

    Conversions are kept in memory for the process and, with ``cache_dir``, on disk in
    ``{cache_dir}/converted/{sha256}.json``, so an unchanged CRD is converted once.
    """
    digest = content_hash(crd)
    hit = _CONVERTED.get(digest)
    if hit is not None:
        return hit
    stored = cache_dir / "converted" / f"{digest}.json" if cache_dir is not None else None
    if stored is not None:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            entries = json.loads(stored.read_text(encoding="utf-8"))
            found = [CrdSchema(e["group"], e["kind"], e["version"], e["schema"]) for e in entries]
            _CONVERTED[digest] = found
            return found
    found = crd_schemas(crd)
    _CONVERTED[digest] = found
    if stored is not None:
        entries = [
            {"group": i.group, "kind": i.kind, "version": i.version, "schema": i.schema}
            for i in found
        ]
        with contextlib.suppress(OSError):
            _atomic_write(stored, json.dumps(entries, sort_keys=True).encode("utf-8"))
    return found


_CONVERTED: dict[str, list[CrdSchema]] = {}


def iter_cached(cache_dir: Path) -> Iterator[Path]:
    """Every schema file in a cache directory (``{group}/{kind}_{version}.json``)."""
    if not cache_dir.is_dir():
        return
    for group in sorted(cache_dir.iterdir()):
        if group.is_dir() and group.name != "converted":
            yield from sorted(group.glob("*_*.json"))
