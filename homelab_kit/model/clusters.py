"""Clusters: where each one starts, and the desired state Flux applies in it.

One repository may hold several clusters (``kubernetes/main`` and
``kubernetes/storage``, ``clusters/<name>``).  Each has an entry point, the folder
or file Flux is bootstrapped from:

- a ``clusters:`` map in ``.homelab-kit.yaml`` (name -> entry file or folder), which
  replaces detection where it is given;
- the ``spec.sync.path`` of a flux-operator ``FluxInstance``, written as a manifest
  or in the values of a ``flux-instance`` HelmRelease;
- the roots of the Flux graph: Flux Kustomizations no other Flux Kustomization of
  the repository applies (``gotk-sync.yaml``'s ``flux-system``, or a
  ``kubernetes/main/flux/config/cluster.yaml`` applied by hand at bootstrap).  A
  ks.yaml under another Kustomization's ``spec.path`` that nothing lists is not a
  root: it is an app that is not deployed.

From its entry point each cluster's desired state is built as kustomize-controller
builds it (:mod:`homelab_kit.render.flux`): every Flux Kustomization's ``spec.path``
with its spec folded in, ``postBuild`` substitution with the ConfigMaps and Secrets
of that cluster only, then ``commonMetadata``; the Flux Kustomizations in the
output (after the parent's patches and substitution, so ``${CLUSTER}`` in
``spec.path`` is resolved) are built in turn.  Names repeating across clusters never
meet: each cluster is its own desired state.
"""

from __future__ import annotations

import contextlib
import posixpath
from collections import deque
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

import attrs

from homelab_kit.config import ConfiguredCluster
from homelab_kit.errors import HomelabKitError
from homelab_kit.location import Location
from homelab_kit.model.base import DocumentRef
from homelab_kit.model.flux import KUSTOMIZE_GROUP, reads_this_repository, substitute_from_refs
from homelab_kit.model.graph import DependencyGraph
from homelab_kit.model.provenance import Provenance
from homelab_kit.model.spec_origins import spec_origins

if TYPE_CHECKING:
    from pathlib import Path

    from homelab_kit.build_cache import BuildSession, Ticket
    from homelab_kit.model.repo import App, Repo
    from homelab_kit.render.flux import FluxBuild
    from homelab_kit.render.sources import Sources

KsKey = tuple[str | None, str]

# Path segments that hold clusters rather than name one (``kubernetes/main/flux``).
_CONTAINER_SEGMENTS = frozenset(
    {
        "kubernetes",
        "k8s",
        "kube",
        "clusters",
        "flux",
        "flux-system",
        "config",
        "bootstrap",
        "gitops",
        "deploy",
        "manifests",
    }
)
_SYNC_KIND = "kustomize.toolkit.fluxcd.io/v1"


@attrs.frozen
class DesiredObject:
    """One object as Flux applies it in a cluster, and where it was written.

    ``data`` is the object after kustomize, the Flux spec and ``postBuild``
    substitution (it may hold secret values: never log it).  ``applied_by`` is the
    Flux Kustomization that applies it, None for what bootstrap applies.
    """

    data: Mapping[str, Any] = attrs.field(repr=False, eq=False)
    provenance: Provenance = attrs.field(eq=False)
    applied_by: KsKey | None
    api_version: str
    kind: str
    name: str
    namespace: str | None

    @classmethod
    def from_data(
        cls, data: Mapping[str, Any], provenance: Provenance, applied_by: KsKey | None
    ) -> DesiredObject:
        meta = data.get("metadata")
        meta = meta if isinstance(meta, Mapping) else {}
        namespace = meta.get("namespace")
        return cls(
            data=data,
            provenance=provenance,
            applied_by=applied_by,
            api_version=str(data.get("apiVersion") or ""),
            kind=str(data.get("kind") or ""),
            name=str(meta.get("name") or ""),
            namespace=namespace if isinstance(namespace, str) and namespace else None,
        )

    @property
    def group(self) -> str:
        """The API group of apiVersion: ``""`` for core ``v1``."""
        return self.api_version.rsplit("/", 1)[0] if "/" in self.api_version else ""

    @property
    def source(self) -> Location:
        """Where the object was written (its document, or its generator's entry)."""
        return self.provenance.source

    def get(self, *path: str | int) -> Any:
        """The value at ``path`` of the object as applied, or None."""
        node: Any = self.data
        for part in path:
            # dict first: built objects are dicts, and the Mapping ABC is slow.
            if isinstance(node, dict) or (not isinstance(node, list) and isinstance(node, Mapping)):
                node = node.get(part)
            elif (
                isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node)
            ):
                node = node[part]
            else:
                return None
        return node

    def location_of(self, *path: str | int) -> Location:
        """Where the field at ``path`` was set: a patch or substitution, else the object."""
        return self.provenance.location_of(path)


@attrs.frozen
class ClusterKustomization:
    """A Flux Kustomization as one cluster builds it.

    ``object`` is the Kustomization itself as applied (its parent's patches and
    substitution done); ``path`` its resolved ``spec.path``; ``objects`` what it
    applies.  ``errors`` say why it could not be built (a missing folder, say),
    ``warnings`` what was approximated; neither ever holds a value.
    """

    object: DesiredObject
    path: str | None
    objects: tuple[DesiredObject, ...] = attrs.field(repr=False)
    warnings: tuple[str, ...] = attrs.field(default=(), repr=False)
    errors: tuple[str, ...] = attrs.field(default=(), repr=False)
    unresolved: frozenset[str] = attrs.field(default=frozenset(), repr=False)

    @property
    def name(self) -> str:
        return self.object.name

    @property
    def namespace(self) -> str:
        return self.object.namespace or "flux-system"

    @property
    def key(self) -> KsKey:
        return (self.namespace, self.name)

    @property
    def source(self) -> Location:
        return self.object.source

    def depends_on(self) -> tuple[KsKey, ...]:
        """The Kustomizations ``spec.dependsOn`` names (namespace defaults to its own)."""
        out: list[KsKey] = []
        items = self.object.get("spec", "dependsOn")
        for item in items if isinstance(items, list) else ():
            if isinstance(item, Mapping) and isinstance(item.get("name"), str):
                namespace = item.get("namespace")
                out.append(
                    (namespace if isinstance(namespace, str) else self.namespace, item["name"])
                )
        return tuple(out)


@attrs.frozen
class Cluster:
    """One cluster of the repository: its entry point and its desired state.

    ``how`` says how the entry point was found: ``config`` (``.homelab-kit.yaml``),
    ``FluxInstance`` (a manifest or a ``flux-instance`` chart's values) or ``root``
    (Flux Kustomizations nothing else applies).  ``objects`` are every object Flux
    applies in the cluster, Flux Kustomizations included; ``apps`` the app folders
    whose ks.yaml it applies.
    """

    name: str
    entry: str
    how: str
    kustomizations: tuple[ClusterKustomization, ...] = attrs.field(repr=False)
    apps: tuple[App, ...] = attrs.field(repr=False)
    source: Location = attrs.field(eq=False, repr=False)
    objects: tuple[DesiredObject, ...] = attrs.field(repr=False, eq=False)
    graph: DependencyGraph[KsKey] = attrs.field(repr=False, eq=False)
    files: frozenset[str] = attrs.field(repr=False, eq=False)
    folders: tuple[str, ...] = attrs.field(repr=False, eq=False)

    def kustomization(self, namespace: str | None, name: str) -> ClusterKustomization | None:
        """The Flux Kustomization ``namespace``/``name`` of this cluster."""
        for ks in self.kustomizations:
            if ks.key == (namespace or "flux-system", name):
                return ks
        return None

    def objects_from(self, path: str) -> tuple[DesiredObject, ...]:
        """The objects of this cluster written in ``path``."""
        return tuple(o for o in self.objects if o.source.path == path)

    def reaches(self, path: str) -> bool:
        """Whether ``path`` belongs to this cluster: applied, or below a folder it builds."""
        if path in self.files:
            return True
        return any(not f or path == f or path.startswith(f + "/") for f in self.folders)


# --------------------------------------------------------------------------- entries


@attrs.frozen
class _Entry:
    name: str
    entry: str
    how: str
    source: Location
    roots: tuple[DocumentRef, ...] = ()
    folder_applied: bool = False


def cluster_name(path: str) -> str:
    """A cluster's name from its entry path: the first segment that is not a container.

    >>> cluster_name("kubernetes/main/flux/config/cluster.yaml"), cluster_name("clusters/prod")
    ('main', 'prod')
    """
    parts = [p for p in path.split("/") if p and p != "."]
    if parts and posixpath.splitext(parts[-1])[1] in (".yaml", ".yml"):
        parts.pop()
    for part in parts:
        if part not in _CONTAINER_SEGMENTS:
            return part
    return parts[-1] if parts else "default"


def _entries(repo: Repo, configured: Sequence[ConfiguredCluster]) -> list[_Entry]:
    if configured:
        return [_Entry(c.name, c.entry, "config", c.source) for c in configured]
    out: list[_Entry] = []
    for path, where in _sync_paths(repo):
        out.append(_Entry(cluster_name(path), path, "FluxInstance", where))
    groups: dict[str, list[DocumentRef]] = {}
    for doc in _roots(repo):
        groups.setdefault(cluster_name(doc.path), []).append(doc)
    for name, docs in groups.items():
        paths = sorted({d.path for d in docs})
        entry = paths[0] if len(paths) == 1 else posixpath.commonpath(paths)
        folder = posixpath.dirname(paths[0]) if len(paths) == 1 else entry
        if all(_lists(repo, folder, path) for path in paths):
            # Bootstrap applies the folder (``flux bootstrap --path``, ``kubectl
            # apply -k``): its kustomization's patches reach the roots too.
            out.append(_Entry(name, folder, "root", docs[0].location(), tuple(docs), True))
        else:
            out.append(_Entry(name, entry, "root", docs[0].location(), tuple(docs)))
    return out


def _lists(repo: Repo, folder: str, path: str) -> bool:
    """Whether the kustomization of ``folder`` includes ``path`` (through others too)."""
    return any(k.directory == folder for k in repo.kustomize_files_including(path, any_entry=False))


def _sync_paths(repo: Repo) -> list[tuple[str, Location]]:
    """``spec.sync.path`` of FluxInstances, as manifests or ``flux-instance`` chart values."""
    found: dict[str, Location] = {}
    for doc in repo.documents:
        # the kind read from the data: one look per document of the repository
        path = doc.get("spec", "sync", "path") if doc.data.get("kind") == "FluxInstance" else None
        if isinstance(path, str) and path.strip("./"):
            found.setdefault(_normal(path), doc.location("spec", "sync", "path"))
    for values in repo.values:
        path = values.data.get("instance")
        path = path.get("sync") if isinstance(path, Mapping) else None
        path = path.get("path") if isinstance(path, Mapping) else None
        if isinstance(path, str) and path.strip("./"):
            found.setdefault(_normal(path), values.location("instance", "sync", "path"))
    return sorted(found.items())


def _normal(path: str) -> str:
    path = posixpath.normpath(path.strip().lstrip("/"))
    return "" if path == "." else path


def _roots(repo: Repo) -> list[DocumentRef]:
    """Flux Kustomizations nothing else in the repository applies, nor could list.

    A Kustomization written below the ``spec.path`` of another one (an app's ks.yaml
    that its namespace's kustomization.yaml forgot) is not a root but an app that is
    not deployed.
    """
    kss = [
        d
        for d in repo.documents
        if d.data.get("kind") == "Kustomization" and d.group == KUSTOMIZE_GROUP
    ]
    spec_paths: list[tuple[str, str]] = []
    for doc in kss:
        path = doc.get("spec", "path")
        if isinstance(path, str) and "${" not in path and reads_this_repository(doc.get("spec")):
            folder = _normal(path)
            if folder and not folder.startswith(".."):
                spec_paths.append((doc.path, folder))
    out: list[DocumentRef] = []
    for doc in kss:
        key = (doc.namespace or "flux-system", doc.name)
        deployers = {(ns or "flux-system", name) for ns, name in repo.deployed_by.get(doc.path, ())}
        if deployers - {key}:
            continue
        if any(
            other != doc.path and doc.path.startswith(folder + "/") for other, folder in spec_paths
        ):
            continue
        out.append(doc)
    return out


# --------------------------------------------------------------------------- building


@attrs.frozen
class _Pending:
    data: Mapping[str, Any] = attrs.field(repr=False)
    provenance: Provenance
    applied_by: KsKey | None


def build_clusters(repo: Repo, configured: Sequence[ConfiguredCluster] = ()) -> tuple[Cluster, ...]:
    """Every cluster of ``repo``, each with its desired state (see the module docstring)."""
    clusters: list[Cluster] = []
    built: list[tuple[_Entry, list[ClusterKustomization], list[DesiredObject]]] = []
    claimed: set[tuple[str, int]] = set()
    from homelab_kit.render.sources import Sources

    # every build reads the same tree: each path resolved, each file read and parsed once
    tree = Sources(repo.root, repo.files)
    jobs = _jobs(repo)
    for entry in _entries(repo, configured):
        if entry.how == "root" and all((d.path, d.index) in claimed for d in entry.roots):
            continue  # a FluxInstance's sync path applies these roots already
        kss, objects = _build(repo, entry, tree, jobs)
        claimed.update(_claimed(repo, objects))
        built.append((entry, kss, objects))
    names: dict[str, int] = {}
    for entry, _, _ in built:
        names[entry.name] = names.get(entry.name, 0) + 1
    for entry, kss, objects in built:
        name = entry.name if names[entry.name] == 1 else entry.entry
        clusters.append(_cluster(repo, entry, name, kss, objects))
    return tuple(clusters)


def _claimed(repo: Repo, objects: Sequence[DesiredObject]) -> set[tuple[str, int]]:
    out: set[tuple[str, int]] = set()
    for obj in objects:
        if obj.kind != "Kustomization" or obj.group != KUSTOMIZE_GROUP:
            continue
        for doc in repo.kustomizations_in(obj.source.path):
            if doc.name == obj.name:
                out.add((doc.doc.path, doc.doc.index))
    return out


def _cluster(
    repo: Repo,
    entry: _Entry,
    name: str,
    kss: list[ClusterKustomization],
    objects: list[DesiredObject],
) -> Cluster:
    ks_files = {ks.source.path for ks in kss}
    apps = tuple(app for app in repo.apps if app.ks_path in ks_files)
    files = frozenset(o.source.path for o in objects) | {entry.entry}
    folders = tuple(sorted({ks.path for ks in kss if ks.path is not None}))
    keys = [ks.key for ks in kss]
    graph = DependencyGraph.build(keys, ((ks.key, dep) for ks in kss for dep in ks.depends_on()))
    return Cluster(
        name=name,
        entry=entry.entry,
        how=entry.how,
        kustomizations=tuple(kss),
        apps=apps,
        source=entry.source,
        objects=tuple(objects),
        graph=graph,
        files=files,
        folders=folders,
    )


def _seeds(repo: Repo, entry: _Entry) -> list[_Pending]:
    if entry.roots and not entry.folder_applied:
        return [_Pending(d.data, Provenance(d.location()), None) for d in entry.roots]
    if entry.entry in repo.files:  # a file: applied as it stands (kubectl apply -f)
        return [
            _Pending(d.data, Provenance(d.location()), None) for d in repo.documents_in(entry.entry)
        ]
    # A folder: what flux-operator (or ``flux bootstrap``) syncs, a Kustomization of it.
    synthetic = {
        "apiVersion": _SYNC_KIND,
        "kind": "Kustomization",
        "metadata": {"name": "flux-system", "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "path": f"./{entry.entry}",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
        },
    }
    return [_Pending(synthetic, Provenance(entry.source), None)]


def _is_flux_ks(data: Mapping[str, Any]) -> bool:
    api = data.get("apiVersion")
    return (
        data.get("kind") == "Kustomization"
        and isinstance(api, str)
        and api.startswith(KUSTOMIZE_GROUP + "/")
    )


def _build(
    repo: Repo, entry: _Entry, tree: Sources, jobs: int = 1
) -> tuple[list[ClusterKustomization], list[DesiredObject]]:
    """Build one cluster: each Flux Kustomization, then those in its output, in turn.

    A Kustomization whose ``substituteFrom`` names an object not built yet waits
    until nothing else is left, so ``cluster-settings`` built by a sibling is found.
    With ``jobs`` > 1, a wide frontier of pending Kustomizations is built ahead of
    its turn, spread over processes (:func:`_build_ahead`); each is then taken in
    turn as above, its build ahead used only where it had the same inputs.
    """
    objects: list[DesiredObject] = []
    built: dict[KsKey, ClusterKustomization] = {}
    sources = _Sources()
    located: list[DesiredObject] = []  # ``sources`` as objects: where their keys are
    pending: deque[_Pending] = deque()
    for seed in _seeds(repo, entry):
        objects.append(DesiredObject.from_data(seed.data, seed.provenance, None))
        if _is_flux_ks(seed.data):
            pending.append(seed)
        elif seed.data.get("kind") in ("ConfigMap", "Secret"):
            sources.add(seed.data)
            located.append(objects[-1])
    deferred: list[_Pending] = []
    progressed, force = True, False
    finder = _ProvenanceFinder(repo)
    frontier: _Frontier | None = None  # being built ahead of its turn
    horizon = 0  # items to take before another frontier is looked for
    try:
        while pending or deferred:
            if not pending:  # only waiting ones left: retry them, or build them as they are
                force, progressed = not progressed, False
                pending.extend(deferred)
                deferred = []
            if horizon == 0 and frontier is not None:
                # (an item that ended the last frontier was skipped or deferred)
                frontier.close()
                frontier = None
            if horizon == 0 and jobs > 1 and len(pending) >= PARALLEL_FRONTIER:
                frontier = _build_ahead(repo.root, pending, built, sources, force, tree, jobs)
                horizon = len(pending)
            item = pending.popleft()
            early = frontier.take(item) if frontier is not None else None
            horizon = max(0, horizon - 1)
            obj = DesiredObject.from_data(item.data, item.provenance, item.applied_by)
            key = (obj.namespace or "flux-system", obj.name)
            if key in built:
                continue
            if not force and sources.waits(item.data, key[0]):
                deferred.append(item)
                continue
            progressed = True
            ks = _build_one(repo, obj, sources, finder, tree, located, early)
            built[key] = ks
            for child in ks.objects:
                objects.append(child)
                if _is_flux_ks(child.data):
                    pending.append(_Pending(child.data, child.provenance, key))
                elif child.kind in ("ConfigMap", "Secret") and child.group == "":
                    sources.add(child.data)
                    located.append(child)
            if frontier is not None and horizon == 0:
                frontier.close()
                frontier = None
    finally:
        if frontier is not None:
            frontier.close()
    return list(built.values()), objects


class _Sources:
    """The ConfigMaps and Secrets a cluster rendered so far, in order, by name.

    ``substituteFrom`` names a few of them: each Kustomization is given only the
    ones of those names (in the same order, so the build finds the same first match)
    instead of a scan of every source per Kustomization.
    """

    def __init__(self) -> None:
        self.all: list[Mapping[str, Any]] = []
        # (name, namespace written or None) -> positions in ``all``
        self.by_name: dict[tuple[Any, Any], list[int]] = {}
        # (kind, name) -> the namespaces written (None: none written, any matches)
        self.namespaces: dict[tuple[Any, Any], set[Any]] = {}

    def add(self, data: Mapping[str, Any]) -> None:
        meta = data.get("metadata")
        if isinstance(meta, Mapping):
            name = meta.get("name")
            namespace = meta.get("namespace") or None
            if isinstance(name, Hashable) and isinstance(namespace, Hashable):
                self.by_name.setdefault((name, namespace), []).append(len(self.all))
                self.namespaces.setdefault((data.get("kind"), name), set()).add(namespace)
        self.all.append(data)

    def waits(self, data: Mapping[str, Any], ns: str) -> bool:
        """Whether a ``substituteFrom`` object (not optional) is not rendered yet."""
        for ref in substitute_from_refs(data):
            if ref.get("optional") is True:
                continue
            kind, name = ref.get("kind"), ref.get("name")
            hashable = isinstance(kind, Hashable) and isinstance(name, Hashable)
            written = self.namespaces.get((kind, name)) if hashable else None
            if not written or (None not in written and ns not in written):
                return True
        return False

    def named(self, data: Mapping[str, Any], ns: str) -> list[Mapping[str, Any]]:
        """The sources a ``substituteFrom`` of ``data`` (in namespace ``ns``) may name,
        in order: of one of its names, in ``ns`` or written without a namespace."""
        names = {r.get("name") for r in substitute_from_refs(data)}
        found = sorted(
            n
            for name in names
            if isinstance(name, Hashable)
            for key in ((name, ns), (name, None))
            for n in self.by_name.get(key, ())
        )
        return [self.all[n] for n in found]


def _build_one(
    repo: Repo,
    obj: DesiredObject,
    sources: _Sources,
    finder: _ProvenanceFinder,
    tree: Sources,
    located: Sequence[DesiredObject] = (),
    early: _Ahead | None = None,
) -> ClusterKustomization:
    # Through the build cache: unchanged builds are reused when lint has a cache.
    from homelab_kit.build_cache import build_flux_kustomization

    spec_path = obj.get("spec", "path")
    folder = _normal(spec_path) if isinstance(spec_path, str) else ""
    if isinstance(spec_path, str) and "${" in spec_path:
        return ClusterKustomization(
            obj, None, (), errors=(f"spec.path {spec_path!r} holds an unresolved variable",)
        )
    key = (obj.namespace or "flux-system", obj.name)
    if not reads_this_repository(obj.get("spec")):
        ref = obj.get("spec", "sourceRef")
        return ClusterKustomization(
            obj,
            None,
            (),
            warnings=(f"its source {ref.get('kind')}/{ref.get('name')} is not this repository",),
        )
    named = sources.named(obj.data, key[0])
    # Built ahead (see _build_ahead) from the same object and the same sources: the
    # same build, so its outcome is this one's.
    done = early.outcome() if early is not None and early.given(named) else None
    if isinstance(done, str):
        return ClusterKustomization(obj, folder, (), errors=(done,))
    try:
        result = (
            done
            if done is not None
            else build_flux_kustomization(
                obj.data,
                root=repo.root,
                source_objects=named,
                backend="python",
                namespace=key[0],
                sources=tree,
            )
        )
    except HomelabKitError as exc:
        return ClusterKustomization(obj, folder, (), errors=(str(exc),))
    provenance = result.provenance  # empty when a binary built them: then guess below
    substituted = None
    if result.unsubstituted:  # where ${VAR} filled a field: worked out when asked
        from homelab_kit.model.substituted import KustomizationSubstitution

        substituted = KustomizationSubstitution(repo, obj, located, key[0], len(located))
    children: list[DesiredObject] = []
    for i, data in enumerate(result.objects):
        if provenance and i < len(provenance):
            where = provenance[i]
        else:
            where = Provenance(finder.find(data, folder) or obj.source)
        where = spec_origins(repo, obj, where, str(data.get("kind") or ""))
        if substituted is not None and i < len(result.unsubstituted):
            where = substituted.provenance(result.unsubstituted[i], data, where)
        children.append(DesiredObject.from_data(data, where, key))
    return ClusterKustomization(
        obj,
        folder,
        tuple(children),
        warnings=result.warnings,
        errors=result.errors,
        unresolved=result.unresolved,
    )


# --------------------------------------------------------------------------- building ahead
#
# A cluster of many apps reaches a wide frontier: the Kustomization listing every
# app's ks.yaml is built, and a thousand Kustomizations wait, each building its own
# folder.  A build is a pure function of its inputs: the Kustomization object, the
# ConfigMaps and Secrets its ``substituteFrom`` may name (``_Sources.named``), its
# namespace and the tree (which does not change during a run).  So the frontier is
# built ahead, spread over processes, from the sources known when it was reached;
# then ``_build`` takes each Kustomization in turn exactly as before, and uses its
# build ahead only when the sources it is given then are those it was built from
# (the same objects).  One that an earlier Kustomization of the frontier changed
# (it rendered a ConfigMap of a name this one substitutes from) is built again in
# turn; order, deferral and provenance are those of the one-process build.

# Pending Flux Kustomizations from which a frontier is built ahead in processes:
# below, forking and shipping builds back cost more than they save.
PARALLEL_FRONTIER = 64
_CHUNK = 16  # Kustomizations a process builds at a time, at most

_PROCESSES: ContextVar[int] = ContextVar("homelab_kit_build_processes", default=1)


@contextlib.contextmanager
def processes(jobs: int) -> Iterator[None]:
    """Desired-state builds in this block use ``jobs`` processes (``--jobs``).

    1 (outside any such block: a library's ``repo.clusters``, which may run in a
    process with threads, where forking is unsafe) builds in this process alone,
    N > 1 in up to N, 0 one per spare CPU on a repository large enough to gain
    (:func:`homelab_kit.model.loader.parse_jobs`).
    """
    token = _PROCESSES.set(jobs)
    try:
        yield
    finally:
        _PROCESSES.reset(token)


def _jobs(repo: Repo) -> int:
    """Processes this build may use: one where fork is not available, else as
    :func:`processes` says."""
    requested = _PROCESSES.get()
    if requested == 1:
        return 1
    from homelab_kit.model.loader import parse_jobs

    jobs = parse_jobs(requested, len(repo.files))
    if jobs == 1:  # a small repository: multiprocessing not imported (3 ms)
        return 1
    import multiprocessing

    return jobs if "fork" in multiprocessing.get_all_start_methods() else 1


@attrs.frozen
class _Ahead:
    """A Kustomization of a frontier being built ahead, and the sources it is given.

    With a build cache, ``ticket`` is its build in the session
    (:class:`homelab_kit.build_cache.Ticket`); ``number`` is None when the build the
    cache holds is still valid: nothing to build.
    """

    named: list[Mapping[str, Any]] = attrs.field(repr=False)
    frontier: _Frontier = attrs.field(repr=False)
    number: int | None
    ticket: Ticket | None = attrs.field(default=None, repr=False)

    def given(self, named: Sequence[Mapping[str, Any]]) -> bool:
        """Whether ``named`` are the very sources this build was given."""
        return len(named) == len(self.named) and all(
            a is b for a, b in zip(named, self.named, strict=True)
        )

    def outcome(self) -> FluxBuild | str | None:
        """Its build, the error that stopped it, or None: not built (it failed
        otherwise, or its process was lost), to be built in turn.  Asked in turn:
        the build cache counts and keeps the build now."""
        session = self.frontier.session
        if self.number is None:
            assert session is not None
            assert self.ticket is not None
            return session.adopt(self.ticket, None)
        outcome = self.frontier.outcome(self.number)
        if isinstance(outcome, tuple):
            assert session is not None
            assert self.ticket is not None
            return session.adopt(self.ticket, outcome)
        return cast("FluxBuild | str | None", outcome)


def _build_ahead(
    root: Path,
    frontier: Sequence[_Pending],
    built: Mapping[KsKey, ClusterKustomization],
    sources: _Sources,
    force: bool,
    tree: Sources,
    jobs: int,
) -> _Frontier | None:
    """Start building ``frontier`` ahead of its turn over ``jobs`` processes.

    Only what ``_build`` would build from the sources known now: not a Kustomization
    built already, a second one of the same name, one still waiting for a source
    (unless ``force``d), one ``_build_one`` answers without a build; with a build
    cache, not one it holds still valid.  None when too few are left.
    """
    from homelab_kit.build_cache import active_session

    session = active_session()
    seen = set(built)
    work: list[_Work] = []
    for item in frontier:
        obj = DesiredObject.from_data(item.data, item.provenance, item.applied_by)
        key = (obj.namespace or "flux-system", obj.name)
        if key in seen:
            continue
        seen.add(key)
        spec_path = obj.get("spec", "path")
        if (
            (not force and sources.waits(item.data, key[0]))
            or (isinstance(spec_path, str) and "${" in spec_path)
            or not reads_this_repository(obj.get("spec"))
        ):
            continue
        named = sources.named(item.data, key[0])
        ticket = None
        if session is not None:  # asked as _build_one asks it
            ticket = session.ticket(
                item.data,
                root=root,
                source_objects=named,
                backend="python",
                namespace=key[0],
                sources=tree,
            )
        work.append((item, key[0], named, ticket))
    building = sum(ticket is None or not ticket.reusable() for *_, ticket in work)
    if building < max(2, PARALLEL_FRONTIER):  # two at least: one for a worker
        return None
    try:
        return _Frontier(root, tree, work, jobs, session)
    except OSError:  # no processes to be had here (a sandbox): built in turn
        return None


# A Kustomization to build ahead: its item, namespace, sources and build cache ticket.
_Work = tuple[_Pending, str, list[Mapping[str, Any]], "Ticket | None"]
# A build ahead: a build, one through the build cache (Made), an error, or None.
_Outcome = Any
# What forked build processes work on (set while they are forked).
_FORKED: tuple[Path, Sources, Sequence[_Work], BuildSession | None] | None = None


def _attempt(root: Path, tree: Sources, work: _Work, session: BuildSession | None) -> _Outcome:
    from homelab_kit.render.flux import build_flux_kustomization

    item, namespace, named, ticket = work
    try:
        if session is not None and ticket is not None:
            return session.make(ticket)
        return build_flux_kustomization(
            item.data,
            root=root,
            source_objects=named,
            backend="python",
            namespace=namespace,
            sources=tree,
        )
    except HomelabKitError as exc:
        return str(exc)
    except Exception:  # built again in turn, where it fails as it always did
        return None


def _attempt_chunk(numbers: Sequence[int]) -> bytes:
    """In a forked process: the pickled outcome of building ``work[n]`` for each number
    (a build through the build cache as what it read and the build pickled)."""
    from homelab_kit.yaml.reader import dumps_parsed

    assert _FORKED is not None
    root, tree, work, session = _FORKED
    out: list[Any] = []
    for n in numbers:
        outcome = _attempt(root, tree, work[n], session)
        if isinstance(outcome, tuple):
            result, dependencies, payload, digests = outcome
            kept = payload is not None
            payload = payload if kept else dumps_parsed(result)
            outcome = (_MADE, dependencies, payload, kept, digests)
        out.append(outcome)
    return dumps_parsed(out)


_MADE = "made"


def _unship(outcome: Any) -> _Outcome:
    """A worker's outcome as :func:`_attempt` gave it."""
    import pickle

    if isinstance(outcome, tuple) and outcome and outcome[0] == _MADE:
        _, dependencies, payload, kept, digests = outcome
        return pickle.loads(payload), dependencies, payload if kept else None, digests
    return outcome


class _Frontier:
    """Builds of a frontier, made by worker processes from the front and by this
    one from the back (as :func:`homelab_kit.model.loader._parse_all` parses).

    This process asks for outcomes in order, as it takes each Kustomization in
    turn: until the one asked for is back (pickled by its worker), it builds chunks
    from the back itself.  So what it does with each build (provenance, the next
    Kustomizations) overlaps the workers' builds.
    """

    def __init__(
        self,
        root: Path,
        tree: Sources,
        items: Sequence[_Work],
        jobs: int,
        session: BuildSession | None,
    ) -> None:
        import concurrent.futures
        import multiprocessing

        global _FORKED
        self.root, self.tree, self.session = root, tree, session
        # what to build: not what the build cache holds
        self.work = [w for w in items if w[3] is None or not w[3].reusable()]
        numbers = {id(w[0]): number for number, w in enumerate(self.work)}
        # by id of each item (kept alive by the pending queue): its handle
        self.items = {
            id(item): _Ahead(named, self, numbers.get(id(item)), ticket)
            for item, _, named, ticket in items
        }
        work = self.work
        self.size = max(1, min(_CHUNK, -(-len(work) // (jobs * 4))))
        self.chunks = [
            range(i, min(i + self.size, len(work))) for i in range(0, len(work), self.size)
        ]
        self.outcomes: list[_Outcome] = [None] * len(work)
        self.resolved = [False] * len(self.chunks)
        self.back = len(self.chunks)  # chunks from here on are this process's
        _FORKED = (root, tree, work, session)
        try:
            self.pool = concurrent.futures.ProcessPoolExecutor(
                min(jobs, len(self.chunks)) - 1, mp_context=multiprocessing.get_context("fork")
            )
            self.futures = [self.pool.submit(_attempt_chunk, chunk) for chunk in self.chunks]
        finally:
            _FORKED = None  # the workers are forked: they keep their copy

    def take(self, item: _Pending) -> _Ahead | None:
        """The build ahead of ``item``, if it has one (asked once, in turn)."""
        return self.items.pop(id(item), None)

    def outcome(self, number: int) -> _Outcome:
        wanted = number // self.size
        while not self.resolved[wanted]:
            self._step(wanted)
        if all(self.resolved):  # nothing left for the workers
            self.pool.shutdown(wait=True)
        return self.outcomes[number]

    def _step(self, wanted: int) -> None:
        """Take chunk ``wanted`` if it is back, else build one from the back (or, when
        the workers have every other, wait for it)."""
        import pickle

        future = self.futures[wanted]
        if not future.done() and self.back > wanted + 1:
            if self.futures[self.back - 1].cancel():
                self.back -= 1
                self._here(self.back)
                return
            self.back = wanted + 1  # a worker has it, and every chunk before it
        if future.cancel():
            self._here(wanted)
            return
        try:
            found = [_unship(outcome) for outcome in pickle.loads(future.result())]
        except Exception:  # a lost worker: its builds are made in turn
            found = [None] * len(self.chunks[wanted])
        for n, outcome in zip(self.chunks[wanted], found, strict=True):
            self.outcomes[n] = outcome
        self.resolved[wanted] = True

    def _here(self, chunk: int) -> None:
        for n in self.chunks[chunk]:
            self.outcomes[n] = _attempt(self.root, self.tree, self.work[n], self.session)
        self.resolved[chunk] = True

    def close(self) -> None:
        """Stop the workers (a build no longer asked for is not made)."""
        self.items.clear()
        self.pool.shutdown(wait=True, cancel_futures=True)


class _ProvenanceFinder:
    """Where a rendered object was written, when the renderer does not say.

    The document of the same kind and name (a name written with ``${VAR}`` matches
    any value), preferring one below the Kustomization's folder.
    """

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.by_name: dict[tuple[str, str], list[DocumentRef]] | None = None
        self.templated: dict[str, list[DocumentRef]] = {}

    def _index(self) -> dict[tuple[str, str], list[DocumentRef]]:
        """Documents by kind and name, made on the first question (the python
        renderer says where each object comes from: only a binary's output asks)."""
        if self.by_name is None:
            self.by_name = {}
            for doc in self.repo.documents:
                self.by_name.setdefault((doc.kind, doc.name), []).append(doc)
                if "${" in doc.name:
                    self.templated.setdefault(doc.kind, []).append(doc)
        return self.by_name

    def find(self, data: Mapping[str, Any], folder: str) -> Location | None:
        meta = data.get("metadata")
        name = meta.get("name") if isinstance(meta, Mapping) else None
        kind = str(data.get("kind") or "")
        found = self._index().get((kind, str(name)), [])
        if not found:
            import re

            found = [
                d
                for d in self.templated.get(kind, ())
                if re.fullmatch(re.sub(r"\\\$\\\{[^}]*\\\}", ".*", re.escape(d.name)), str(name))
            ]
        namespace = meta.get("namespace") if isinstance(meta, Mapping) else None
        prefix = folder + "/" if folder else ""
        best = max(
            found,
            key=lambda d: (d.namespace == namespace, d.path.startswith(prefix)),
            default=None,
        )
        return best.location() if best is not None else None


def iter_objects(clusters: Sequence[Cluster]) -> Iterator[tuple[Cluster, DesiredObject]]:
    """Every object of every cluster, with its cluster."""
    for cluster in clusters:
        for obj in cluster.objects:
            yield cluster, obj


def select_clusters(clusters: Sequence[Cluster], names: Sequence[str]) -> tuple[Cluster, ...]:
    """The clusters called ``names`` (all of them when ``names`` is empty).

    :raises HomelabKitError: a name no cluster has (exit code 2), listing the known ones.
    """
    if not names:
        return tuple(clusters)
    known = {c.name: c for c in clusters}
    unknown = [n for n in names if n not in known]
    if unknown:
        import difflib

        listed = ", ".join(sorted(known)) or "none: no Flux entry point was found"
        close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise HomelabKitError(
            f"no cluster {unknown[0]!r}{hint}; the repository's clusters: {listed}"
        )
    return tuple(known[n] for n in dict.fromkeys(names))


def outside(clusters: Sequence[Cluster], chosen: Sequence[Cluster], path: str) -> bool:
    """Whether ``path`` belongs only to clusters not ``chosen`` (so ``--cluster`` hides it)."""
    owners = [c for c in clusters if c.reaches(path)]
    return bool(owners) and not any(c in chosen for c in owners)


def owner(clusters: Sequence[Cluster], path: str) -> str | None:
    """The one cluster ``path`` belongs to, when the repository has several; else None.

    A file two clusters share, or that no cluster reaches (``talos/``), has no owner.
    """
    if len(clusters) < 2:
        return None
    found = [c.name for c in clusters if c.reaches(path)]
    return found[0] if len(found) == 1 else None
