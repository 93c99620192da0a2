"""The workloads the clusters run: read from each cluster's desired state.

A workload check judges the objects Flux applies, not the manifests as written:
after kustomize patches and components (a component may add a container or a
whole app-template controller), a Flux Kustomization's ``spec.patches`` (its own
or its parent's), ``replacements`` and ``${VAR}`` substitution.  Each workload is
built from each applied copy of its document, once per cluster and Flux
Kustomization applying it, and each field is placed where the user edits it
(:mod:`homelab_kit.model.applied_fields`).

HelmReleases are read the same way: their applied ``spec.values`` merged over the
values of their ``valuesFrom`` ConfigMaps that the same cluster applies (a values
file behind a ``configMapGenerator``, substituted as Flux substitutes it), in
Helm's order; a field is placed in the values file or the HelmRelease that set it.

Files no cluster builds are not live: their workloads are left out.  A document
a cluster deploys but whose build failed (a missing file, say), and every document
of a repository without a cluster, is read as written.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from homelab_kit.location import Location
from homelab_kit.model.applied import documents_by_place
from homelab_kit.model.applied_fields import AppliedFields, written_path
from homelab_kit.model.base import DocumentRef, as_list, as_mapping
from homelab_kit.model.flux import HELM_GROUP
from homelab_kit.model.helm import ValuesSource
from homelab_kit.model.kept import PerObject, kept_per_object
from homelab_kit.model.provenance import FieldPath, value_at
from homelab_kit.model.workloads import WORKLOAD_KINDS, FieldLocator, ImageRef, Workload
from homelab_kit.yaml import parse_text

if TYPE_CHECKING:
    from homelab_kit.model.clusters import Cluster, DesiredObject
    from homelab_kit.model.repo import Repo


def live_workloads(repo: Repo) -> tuple[Workload, ...]:
    """Every workload the clusters run, each copy with its ``cluster``; computed once.

    Workloads of documents no cluster builds come from :attr:`Repo.workloads` (as
    written) when their file is deployed, and are left out when it is not.
    """
    return repo.derived(_live_workloads)


def live_values(repo: Repo) -> tuple[tuple[ValuesSource, str | None], ...]:
    """The values of every HelmRelease the clusters apply, with the cluster applying it.

    Each is the HelmRelease's applied values merged over its ``valuesFrom``
    ConfigMaps' (see the module docstring); values of releases no cluster builds
    come as written (cluster None) when their file is deployed.
    """
    return repo.derived(_live_values)


def _live_workloads(repo: Repo) -> tuple[Workload, ...]:
    out: list[Workload] = []
    covered: set[tuple[str, int]] = set()
    for cluster in repo.clusters:
        for obj, doc in _applied(repo, cluster, _is_workload):
            covered.add(_place(doc))
            at = AppliedFields(repo, cluster.name, obj, doc)
            out.append(Workload.from_doc(doc, applied=obj.data, at=at, cluster=cluster.name))
    for values, cluster_name in live_values(repo):
        if cluster_name is not None:
            out += values.workloads(cluster_name)
    written_values = {_place(v.doc) for v, c in live_values(repo) if c is None}
    for workload in repo.workloads:
        if workload.origin == "values":
            if _place(workload.doc) in written_values:
                out.append(workload)
        elif _place(workload.doc) not in covered and repo.is_deployed(workload.doc.path):
            out.append(workload)
    return tuple(out)


def _live_values(repo: Repo) -> tuple[tuple[ValuesSource, str | None], ...]:
    out: list[tuple[ValuesSource, str | None]] = []
    covered: set[tuple[str, int]] = set()  # HelmReleases and values files read applied
    # With lint's cache, whether a values file's ${VAR}s matter is kept by the file's
    # content (it is a function of the file alone: most of this index's work).
    kept = kept_per_object(repo, "homelab-kit/model/values-read-here", provenance=False)
    # ... and the images each release's values name (located: by provenance too).
    images = kept_per_object(repo, "homelab-kit/model/values-images")
    for cluster in repo.clusters:
        config_maps = {(o.namespace, o.name): o for o in cluster.objects if o.kind == "ConfigMap"}
        for obj, doc in _applied(repo, cluster, _is_release):
            covered.add(_place(doc))
            applied, files = _release_values(repo, cluster, obj, doc, config_maps, kept, images)
            covered.update(files)
            if applied is not None:
                out.append((applied, cluster.name))
    by_release = _written_releases(repo)
    for values in repo.values:
        release = by_release.get((values.release, values.namespace), ())
        if _place(values.doc) in covered or any(r in covered for r in release):
            continue
        if repo.is_deployed(values.doc.path):
            out.append((values, None))
    return tuple(out)


def _written_releases(repo: Repo) -> dict[tuple[str, str | None], list[tuple[str, int]]]:
    out: dict[tuple[str, str | None], list[tuple[str, int]]] = {}
    for release in repo.helm_releases:
        out.setdefault((release.name, release.namespace), []).append(_place(release.doc))
    return out


def _applied(
    repo: Repo, cluster: Cluster, wanted: Callable[[DesiredObject], bool]
) -> Iterator[tuple[DesiredObject, DocumentRef]]:
    """The objects ``cluster`` applies through a Flux Kustomization that are ``wanted``,
    with their documents (looked up only for the objects wanted: few are)."""
    docs = documents_by_place(repo)
    for obj in cluster.objects:
        if obj.applied_by is None or not wanted(obj):
            continue
        where = obj.source
        doc = docs.get((where.path, where.line))
        if doc is not None:
            yield obj, doc


def _is_workload(obj: DesiredObject) -> bool:
    return obj.kind in WORKLOAD_KINDS and obj.group in ("", "apps", "batch")


def _is_release(obj: DesiredObject) -> bool:
    return obj.kind == "HelmRelease" and obj.group == HELM_GROUP


def _place(doc: DocumentRef) -> tuple[str, int]:
    """Which document ``doc`` is: its file and its index there (no position to look up)."""
    return (doc.path, doc.index)


# --------------------------------------------------------------------------- values


@attrs.frozen
class AppliedValues(ValuesSource):
    """A HelmRelease's values as a cluster applies them, merged over its ``valuesFrom``.

    ``merged`` are the values Helm receives (before the chart's defaults); ``at``
    says where each of them is edited.  ``doc`` is the HelmRelease's document.
    """

    merged: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    at: FieldLocator | None = attrs.field(default=None, eq=False, repr=False)
    # The images of these values, kept from an earlier run (None: read them).
    kept_images: tuple[ImageRef, ...] | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def data(self) -> Mapping[str, Any]:
        return self.merged

    def images(self) -> Iterator[ImageRef]:
        if self.kept_images is not None:
            return iter(self.kept_images)
        return ValuesSource.images(self)

    def location(self, *path: str | int) -> Location:
        return self.at.location(*path) if self.at is not None else self.doc.location(*path)

    def key_location(self, *path: str | int) -> Location:
        if self.at is None:
            return self.doc.key_location(*path)
        return self.at.key_location(*path)


@attrs.frozen
class _WrittenValues:
    """Values parsed from a ConfigMap, placed in the values file they were read from."""

    data: Mapping[str, Any] = attrs.field(repr=False)
    doc: DocumentRef = attrs.field(repr=False)

    def location(self, *path: str | int) -> Location:
        if self.data is self.doc.data:
            return self.doc.location(*path)
        return self.doc.location(*written_path(self.doc.data, self.data, path))

    def key_location(self, *path: str | int) -> Location:
        if self.data is self.doc.data:
            return self.doc.key_location(*path)
        written = written_path(self.doc.data, self.data, path)
        if written == path:
            return self.doc.key_location(*path)
        return self.doc.location(*written)


@attrs.frozen
class _OnePlace:
    """Values whose fields cannot be placed one by one: all at the object that holds them."""

    where: Location

    def location(self, *path: str | int) -> Location:
        return self.where

    def key_location(self, *path: str | int) -> Location:
        return self.where


@attrs.frozen
class _MergedValues:
    """Where a merged value was set: the highest layer holding it (or its nearest parent)."""

    layers: Sequence[tuple[Mapping[str, Any], FieldLocator]] = attrs.field(repr=False)

    def _layer(self, path: FieldPath) -> FieldLocator:
        for end in range(len(path), -1, -1):
            for data, at in self.layers:
                if value_at(data, path[:end]) is not None:
                    return at
        return self.layers[0][1]

    def location(self, *path: str | int) -> Location:
        return self._layer(path).location(*path)

    def key_location(self, *path: str | int) -> Location:
        return self._layer(path).key_location(*path)


def _release_values(
    repo: Repo,
    cluster: Cluster,
    obj: DesiredObject,
    doc: DocumentRef,
    config_maps: Mapping[tuple[str | None, str], DesiredObject],
    kept: PerObject | None = None,
    images: PerObject | None = None,
) -> tuple[AppliedValues | None, list[tuple[str, int]]]:
    """The merged values of the applied HelmRelease ``obj``, and the values files read.

    ``kept``: where whether each values file is read here (:func:`_read_here`) is kept;
    ``images``: where the images of the merged values are kept, by the release's name
    and those of the ConfigMaps it reads (what the values and their places are made of).
    """
    read: list[DesiredObject] = []  # the valuesFrom ConfigMaps found
    layers: list[tuple[Mapping[str, Any], FieldLocator]] = []
    inline = obj.get("spec", "values")
    if isinstance(inline, Mapping) and inline:
        layers.append((inline, AppliedFields(repo, cluster.name, obj, doc, ("spec", "values"))))
    files: list[tuple[str, int]] = []
    for ref in reversed(as_list(obj.get("spec", "valuesFrom"))):
        if not isinstance(ref, Mapping) or ref.get("kind") != "ConfigMap":
            continue
        if ref.get("targetPath"):
            continue  # one value set at a path: not a values document
        config_map = config_maps.get((obj.namespace, str(ref.get("name"))))
        key = ref.get("valuesKey") or "values.yaml"
        if config_map is not None:
            read.append(config_map)
        text = config_map.get("data", key) if config_map is not None else None
        if config_map is None or not isinstance(text, str):
            continue
        file = _values_file(repo, config_map, str(key))
        if file is not None and not _reads_here(file, kept):
            data: Any = file.data  # substitution changes nothing these checks read
        else:
            documents, problems = parse_text(text, config_map.source.path)
            data = documents[0].data if documents and not problems else None
        if not isinstance(data, Mapping):
            continue
        if file is not None:
            files.append(_place(file))
            # Read unchanged: the file's own positions (what _WrittenValues answers).
            layers.append((data, file if data is file.data else _WrittenValues(data, file)))
        else:  # not from a values file we can read: the ConfigMap's own place
            layers.append((data, _OnePlace(config_map.source)))
    if not layers:
        return None, files
    merged: dict[str, Any] = {}
    for data, _ in reversed(layers):
        merged = _merge(merged, data)
    values = AppliedValues(
        release=obj.name,
        namespace=obj.namespace,
        origin="applied",
        doc=doc,
        base=("spec", "values"),
        merged=merged,
        # One layer (the usual case) holds every value: it answers directly.
        at=layers[0][1] if len(layers) == 1 else _MergedValues(tuple(layers)),
    )
    if images is not None:
        inputs = [images.name(config_map) for config_map in read]
        if None not in inputs:
            found = images.get(obj, functools.partial(_images, values), *inputs)
            values = attrs.evolve(values, kept_images=found)
    return values, files


def _images(values: ValuesSource) -> tuple[ImageRef, ...]:
    return tuple(ValuesSource.images(values))


# Values below these keys are never read as workload settings or images: a
# ${VAR} there (TZ: ${TIMEZONE}, a route's ${SECRET_DOMAIN}) changes nothing the
# workload checks see, so the values file as read stands for its substituted text.
_NOT_READ = frozenset(
    {
        "env",
        "envFrom",
        "args",
        "command",
        "annotations",
        "labels",
        "podAnnotations",
        "podLabels",
        "hostnames",
        "hosts",
        "route",
        "ingress",
        "service",
        "serviceMonitor",
        "configMaps",
        "secrets",
    }
)
_IMAGE_KEYS = frozenset({"repository", "tag", "digest", "registry"})
_PLAIN = (list, int, float, type(None))
_LEAVES = (int, float, type(None))  # with str: the plain scalars (bool is an int)


def _read_here(node: Any, read: bool = True) -> bool:
    """Whether a ``${VAR}`` in ``node`` may change what the workload checks read.

    ``read`` is False below a key of ``_NOT_READ``, where only images still count
    (the image-tag check finds images anywhere in values).
    """
    if isinstance(node, str):
        return read and "${" in node
    # Exact classes first: the Mapping ABC check is slow on the YAML's plain scalars,
    # which are tested inline (no call for them).
    if isinstance(node, dict) or (not isinstance(node, _PLAIN) and isinstance(node, Mapping)):
        for key, value in node.items():
            if isinstance(key, str):
                image, readable = _key_reads(key)
                here = image or (read and readable)
            else:
                here = read
            if isinstance(value, str):
                if here and "${" in value:
                    return True
            elif not isinstance(value, _LEAVES) and _read_here(value, here):
                return True
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, str):
                if read and "${" in item:
                    return True
            elif not isinstance(item, _LEAVES) and _read_here(item, read):
                return True
    return False


def _reads_here(file: DocumentRef, kept: PerObject | None) -> bool:
    """:func:`_read_here` of a values file's document, kept by its content when it can be."""
    if kept is None:
        return _read_here(file.data)
    return kept.get(file, functools.partial(_read_here, file.data))


@functools.lru_cache(maxsize=4096)
def _key_reads(key: str) -> tuple[bool, bool]:
    """Whether values below ``key`` name an image, and whether they may be read."""
    name = key.lower()
    return name.endswith("image") or name in _IMAGE_KEYS, key not in _NOT_READ


def _values_file(repo: Repo, config_map: DesiredObject, key: str) -> DocumentRef | None:
    """The values file a generated ConfigMap's ``key`` was read from."""
    where = config_map.source
    kfile = repo.kustomize_file(posixpath.dirname(where.path))
    if kfile is None:
        return None
    for generator in kfile.generators:
        if generator.kind != "ConfigMap" or generator.source.line != where.line:
            continue
        for file_key, entry in zip(generator.file_keys, generator.files, strict=False):
            if file_key == key and entry.target is not None:
                return _values_document(repo, entry.target)
    return None


def _values_document(repo: Repo, path: str) -> DocumentRef | None:
    """The first document of a values file (values are not objects: read from the file)."""
    found = repo.file(path)
    if found is None or not found.documents or not isinstance(found.documents[0].data, Mapping):
        return None
    return DocumentRef.from_document(path, found.documents[0])


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """helm-controller's merge of two values layers: mappings merge key by key."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(as_mapping(out[key]), value)
        else:
            out[key] = value
    return out
