"""What every model shares: the document it came from and typed field readers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from homelab_kit.location import Location
from homelab_kit.yaml import YamlDocument, key_position_of, position_of

Path_ = tuple[str | int, ...]
_MISSING: Any = object()
# dict first: isinstance against the Mapping ABC alone is several times slower
_MAPPINGS = (dict, Mapping)


@attrs.frozen
class DocumentRef:
    """One Kubernetes-style document of a file, with helpers to locate its fields.

    ``path`` is relative to the repository root; ``index`` counts documents from 0.
    ``data`` may hold secret values, so it never appears in a repr.
    """

    path: str
    index: int
    data: Mapping[str, Any] = attrs.field(repr=False, eq=False)
    start_line: int = attrs.field(default=1, eq=False)

    @classmethod
    def from_document(cls, path: str, document: YamlDocument) -> DocumentRef:
        return cls(path, document.index, document.data, document.start_line)

    @property
    def api_version(self) -> str:
        value = self.data.get("apiVersion")
        return value if isinstance(value, str) else ""

    @property
    def kind(self) -> str:
        value = self.data.get("kind")
        return value if isinstance(value, str) else ""

    @property
    def group(self) -> str:
        """The API group of apiVersion: ``""`` for core ``v1``."""
        api = self.data.get("apiVersion")
        if not isinstance(api, str):
            return ""
        slash = api.rfind("/")
        return api[:slash] if slash >= 0 else ""

    @property
    def name(self) -> str:
        meta = self.data.get("metadata")
        value = meta.get("name") if isinstance(meta, _MAPPINGS) else None
        return value if isinstance(value, str) else ""

    @property
    def namespace(self) -> str | None:
        meta = self.data.get("metadata")
        value = meta.get("namespace") if isinstance(meta, _MAPPINGS) else None
        return value if isinstance(value, str) else None

    def location(self, *path: str | int) -> Location:
        """Where the value at ``path`` is (its nearest existing parent if missing)."""
        pos = position_of(self.data, path)
        if pos is None:
            return Location(self.path, self.start_line, 1)
        return Location(self.path, pos[0], pos[1])

    def key_location(self, *path: str | int) -> Location:
        """Where the last key of ``path`` is written (for unknown or misplaced keys)."""
        pos = key_position_of(self.data, tuple(path))
        if pos is None:
            return Location(self.path, self.start_line, 1)
        return Location(self.path, pos[0], pos[1])

    def get(self, *path: str | int, default: Any = None) -> Any:
        """The value at ``path``, or ``default`` where any step is missing."""
        # :func:`~homelab_kit.yaml.nodes.step` written out: the models and checks
        # read some 200,000 fields per 1,000 apps.
        node: Any = self.data
        for part in path:
            if isinstance(node, dict):
                node = node.get(part, _MISSING)
                if node is _MISSING:
                    return default
            elif isinstance(node, list) and isinstance(part, int):
                if not -len(node) <= part < len(node):
                    return default
                node = node[part]
            else:
                return default
        return node

    def str_at(self, *path: str | int) -> str | None:
        return as_text(self.get(*path))

    def bool_at(self, *path: str | int) -> bool | None:
        value = self.get(*path)
        return value if isinstance(value, bool) else None

    def int_at(self, *path: str | int) -> int | None:
        value = self.get(*path)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def list_at(self, *path: str | int) -> list[Any]:
        value = self.get(*path)
        return value if isinstance(value, list) else []

    def map_at(self, *path: str | int) -> Mapping[str, Any]:
        value = self.get(*path)
        return value if isinstance(value, _MAPPINGS) else {}


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one (for tolerant reading)."""
    return value if isinstance(value, _MAPPINGS) else {}


def as_text(value: Any) -> str | None:
    """A scalar as text (``8080`` -> ``"8080"``); None for a boolean, null or collection."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        return str(value)
    return None


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty one (``files: true`` lists nothing)."""
    return value if isinstance(value, list) else []


def source_field() -> Any:
    """``source: Location``: kept out of equality and repr, as STYLE asks."""
    return attrs.field(eq=False, repr=False)


def doc_field() -> Any:
    """The document a model was built from, for checks that need a field's position."""
    return attrs.field(eq=False, repr=False)


@attrs.frozen
class ObjectKey:
    """The identity of a Kubernetes object: group/kind plus namespace and name."""

    kind: str
    name: str
    namespace: str | None = None
    group: str = ""

    def __str__(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"
