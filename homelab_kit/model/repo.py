"""The repository as a whole: files, objects, apps, namespaces and the graph."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Hashable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from homelab_kit.config import DEFAULT_SOPS_ALLOWLIST, ConfiguredCluster
from homelab_kit.location import Location
from homelab_kit.model.base import DocumentRef, source_field
from homelab_kit.model.clusters import Cluster
from homelab_kit.model.flux import (
    FluxKustomization,
    GitRepository,
    HelmRelease,
    HelmRepository,
    OCIRepository,
)
from homelab_kit.model.graph import DependencyGraph
from homelab_kit.model.helm import ValuesSource
from homelab_kit.model.kustomize import Generator, KustomizeFile
from homelab_kit.model.secrets import (
    ExternalSecret,
    InfisicalSecret,
    ProducerRule,
    Secret,
    SecretConsumer,
    SopsFile,
)
from homelab_kit.model.substitute import has_variables, substitute
from homelab_kit.model.talos import TalosConfig
from homelab_kit.model.workloads import Workload
from homelab_kit.yaml import YamlFile

if TYPE_CHECKING:
    from homelab_kit.render.flux import FluxBuild

T = TypeVar("T")
KsKey = tuple[str | None, str]


@attrs.frozen
class Settings:
    """Repository-wide settings checks may read (from .homelab-kit.yaml and flags).

    ``kubernetes_version`` is the configured one, else talenv.yaml's, else None.
    ``sops_allowlist`` defaults to the bootstrap paths of the conventions (an empty
    one, configured explicitly, allows SOPS files nowhere).  ``secret_producers``
    are the rules plugins register (``homelab_kit_register_secret_producers``);
    ``bootstrap_secrets`` the configured ``bootstrap-secrets`` (``name`` or
    ``namespace/name``: created before Flux runs).
    """

    kubernetes_version: str | None = None
    sops_allowlist: tuple[str, ...] = DEFAULT_SOPS_ALLOWLIST
    schema_locations: tuple[str, ...] = ()
    missing_schema: str = "info"
    bundled_schemas: bool = True
    cache_dir: Path | None = None
    clusters: tuple[ConfiguredCluster, ...] = ()
    secret_producers: tuple[ProducerRule, ...] = ()
    bootstrap_secrets: tuple[str, ...] = ()


@attrs.frozen
class SkippedFile:
    """A file the loader recognised and did not parse (a template, say), and why."""

    path: str
    reason: str


@attrs.frozen
class App:
    """An app: a folder with a ks.yaml (``kubernetes/apps/<namespace>/<app>``).

    ``files`` are every repository file the app's Flux Kustomizations deploy, plus
    its ks.yaml; ``kustomizations`` are the Flux Kustomizations its ks.yaml defines.
    """

    name: str
    namespace: str
    directory: str
    ks_path: str
    kustomizations: tuple[FluxKustomization, ...]
    files: tuple[str, ...]
    source: Location = source_field()

    @property
    def is_secrets(self) -> bool:
        """The namespace's ``secrets`` folder (namespace-level InfisicalSecrets)."""
        return self.name == "secrets"


@attrs.frozen
class Namespace:
    """A folder under the apps root: a namespace and the apps in it."""

    name: str
    directory: str
    kustomization: KustomizeFile | None
    apps: tuple[str, ...]
    source: Location = source_field()

    @property
    def secrets_directory(self) -> str:
        return f"{self.directory}/secrets"


@attrs.frozen
class Repo:
    """A loaded homelab repository.  Build one with :func:`homelab_kit.load`.

    Every model carries its ``source`` :class:`Location`; paths are relative to
    ``root`` with ``/`` separators.  Nothing here holds a secret value in a repr.
    ``documents`` are the Kubernetes objects; ``patch_documents`` the documents of
    kustomize patch files (partial objects, not deployed as they stand).
    """

    root: Path
    files: Mapping[str, YamlFile] = attrs.field(repr=False)
    skipped: tuple[SkippedFile, ...] = attrs.field(repr=False)
    documents: tuple[DocumentRef, ...] = attrs.field(repr=False)
    patch_documents: tuple[DocumentRef, ...] = attrs.field(repr=False)
    kustomize_files: tuple[KustomizeFile, ...] = attrs.field(repr=False)
    kustomizations: tuple[FluxKustomization, ...] = attrs.field(repr=False)
    helm_releases: tuple[HelmRelease, ...] = attrs.field(repr=False)
    oci_repositories: tuple[OCIRepository, ...] = attrs.field(repr=False)
    helm_repositories: tuple[HelmRepository, ...] = attrs.field(repr=False)
    git_repositories: tuple[GitRepository, ...] = attrs.field(repr=False)
    infisical_secrets: tuple[InfisicalSecret, ...] = attrs.field(repr=False)
    external_secrets: tuple[ExternalSecret, ...] = attrs.field(repr=False)
    secrets: tuple[Secret, ...] = attrs.field(repr=False)
    sops_files: tuple[SopsFile, ...] = attrs.field(repr=False)
    secret_consumers: tuple[SecretConsumer, ...] = attrs.field(repr=False)
    workloads: tuple[Workload, ...] = attrs.field(repr=False)
    values: tuple[ValuesSource, ...] = attrs.field(repr=False)
    apps: tuple[App, ...] = attrs.field(repr=False)
    namespaces: tuple[Namespace, ...] = attrs.field(repr=False)
    talos: TalosConfig | None = attrs.field(repr=False)
    file_namespaces: Mapping[str, str] = attrs.field(repr=False)
    deployed_by: Mapping[str, tuple[KsKey, ...]] = attrs.field(repr=False)
    extra_objects: Mapping[type, tuple[Any, ...]] = attrs.field(repr=False, factory=dict)
    apps_root: str = "kubernetes/apps"
    implicit_sources: frozenset[tuple[str, str | None, str]] = attrs.field(
        factory=frozenset, repr=False
    )
    settings: Settings = attrs.field(factory=Settings, repr=False)
    deployed_namespaces: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, repr=False)
    # Paths beyond the folders read whose existence the model asked about (a
    # kustomization's resource outside ``include``): the result cache watches them.
    outside_paths: frozenset[str] = attrs.field(factory=frozenset, repr=False)
    _memo: dict[str, Any] = attrs.field(factory=dict, init=False, eq=False, repr=False)

    # ------------------------------------------------------------------ lookups

    def file(self, path: str) -> YamlFile | None:
        return self.files.get(path)

    def objects_of(self, cls: type[T]) -> tuple[T, ...]:
        """Objects of a kind a plugin registered through ``homelab_kit_register_kinds``."""
        return tuple(self.extra_objects.get(cls, ()))

    def documents_in(self, path: str) -> Iterator[DocumentRef]:
        """The objects written in ``path``, in file order."""
        return iter(self._by_path("_documents_by_path", self.documents).get(path, ()))

    def patch_documents_in(self, path: str) -> tuple[DocumentRef, ...]:
        """The documents of the kustomize patch file ``path``, in file order."""
        return self._by_path("_patch_documents_by_path", self.patch_documents).get(path, ())

    def kustomizations_in(self, path: str) -> tuple[FluxKustomization, ...]:
        """The Flux Kustomizations written in ``path``, in file order."""

        def build() -> dict[str, tuple[FluxKustomization, ...]]:
            out: dict[str, list[FluxKustomization]] = {}
            for ks in self.kustomizations:
                out.setdefault(ks.doc.path, []).append(ks)
            return {k: tuple(v) for k, v in out.items()}

        return _cached(self, "_ks_by_path", build).get(path, ())

    def files_deployed_by(self, key: KsKey) -> tuple[str, ...]:
        """The files the Flux Kustomization ``key`` deploys (the inverse of ``deployed_by``)."""

        def build() -> dict[KsKey, tuple[str, ...]]:
            out: dict[KsKey, list[str]] = {}
            for path, keys in self.deployed_by.items():
                for k in keys:
                    out.setdefault(k, []).append(path)
            return {k: tuple(v) for k, v in out.items()}

        return _cached(self, "_files_of_ks", build).get(key, ())

    def kustomize_files_including(
        self, path: str, *, any_entry: bool = True
    ) -> tuple[KustomizeFile, ...]:
        """kustomization.yaml files that pull in ``path``, directly or through others.

        ``path`` is a file or a folder.  The first step follows every entry naming
        it (resources, components, patches, generators' files, configurations), or
        only resources and components without ``any_entry``; the climb above
        follows resources and components.  Nearest first, depth first.
        """

        def build() -> tuple[dict[str, list[KustomizeFile]], dict[str, list[KustomizeFile]]]:
            by_entry: dict[str, list[KustomizeFile]] = {}
            by_resource: dict[str, list[KustomizeFile]] = {}
            for kfile in self.kustomize_files:
                for entry in kfile.all_entries():
                    if entry.target is not None:
                        by_entry.setdefault(entry.target, []).append(kfile)
                for entry in (*kfile.resources, *kfile.components):
                    if entry.target is not None:
                        by_resource.setdefault(entry.target, []).append(kfile)
            return by_entry, by_resource

        by_entry, by_resource = _cached(self, "_includers", build)
        memo = _cached(self, "_including", dict[tuple[str, bool], tuple[KustomizeFile, ...]])
        found = memo.get((path, any_entry))
        if found is not None:
            return found
        out: list[KustomizeFile] = []
        seen: set[str] = set()
        wanted = list((by_entry if any_entry else by_resource).get(path, ()))
        while wanted:
            kfile = wanted.pop()
            if kfile.path in seen:
                continue
            seen.add(kfile.path)
            out.append(kfile)
            wanted.extend(by_resource.get(kfile.directory, ()))
        memo[(path, any_entry)] = result = tuple(out)
        return result

    def kustomization(self, namespace: str | None, name: str) -> FluxKustomization | None:
        """The Flux Kustomization called ``name`` in ``namespace``."""
        return self._ks_index.get((namespace, name))

    def kustomize_file(self, directory: str) -> KustomizeFile | None:
        """The kustomization.yaml of a directory, if it has one."""
        return self._kfile_index.get(directory)

    def app(self, namespace: str, name: str) -> App | None:
        def build() -> dict[tuple[str, str], App]:
            out: dict[tuple[str, str], App] = {}
            for app in self.apps:
                out.setdefault((app.namespace, app.name), app)
            return out

        return _cached(self, "_app_index", build).get((namespace, name))

    def app_of_file(self, path: str) -> App | None:
        """The app whose folder holds ``path`` (or that deploys it)."""

        def build() -> tuple[dict[str, App], dict[str, App]]:
            by_dir: dict[str, App] = {}
            by_file: dict[str, App] = {}
            for app in self.apps:
                by_dir.setdefault(app.directory, app)
                for f in app.files:
                    by_file.setdefault(f, app)
            return by_dir, by_file

        by_dir, by_file = _cached(self, "_app_of_file", build)
        directory = path
        while "/" in directory:  # the deepest app folder above ``path``
            directory = directory.rsplit("/", 1)[0]
            app = by_dir.get(directory)
            if app is not None:
                return app
        if path.startswith("/") and "" in by_dir:
            return by_dir[""]
        return by_file.get(path)

    def derived(self, build: Callable[..., T], *args: Hashable) -> T:
        """``build(repo, *args)``, computed once per Repo and shared by every caller.

        For indexes several checks need (a plugin's table of what creates each
        Secret, say).  ``build`` and ``args`` are the key; the result is shared,
        so treat it as read-only.
        """
        memo = _cached(self, "_derived", dict[tuple[Any, ...], Any])
        key = (build, args)
        if key not in memo:
            memo[key] = build(self, *args)
        return cast(T, memo[key])

    def _by_path(
        self, name: str, docs: tuple[DocumentRef, ...]
    ) -> dict[str, tuple[DocumentRef, ...]]:
        def build() -> dict[str, tuple[DocumentRef, ...]]:
            out: dict[str, list[DocumentRef]] = {}
            for doc in docs:
                out.setdefault(doc.path, []).append(doc)
            return {k: tuple(v) for k, v in out.items()}

        return _cached(self, name, build)

    def namespace_of_file(self, path: str) -> str | None:
        """The namespace objects in ``path`` land in, as kustomize and Flux set it."""
        return self.file_namespaces.get(path)

    def all_namespaces_of_file(self, path: str) -> tuple[str, ...]:
        """Every namespace the objects in ``path`` land in, first one first.

        A file reached along several kustomize paths (a component that several
        namespace kustomizations include, say) lands in each of their namespaces.
        """
        landed = self.deployed_namespaces.get(path)
        if landed:
            return landed
        ns = self.file_namespaces.get(path)
        return (ns,) if ns else ()

    def expand(self, path: str, text: str) -> tuple[str, ...]:
        """``text`` as Flux substitutes it in ``path``, once per Flux Kustomization deploying it.

        Inline ``postBuild.substitute`` variables and ``${VAR:=default}`` defaults are
        applied; variables left (from ``substituteFrom``) keep their ``${VAR}`` form, so
        compare names with :func:`homelab_kit.model.substitute.names_match`.
        """
        if not has_variables(text):
            return (text,)
        memo = _cached(self, "_expand", dict[tuple[str, str], tuple[str, ...]])
        found = memo.get((path, text))
        if found is not None:
            return found
        out: list[str] = []
        for key in self.deployed_by.get(path, ()):
            ks = self.kustomization(*key)
            value = substitute(text, ks.substitute if ks is not None else {})
            if value not in out:
                out.append(value)
        memo[(path, text)] = result = tuple(out) or (substitute(text, {}),)
        return result

    def source_exists(self, kind: str, namespace: str | None, name: str) -> bool:
        """Whether a Flux source of ``kind`` called ``name`` in ``namespace`` is declared."""
        if (kind, namespace, name) in self.implicit_sources:
            return True

        def build() -> frozenset[tuple[str, str | None, str]]:
            pools: dict[str, tuple[Any, ...]] = {
                "OCIRepository": self.oci_repositories,
                "HelmRepository": self.helm_repositories,
                "GitRepository": self.git_repositories,
            }
            return frozenset((k, o.namespace, o.name) for k, pool in pools.items() for o in pool)

        return (kind, namespace, name) in _cached(self, "_sources", build)

    def generators(self) -> Iterator[tuple[KustomizeFile, Generator]]:
        for kfile in self.kustomize_files:
            for gen in kfile.generators:
                yield kfile, gen

    def render(
        self,
        namespace: str | None,
        name: str,
        backend: str = "auto",
        *,
        cluster: str | None = None,
        ks: FluxKustomization | None = None,
    ) -> FluxBuild:
        """The objects the Flux Kustomization ``namespace``/``name`` applies, as Flux builds them.

        ``spec.path`` is built with kustomize (``backend``: ``auto`` picks a binary when
        one is on PATH, else the pure-Python renderer), then ``spec.postBuild``
        substitution reads its ``substituteFrom`` ConfigMaps and Secrets from the
        desired state of the cluster that applies it (``cluster``, else the first
        that does; never another cluster's), or, for a Kustomization no cluster
        applies, from this repository's documents in the namespaces their files land
        in.  Nothing is decrypted; unresolved variables are reported, never guessed.
        ``ks`` picks one of several same-named Kustomizations (``build`` passes it).

        :raises HomelabKitError: no such Flux Kustomization or cluster, or its build failed.

        >>> repo.render("media", "jellyfin").unresolved  # doctest: +SKIP
        frozenset()
        """
        from homelab_kit.errors import HomelabKitError
        from homelab_kit.model.clusters import select_clusters
        from homelab_kit.render.flux import build_flux_kustomization

        ks = ks or self.kustomization(namespace, name)
        if ks is None:
            raise HomelabKitError(f"no Flux Kustomization {namespace}/{name} in the repository")
        sources: tuple[Mapping[str, Any], ...] = self._substitution_sources
        data: Mapping[str, Any] = ks.doc.data
        for found in select_clusters(self.clusters, (cluster,) if cluster else ()):
            built = next((k for k in found.kustomizations if k.source == ks.source), None)
            if built is not None:
                data = built.object.data  # as the cluster applies it: parents' patches done
                sources = tuple(o.data for o in found.objects if o.kind in ("ConfigMap", "Secret"))
                break
        return build_flux_kustomization(
            data, root=self.root, source_objects=sources, backend=backend, namespace=ks.namespace
        )

    @property
    def _substitution_sources(self) -> tuple[Mapping[str, Any], ...]:
        """ConfigMaps and Secrets, one copy per namespace their file lands in."""

        def build() -> tuple[Mapping[str, Any], ...]:
            sources: list[Mapping[str, Any]] = []
            for doc in self.documents:
                meta = doc.data.get("metadata")
                if doc.kind not in ("ConfigMap", "Secret") or not isinstance(meta, Mapping):
                    continue
                landed = () if doc.namespace else self.all_namespaces_of_file(doc.path)
                sources += [{**doc.data, "metadata": {**meta, "namespace": ns}} for ns in landed]
                if not landed:
                    sources.append(doc.data)
            return tuple(sources)

        return _cached(self, "_substitution_sources", build)

    @property
    def clusters(self) -> tuple[Cluster, ...]:
        """Every cluster of the repository, each with its entry point and desired state.

        Built once, on first use (see :mod:`homelab_kit.model.clusters`).  A
        repository with one cluster has one; one with no Flux Kustomization has none.
        """
        from homelab_kit.model.clusters import build_clusters

        return _cached(self, "_clusters", lambda: build_clusters(self, self.settings.clusters))

    def is_deployed(self, path: str) -> bool:
        """Whether some cluster applies what ``path`` holds ("live"), or may.

        A file is *not deployed* when the repository has clusters, the file lies in
        the part of the repository Flux reads (below the folders its clusters
        build) and neither a cluster's desired state nor the walk of the Flux graph
        through kustomize reaches it: an app folder no kustomization.yaml lists, a
        resource commented out.  Files outside that part (``talos/``,
        ``bootstrap/``) and every file of a repository without a cluster count as
        deployed: nothing says otherwise.
        """

        def build() -> tuple[frozenset[str], tuple[str, ...]]:
            applied: set[str] = set()
            tops: list[str] = []
            built = {ks.key for cluster in self.clusters for ks in cluster.kustomizations}
            # The kustomize walk from the Flux Kustomizations the clusters build (it
            # also reaches what a failed build leaves out); an unlisted ks.yaml's
            # own Kustomization deploys nothing.
            applied.update(
                path for path, keys in self.deployed_by.items() if any(k in built for k in keys)
            )
            for cluster in self.clusters:
                applied |= cluster.files
                tops += [f for f in cluster.folders if f]
                tops.append(
                    posixpath.dirname(cluster.entry)
                    if "." in cluster.entry.rsplit("/", 1)[-1]
                    else cluster.entry
                )
            top = posixpath.commonpath(tops) if tops else ""
            return frozenset(applied), (top,) if self.clusters else ()

        applied, flux_tree = _cached(self, "_deployed", build)
        if not flux_tree or path in applied:
            return True
        top = flux_tree[0]
        return bool(top) and not path.startswith(top + "/")

    def cluster(self, name: str) -> Cluster | None:
        """The cluster called ``name``, if there is one."""
        return next((c for c in self.clusters if c.name == name), None)

    @property
    def kustomization_graph(self) -> DependencyGraph[KsKey]:
        """Flux Kustomizations keyed ``(namespace, name)`` with their dependsOn edges."""
        return self._ks_graph

    @property
    def helm_release_graph(self) -> DependencyGraph[KsKey]:
        """HelmReleases keyed ``(namespace, name)`` with their dependsOn edges."""
        return self._hr_graph

    @property
    def _ks_index(self) -> dict[KsKey, FluxKustomization]:
        return _cached(self, "_ks_index", lambda: {k.key: k for k in self.kustomizations})

    @property
    def _kfile_index(self) -> dict[str, KustomizeFile]:
        return _cached(self, "_kfile_index", lambda: {k.directory: k for k in self.kustomize_files})

    @property
    def _ks_graph(self) -> DependencyGraph[KsKey]:
        def build() -> DependencyGraph[KsKey]:
            return DependencyGraph.build(
                (k.key for k in self.kustomizations),
                (
                    (k.key, (d.resolved_namespace, d.name))
                    for k in self.kustomizations
                    for d in k.depends_on
                ),
            )

        return _cached(self, "_ks_graph", build)

    @property
    def _hr_graph(self) -> DependencyGraph[KsKey]:
        def build() -> DependencyGraph[KsKey]:
            return DependencyGraph.build(
                ((h.namespace, h.name) for h in self.helm_releases),
                (
                    ((h.namespace, h.name), (d.resolved_namespace, d.name))
                    for h in self.helm_releases
                    for d in h.depends_on
                ),
            )

        return _cached(self, "_hr_graph", build)


def _cached(repo: Repo, name: str, build: Callable[[], T]) -> T:
    memo = repo._memo
    if name not in memo:
        memo[name] = build()
    return cast(T, memo[name])
