"""The repository as a whole: files, objects, apps, namespaces and the graph."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from homelab_kit.config import DEFAULT_SOPS_ALLOWLIST
from homelab_kit.location import Location
from homelab_kit.model.base import DocumentRef, source_field
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
    one, configured explicitly, allows SOPS files nowhere).
    """

    kubernetes_version: str | None = None
    sops_allowlist: tuple[str, ...] = DEFAULT_SOPS_ALLOWLIST
    schema_locations: tuple[str, ...] = ()
    missing_schema: str = "warning"
    cache_dir: Path | None = None


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
    _memo: dict[str, Any] = attrs.field(factory=dict, init=False, eq=False, repr=False)

    # ------------------------------------------------------------------ lookups

    def file(self, path: str) -> YamlFile | None:
        return self.files.get(path)

    def objects_of(self, cls: type[T]) -> tuple[T, ...]:
        """Objects of a kind a plugin registered through ``homelab_kit_register_kinds``."""
        return tuple(self.extra_objects.get(cls, ()))

    def documents_in(self, path: str) -> Iterator[DocumentRef]:
        return (d for d in self.documents if d.path == path)

    def kustomization(self, namespace: str | None, name: str) -> FluxKustomization | None:
        """The Flux Kustomization called ``name`` in ``namespace``."""
        return self._ks_index.get((namespace, name))

    def kustomize_file(self, directory: str) -> KustomizeFile | None:
        """The kustomization.yaml of a directory, if it has one."""
        return self._kfile_index.get(directory)

    def app(self, namespace: str, name: str) -> App | None:
        for app in self.apps:
            if app.namespace == namespace and app.name == name:
                return app
        return None

    def app_of_file(self, path: str) -> App | None:
        """The app whose folder holds ``path`` (or that deploys it)."""
        best: App | None = None
        for app in self.apps:
            if path.startswith(app.directory + "/") and (
                best is None or len(app.directory) > len(best.directory)
            ):
                best = app
        if best is None:
            for app in self.apps:
                if path in app.files:
                    return app
        return best

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
        out: list[str] = []
        for key in self.deployed_by.get(path, ()):
            ks = self.kustomization(*key)
            value = substitute(text, ks.substitute if ks is not None else {})
            if value not in out:
                out.append(value)
        return tuple(out) or (substitute(text, {}),)

    def source_exists(self, kind: str, namespace: str | None, name: str) -> bool:
        """Whether a Flux source of ``kind`` called ``name`` in ``namespace`` is declared."""
        if (kind, namespace, name) in self.implicit_sources:
            return True
        pools: dict[str, tuple[Any, ...]] = {
            "OCIRepository": self.oci_repositories,
            "HelmRepository": self.helm_repositories,
            "GitRepository": self.git_repositories,
        }
        return any(o.name == name and o.namespace == namespace for o in pools.get(kind, ()))

    def generators(self) -> Iterator[tuple[KustomizeFile, Generator]]:
        for kfile in self.kustomize_files:
            for gen in kfile.generators:
                yield kfile, gen

    def render(self, namespace: str | None, name: str, backend: str = "auto") -> FluxBuild:
        """The objects the Flux Kustomization ``namespace``/``name`` applies, as Flux builds them.

        ``spec.path`` is built with kustomize (``backend``: ``auto`` picks a binary when
        one is on PATH, else the pure-Python renderer), then ``spec.postBuild``
        substitution reads its ``substituteFrom`` ConfigMaps and Secrets from this
        repository's documents, in the namespaces their files land in.  Nothing is
        decrypted; unresolved variables are reported, never guessed.

        :raises HomelabKitError: no such Flux Kustomization, or its build failed.

        >>> repo.render("media", "jellyfin").unresolved  # doctest: +SKIP
        frozenset()
        """
        from homelab_kit.errors import HomelabKitError
        from homelab_kit.render.flux import build_flux_kustomization

        ks = self.kustomization(namespace, name)
        if ks is None:
            raise HomelabKitError(f"no Flux Kustomization {namespace}/{name} in the repository")
        return build_flux_kustomization(
            ks.doc.data,
            root=self.root,
            source_objects=self._substitution_sources,
            backend=backend,
            namespace=ks.namespace,
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
