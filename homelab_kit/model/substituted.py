"""Where ``postBuild`` substitution filled a field: its ``${VAR}`` and the value's origin.

kustomize-controller substitutes ``${VAR}`` in every object a Flux Kustomization
builds, with variables from ``spec.postBuild.substitute`` and the ConfigMaps and
Secrets ``spec.postBuild.substituteFrom`` names (in order, later ones winning, the
inline ``substitute`` winning over all).  For each field that substitution changed,
the object's :class:`~homelab_kit.model.provenance.Provenance` records a
:class:`Substitution` per variable: where ``${VAR}`` is written (the field's value
in the source file, or the patch that wrote it), and where the value came from (the
``substitute`` entry, the ConfigMap's or Secret's key, or the reference's own
default).  No value is ever recorded, a Secret's least of all.

The records are worked out when first asked for (a lint that never looks at a
substituted field pays nothing), from the objects as built before substitution.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from homelab_kit.location import Location
from homelab_kit.model.base import DocumentRef
from homelab_kit.model.provenance import FieldPath, Provenance, value_at
from homelab_kit.yaml import position_of

if TYPE_CHECKING:
    from homelab_kit.model.clusters import DesiredObject
    from homelab_kit.model.repo import Repo

# ``${VAR`` not escaped as ``$${``; the grammar itself is homelab_kit.render.envsubst's.
_REFERENCE = re.compile(r"(?<!\$)\$\{([_a-zA-Z][_a-zA-Z0-9]*)(:?[=\-+?])?")
_DEFAULTS = frozenset({"=", ":=", ":-"})
_ALIAS = re.compile(r"\*([^\s,\[\]{}]+)")
_SCALARS = (int, float, type(None))  # with str: YAML's plain scalars (bool is an int)

SUBSTITUTE = "substitute"
CONFIG_MAP = "ConfigMap"
SECRET = "Secret"
DEFAULT = "default"


@attrs.frozen
class Substitution:
    """One ``${VAR}`` that postBuild substitution filled in a field.

    ``reference`` is where ``${VAR}`` is written.  ``origin`` says where the value
    came from: ``substitute`` (``spec.postBuild.substitute``), ``ConfigMap`` or
    ``Secret`` (a ``substituteFrom`` object, named by ``origin_object``), or
    ``default`` (unset, the reference's own ``${VAR:=word}``).  ``origin_location``
    is that entry: the ``substitute`` key, the object's ``data`` (or ``stringData``)
    key, or the reference for a default; ``key`` the key's name.  The value itself is
    never kept.
    """

    variable: str
    reference: Location
    origin: str
    origin_location: Location
    origin_object: str | None = None
    key: str | None = None

    def describe(self) -> str:
        """``${CLUSTER} from ConfigMap flux-system/cluster-settings key CLUSTER (file:l:c)``."""
        if self.origin == DEFAULT:
            return f"${{{self.variable}}} unset: its default, written at {self.reference}"
        if self.origin == SUBSTITUTE:
            where = f"spec.postBuild.substitute.{self.key}"
        else:
            where = f"{self.origin_object} key {self.key}"
        return f"${{{self.variable}}} from {where} ({self.origin_location})"


@attrs.frozen
class _Origin:
    origin: str
    location: Location
    obj: str | None
    key: str


_T = TypeVar("_T")


class _Lazy(Mapping[FieldPath, _T]):
    """A mapping worked out on first use; pickled as the plain dict it turns into."""

    def __init__(self, make: Callable[[], dict[FieldPath, _T]]) -> None:
        self._make: Callable[[], dict[FieldPath, _T]] | None = make
        self._data: dict[FieldPath, _T] = {}

    def _get(self) -> dict[FieldPath, _T]:
        if self._make is not None:
            self._data, self._make = self._make(), None
        return self._data

    def __getitem__(self, key: FieldPath) -> _T:
        return self._get()[key]

    # The Mapping mixins answer a missing key by catching KeyError: slow on the
    # many paths asked for that no patch or substitution set.
    def get(self, key: FieldPath, default: Any = None) -> Any:
        return self._get().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._get()

    def __iter__(self) -> Iterator[FieldPath]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __reduce__(self) -> Any:
        return (dict, (self._get(),))

    def __repr__(self) -> str:
        return repr(self._get())


class KustomizationSubstitution:
    """What one Flux Kustomization's substitution had to go on: its variables' origins.

    The first ``count`` of ``sources`` are the ConfigMaps and Secrets of the cluster
    when it was built (``substituteFrom`` looks its objects up among them; the
    cluster's build only appends to the list).
    """

    def __init__(
        self,
        repo: Repo,
        kustomization: DesiredObject,
        sources: Sequence[DesiredObject],
        namespace: str,
        count: int | None = None,
    ) -> None:
        self.repo = repo
        self.kustomization = kustomization
        self.sources = sources
        self.count = len(sources) if count is None else count
        self.namespace = namespace
        self._origins: dict[str, _Origin] | None = None

    def provenance(
        self, before: Mapping[str, Any], after: Mapping[str, Any], built: Provenance
    ) -> Provenance:
        """``built`` (the kustomize build's record) with the substituted fields added."""
        cache: dict[str, tuple[dict[FieldPath, Location], dict[FieldPath, Any]]] = {}

        def work() -> tuple[dict[FieldPath, Location], dict[FieldPath, Any]]:
            if "done" not in cache:
                cache["done"] = self._fields(before, after, built)
            return cache["done"]

        return Provenance(
            built.source,
            _Lazy(lambda: {**built.fields, **work()[0]}),
            _Lazy(lambda: work()[1]),
        )

    # ------------------------------------------------------------------ origins

    def origins(self) -> dict[str, _Origin]:
        """Each variable's origin, as kustomize-controller merges them."""
        if self._origins is not None:
            return self._origins
        out: dict[str, _Origin] = {}
        ks = self.kustomization
        post = ks.get("spec", "postBuild")
        refs = post.get("substituteFrom") if isinstance(post, Mapping) else None
        for ref in refs if isinstance(refs, list) else ():
            if not isinstance(ref, Mapping):
                continue
            found = self._find(ref.get("kind"), ref.get("name"))
            if found is None or isinstance(found.data.get("sops"), Mapping):
                continue  # missing, or encrypted: its variables stay unresolved
            label = f"{found.kind} {found.namespace or self.namespace}/{found.name}"
            fields = ("data", "stringData") if found.kind == SECRET else ("data",)
            for field in fields:
                values = found.get(field)
                for key in values if isinstance(values, Mapping) else ():
                    out[str(key)] = _Origin(
                        found.kind, self._key_location(found, (field, key)), label, str(key)
                    )
        inline = ks.get("spec", "postBuild", "substitute")
        for key in inline if isinstance(inline, Mapping) else ():
            path = ("spec", "postBuild", "substitute", key)
            out[str(key)] = _Origin(SUBSTITUTE, self._key_location(ks, path), None, str(key))
        self._origins = out
        return out

    def _find(self, kind: Any, name: Any) -> DesiredObject | None:
        for obj in self.sources[: self.count]:
            if (
                obj.kind == kind
                and obj.name == name
                and (obj.namespace or self.namespace) == self.namespace
            ):
                return obj
        return None

    def _document(self, obj_source: Location) -> DocumentRef | None:
        parsed = self.repo.files.get(obj_source.path)
        document = parsed.document_at(obj_source.line) if parsed and obj_source.line else None
        return DocumentRef.from_document(obj_source.path, document) if document else None

    def _key_location(self, obj: DesiredObject, path: FieldPath) -> Location:
        changed = obj.provenance.changed_by(path)
        if changed is not None:
            return changed
        doc = self._document(obj.source)
        if doc is None or position_of(doc.data, path[:-1]) is None:
            return obj.source
        return doc.key_location(*path)

    # ------------------------------------------------------------------ fields

    def _fields(
        self, before: Mapping[str, Any], after: Mapping[str, Any], built: Provenance
    ) -> tuple[dict[FieldPath, Location], dict[FieldPath, tuple[Substitution, ...]]]:
        locations: dict[FieldPath, Location] = {}
        records: dict[FieldPath, tuple[Substitution, ...]] = {}
        doc: DocumentRef | bool | None = False  # False: not looked up yet
        for path, text in _templated(before, after):
            if value_at(after, path) == text:
                continue  # unresolved, or substitution disabled for the object
            if doc is False:
                doc = self._document(built.source)
            reference = self._reference(path, built, doc if isinstance(doc, DocumentRef) else None)
            found: list[Substitution] = []
            for match in _REFERENCE.finditer(text):
                name, operator = match.group(1), match.group(2)
                origin = self.origins().get(name)
                where = self._refine(reference, name, text.count("\n") + 1)
                if origin is not None:
                    found.append(
                        Substitution(
                            name, where, origin.origin, origin.location, origin.obj, origin.key
                        )
                    )
                elif operator in _DEFAULTS:
                    found.append(Substitution(name, where, DEFAULT, where))
            if found:
                if found[0].reference.line:  # else the object's own place stands
                    locations[path] = found[0].reference
                records[path] = tuple(dict.fromkeys(found))
        return locations, records

    def _reference(self, path: FieldPath, built: Provenance, doc: DocumentRef | None) -> Location:
        """Where the field's text is written: the patch that set it, else the source."""
        changed = built.changed_by(path)
        if changed is not None:
            # A strategic-merge patch mirrors the object: the field itself, if it is there.
            patch = self._document(changed)
            if patch is not None and value_at(patch.data, path) is not None:
                return patch.location(*path)
            return changed
        if doc is None:
            return built.source
        return doc.location(*path)

    def _refine(self, where: Location, name: str, span: int = 1) -> Location:
        """Where ``${name`` itself is: on the line ``where`` points at (after its column)
        or, for a block scalar, on one of the ``span`` lines below."""
        if not where.path or not where.line:
            return where
        lines = self.repo.derived(_file_lines, where.path)
        start = max(0, (where.column or 1) - 1)
        for line in range(where.line, min(len(lines), where.line + span) + 1):
            index = lines[line - 1].find("${" + name, start if line == where.line else 0)
            if index >= 0:
                return Location(where.path, line, index + 1)
        alias = _ALIAS.match(lines[where.line - 1], start) if where.line <= len(lines) else None
        if alias is not None:  # ``*anchor``: the text is written at ``&anchor``, above
            for line in range(where.line - 1, 0, -1):
                found = re.search(rf"&{re.escape(alias.group(1))}\s", lines[line - 1] + " ")
                if found is not None:
                    here = Location(where.path, line, found.start() + 1)
                    return here if here == where else self._refine(here, name, span)
        return where


def _file_lines(repo: Repo, path: str) -> list[str]:
    """The lines of the repository's file at ``path`` (none when it cannot be read)."""
    try:
        with open(os.path.join(repo.root, path), encoding="utf-8") as handle:
            return handle.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _templated(before: Any, after: Any) -> list[tuple[FieldPath, str]]:
    """Every string of ``before`` holding ``${`` whose place ``after`` may have changed.

    With its path, in document order.  A subtree ``after`` shares with ``before``
    (substitution copies only what it changes) was not substituted: skipped whole.
    """
    out: list[tuple[FieldPath, str]] = []
    if isinstance(before, str):
        if "${" in before:
            out.append(((), before))
    else:
        _collect_templated(before, after, (), out)
    return out


def _collect_templated(
    before: Any, after: Any, path: FieldPath, out: list[tuple[FieldPath, str]]
) -> None:
    # One call per mapping or list, none per scalar; parsed YAML holds dicts and
    # lists, tested before the Mapping ABC (slow on the many scalars).  ``after``
    # follows ``before`` as :func:`value_at` reads it (None where it has no such place).
    if before is after:
        return
    items: Iterable[tuple[Any, Any]]
    if isinstance(before, dict) or (not isinstance(before, list) and isinstance(before, Mapping)):
        items = before.items()
    elif isinstance(before, list):
        items = enumerate(before)
    else:
        return
    after_map = isinstance(after, Mapping)
    after_list = not after_map and isinstance(after, list)
    for key, value in items:
        if isinstance(value, str):
            if "${" in value:
                out.append(((*path, key), value))
        elif not isinstance(value, _SCALARS):
            if after_map:
                there = after.get(key)
            elif after_list and isinstance(key, int) and 0 <= key < len(after):
                there = after[key]
            else:
                there = None
            _collect_templated(value, there, (*path, key), out)
