"""Building a Flux Kustomization the way kustomize-controller does.

:func:`build_flux_kustomization` is what ``homelab-kit build <flux-kustomization>``
and ``Repo.render`` need: the objects kustomize-controller would apply for one
``kustomize.toolkit.fluxcd.io`` Kustomization whose source is the repository.  It
follows the controller step by step:

1. :func:`generate_kustomization`: the kustomization file of ``spec.path`` (or, where
   there is none, one listing every manifest below it, as Flux generates it), with the
   Flux spec folded in as fluxcd/pkg's kustomize generator writes it: ``namespace``
   set to ``spec.targetNamespace``, ``namePrefix``/``nameSuffix`` set,
   ``spec.patches`` (and v1beta2's ``patchesStrategicMerge``/``patchesJson6902``)
   and ``spec.components`` appended, ``spec.images`` replacing the entry of the
   same name.  The file is rewritten in place, not wrapped in an overlay, so
   kustomize applies these in its own order within that one kustomization.
2. a kustomize build of that file (a binary, or the pure-Python renderer);
3. ``spec.postBuild`` substitution;
4. ``spec.commonMetadata`` labels and annotations on every object (the controller
   sets them after substitution, just before applying).

Nothing is decrypted: SOPS-encrypted Secrets stay encrypted, and a SOPS-encrypted
``substituteFrom`` Secret leaves its variables unresolved.  Warnings and errors name
objects, files and variables, never a value.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from homelab_kit.errors import HomelabKitError
from homelab_kit.location import Location
from homelab_kit.model.provenance import Provenance
from homelab_kit.render.backend import render
from homelab_kit.render.kustomize import KUSTOMIZATION_FIELDS, KUSTOMIZATION_FILES
from homelab_kit.render.sources import Sources
from homelab_kit.render.substitute import collect_variables, substitute_objects
from homelab_kit.yaml import YamlFile, YMap, YSeq

KUSTOMIZE_API_VERSION = "kustomize.config.k8s.io/v1beta1"
_MANIFEST_SUFFIXES = (".yaml", ".yml")
_SELECTOR_FIELDS = (
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
)
_IMAGE_FIELDS = ("name", "newName", "newTag", "digest")
_NOT_LOCAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://|git@|github\.com/|gitlab\.com/)")


@attrs.frozen
class FluxBuild:
    """The objects one Flux Kustomization applies, and what could not be resolved.

    ``unresolved`` names variables used but not set (left as ``${NAME}``);
    ``errors`` name objects Flux could not substitute; ``objects`` may hold secret
    values (never log them).  ``provenance``, parallel to ``objects``, is where each
    was written, when the renderer says (None otherwise).
    """

    objects: tuple[dict[str, Any], ...] = attrs.field(repr=False)
    warnings: tuple[str, ...] = ()
    unresolved: frozenset[str] = frozenset()
    errors: tuple[str, ...] = ()
    backend: str = "python"
    provenance: tuple[Provenance, ...] = attrs.field(default=(), repr=False)
    """The kustomize build's provenance of each object (same index as ``objects``).

    Empty when a binary built them.  Substitution and ``commonMetadata`` are not
    recorded in it (they change no object's order).
    """
    unsubstituted: tuple[Mapping[str, Any], ...] = attrs.field(default=(), repr=False, eq=False)
    """The objects before ``postBuild`` substitution (same index as ``objects``), when
    substitution ran: what :mod:`homelab_kit.model.substituted` reads ``${VAR}`` from."""


# --------------------------------------------------------------------------- generation


def generate_kustomization(
    spec: Mapping[str, Any],
    directory: Path | str,
    *,
    root: Path | str,
    label: str = "Kustomization",
    sources: Sources | None = None,
) -> tuple[YMap, tuple[str, ...]]:
    """The kustomization kustomize-controller builds for ``spec.path``, and warnings.

    :param spec: the Flux Kustomization's ``spec``.
    :param directory: ``spec.path`` resolved against ``root`` (a directory).
    :param root: the repository root; nothing outside it is read.
    :param label: how messages name the Flux Kustomization.
    :param sources: the tree as a run of builds reads it
        (:class:`~homelab_kit.render.sources.Sources`); a fresh one when not given.
    :returns: the kustomization file's data with the Flux spec folded in (positions
        of the original file kept for error messages; the file is never written).
    :raises HomelabKitError: an unreadable kustomization file, a file Flux cannot
        read as a manifest while generating one, or an invalid spec field.
    """
    sources = sources if sources is not None else Sources(root)
    directory = os.fspath(directory)
    warnings: list[str] = []
    base = directory if directory.endswith(os.sep) else directory + os.sep
    candidates = [base + n for n in KUSTOMIZATION_FILES]  # os.path.join, inline
    found = [path for path in candidates if sources.is_file(path)]
    if found:
        data = _read_kustomization(found[0], sources)
        rel = sources.rel(found[0])
        for key in [k for k in data if k not in KUSTOMIZATION_FIELDS]:
            warnings.append(f"{rel}: unknown field {key!r} dropped, as Flux drops it")
            del data[key]
    else:
        data = YMap(0, 0)
        data["apiVersion"] = KUSTOMIZE_API_VERSION
        data["kind"] = "Kustomization"
        resources = _scan_manifests(directory, sources, label)
        if resources:
            data["resources"] = resources
    _fold_spec(data, spec, directory, label, sources)
    return data, tuple(warnings)


def _read_text(path: str, sources: Sources) -> tuple[bytes, str]:
    """A file's bytes and its text as ``Path.read_text`` gives it (universal newlines)."""
    data = sources.read_bytes(path)
    text = data.decode("utf-8-sig")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return data, text


def _read_kustomization(path: str, sources: Sources) -> YMap:
    rel = sources.rel(path)
    try:
        raw, text = _read_text(path, sources)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise HomelabKitError(f"cannot read kustomization: {reason}", Location(rel)) from None
    documents, problems = sources.parse(rel, text, raw)
    if problems:
        raise HomelabKitError(
            f"invalid YAML: {problems[0].message}",
            Location(rel, problems[0].line, problems[0].column),
        )
    original = documents[0].data if documents else None
    if original is None:
        return YMap(1, 1)
    if not isinstance(original, YMap):
        raise HomelabKitError("a kustomization must be a mapping", Location(rel, 1, 1))
    data = YMap(original.line, original.column)
    data.update(original)
    data.marks = dict(original.marks)
    return data


def _scan_manifests(directory: str, sources: Sources, label: str) -> list[str]:
    """fluxcd/pkg's ``scanManifests``: every YAML manifest below ``directory``, in walk order.

    A sub-folder with a kustomization file is listed as itself, not entered.  Any
    ``.yaml``/``.yml`` file that is not Kubernetes YAML fails the generation, as it
    fails Flux.
    """
    resources: list[str] = []

    def walk(folder: str, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise HomelabKitError(
                f"{label}: cannot list {sources.rel(folder)}: {exc.strerror}"
            ) from None
        for entry in entries:
            path = entry.path
            relative = f"{prefix}/{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                if any(sources.is_file(os.path.join(path, n)) for n in KUSTOMIZATION_FILES):
                    resources.append(relative)
                else:
                    walk(path, relative)
            elif entry.name.endswith(_MANIFEST_SUFFIXES):
                _check_manifest(path, sources, label)
                resources.append(relative)

    walk(directory, ".")
    return resources


def _check_manifest(path: str, sources: Sources, label: str) -> None:
    rel = sources.rel(path)
    if not sources.inside(path):
        raise HomelabKitError(
            f"{label}: {rel} points outside the repository root; nothing outside it is read"
        )
    why = f"{label}: Flux cannot generate a kustomization listing {rel}"
    try:
        raw, text = _read_text(path, sources)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise HomelabKitError(f"{why}: {reason}", Location(rel)) from None
    documents, problems = sources.parse(rel, text, raw)
    if problems:
        where = Location(rel, problems[0].line, problems[0].column)
        raise HomelabKitError(f"{why}: it is not valid YAML", where)
    for document in documents:
        data = document.data
        where = Location(rel, document.start_line)
        if data is None or data == {}:
            continue
        if not isinstance(data, Mapping):
            raise HomelabKitError(f"{why}: a document is not a mapping", where)
        kind = data.get("kind")
        if not isinstance(kind, str) or not kind:
            raise HomelabKitError(f"{why}: a document has no kind", where)
        meta = data.get("metadata")
        name = meta.get("name") if isinstance(meta, Mapping) else None
        if not kind.endswith("List") and not name:
            raise HomelabKitError(f"{why}: a {kind} has no metadata.name", where)


def _spec_list(spec: Mapping[str, Any], field: str, label: str) -> list[Any]:
    value = spec.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise HomelabKitError(f"{label}: spec.{field} must be a list")
    return value


def _extend(data: YMap, key: str, items: list[Any]) -> None:
    """Append ``items`` to the list ``data[key]`` (a copy; positions of the old items kept)."""
    if not items:
        return
    old = data.get(key)
    new = YSeq(old.line, old.column) if isinstance(old, YSeq) else YSeq(0, 0)
    if isinstance(old, YSeq):
        new.item_marks = list(old.item_marks)
    if isinstance(old, list):
        new.extend(old)
    elif old is not None:
        raise HomelabKitError(f"'{key}' must be a list")
    new.extend(items)
    data[key] = new


def _selector(value: Any) -> dict[str, str] | None:
    if not isinstance(value, Mapping):
        return None
    return {k: str(value[k]) for k in _SELECTOR_FIELDS if value.get(k)}


def _fold_spec(
    data: YMap, spec: Mapping[str, Any], directory: str, label: str, sources: Sources
) -> None:
    """Write the Flux spec into the kustomization, as fluxcd/pkg's generator does."""
    target_namespace = spec.get("targetNamespace")
    if isinstance(target_namespace, str):
        if target_namespace:
            data["namespace"] = target_namespace
        else:
            data.pop("namespace", None)
    for field in ("namePrefix", "nameSuffix"):
        value = spec.get(field)
        if isinstance(value, str) and value:
            data[field] = value
    patches: list[Any] = []
    for index, patch in enumerate(_spec_list(spec, "patches", label)):
        if not isinstance(patch, Mapping) or not isinstance(patch.get("patch"), str):
            raise HomelabKitError(f"{label}: spec.patches[{index}] needs a 'patch' text")
        entry: dict[str, Any] = {"patch": patch["patch"]}
        target = _selector(patch.get("target"))
        if target is not None:
            entry["target"] = target
        patches.append(entry)
    _extend(data, "patches", patches)
    components: list[str] = []
    ignore_missing = spec.get("ignoreMissingComponents") is True
    for component in _spec_list(spec, "components", label):
        text = str(component)
        if os.path.isabs(text) or _NOT_LOCAL.match(text):
            raise HomelabKitError(f"{label}: component path {text!r} must be local and relative")
        if ignore_missing and not sources.exists(os.path.join(directory, text)):
            continue
        components.append(text)
    _extend(data, "components", components)
    strategic = [
        json.dumps(p, default=str) for p in _spec_list(spec, "patchesStrategicMerge", label)
    ]
    _extend(data, "patchesStrategicMerge", strategic)
    legacy: list[Any] = []
    for index, patch in enumerate(_spec_list(spec, "patchesJson6902", label)):
        if not isinstance(patch, Mapping):
            raise HomelabKitError(f"{label}: spec.patchesJson6902[{index}] must be a mapping")
        legacy.append(
            {
                "patch": json.dumps(patch.get("patch"), default=str),
                "target": _selector(patch.get("target")) or {},
            }
        )
    _extend(data, "patchesJson6902", legacy)
    _fold_images(data, _spec_list(spec, "images", label), label)


def _fold_images(data: YMap, images: list[Any], label: str) -> None:
    if not images:
        return
    current = data.get("images")
    merged: list[Any] = list(current) if isinstance(current, list) else []
    for index, image in enumerate(images):
        if not isinstance(image, Mapping) or not image.get("name"):
            raise HomelabKitError(f"{label}: spec.images[{index}] needs a name")
        entry = {k: str(image[k]) for k in _IMAGE_FIELDS if image.get(k)}
        names = [i.get("name") if isinstance(i, Mapping) else None for i in merged]
        if entry["name"] in names:
            merged[names.index(entry["name"])] = entry
        else:
            merged.append(entry)
    data["images"] = merged


# --------------------------------------------------------------------------- building


def _find(
    candidates: list[Mapping[str, Any]], kind: str, name: str, namespace: str
) -> Mapping[str, Any] | None:
    for obj in candidates:
        meta = obj.get("metadata")
        if obj.get("kind") != kind or not isinstance(meta, Mapping):
            continue
        if meta.get("name") == name and (meta.get("namespace") or namespace) == namespace:
            return obj
    return None


def _is_sops(obj: Mapping[str, Any]) -> bool:
    return isinstance(obj.get("sops"), Mapping)


def _variables(
    post_build: Mapping[str, Any],
    source_objects: Iterable[Mapping[str, Any]],
    namespace: str,
    label: str,
    strict: bool,
) -> tuple[dict[str, str], bool, list[str]]:
    """The postBuild variables, whether some exist that cannot be read, and warnings."""
    candidates = list(source_objects)
    found: list[Mapping[str, Any]] = []
    unreadable = False
    warnings: list[str] = []
    for reference in post_build.get("substituteFrom") or []:
        if not isinstance(reference, Mapping):
            continue
        kind, name = str(reference.get("kind") or ""), str(reference.get("name") or "")
        obj = _find(candidates, kind, name, namespace)
        if obj is None:
            if reference.get("optional"):
                warnings.append(f"{label}: optional substituteFrom {kind}/{name} not found")
                continue
            message = (
                f"{label}: substituteFrom {kind}/{name} is not in the repository "
                f"(namespace {namespace})"
            )
            if strict:
                raise HomelabKitError(message)
            warnings.append(f"{message}; its variables stay unresolved")
            unreadable = True
        elif _is_sops(obj):
            warnings.append(
                f"{label}: substituteFrom {kind}/{name} is SOPS-encrypted; its variables "
                "stay unresolved (nothing is decrypted)"
            )
            unreadable = True
        else:
            found.append(obj)
    substitute = post_build.get("substitute")
    variables = collect_variables(substitute if isinstance(substitute, Mapping) else {}, found)
    return variables, unreadable, warnings


def _metadata_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _set_common_metadata(
    objects: tuple[dict[str, Any], ...], common: Any
) -> tuple[dict[str, Any], ...]:
    """ssa's ``SetCommonMetadata``: add labels and annotations, overriding same keys."""
    if not isinstance(common, Mapping):
        return objects
    pairs = {
        field: {str(k): _metadata_text(v) for k, v in values.items()}
        for field in ("labels", "annotations")
        if isinstance(values := common.get(field), Mapping) and values
    }
    if not pairs:
        return objects
    out: list[dict[str, Any]] = []
    for original in objects:
        # Only metadata's labels and annotations change: copy that path, share the rest.
        obj = dict(original)
        meta = obj.get("metadata")
        meta = obj["metadata"] = dict(meta) if isinstance(meta, dict) else {}
        for field, values in pairs.items():
            current = meta.get(field)
            meta[field] = {**(current if isinstance(current, dict) else {}), **values}
        out.append(obj)
    return tuple(out)


def build_flux_kustomization(
    kustomization: Mapping[str, Any],
    *,
    root: Path | str,
    source_objects: Iterable[Mapping[str, Any]] = (),
    backend: str = "auto",
    namespace: str | None = None,
    strict: bool = False,
    parsed: Mapping[str, YamlFile] | None = None,
    sources: Sources | None = None,
) -> FluxBuild:
    """The objects kustomize-controller would apply for one Flux Kustomization.

    :param kustomization: the Flux Kustomization object (a mapping).
    :param root: the repository root; ``spec.path`` is relative to it.
    :param source_objects: objects of the repository among which the ConfigMaps and
        Secrets named by ``spec.postBuild.substituteFrom`` are looked up (in the
        Kustomization's namespace; one without a namespace matches any).
    :param backend: see :func:`~homelab_kit.render.render`.
    :param namespace: the Kustomization's namespace when its ``metadata`` has none
        (the one its including kustomization sets); default ``flux-system``.
    :param strict: fail, as Flux does, when a non-optional ``substituteFrom`` object
        is missing; by default that is a warning and its variables stay unresolved
        (the repository need not hold every object the cluster has).
    :param parsed: files already parsed (the loaded repository's ``files``): see
        :func:`~homelab_kit.render.render`.
    :param sources: the tree as a run of builds reads it (made from ``root`` and
        ``parsed`` when not given): share one
        :class:`~homelab_kit.render.sources.Sources` between the builds of a tree that
        does not change meanwhile (every Kustomization of a repository).
    :raises HomelabKitError: a bad path or spec, a build failure, an object without
        apiVersion, kind or name, or (``strict``) a missing ``substituteFrom`` object.

    >>> build_flux_kustomization(ks, root=".", source_objects=docs)  # doctest: +SKIP
    FluxBuild(warnings=(), unresolved=frozenset(), errors=(), backend='kubectl')
    """
    root = os.fspath(root)
    sources = sources if sources is not None else Sources(root, parsed)
    spec = kustomization.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    meta = kustomization.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    namespace = str(meta.get("namespace") or namespace or "flux-system")
    label = f"Kustomization/{namespace}/{meta.get('name', '?')}"
    path = str(spec.get("path") or "./")
    directory = sources.real(os.path.join(root, path))
    if not sources.inside(directory):
        raise HomelabKitError(f"{label}: spec.path {path!r} is outside the repository root")
    if not sources.is_dir(directory):
        what = "is not a directory" if sources.exists(directory) else "does not exist"
        raise HomelabKitError(f"{label}: spec.path {path!r} {what}")
    data, generated = generate_kustomization(
        spec, directory, root=root, label=label, sources=sources
    )
    warnings = list(generated)
    source_ref = spec.get("sourceRef")
    if isinstance(source_ref, Mapping) and source_ref.get("kind") not in (None, "GitRepository"):
        warnings.append(
            f"{label}: its source is {source_ref.get('kind')}/{source_ref.get('name')}; "
            "spec.path is read from this repository"
        )
    rendered = render(directory, root=root, backend=backend, kustomization=data, sources=sources)
    warnings += rendered.warnings
    for obj in rendered.objects:
        obj_meta = obj.get("metadata")
        name = obj_meta.get("name") if isinstance(obj_meta, Mapping) else None
        if not obj.get("apiVersion") or not obj.get("kind") or not name:
            raise HomelabKitError(
                f"{label}: an object lacks apiVersion, kind or metadata.name "
                f"({obj.get('kind') or '?'}/{name or '?'}); Flux refuses it"
            )
    objects = before = rendered.objects
    unresolved: frozenset[str] = frozenset()
    errors: tuple[str, ...] = ()
    post_build = spec.get("postBuild")
    if isinstance(post_build, Mapping):
        variables, unreadable, more = _variables(
            post_build, source_objects, namespace, label, strict
        )
        warnings += more
        # the rendered objects are this build's own: substitution copies only what it changes
        result = substitute_objects(objects, variables, always=unreadable, copy=False)
        objects, unresolved, errors = result.objects, result.unresolved, result.errors
    objects = _set_common_metadata(objects, spec.get("commonMetadata"))
    return FluxBuild(
        objects=objects,
        warnings=tuple(dict.fromkeys(warnings)),
        unresolved=unresolved,
        errors=errors,
        backend=rendered.backend,
        provenance=rendered.provenance,
        unsubstituted=before if isinstance(post_build, Mapping) else (),
    )
