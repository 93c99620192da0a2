"""A pure-Python kustomize for the subset homelab repositories use.

:func:`render_directory` builds a kustomization directory the way ``kustomize build
--load-restrictor LoadRestrictionsNone`` (and so Flux) does: resources, components,
ConfigMap/Secret generators with kustomize's name hashes, patches, namespace, name
prefix/suffix, labels, annotations, images, replicas, name references (built-in and
from ``configurations:`` files), then kustomize's legacy output order.

It never executes or fetches anything and reads nothing outside ``root``: a reference
that leaves the repository is a :class:`~homelab_kit.errors.HomelabKitError` naming
the file and the entry.  Features it does not implement (``helmCharts``,
``vars``, plugins, remote resources) become warnings in :attr:`Rendered.warnings`,
never a crash.  ``replacements`` live in :mod:`~homelab_kit.render.replacements`.

Every object keeps its :class:`~homelab_kit.model.provenance.Provenance`: the
document it was written in (a generated one: its generator entry) and, for each
field a patch, a replacement, ``namespace``, ``namePrefix``/``nameSuffix``,
``images``, labels or annotations set, the entry that set it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from homelab_kit.errors import HomelabKitError
from homelab_kit.location import Location
from homelab_kit.model.provenance import FieldPath, Provenance
from homelab_kit.render._docs import (
    Lines,
    deep_copy,
    keep_annotation_text,
    parse_located,
)
from homelab_kit.render.fieldspecs import (
    BUILTIN_NAME_REFERENCES,
    CLUSTER_SCOPED,
    COMMON_ANNOTATIONS,
    COMMON_LABELS,
    METADATA_LABELS,
    NAMESPACE_EXTRA,
    REPLICAS,
    TEMPLATE_LABELS,
    FieldSpec,
    NameReference,
    apply_spec,
    split_api_version,
)
from homelab_kit.render.generators import Generators, scalar_text, string_map
from homelab_kit.render.hashing import name_hash
from homelab_kit.render.images import update_images as _update_images
from homelab_kit.render.namerefs import fix_name_references as _fix_name_references
from homelab_kit.render.origins import LocatedPatch as _Patch
from homelab_kit.render.origins import Origin as _Origin
from homelab_kit.render.origins import (
    note_json6902,
    note_maps,
    note_smp,
    reaches,
    tree_location,
)
from homelab_kit.render.patch import (
    PatchError,
    apply_json6902,
    matches_label_selector,
    strategic_merge,
)
from homelab_kit.render.replacements import (
    ReplacementError,
    apply_target,
    source_value,
    target_selects,
)
from homelab_kit.render.resource import Resource as _Resource
from homelab_kit.render.resource import Resources
from homelab_kit.render.resource import effective_ns as _effective_ns
from homelab_kit.render.resource import id_equals as _id_equals
from homelab_kit.render.resource import id_text as _id_text
from homelab_kit.render.resource import text as _text
from homelab_kit.render.sources import Sources
from homelab_kit.yaml import YamlDocument, YamlFile, YMap, YSeq, position_of

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

_KNOWN_FIELDS = frozenset(
    {
        "apiVersion",
        "kind",
        "metadata",
        "resources",
        "bases",
        "components",
        "namespace",
        "namePrefix",
        "nameSuffix",
        "commonLabels",
        "labels",
        "commonAnnotations",
        "configMapGenerator",
        "secretGenerator",
        "generatorOptions",
        "patches",
        "patchesStrategicMerge",
        "patchesJson6902",
        "images",
        "replicas",
        "configurations",
        "buildMetadata",
        "sortOptions",
        "crds",
        "openapi",
        "replacements",
    }
)
_UNSUPPORTED = {
    "helmCharts": "helmCharts are not inflated (that needs helm)",
    "helmChartInflationGenerator": "helmChartInflationGenerator is not inflated",
    "helmGlobals": "helmGlobals are ignored",
    "vars": "vars are not substituted",
    "transformers": "transformer plugins are never run",
    "generators": "generator plugins are never run",
    "validators": "validator plugins are never run",
}
# Every field of kustomize's Kustomization type: Flux reads the file of spec.path into
# that type and writes it back, so any other field is dropped before kustomize sees it.
KUSTOMIZATION_FIELDS: frozenset[str] = _KNOWN_FIELDS | frozenset(_UNSUPPORTED)

_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)")

_ORDER_FIRST = (
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
)
_ORDER_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
_TYPE_ORDER = {kind: i - len(_ORDER_FIRST) for i, kind in enumerate(_ORDER_FIRST)}
_TYPE_ORDER.update({kind: 1 + i for i, kind in enumerate(_ORDER_LAST)})


@attrs.frozen
class Rendered:
    """The objects a kustomization produces, in kustomize's output order.

    ``objects`` are plain ``dict`` trees (they may hold secret values: never log
    them); ``warnings`` name what was skipped or approximated; ``backend`` says what
    produced them (``"python"``, ``"kustomize"`` or ``"kubectl"``).
    """

    objects: tuple[dict[str, Any], ...] = attrs.field(repr=False)
    warnings: tuple[str, ...] = ()
    backend: str = "python"
    provenance: tuple[Provenance, ...] = attrs.field(default=(), repr=False)
    """Where each object of ``objects`` (same index) and its changed fields came from.

    Empty when a binary built the objects (it tells nothing about sources).
    """


def _item(tree: Any, index: int) -> Any:
    return tree[index] if isinstance(tree, YSeq) and index < len(tree) else None


def _located(rel: str, tree: Any, index: int | None) -> Location:
    """Where a document (or item ``index`` of a List's ``items``) starts in ``rel``."""
    if index is not None:
        if isinstance(tree, YSeq):
            line, column = tree.item_position(index)
            return Location(rel, line, column)
        return Location(rel)
    if isinstance(tree, YMap | YSeq) and tree.line:
        return Location(rel, tree.line, tree.column)
    return Location(rel)


@attrs.frozen
class _Config:
    """Field specs added by ``configurations:`` files."""

    name_references: tuple[NameReference, ...] = ()
    common_labels: tuple[FieldSpec, ...] = ()
    common_annotations: tuple[FieldSpec, ...] = ()
    namespace: tuple[FieldSpec, ...] = ()
    images: tuple[FieldSpec, ...] = ()
    replicas: tuple[FieldSpec, ...] = ()


class _Kustomization:
    """A parsed kustomization file with positions for error messages."""

    def __init__(self, directory: str, path: str, data: YMap, rel: str) -> None:
        self.directory = directory
        self.path = path
        self.data = data
        self.rel = rel

    @property
    def is_component(self) -> bool:
        return self.data.get("kind") == "Component"

    def location(self, *keys: str | int) -> Location:
        pos = position_of(self.data, keys)
        if pos is None:
            return Location(self.rel)
        return Location(self.rel, pos[0], pos[1])

    def list(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise HomelabKitError(f"'{key}' must be a list", self.location(key))
        return value

    def map(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise HomelabKitError(f"'{key}' must be a mapping", self.location(key))
        return value


class _Builder(Generators):
    def __init__(self, sources: Sources) -> None:
        # what the build reads: paths resolved, files read and parsed once (shared by
        # every build of a run over the same tree)
        self.sources = sources
        self.root = sources.root
        self.warnings: list[str] = []
        self.config: list[_Config] = []
        self.stack: list[str] = []  # paths are strings (resolved): cheaper than Path
        # kustomization data used in place of a directory's file (Flux rewrites the file
        # of spec.path, or writes one where there is none)
        self.overrides: dict[str, YMap] = {}
        self.line_cache: dict[str, list[str]] = {}

    # ------------------------------------------------------------------ paths

    def resolve(self, path: str) -> str:
        """``os.path.realpath(path)``, remembered."""
        return self.sources.real(path)

    def rel(self, path: str) -> str:
        return self.sources.rel(path)

    def local(self, k: _Kustomization, entry: Any, *where: str | int, strict: bool = False) -> str:
        """The file or folder an entry names, refused when it leaves the repository.

        ``strict`` also refuses an absolute path and one inside ``.git/``.
        """
        if not isinstance(entry, str) or not entry.strip():
            raise HomelabKitError(
                f"entry of '{where[0]}' must be a non-empty path", k.location(*where)
            )
        if strict and (os.path.isabs(entry) or ".git" in entry.split("/")):
            raise HomelabKitError(
                f"'{where[0]}' entry {entry!r} is refused: give a relative path inside the "
                "repository, outside .git/",
                k.location(*where),
            )
        resolved, inside = self.sources.entry(k.directory, entry)
        if not inside:
            raise HomelabKitError(
                f"'{where[0]}' entry {entry!r} points outside the repository root; "
                "nothing outside it is read",
                k.location(*where),
            )
        return resolved

    def read_text(self, path: str, k: _Kustomization, *where: str | int) -> str:
        return self.read(path, k, *where)[1]

    def read(self, path: str, k: _Kustomization, *where: str | int) -> tuple[bytes, str]:
        """A file's bytes and its text as ``Path.read_text`` gives it (universal newlines)."""
        try:
            data = self.sources.read_bytes(path)
            text = data.decode("utf-8-sig")
        except FileNotFoundError:
            raise HomelabKitError(
                f"'{where[0]}' entry {self.rel(path)!r} does not exist", k.location(*where)
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise HomelabKitError(
                f"cannot read '{where[0]}' entry {self.rel(path)!r}: {reason}",
                k.location(*where),
            ) from None
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return data, text

    def manifest(
        self, path: str, k: _Kustomization, *where: str | int
    ) -> tuple[str, tuple[YamlDocument, ...] | None]:
        """The text of a manifest, and its documents when the loader parsed the same bytes.

        The loader's documents are reused only for a file it parsed without problems
        whose bytes are the ones read now (same SHA-256) and hold no carriage return
        (reading translates newlines); otherwise the caller parses the text.
        """
        data, text = self.read(path, k, *where)
        known = self.sources.loaded(self.rel(path), data)
        return text, None if known is None else known.documents

    def load_kustomization(self, directory: str) -> _Kustomization:
        base = directory if directory.endswith(os.sep) else directory + os.sep
        candidates = [base + n for n in KUSTOMIZATION_FILES]  # os.path.join, inline
        found = [path for path in candidates if self.sources.is_file(path)]
        rel_dir = self.rel(directory)
        override = self.overrides.get(self.resolve(directory))
        if override is not None and len(found) <= 1:
            path = found[0] if found else candidates[0]
            return _Kustomization(directory, path, override, self.rel(path))
        if not found:
            raise HomelabKitError(
                f"no kustomization file ({', '.join(KUSTOMIZATION_FILES)}) in {rel_dir}",
                Location(rel_dir),
            )
        if len(found) > 1:
            raise HomelabKitError(
                f"found multiple kustomization files in {rel_dir}", Location(rel_dir)
            )
        path = found[0]
        rel = self.rel(path)
        if not self.sources.inside(path):
            raise HomelabKitError(
                "the kustomization file is a symbolic link to outside the repository; not read",
                Location(rel),
            )
        try:
            raw = self.sources.read_bytes(path)
            text = raw.decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise HomelabKitError(f"cannot read kustomization: {exc}", Location(rel)) from None
        if "\r" in text:  # as read_text reads it: universal newlines
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        documents, problems = self.sources.parse(rel, text, raw)
        if problems:
            problem = problems[0]
            raise HomelabKitError(
                f"invalid YAML: {problem.message}", Location(rel, problem.line, problem.column)
            )
        data = documents[0].data if documents else None
        if data is None:
            data = YMap(1, 1)
        if not isinstance(data, YMap):
            raise HomelabKitError("a kustomization must be a mapping", Location(rel, 1, 1))
        return _Kustomization(directory, path, data, rel)

    # ------------------------------------------------------------------ build

    def build(
        self, directory: str, *, component: bool = False, into: Resources | None = None
    ) -> Resources:
        directory = self.resolve(directory)
        if directory in self.stack:
            raise HomelabKitError(
                f"cycle: {self.rel(directory)} includes itself", Location(self.rel(directory))
            )
        self.stack.append(directory)
        try:
            k = self.load_kustomization(directory)
            if component and not k.is_component:
                raise HomelabKitError(
                    "a directory listed under 'components' must have kind: Component",
                    k.location("kind"),
                )
            if not component and k.is_component and len(self.stack) > 1:
                raise HomelabKitError(
                    "a Component cannot be listed under 'resources'; list it under 'components'",
                    k.location("kind"),
                )
            resources = into if into is not None else Resources()
            self.check_fields(k)
            self.load_configurations(k)
            for key in ("resources", "bases"):
                for index, entry in enumerate(k.list(key)):
                    self.add_resource_entry(k, key, index, entry, resources)
            self.generate(k, resources)
            for index, entry in enumerate(k.list("components")):
                path = self.local(k, entry, "components", index)
                if not self.sources.is_dir(path):
                    raise HomelabKitError(
                        f"component {entry!r} is not a directory", k.location("components", index)
                    )
                self.build(path, component=True, into=resources)
            self.transform(k, resources)
            return resources
        finally:
            self.stack.pop()

    def check_fields(self, k: _Kustomization) -> None:
        for key in k.data:
            if key in _UNSUPPORTED:
                self.warnings.append(f"{k.rel}: {_UNSUPPORTED[key]} by the pure-Python renderer")
            elif key not in _KNOWN_FIELDS:
                self.warnings.append(f"{k.rel}: unknown field {key!r} ignored")
        for key in ("crds", "openapi"):
            if key in k.data:
                self.warnings.append(f"{k.rel}: '{key}' is ignored by the pure-Python renderer")

    def add_resource_entry(
        self, k: _Kustomization, key: str, index: int, entry: Any, resources: Resources
    ) -> None:
        if (
            isinstance(entry, str)
            and _REMOTE.match(entry)
            and not self.sources.exists(os.path.join(k.directory, entry))
        ):
            self.warnings.append(f"{k.rel}: remote resource {entry!r} skipped (nothing is fetched)")
            return
        path = self.local(k, entry, key, index)
        if self.sources.is_dir(path):
            for resource in self.build(path):
                self.append(resources, resource, k, key, index)
            return
        text, parsed = self.manifest(path, k, key, index)
        for obj, source in self.objects_in(text, path, k, key, index, parsed=parsed):
            self.append(resources, _Resource(obj, source=source), k, key, index)

    def objects_in(
        self,
        text: str,
        path: str,
        k: _Kustomization,
        *where: str | int,
        parsed: tuple[YamlDocument, ...] | None = None,
    ) -> Iterator[tuple[dict[str, Any], Location]]:
        """Each object of a manifest file, with where its document (or List item) starts.

        ``parsed``: the documents of ``text`` already parsed (see :meth:`manifest`).
        """
        rel = self.rel(path)
        lines = Lines(text)
        documents, trees, problems = parse_located(
            text, rel, folded=True, parsed=parsed, lines=lines
        )
        if problems:
            raise HomelabKitError(f"cannot parse {rel}: {problems[0]}", k.location(*where))
        for doc, tree in zip(documents, trees, strict=True):
            if doc is None:
                continue
            if not isinstance(doc, dict):
                raise HomelabKitError(f"{rel}: a document is not a mapping", k.location(*where))
            if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
                tree_items = tree.get("items") if isinstance(tree, YMap) else None
                items = [
                    (i, _located(rel, tree_items, n), _item(tree_items, n))
                    for n, i in enumerate(doc["items"])
                    if isinstance(i, dict)
                ]
            else:
                items = [(doc, _located(rel, tree, None), tree)]
            for item, source, item_tree in items:
                if not item:
                    continue
                keep_annotation_text(item, item_tree, lines)
                meta = item.get("metadata")
                if not item.get("kind") or not isinstance(meta, dict) or not meta.get("name"):
                    raise HomelabKitError(
                        f"{rel}: an object lacks kind or metadata.name", k.location(*where)
                    )
                yield item, source

    def append(
        self,
        resources: Resources,
        resource: _Resource,
        k: _Kustomization,
        *where: str | int,
    ) -> None:
        rid = resource.cur_id()
        if resources.has(rid):
            raise HomelabKitError(
                f"may not add resource with an already registered id: {_id_text(rid)}",
                k.location(*where),
            )
        resources.add(resource, rid)

    # ------------------------------------------------------------------ configurations

    def load_configurations(self, k: _Kustomization) -> None:
        for index, entry in enumerate(k.list("configurations")):
            path = self.local(k, entry, "configurations", index)
            text, parsed = self.manifest(path, k, "configurations", index)
            # a function of the text alone: apps often carry copies of one such file
            configs = self.sources.memo.get(("configurations", text))
            if configs is None:
                documents, _, problems = parse_located(text, self.rel(path), parsed=parsed)
                if problems:
                    raise HomelabKitError(
                        f"cannot parse configuration: {problems[0]}",
                        k.location("configurations", index),
                    )
                configs = [_parse_config(doc) for doc in documents if isinstance(doc, dict)]
                self.sources.memo[("configurations", text)] = configs
            self.config.extend(configs)

    def extra(self, field: str) -> list[FieldSpec]:
        return [spec for config in self.config for spec in getattr(config, field)]

    # ------------------------------------------------------------------ transformers

    def transform(self, k: _Kustomization, resources: list[_Resource]) -> None:
        """kustomize's built-in transformers, in kustomize's order."""
        for index, entry in enumerate(k.list("patchesStrategicMerge")):
            origin: _Origin
            if isinstance(entry, str) and "\n" not in entry and not entry.lstrip().startswith("{"):
                path = self.local(k, entry, "patchesStrategicMerge", index)
                text = self.read_text(path, k, "patchesStrategicMerge", index)
                origin = _Origin(self.rel(path))
            else:
                text = _text(entry)
                origin = self.inline_origin(k, "patchesStrategicMerge", index)
            for patch, tree in self.patch_documents(text, k, "patchesStrategicMerge", index):
                if not isinstance(patch, dict):
                    raise HomelabKitError(
                        "a strategic merge patch must be a mapping",
                        k.location("patchesStrategicMerge", index),
                    )
                self.apply_smp_by_id(
                    k, resources, patch, _Patch(tree, origin), "patchesStrategicMerge", index
                )
        for index, entry in enumerate(k.list("patches")):
            self.apply_patch_entry(k, resources, entry, index)
        namespace = _text(k.data.get("namespace"))
        if namespace:
            self.set_namespace(resources, namespace, k.location("namespace"))
        self.add_affixes(k, resources)
        self.set_labels(k, resources)
        annotations = string_map(k.data.get("commonAnnotations"))
        if annotations:
            specs = [*COMMON_ANNOTATIONS, *self.extra("common_annotations")]
            _set_maps(resources, specs, annotations)
            _note_maps(resources, specs, annotations, k, "commonAnnotations")
        for index, entry in enumerate(k.list("patchesJson6902")):
            self.apply_legacy_json6902(k, resources, entry, index)
        for index, entry in enumerate(k.list("replicas")):
            self.apply_replicas(k, resources, entry, index)
        for index, entry in enumerate(k.list("images")):
            if not isinstance(entry, dict) or not entry.get("name"):
                raise HomelabKitError("an 'images' entry needs a name", k.location("images", index))
            where = k.location("images", index)
            for resource in resources:
                for changed in _update_images(resource.obj, entry, self.extra("images")):
                    resource.note(changed, where)
        self.replace(k, resources)

    def add_affixes(self, k: _Kustomization, resources: list[_Resource]) -> None:
        prefix, suffix = _text(k.data.get("namePrefix")), _text(k.data.get("nameSuffix"))
        where = k.location("namePrefix" if prefix else "nameSuffix")
        for resource in resources:
            if resource.kind in ("CustomResourceDefinition", "APIService", "Namespace"):
                continue
            resource.prefixes.append(prefix)
            resource.suffixes.append(suffix)
            if prefix or suffix:
                resource.metadata["name"] = prefix + resource.name() + suffix
                resource.record()
                resource.note(("metadata", "name"), where)

    def set_labels(self, k: _Kustomization, resources: list[_Resource]) -> None:
        for index, entry in enumerate(k.list("labels")):
            if not isinstance(entry, dict):
                raise HomelabKitError(
                    "entry of 'labels' must be a mapping", k.location("labels", index)
                )
            pairs = string_map(entry.get("pairs"))
            if entry.get("includeSelectors"):
                specs = [*COMMON_LABELS, *self.extra("common_labels")]
            else:
                specs = [METADATA_LABELS[0]]
                if entry.get("includeTemplates"):
                    specs += TEMPLATE_LABELS
            specs += [FieldSpec.parse(f) for f in entry.get("fields") or [] if isinstance(f, dict)]
            _set_maps(resources, specs, pairs)
            _note_maps(resources, specs, pairs, k, "labels", index, "pairs")
        common = string_map(k.data.get("commonLabels"))
        if common:
            specs = [*COMMON_LABELS, *self.extra("common_labels")]
            _set_maps(resources, specs, common)
            _note_maps(resources, specs, common, k, "commonLabels")

    # ------------------------------------------------------------------ patches

    def inline_origin(self, k: _Kustomization, *where: str | int) -> _Origin:
        """Where the text of an inline patch (a block scalar of ``k``) starts."""
        fallback = _Origin(k.rel, fixed=k.location(*where))
        pos = position_of(k.data, where)
        if pos is None or not self.sources.is_file(k.path):
            return fallback
        lines = self.lines(k.path)
        line, column = pos
        if not 1 <= line <= len(lines) or lines[line - 1][column - 1 : column] not in ("|", ">"):
            return fallback
        for text in lines[line:]:
            if text.strip():
                return _Origin(k.rel, line, len(text) - len(text.lstrip(" ")))
        return fallback

    def lines(self, path: str) -> list[str]:
        found = self.line_cache.get(path)
        if found is None:
            try:
                found = Path(path).read_text(encoding="utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError):
                found = []
            self.line_cache[path] = found
        return found

    def patch_documents(
        self, text: str, k: _Kustomization, *where: str | int
    ) -> list[tuple[Any, Any]]:
        """The documents of a patch, each with its positioned tree."""
        documents, trees, problems = parse_located(text, k.rel, folded=True)
        if problems:
            raise HomelabKitError(f"cannot parse patch: {problems[0]}", k.location(*where))
        if any(isinstance(d, list) for d in documents):  # JSON 6902: values are never folded
            documents, trees, problems = parse_located(text, k.rel)
        return [(d, t) for d, t in zip(documents, trees, strict=True) if d is not None]

    def apply_smp_by_id(
        self,
        k: _Kustomization,
        resources: list[_Resource],
        patch: dict[str, Any],
        origin: _Patch | None,
        *where: str | int,
    ) -> None:
        probe = _Resource(patch)
        pid = probe.ids[0]
        matches = [r for r in resources if any(_id_equals(i, pid) for i in r.ids)]
        if not matches:
            raise HomelabKitError(
                f"no resource matches strategic merge patch {_id_text(pid)}", k.location(*where)
            )
        for resource in matches:
            self.smp(resources, resource, patch, origin)

    def smp(
        self,
        resources: list[_Resource],
        resource: _Resource,
        patch: dict[str, Any],
        origin: _Patch | None,
    ) -> None:
        if patch.get("$patch") == "delete":
            resources.remove(resource)
            return
        merged = strategic_merge(resource.obj, patch)
        resource.obj = merged
        resource.record()
        if origin is not None and isinstance(origin.tree, YMap):
            _note_smp(resource, origin.tree, origin.origin, ())

    def apply_patch_entry(
        self, k: _Kustomization, resources: list[_Resource], entry: Any, index: int
    ) -> None:
        if not isinstance(entry, dict):
            raise HomelabKitError(
                "entry of 'patches' must be a mapping", k.location("patches", index)
            )
        if entry.get("path") is not None:
            path = self.local(k, entry["path"], "patches", index, "path")
            text = self.read_text(path, k, "patches", index, "path")
            origin = _Origin(self.rel(path))
        elif entry.get("patch") is not None:
            text = _text(entry["patch"])
            origin = self.inline_origin(k, "patches", index, "patch")
        else:
            raise HomelabKitError("a patch needs 'path' or 'patch'", k.location("patches", index))
        documents = self.patch_documents(text, k, "patches", index)
        target = entry.get("target")
        raw_options = entry.get("options")
        options: dict[str, Any] = raw_options if isinstance(raw_options, dict) else {}
        if len(documents) == 1 and isinstance(documents[0][0], list):
            if not isinstance(target, dict):
                raise HomelabKitError(
                    "a JSON 6902 patch needs a target", k.location("patches", index)
                )
            operations, tree = documents[0]
            for resource in self.select(target, resources, k, index):
                self.json6902(resource, operations, _Patch(tree, origin), k, "patches", index)
            return
        for patch, tree in documents:
            if not isinstance(patch, dict):
                raise HomelabKitError(
                    "a patch must be a mapping or a list of operations",
                    k.location("patches", index),
                )
            located = _Patch(tree, origin)
            if not isinstance(target, dict):
                self.apply_smp_by_id(k, resources, patch, located, "patches", index)
                continue
            for resource in self.select(target, resources, k, index):
                adjusted = deep_copy(patch)
                meta = adjusted.setdefault("metadata", {})
                if not isinstance(meta, dict):
                    meta = adjusted["metadata"] = {}
                if not options.get("allowNameChange"):
                    meta["name"] = resource.name()
                    if resource.namespace():
                        meta["namespace"] = resource.namespace()
                if not options.get("allowKindChange"):
                    adjusted["kind"] = resource.kind
                    adjusted["apiVersion"] = resource.obj.get("apiVersion")
                self.smp(resources, resource, adjusted, located)

    def json6902(
        self,
        resource: _Resource,
        operations: list[Any],
        origin: _Patch | None,
        k: _Kustomization,
        *where: str | int,
    ) -> None:
        try:
            resource.obj = apply_json6902(resource.obj, operations)
        except PatchError as exc:
            raise HomelabKitError(
                f"JSON patch on {_id_text(resource.cur_id())}: {exc}", k.location(*where)
            ) from None
        resource.record()
        if origin is not None:
            _note_json6902(resource, operations, origin)

    def select(
        self,
        target: Mapping[str, Any],
        resources: list[_Resource],
        k: _Kustomization,
        index: int,
    ) -> list[_Resource]:
        try:
            return [r for r in resources if _selected(r, target)]
        except (re.error, PatchError) as exc:
            raise HomelabKitError(
                f"invalid patch target: {exc}", k.location("patches", index, "target")
            ) from None

    def apply_legacy_json6902(
        self, k: _Kustomization, resources: list[_Resource], entry: Any, index: int
    ) -> None:
        if not isinstance(entry, dict) or not isinstance(entry.get("target"), dict):
            raise HomelabKitError(
                "a patchesJson6902 entry needs a target", k.location("patchesJson6902", index)
            )
        if entry.get("path") is not None:
            path = self.local(k, entry["path"], "patchesJson6902", index, "path")
            text = self.read_text(path, k, "patchesJson6902", index, "path")
            origin = _Origin(self.rel(path))
        else:
            text = _text(entry.get("patch"))
            origin = self.inline_origin(k, "patchesJson6902", index, "patch")
        documents = self.patch_documents(text, k, "patchesJson6902", index)
        if len(documents) != 1 or not isinstance(documents[0][0], list):
            raise HomelabKitError(
                "a JSON 6902 patch must be a list of operations",
                k.location("patchesJson6902", index),
            )
        operations, tree = documents[0]
        target = dict(entry["target"])
        matched = False
        for resource in resources:
            rid = resource.ids
            if any(
                (not target.get("group") or i[0] == target.get("group"))
                and (not target.get("version") or i[1] == target.get("version"))
                and i[2] == target.get("kind")
                and i[4] == target.get("name")
                and (not target.get("namespace") or i[3] == target.get("namespace"))
                for i in rid
            ):
                matched = True
                self.json6902(
                    resource, operations, _Patch(tree, origin), k, "patchesJson6902", index
                )
        if not matched:
            raise HomelabKitError(
                "no resource matches the patchesJson6902 target",
                k.location("patchesJson6902", index),
            )

    def apply_replicas(
        self, k: _Kustomization, resources: list[_Resource], entry: Any, index: int
    ) -> None:
        if not isinstance(entry, dict) or not entry.get("name"):
            raise HomelabKitError("a 'replicas' entry needs a name", k.location("replicas", index))
        name = _text(entry["name"])
        count = entry.get("count")
        specs = [*REPLICAS, *self.extra("replicas")]
        where = k.location("replicas", index, "count")
        for resource in resources:
            if name not in {i[4] for i in resource.ids}:
                continue
            for spec in specs:
                if spec.selects(resource.obj):
                    apply_spec(resource.obj, spec, lambda node, key: node.__setitem__(key, count))
                    if _reaches(resource.obj, spec.path):
                        resource.note(spec.path, where)

    def set_namespace(self, resources: list[_Resource], namespace: str, where: Location) -> None:
        extra = [*NAMESPACE_EXTRA, *self.extra("namespace")]
        for resource in resources:
            obj = resource.obj
            if not obj:
                continue
            kind = resource.kind
            if kind not in CLUSTER_SCOPED:
                resource.metadata["namespace"] = namespace
                resource.note(("metadata", "namespace"), where)
            if kind in ("RoleBinding", "ClusterRoleBinding"):
                for number, subject in enumerate(obj.get("subjects") or []):
                    if isinstance(subject, dict) and subject.get("name") == "default":
                        subject["namespace"] = namespace
                        resource.note(("subjects", number, "namespace"), where)
            for spec in extra:
                if spec.selects(obj):
                    apply_spec(obj, spec, lambda node, key: node.__setitem__(key, namespace))
            resource.record()

    # ------------------------------------------------------------------ replacements

    def replace(self, k: _Kustomization, resources: list[_Resource]) -> None:
        """``replacements``, inline and from files, after every other transformer."""
        for index, entry in enumerate(k.list("replacements")):
            for replacement, where in self.replacement_entries(k, index, entry):
                self.apply_replacement(k, resources, replacement, where)

    def replacement_entries(
        self, k: _Kustomization, index: int, entry: Any
    ) -> list[tuple[Mapping[str, Any], Callable[..., Location]]]:
        if not isinstance(entry, dict):
            raise HomelabKitError(
                "entry of 'replacements' must be a mapping", k.location("replacements", index)
            )
        if entry.get("path") is None:
            return [(entry, lambda *keys: k.location("replacements", index, *keys))]
        if entry.get("source") is not None or entry.get("targets"):
            raise HomelabKitError(
                "cannot specify both path and inline replacement",
                k.location("replacements", index),
            )
        path = self.local(k, entry["path"], "replacements", index, "path", strict=True)
        text = self.read_text(path, k, "replacements", index, "path")
        rel = self.rel(path)
        documents, trees, problems = parse_located(text, rel)
        if problems:
            raise HomelabKitError(
                f"cannot parse replacements: {problems[0]}", k.location("replacements", index)
            )
        data, tree = (documents[0], trees[0]) if documents else (None, None)
        if isinstance(data, dict):
            return [(data, lambda *keys: _tree_location(rel, tree, keys))]
        if isinstance(data, list):
            return [
                (item, lambda *keys, n=n: _tree_location(rel, tree, (n, *keys)))
                for n, item in enumerate(data)
                if isinstance(item, dict)
            ]
        raise HomelabKitError(
            f"unsupported replacement type encountered within replacement path {rel}",
            k.location("replacements", index, "path"),
        )

    def apply_replacement(
        self,
        k: _Kustomization,
        resources: list[_Resource],
        replacement: Mapping[str, Any],
        where: Callable[..., Location],
    ) -> None:
        targets = replacement.get("targets")
        has_source = replacement.get("source") is not None or "sourceValue" in replacement
        if not has_source or not targets:
            raise HomelabKitError(
                "replacements must specify a source and at least one target", where()
            )
        if not isinstance(targets, list):
            raise HomelabKitError("'targets' must be a list", where("targets"))
        try:
            value = source_value(replacement, ((r.obj, r.ids) for r in resources))
        except ReplacementError as exc:
            raise HomelabKitError(str(exc), where("source")) from None
        for number, target in enumerate(targets):
            if not isinstance(target, Mapping):
                raise HomelabKitError(
                    "target must specify resources to select", where("targets", number)
                )
            for resource in resources:

                def note(
                    path: FieldPath, field: int, n: int = number, r: _Resource = resource
                ) -> None:
                    r.note(path, where("targets", n, "fieldPaths", field))

                try:
                    if not target_selects(target, resource.obj, resource.ids, _meta_selected):
                        continue
                    apply_target(target, value, resource.obj, note)
                except (ReplacementError, PatchError) as exc:
                    raise HomelabKitError(
                        f"{_id_text(resource.cur_id())}: {exc}", where("targets", number)
                    ) from None
                resource.record()

    # ------------------------------------------------------------------ finish

    def finish(self, resources: list[_Resource], k: _Kustomization) -> list[_Resource]:
        """Name hashes, name references, annotations as strings, output order."""
        for resource in resources:
            if resource.needs_hash:
                resource.metadata["name"] = f"{resource.name()}-{name_hash(resource.obj)}"
                resource.record()
        references = [*BUILTIN_NAME_REFERENCES]
        references += [ref for config in self.config for ref in config.name_references]
        _fix_name_references(resources, references, self.warnings)
        for resource in resources:
            _annotations_as_strings(resource.obj)
        sort = k.data.get("sortOptions")
        if not (isinstance(sort, dict) and sort.get("order") == "fifo"):
            resources = sorted(resources, key=_legacy_key)
        return resources


def _annotations_as_strings(obj: dict[str, Any]) -> None:
    """kustomize rewrites every annotation as a string when it drops its build annotations."""
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if isinstance(annotations, dict):
        for key, value in annotations.items():
            if not isinstance(value, str) and not isinstance(value, dict | list):
                annotations[key] = scalar_text(value)


def _parse_config(doc: Mapping[str, Any]) -> _Config:
    def specs(key: str) -> tuple[FieldSpec, ...]:
        raw = doc.get(key)
        if not isinstance(raw, list):
            return ()
        return tuple(FieldSpec.parse(s) for s in raw if isinstance(s, Mapping))

    refs = doc.get("nameReference")
    return _Config(
        name_references=tuple(NameReference.parse(r) for r in refs if isinstance(r, Mapping))
        if isinstance(refs, list)
        else (),
        common_labels=specs("commonLabels"),
        common_annotations=specs("commonAnnotations"),
        namespace=specs("namespace"),
        images=specs("images"),
        replicas=specs("replicas"),
    )


def _note_smp(resource: _Resource, tree: YMap, origin: _Origin, prefix: FieldPath) -> None:
    note_smp(resource.obj, tree, origin, resource.note, prefix)


def _note_json6902(resource: _Resource, operations: list[Any], patch: _Patch) -> None:
    note_json6902(resource.obj, operations, patch.tree, patch.origin, resource.note)


def _note_maps(
    resources: Iterable[_Resource],
    specs: list[FieldSpec],
    pairs: dict[str, str],
    k: _Kustomization,
    *where: str | int,
) -> None:
    """Record the labels or annotations ``pairs`` set, at their keys in ``k``."""

    def paths(obj: Mapping[str, Any]) -> Iterator[tuple[str, ...]]:
        for spec in specs:
            if spec.selects(obj) and reaches(obj, spec.path):
                yield spec.path

    note_maps(
        ((r.obj, r.note) for r in resources),
        paths,
        pairs,
        lambda key: k.location(*where, key),
    )


_reaches = reaches


def _tree_location(path: str, tree: Any, keys: Iterable[str | int]) -> Location:
    return tree_location(path, tree, keys)


def _meta_selected(selector: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    """A replacement selector's ``labelSelector`` and ``annotationSelector`` on ``obj``."""
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    for field, key in (("labelSelector", "labels"), ("annotationSelector", "annotations")):
        if selector.get(field):
            values = meta.get(key)
            if not matches_label_selector(
                _text(selector[field]), values if isinstance(values, dict) else {}
            ):
                return False
    return True


def _set_maps(
    resources: Iterable[_Resource], specs: list[FieldSpec], pairs: dict[str, str]
) -> None:
    def setter(node: dict[str, Any], key: str) -> None:
        current = node.get(key)
        if not isinstance(current, dict):
            current = node[key] = {}
        current.update(pairs)

    for resource in resources:
        for spec in specs:
            if spec.selects(resource.obj):
                apply_spec(resource.obj, spec, setter)


def _selected(resource: _Resource, target: Mapping[str, Any]) -> bool:
    group, version = split_api_version(resource.obj.get("apiVersion"))
    if target.get("group") and group != _text(target["group"]):
        return False
    if target.get("version") and version != _text(target["version"]):
        return False
    if target.get("kind") and resource.kind != _text(target["kind"]):
        return False
    original, current = resource.ids[0], resource.cur_id()
    if target.get("name"):
        pattern = re.compile(f"^(?:{target['name']})$")
        if not (pattern.match(original[4]) or pattern.match(current[4])):
            return False
    if target.get("namespace"):
        pattern = re.compile(f"^(?:{target['namespace']})$")
        namespaces = {_effective_ns(i[2], i[3]) for i in (original, current)}
        if not any(pattern.match(ns) for ns in namespaces):
            return False
    if target.get("labelSelector"):
        labels = resource.metadata.get("labels")
        labels = labels if isinstance(labels, dict) else {}
        if not matches_label_selector(_text(target["labelSelector"]), labels):
            return False
    if target.get("annotationSelector"):
        annotations = resource.metadata.get("annotations")
        annotations = annotations if isinstance(annotations, dict) else {}
        if not matches_label_selector(_text(target["annotationSelector"]), annotations):
            return False
    return True


def _legacy_key(resource: _Resource) -> tuple[int, str, str]:
    group, version, kind, namespace, name = resource.cur_id()
    gvk = f"{group or '~G'}_{version or '~V'}_{kind or '~K'}"
    return (_TYPE_ORDER.get(kind, 0), gvk, f"{namespace or '~X'}|{name or '~N'}")


def _as_ymap(data: Mapping[str, Any]) -> YMap:
    if isinstance(data, YMap):
        return data
    out = YMap(0, 0)
    out.update(data)
    return out


def render_directory(
    directory: Path | str,
    *,
    root: Path | str,
    kustomization: Mapping[str, Any] | None = None,
    parsed: Mapping[str, YamlFile] | None = None,
    sources: Sources | None = None,
) -> Rendered:
    """Build the kustomization in ``directory`` with the pure-Python renderer.

    :param directory: a directory holding ``kustomization.yaml`` (or ``.yml``, or
        ``Kustomization``).
    :param root: the repository root; nothing outside it is read.
    :param kustomization: the kustomization to build in place of the directory's own
        file (or where it has none), as Flux rewrites the file of ``spec.path``.  Keep
        the positions of a parsed :class:`~homelab_kit.yaml.YMap` for error messages.
    :param parsed: files already parsed (the loaded repository's ``files``), by path
        relative to ``root``: a manifest whose bytes are unchanged is not parsed again.
    :param sources: the tree as a run of builds reads it
        (:class:`~homelab_kit.render.sources.Sources`, made from ``root`` and
        ``parsed`` when not given): share one between builds of a tree that does not
        change meanwhile, so each path is resolved and each file read once.
    :returns: the objects in kustomize's (legacy) output order, and warnings.
    :raises HomelabKitError: for bad input, a missing file, a patch that matches
        nothing, or a reference outside ``root``.

    >>> render_directory(Path("kubernetes/apps/default/echo/app"), root=Path("."))  # doctest: +SKIP
    Rendered(warnings=(), backend='python')
    """
    builder = _Builder(sources if sources is not None else Sources(root, parsed))
    real = builder.resolve(os.fspath(directory))
    if not builder.sources.inside(real):
        raise HomelabKitError(f"{real} is outside the repository root", Location(real))
    if kustomization is not None:
        builder.overrides[real] = _as_ymap(kustomization)
    resources = builder.build(real)
    top = builder.load_kustomization(real)
    done = builder.finish(resources, top)
    return Rendered(
        objects=tuple(r.obj for r in done),
        warnings=tuple(dict.fromkeys(builder.warnings)),
        provenance=tuple(r.provenance() for r in done),
    )
