"""Shared helpers of the Helm checks: chart sources, namespaces and injected patches.

Nothing here reads files: patch bodies are YAML strings already held by the model
(``spec.patches`` of Flux Kustomizations, inline kustomize patches) or documents
the loader parsed (``repo.patch_documents``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from homelab_kit import DocumentRef, HelmRelease, Location, Repo
from homelab_kit.model.flux import HELM_GROUP, KUSTOMIZE_GROUP, NamespacedRef
from homelab_kit.model.kustomize import KustomizeFile
from homelab_kit.model.patches import target_pattern_matches
from homelab_kit.model.secret_index import namespaces_meet, object_namespaces
from homelab_kit.model.substitute import NameIndex
from homelab_kit.yaml import parse_text

CHART_SOURCE_KINDS = ("OCIRepository", "HelmRepository", "GitRepository")

# An exact version: 1.2.3, v1.18.2, 2024.10.1, 0.9.5-pre.4, 1.2.3+build.
EXACT_VERSION = re.compile(r"^v?\d+(\.\d+){0,3}(-[0-9A-Za-z][0-9A-Za-z.-]*)?(\+[0-9A-Za-z.-]+)?$")
_RANGE_CHARS = re.compile(r"[\s*^~<>=|,]|(^|\.)[xX](\.|$)")


def is_range(version: str) -> bool:
    """A semver constraint that matches more than one version (``^1.2``, ``1.x``, ``>=1``)."""
    return bool(_RANGE_CHARS.search(version))


# --------------------------------------------------------------------- namespaces


def ref_namespaces(
    repo: Repo, doc: DocumentRef, ref: NamespacedRef, own: tuple[str | None, ...]
) -> tuple[str | None, ...]:
    """The namespaces a reference resolves in: as written, else the referrer's own."""
    if ref.namespace:
        return repo.expand(doc.path, ref.namespace)
    return own


# ------------------------------------------------------------------ chart sources


@attrs.frozen
class ChartSource:
    """A Flux source object a HelmRelease may take its chart from."""

    kind: str
    name: str
    doc: DocumentRef
    namespaces: tuple[str | None, ...]


def chart_sources(repo: Repo) -> list[ChartSource]:
    """Every OCIRepository, HelmRepository and GitRepository, with where it lands."""
    return list(repo.derived(_chart_sources))


def _chart_sources(repo: Repo) -> tuple[ChartSource, ...]:
    pools: tuple[tuple[str, tuple[Any, ...]], ...] = (
        ("OCIRepository", repo.oci_repositories),
        ("HelmRepository", repo.helm_repositories),
        ("GitRepository", repo.git_repositories),
    )
    return tuple(
        ChartSource(kind, obj.name, obj.doc, object_namespaces(repo, obj.doc, obj.namespace))
        for kind, pool in pools
        for obj in pool
    )


def _chart_source_index(repo: Repo) -> dict[str, NameIndex[ChartSource]]:
    """Chart sources by kind, found by their names after Flux substitution."""
    out: dict[str, NameIndex[ChartSource]] = {}
    for source in repo.derived(_chart_sources):
        names = repo.expand(source.doc.path, source.name)
        out.setdefault(source.kind, NameIndex()).add(names, source)
    return out


def chart_ref_of(hr: HelmRelease) -> tuple[NamespacedRef | None, str]:
    """The reference to the chart's source and its kind (chartRef or chart.spec.sourceRef)."""
    if hr.chart_ref is not None:
        return hr.chart_ref, hr.chart_ref.kind or "OCIRepository"
    if hr.chart is not None and hr.chart.source_ref is not None:
        return hr.chart.source_ref, hr.chart.source_ref.kind or "HelmRepository"
    return None, ""


def resolve_chart_source(repo: Repo, hr: HelmRelease) -> list[ChartSource] | None:
    """The sources ``hr`` takes its chart from (in :func:`chart_sources` order).

    None when the kind of its source is not modelled.
    """
    ref, kind = chart_ref_of(hr)
    if ref is None or kind not in CHART_SOURCE_KINDS:
        return None
    own = object_namespaces(repo, hr.doc, hr.namespace)
    namespaces = ref_namespaces(repo, hr.doc, ref, own)
    names = repo.expand(hr.doc.path, ref.name)
    index = repo.derived(_chart_source_index).get(kind)
    if index is None:
        return []
    return [s for s in index.matching(names) if namespaces_meet(namespaces, s.namespaces)]


def implicit_source(repo: Repo, hr: HelmRelease) -> bool:
    """Whether the chart source is one bootstrap creates (GitRepository flux-system)."""
    ref, kind = chart_ref_of(hr)
    if ref is None:
        return False
    own = object_namespaces(repo, hr.doc, hr.namespace)
    return any(
        repo.source_exists(kind, ns, ref.name) for ns in ref_namespaces(repo, hr.doc, ref, own)
    )


# ------------------------------------------------------------------------ patches


@attrs.frozen
class Patch:
    """One patch with what it targets.

    ``body`` is a strategic-merge (partial object) patch, ``ops`` a JSON 6902 one;
    ``source`` is where the patch is written.
    """

    body: Mapping[str, Any] | None
    ops: tuple[Mapping[str, Any], ...]
    target: Mapping[str, Any] | None
    source: Location


def _parse_patch(text: Any, target: Any, source: Location) -> Patch | None:
    if isinstance(text, Mapping):
        return Patch(text, (), target if isinstance(target, Mapping) else None, source)
    if not isinstance(text, str):
        return None
    documents, problems = parse_text(text)
    if problems or not documents:
        return None
    data = documents[0].data
    tgt = target if isinstance(target, Mapping) else None
    if isinstance(data, Mapping):
        return Patch(data, (), tgt, source)
    if isinstance(data, list):
        return Patch(None, tuple(op for op in data if isinstance(op, Mapping)), tgt, source)
    return None


def _regex_match(pattern: Any, value: str) -> bool:
    """A missing or empty pattern matches everything."""
    if not isinstance(pattern, str) or not pattern:
        return True
    return target_pattern_matches(pattern, value)


def _labels_match(selector: Any, labels: Mapping[str, Any]) -> bool:
    """Equality-based label selectors (``a=b``, ``a!=b``, ``a``, ``!a``); sets match."""
    if not isinstance(selector, str):
        return True
    for term in (t.strip() for t in selector.split(",")):
        if not term or " in " in term or " notin " in term:
            continue
        if "!=" in term:
            key, value = (p.strip() for p in term.split("!=", 1))
            if key in labels and str(labels[key]) == value:
                return False
        elif "=" in term:
            key, value = (p.strip() for p in term.replace("==", "=").split("=", 1))
            if str(labels.get(key)) != value:
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


def targets(patch: Patch, group: str, kind: str, name: str, labels: Mapping[str, Any]) -> bool:
    """Whether ``patch`` applies to an object of ``group``/``kind`` called ``name``."""
    target = patch.target
    if target is None:
        body = patch.body or {}
        api = body.get("apiVersion")
        body_group = api.rsplit("/", 1)[0] if isinstance(api, str) and "/" in api else ""
        meta = body.get("metadata")
        body_name = meta.get("name") if isinstance(meta, Mapping) else None
        return body.get("kind") == kind and body_group == group and body_name in (None, name)
    if isinstance(target.get("kind"), str) and target["kind"] != kind:
        return False
    if isinstance(target.get("group"), str) and target["group"] != group:
        return False
    return _regex_match(target.get("name"), name) and _labels_match(
        target.get("labelSelector"), labels
    )


def _labels(doc: DocumentRef) -> Mapping[str, Any]:
    labels = doc.get("metadata", "labels")
    return labels if isinstance(labels, Mapping) else {}


def _kustomize_patch_table(repo: Repo) -> dict[str, tuple[Patch, ...]]:
    """The kustomize patches that apply to each file, in ``kustomize_files`` order."""
    out: dict[str, list[Patch]] = {}
    for kfile in repo.kustomize_files:
        patches = list(_kustomize_patches(repo, kfile))
        if not patches:
            continue
        for path in _covered(repo, kfile):
            out.setdefault(path, []).extend(patches)
    return {k: tuple(v) for k, v in out.items()}


def _covered(repo: Repo, kfile: KustomizeFile) -> frozenset[str]:
    """Files a kustomization's patches apply to (its resources, transitively)."""
    out: set[str] = set()
    stack = [kfile]
    seen: set[str] = set()
    while stack:
        current = stack.pop()
        if current.path in seen:
            continue
        seen.add(current.path)
        for entry in (*current.resources, *current.components):
            if entry.target is None:
                continue
            if entry.status == "file":
                out.add(entry.target)
            elif entry.status == "dir":
                inner = repo.kustomize_file(entry.target)
                if inner is not None:
                    stack.append(inner)
    return frozenset(out)


def _kustomize_patches(repo: Repo, kfile: KustomizeFile) -> Iterator[Patch]:
    doc = kfile.doc
    targets_of = {e.value: e.target for e in kfile.patch_files}
    for i, item in enumerate(doc.list_at("patches")):
        if not isinstance(item, Mapping):
            continue
        where = doc.location("patches", i)
        if isinstance(item.get("path"), str):
            target_path = targets_of.get(item["path"])
            for pdoc in repo.patch_documents_in(target_path or ""):
                patch = _parse_patch(pdoc.data, item.get("target"), pdoc.location())
                if patch is not None:
                    yield patch
        else:
            patch = _parse_patch(item.get("patch"), item.get("target"), where)
            if patch is not None:
                yield patch
    for i, item in enumerate(doc.list_at("patchesStrategicMerge")):
        if isinstance(item, str) and "\n" in item:
            patch = _parse_patch(item, None, doc.location("patchesStrategicMerge", i))
            if patch is not None:
                yield patch
        elif isinstance(item, str):
            for pdoc in repo.patch_documents_in(targets_of.get(item) or ""):
                patch = _parse_patch(pdoc.data, None, pdoc.location())
                if patch is not None:
                    yield patch


class PatchIndex:
    """Patches that reach each object: its own kustomizations' and its Flux parents'.

    A Flux Kustomization's ``spec.patches`` apply to what it deploys
    (``repo.deployed_by``); a patch it carries for ``kind: Kustomization`` adds
    ``spec.patches`` to the child Kustomizations, and kustomize patches in a
    kustomization.yaml (files or inline) apply to that kustomization's resources,
    including Flux Kustomizations.
    """

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self._kustomize = repo.derived(_kustomize_patch_table)
        self._flux: dict[tuple[str | None, str], list[Patch]] = {}
        self._busy: set[tuple[str | None, str]] = set()

    # kustomize-level -------------------------------------------------------

    def _from_kustomize(self, doc: DocumentRef) -> Iterator[Patch]:
        for patch in self._kustomize.get(doc.path, ()):
            if targets(patch, doc.group, doc.kind, doc.name, _labels(doc)):
                yield patch

    # Flux-level ------------------------------------------------------------

    def deployers(
        self, path: str, exclude: tuple[str | None, str] | None = None
    ) -> list[tuple[str | None, str]]:
        """The Flux Kustomizations that deploy ``path``, or would if it were listed.

        A file left out of its kustomization.yaml (an app switched off) takes the
        Kustomizations whose ``spec.path`` folder holds it, the nearest first: the
        settings it would get once switched back on.
        """
        found = [k for k in self.repo.deployed_by.get(path, ()) if k != exclude]
        if found:
            return found
        best: list[tuple[str | None, str]] = []
        best_len = -1
        for ks in self.repo.kustomizations:
            if ks.key == exclude or ks.path is None:
                continue
            folder = posixpath.normpath(ks.path.lstrip("/"))
            folder = "" if folder == "." else folder
            if folder and not path.startswith(folder + "/"):
                continue
            if len(folder) > best_len:
                best, best_len = [ks.key], len(folder)
            elif len(folder) == best_len:
                best.append(ks.key)
        return best

    def flux_patches(self, key: tuple[str | None, str]) -> list[Patch]:
        """Every patch a Flux Kustomization applies: its own, and those put in by others."""
        if key in self._flux:
            return self._flux[key]
        ks = self.repo.kustomization(*key)
        if ks is None or key in self._busy:
            return []
        self._busy.add(key)
        out: list[Patch] = []
        for i, item in enumerate(ks.doc.list_at("spec", "patches")):
            if isinstance(item, Mapping):
                patch = _parse_patch(
                    item.get("patch"), item.get("target"), ks.doc.location("spec", "patches", i)
                )
                if patch is not None:
                    out.append(patch)
        carriers = list(self._from_kustomize(ks.doc))
        for parent in self.deployers(ks.doc.path, exclude=key):
            carriers += [
                p
                for p in self.flux_patches(parent)
                if targets(p, KUSTOMIZE_GROUP, "Kustomization", ks.name, _labels(ks.doc))
            ]
        for carrier in carriers:
            out += _nested_patches(carrier)
        self._busy.discard(key)
        self._flux[key] = out
        return out

    def patches_for(self, doc: DocumentRef) -> list[Patch]:
        """Patches that reach the object of ``doc`` (a HelmRelease, say)."""
        found = list(self._from_kustomize(doc))
        labels = _labels(doc)
        for key in self.deployers(doc.path):
            found += [
                p
                for p in self.flux_patches(key)
                if targets(p, doc.group, doc.kind, doc.name, labels)
            ]
        return found


def _nested_patches(carrier: Patch) -> list[Patch]:
    """The ``spec.patches`` a patch for a Flux Kustomization puts into it."""
    out: list[Patch] = []
    body = carrier.body or {}
    spec = body.get("spec")
    items = spec.get("patches") if isinstance(spec, Mapping) else None
    for item in items if isinstance(items, list) else ():
        if isinstance(item, Mapping):
            patch = _parse_patch(item.get("patch"), item.get("target"), carrier.source)
            if patch is not None:
                out.append(patch)
    for op in carrier.ops:
        if op.get("op") in ("add", "replace") and str(op.get("path", "")).startswith(
            "/spec/patches"
        ):
            value = op.get("value")
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, Mapping):
                    patch = _parse_patch(item.get("patch"), item.get("target"), carrier.source)
                    if patch is not None:
                        out.append(patch)
    return out


def patched_value(patches: list[Patch], *path: str) -> tuple[Any, Location | None]:
    """The value some patch sets at ``path`` (the last one wins), and where."""
    found: tuple[Any, Location | None] = (None, None)
    pointer = "/" + "/".join(path)
    for patch in patches:
        node: Any = patch.body
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None:
            found = (node, patch.source)
        for op in patch.ops:
            if op.get("op") not in ("add", "replace"):
                continue
            op_path = str(op.get("path", ""))
            if op_path == pointer:
                found = (op.get("value"), patch.source)
            elif pointer.startswith(op_path.rstrip("/") + "/"):
                node = op.get("value")
                for part in pointer[len(op_path.rstrip("/")) + 1 :].split("/"):
                    node = node.get(part) if isinstance(node, Mapping) else None
                if node is not None:
                    found = (node, patch.source)
    return found


def helm_release_patches(index: PatchIndex, hr: HelmRelease) -> list[Patch]:
    """Patches that reach ``hr`` (its group and kind are HelmRelease's)."""
    if hr.doc.group != HELM_GROUP:
        return []
    return index.patches_for(hr.doc)
