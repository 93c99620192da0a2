"""Where the schema of an ``(apiVersion, kind)`` comes from, compiled once and reused.

Sources, first match wins:

1. native kinds: the strict schemas of the target Kubernetes version
   (:mod:`homelab_kit.schema.catalog`);
2. the schemas homelab-kit writes itself for the kinds it models
   (``homelab_kit/schema/crds/*.json``: Flux, Infisical, kustomize's own files);
3. CustomResourceDefinition manifests found in the repository (``crds=``), converted
   to strict schemas (:mod:`homelab_kit.schema.crd`);
4. the user's schema locations (``locations=``), in order: directories laid out like
   the CRDs catalog, schema files, kubeconform templates, local or remote
   (:mod:`homelab_kit.schema.locations`);
5. the cache directory (``cache_dir=``), where ``homelab-kit schemas pull`` stores
   schemas taken from a live cluster;
6. the bundled CRD schemas (``homelab_kit/schema/crds/catalog.zip``, a subset of the
   public CRDs catalog, see :mod:`homelab_kit.schema.crds.bundle`) unless
   ``bundled=False``.  They make ``advisory`` validators: a snapshot of one release of
   each operator, which may not be the release the cluster runs.

Schemas from 3-6 are hardened by :func:`~homelab_kit.schema.crd.strict_schema`, and an
open ``metadata`` is replaced by the strict ``ObjectMeta`` of the target version, so a
``metadata.namspace`` typo is caught in every kind.
"""

from __future__ import annotations

import functools
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import referencing
from referencing.jsonschema import DRAFT202012

from homelab_kit.errors import HomelabKitError
from homelab_kit.gcpause import paused_gc
from homelab_kit.schema.catalog import (
    DEFINITIONS_URI,
    OBJECT_META,
    NativeCatalog,
    native_catalog,
    normalize_version,
    split_api_version,
)
from homelab_kit.schema.compiler import Check, Compiler
from homelab_kit.schema.crd import CrdSchema, cache_path, converted_crd_schemas, strict_schema
from homelab_kit.schema.crds import BUNDLE_NAME
from homelab_kit.schema.locations import Location, SchemaUnreadable, parse_location
from homelab_kit.schema.validate import Validator

if TYPE_CHECKING:
    import zipfile
    from importlib.resources.abc import Traversable

_BUILTIN_BASE = "https://homelab-kit.invalid/schemas/builtin/"
_LOCAL_BASE = "https://homelab-kit.invalid/schemas/local/"
_OBJECT_META_REF = f"{DEFINITIONS_URI}#/$defs/{OBJECT_META}"


# --------------------------------------------------------------------------- builtin


def _crds() -> Traversable:
    """The package's crds/ folder: the folder itself when the package is one on disk
    (what importlib.resources gives then; importing it costs a lint 4-5 ms, with
    tempfile and shutil), else what importlib.resources finds (a zip import)."""
    folder = Path(__file__).parent / "crds"
    if folder.is_dir():
        return folder
    from importlib import resources

    return resources.files("homelab_kit.schema") / "crds"


@functools.cache
def builtin_schemas() -> Mapping[tuple[str, str, str], tuple[str, dict[str, Any]]]:
    """The schemas homelab-kit ships, by (group, version, kind): (file name, schema)."""
    found: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}
    folder = _crds()
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        schema = json.loads(entry.read_text(encoding="utf-8"))
        for gvk in schema.get("x-kubernetes-group-version-kind") or ():
            found[(gvk["group"], gvk["version"], gvk["kind"])] = (entry.name, schema)
    return found


@functools.cache
def _bundle() -> zipfile.ZipFile:
    import zipfile  # only when a bundled CRD schema is read

    data = (_crds() / BUNDLE_NAME).read_bytes()
    return zipfile.ZipFile(io.BytesIO(data))


def bundled_schema(group: str, version: str, kind: str) -> dict[str, Any] | None:
    """The bundled catalog's schema of a kind, as the catalog has it (not yet strict)."""
    name = f"{group}/{kind.lower()}_{version}.json"
    try:
        data = _bundle().read(name)
    except KeyError:
        return None
    schema = json.loads(data)
    return schema if isinstance(schema, dict) else None


def bundled_kinds() -> list[str]:
    """Every ``{group}/{kind}_{version}.json`` the bundled catalog holds."""
    return [n for n in _bundle().namelist() if n.endswith(".json") and "/" in n]


# --------------------------------------------------------------------------- shared state


class _VersionState:
    """What every registry of one Kubernetes version shares: the catalog and its compiler."""

    def __init__(self, minor: str) -> None:
        self.catalog: NativeCatalog = native_catalog(minor)
        resource = DRAFT202012.create_resource(self.catalog.document)
        self.base_registry: referencing.Registry[Any] = referencing.Registry().with_resource(
            DEFINITIONS_URI, resource
        )
        self.compiler = Compiler(self.base_registry)
        self.validators: dict[tuple[str, str], Validator | None] = {}

    def native(self, api_version: str, kind: str) -> Validator | None:
        key = (api_version, kind)
        if key in self.validators:
            return self.validators[key]
        name = self.catalog.definition_name(api_version, kind)
        validator = None
        if name is not None:
            check = self.compiler.compile_uri(self.catalog.uri(name))
            validator = Validator(
                api_version,
                kind,
                f"kubernetes {self.catalog.minor}",
                self.catalog.definitions[name],
                check,
            )
        self.validators[key] = validator
        return validator

    def builtin(self, api_version: str, kind: str) -> Validator | None:
        key = ("builtin:" + api_version, kind)
        if key in self.validators:
            return self.validators[key]
        group, version = split_api_version(api_version)
        entry = builtin_schemas().get((group, version, kind))
        validator = None
        if entry is not None:
            name, schema = entry
            uri = _BUILTIN_BASE + name
            self.compiler.registry = self.compiler.registry.with_resource(
                uri, DRAFT202012.create_resource(schema)
            )
            check = self.compiler.compile(_with_object_meta(schema), uri)
            validator = Validator(api_version, kind, f"homelab-kit {name}", schema, check)
        self.validators[key] = validator
        return validator

    def bundled(self, api_version: str, kind: str) -> Validator | None:
        key = ("bundled:" + api_version, kind)
        if key in self.validators:
            return self.validators[key]
        group, version = split_api_version(api_version)
        raw = bundled_schema(group, version, kind) if group else None
        validator = None
        if raw is not None:
            name = f"{group}/{kind.lower()}_{version}.json"
            schema = strict_schema(raw)
            uri = _BUILTIN_BASE + "catalog/" + name
            self.compiler.registry = self.compiler.registry.with_resource(
                uri, DRAFT202012.create_resource(schema)
            )
            check = self.compiler.compile(_with_object_meta(schema), uri)
            source = f"bundled catalog {name}"
            validator = Validator(api_version, kind, source, schema, check, advisory=True)
        self.validators[key] = validator
        return validator


@functools.cache
def _version_state(minor: str) -> _VersionState:
    return _VersionState(minor)


def _with_object_meta(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with an open root ``metadata`` replaced by the strict ObjectMeta."""
    out = dict(schema)
    properties = out.get("properties")
    if isinstance(properties, Mapping):
        metadata = properties.get("metadata")
        if metadata is None or (
            isinstance(metadata, Mapping)
            and "properties" not in metadata
            and "$ref" not in metadata
            and "additionalProperties" not in metadata
        ):
            out["properties"] = {**properties, "metadata": {"$ref": _OBJECT_META_REF}}
    return out


# --------------------------------------------------------------------------- registry


class SchemaRegistry:
    """Finds, converts and compiles the schema of every kind; see the module docstring.

    :param kubernetes_version: the target version, e.g. ``"v1.33.4"`` (normalised to the
        schemas' minor version; an unknown version raises :class:`HomelabKitError`).
    :param locations: user schema locations (:mod:`homelab_kit.schema.locations`):
        directories, schema files, kubeconform templates, remote (``http(s)://``,
        ``default``) templates fetched when the network allows and cached in
        ``cache_dir``.  A location that does not exist, or a template with an unknown
        field, raises :class:`HomelabKitError` (with ``strict_locations=False`` it is
        left out with one of :attr:`warnings`, as for an unreachable remote one).
    :param crds: CustomResourceDefinition manifests (parsed documents) from the repository.
    :param cache_dir: the schema cache (pulled schemas, CRD conversions); ``None`` for none.
    :param bundled: whether the bundled CRD schemas are the last source (default yes).

    ``validator_for`` compiles each kind once and caches the result (also a miss).
    """

    def __init__(
        self,
        kubernetes_version: str,
        locations: Sequence[str | os.PathLike[str]] = (),
        crds: Iterable[Mapping[str, Any]] = (),
        cache_dir: Path | None = None,
        bundled: bool = True,
        strict_locations: bool = True,
    ) -> None:
        self.bundled = bundled
        self.kubernetes_version = normalize_version(kubernetes_version)
        self.requested_version = kubernetes_version
        self._shared = _version_state(self.kubernetes_version)
        self.cache_dir = cache_dir
        self._locations: list[Location] = []
        self._location_problems: list[str] = []
        for location in locations:
            try:
                self._locations.append(
                    parse_location(os.fspath(location), kubernetes_version, cache_dir)
                )
            except HomelabKitError as exc:
                if strict_locations:
                    raise
                self._location_problems.append(f"{exc}; not used")
        self._crds: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        for crd in crds:
            crd_spec = crd.get("spec") if isinstance(crd, Mapping) else None
            if not isinstance(crd_spec, Mapping):
                continue
            names = crd_spec.get("names")
            if isinstance(names, Mapping) and isinstance(crd_spec.get("group"), str):
                key = (str(crd_spec["group"]), str(names.get("kind")))
                self._crds.setdefault(key, []).append(crd)
        self._compiler = Compiler(self._shared.base_registry)
        self._validators: dict[tuple[str, str], Validator | None] = {}
        self._documents = 0

    @property
    def warnings(self) -> list[str]:
        """What the user should hear about: locations not used, or not reachable."""
        reached = [warning for location in self._locations for warning in location.warnings]
        return [*self._location_problems, *reached]

    @property
    def notes(self) -> list[str]:
        """What the compilers skipped (uncompilable patterns, unresolvable $refs...)."""
        return [*self._shared.compiler.notes, *self._compiler.notes]

    def is_native_group(self, api_version: str) -> bool:
        """Whether ``api_version`` belongs to a group of the Kubernetes API itself."""
        group, _ = split_api_version(api_version)
        return group in self._shared.catalog.groups()

    def validator_for(self, api_version: str, kind: str) -> Validator | None:
        """The compiled validator of a kind, or ``None`` when no source has a schema."""
        key = (api_version, kind)
        if key in self._validators:
            return self._validators[key]
        with paused_gc():  # compiling walks large definitions: it triples compile time
            validator = (
                self._shared.native(api_version, kind)
                or self._shared.builtin(api_version, kind)
                or self._from_crds(api_version, kind)
                or self._from_files(api_version, kind)
                or (self._shared.bundled(api_version, kind) if self.bundled else None)
            )
        self._validators[key] = validator
        return validator

    # ---------------------------------------------------------------- sources 3-5

    def _from_crds(self, api_version: str, kind: str) -> Validator | None:
        group, version = split_api_version(api_version)
        for crd in self._crds.get((group, kind), ()):
            try:
                converted = converted_crd_schemas(crd, self.cache_dir)
            except Exception as exc:  # a broken CRD must not stop the lint
                self._compiler.notes.append(f"CRD for {kind}.{group} not converted: {exc}")
                continue
            for item in converted:
                if item.version == version and item.kind == kind:
                    name = _crd_name(crd)
                    return self._compile(item, f"CRD {name}")
        return None

    def _from_files(self, api_version: str, kind: str) -> Validator | None:
        group, version = split_api_version(api_version)
        for location in self._locations:
            try:
                found = location.find(group, version, kind)
            except SchemaUnreadable as exc:
                self._compiler.notes.append(str(exc))
                continue
            if found is not None and self._usable(*found):
                return self._compile(
                    CrdSchema(group, kind, version, strict_schema(found[1])), found[0]
                )
        if self.cache_dir is not None and group:
            try:
                path = cache_path(self.cache_dir, group, kind, version)
            except HomelabKitError:
                return None  # a name no cache file can have (".", "a/b", ""): never cached
            if path.is_file():
                try:
                    raw = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    self._compiler.notes.append(f"schema file {path} unreadable: {exc}")
                    return None
                if self._usable(f"cache {path}", raw):
                    return self._compile(
                        CrdSchema(group, kind, version, strict_schema(raw)), f"cache {path}"
                    )
        return None

    def _usable(self, source: str, raw: Any) -> bool:
        if isinstance(raw, Mapping):
            return True
        self._compiler.notes.append(f"schema file {source} is not a JSON object")
        return False

    def _compile(self, item: CrdSchema, source: str) -> Validator:
        self._documents += 1
        uri = f"{_LOCAL_BASE}{self._documents}/{item.group}/{item.kind.lower()}_{item.version}.json"
        schema = item.schema
        self._compiler.registry = self._compiler.registry.with_resource(
            uri, DRAFT202012.create_resource(schema)
        )
        check: Check = self._compiler.compile(_with_object_meta(schema), uri)
        return Validator(item.api_version, item.kind, source, schema, check)


def _crd_name(crd: Mapping[str, Any]) -> str:
    metadata = crd.get("metadata")
    if isinstance(metadata, Mapping) and isinstance(metadata.get("name"), str):
        return str(metadata["name"])
    return "(unnamed)"
