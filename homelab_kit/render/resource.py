"""An object while kustomize builds it: its current form, every id it had, its provenance.

kustomize remembers the names, namespaces and kinds an object had before a
transformer changed them (patches, ``replacements`` and name references select by
them); :class:`Resource` keeps that history, the ``namePrefix``/``nameSuffix`` of
each kustomization it went through, and where it and each changed field came from.
"""

from __future__ import annotations

from typing import Any

from homelab_kit.location import Location
from homelab_kit.model.provenance import FieldPath, Provenance
from homelab_kit.render.fieldspecs import CLUSTER_SCOPED, split_api_version

# group, version, kind, namespace, name
ResId = tuple[str, str, str, str, str]


class Resource:
    """An object being built, with every id it has had (first: the original).

    ``prefixes`` and ``suffixes`` are the ``namePrefix``/``nameSuffix`` of every
    kustomization the object went through, innermost first (empty ones included, as
    kustomize records them): a name reference with several candidates picks the one
    with the same history as the referrer.
    """

    __slots__ = ("fields", "ids", "needs_hash", "obj", "owner", "prefixes", "source", "suffixes")

    # how many times any object got a new id
    renames = 0

    def __init__(
        self, obj: dict[str, Any], needs_hash: bool = False, source: Location | None = None
    ) -> None:
        self.obj = obj
        self.needs_hash = needs_hash
        self.ids: list[ResId] = [self.cur_id()]
        self.prefixes: list[str] = []
        self.suffixes: list[str] = []
        self.source = source or Location("")
        self.fields: dict[FieldPath, Location] | None = None
        # the id cache of the Resources this object was last added to (not the list
        # itself: no reference cycle), stale when the object gets a new id
        self.owner: _IdCache | None = None

    def note(self, path: FieldPath, where: Location) -> None:
        """Record that the field at ``path`` was set by the entry at ``where``."""
        if self.fields is None:
            self.fields = {}
        self.fields[path] = where

    def provenance(self) -> Provenance:
        return Provenance(self.source, dict(self.fields) if self.fields else {})

    def cur_id(self) -> ResId:
        obj = self.obj
        group, version = split_api_version(obj.get("apiVersion"))
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = {}
        kind = obj.get("kind")
        namespace, name = meta.get("namespace"), meta.get("name")
        return (
            group,
            version,
            kind if type(kind) is str else str(kind or ""),
            namespace if type(namespace) is str else text(namespace),
            name if type(name) is str else text(name),
        )

    def record(self) -> None:
        """Remember the current id if a change gave the object a new one."""
        current = self.cur_id()
        if current != self.ids[-1]:
            self.ids.append(current)
            Resource.renames += 1
            if self.owner is not None:
                self.owner.stale = True

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind") or "")

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.obj.get("metadata")
        if not isinstance(meta, dict):
            meta = self.obj["metadata"] = {}
        return meta

    def name(self) -> str:
        return text(self.metadata.get("name"))

    def namespace(self) -> str:
        return text(self.metadata.get("namespace"))


def text(value: Any) -> str:
    return "" if value is None else str(value)


def effective_ns(kind: str, namespace: str) -> str:
    if kind in CLUSTER_SCOPED:
        return ""
    return namespace or "default"


class Resources(list[Resource]):
    """The objects a kustomization accumulates, with a cache of their ids' keys.

    kustomize refuses to add an object whose id is already there; checking that
    against every object's current id made adding n objects cost n² id builds.  The
    cache is rebuilt only when one of these objects got a new id
    (:meth:`Resource.record` marks it ``stale``) or the list changed other than
    through :meth:`add`.
    """

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        super().__init__()
        self._cache = _IdCache()

    def has(self, rid: ResId) -> bool:
        """Whether an object with an id equal to ``rid`` (kustomize's equality) is here."""
        cache = self._cache
        if cache.stale or cache.count != len(self):
            cache.keys = {id_key(r.cur_id()) for r in self}
            cache.count = len(self)
            cache.stale = False
        return id_key(rid) in cache.keys

    def add(self, resource: Resource, rid: ResId | None = None) -> None:
        """Append ``resource`` (its id checked with :meth:`has`) and keep the cache.

        ``rid``: its current id, when the caller has it at hand.
        """
        self.append(resource)
        cache = resource.owner = self._cache
        if not cache.stale and cache.count == len(self) - 1:
            cache.keys.add(id_key(resource.cur_id() if rid is None else rid))
            cache.count = len(self)
        else:
            cache.stale = True

    def remove(self, resource: Resource) -> None:
        super().remove(resource)
        self._cache.stale = True


class _IdCache:
    """The keys of a :class:`Resources`' ids, for how many objects, and whether stale."""

    __slots__ = ("count", "keys", "stale")

    def __init__(self) -> None:
        self.keys: set[tuple[str, ...]] = set()
        self.count = -1
        self.stale = True


def id_key(rid: ResId) -> tuple[str, ...]:
    """What :func:`id_equals` compares: group, version, kind, name, effective namespace."""
    return (rid[0], rid[1], rid[2], rid[4], effective_ns(rid[2], rid[3]))


def id_equals(a: ResId, b: ResId) -> bool:
    return a[:3] == b[:3] and a[4] == b[4] and effective_ns(a[2], a[3]) == effective_ns(b[2], b[3])


def id_text(rid: ResId) -> str:
    group, version, kind, namespace, name = rid
    gvk = f"{kind}.{version or '[noVer]'}.{group or '[noGrp]'}"
    return f"{gvk}/{name}.{namespace or '[noNs]'}"
