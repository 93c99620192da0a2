"""Flux objects: Kustomizations, HelmReleases and their chart and Git sources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from homelab_kit.location import Location
from homelab_kit.model.base import (
    DocumentRef,
    as_list,
    as_mapping,
    as_text,
    doc_field,
    source_field,
)

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
_NOTHING: Mapping[str, Any] = {}  # an absent mapping (read only)


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def reads_this_repository(spec: Any) -> bool:
    """Whether a Flux Kustomization's ``spec.path`` is read from this repository.

    Its source is a GitRepository (this repository, as far as a linter can tell),
    none, or the ``flux-system`` source bootstrap creates for it.  Another kind
    (``flux-manifests``, an OCIRepository of Flux's own release) is someone else's
    artifact: its ``spec.path`` names nothing here.

    >>> reads_this_repository({"sourceRef": {"kind": "OCIRepository", "name": "flux-manifests"}})
    False
    """
    ref = spec.get("sourceRef") if isinstance(spec, Mapping) else None
    if not isinstance(ref, Mapping):
        return True
    return ref.get("kind") in (None, "GitRepository") or ref.get("name") == "flux-system"


def substitute_from_refs(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The entries of a Flux Kustomization's ``spec.postBuild.substituteFrom``, as
    written (entries that are not mappings left out)."""
    spec = data.get("spec")
    post = spec.get("postBuild") if isinstance(spec, Mapping) else None
    refs = post.get("substituteFrom") if isinstance(post, Mapping) else None
    return [ref for ref in refs if isinstance(ref, Mapping)] if isinstance(refs, list) else []


@attrs.frozen
class NamespacedRef:
    """A reference by name to another object, with the namespace it resolves in.

    ``namespace`` is what was written (``None`` when omitted); ``resolved_namespace``
    is where Flux looks: the written one, else the referrer's own namespace.
    """

    name: str
    namespace: str | None
    resolved_namespace: str | None
    kind: str
    source: Location = source_field()

    @classmethod
    def from_item(
        cls, doc: DocumentRef, path: tuple[str | int, ...], item: Any, own_namespace: str | None
    ) -> NamespacedRef | None:
        if not isinstance(item, Mapping):
            return None
        name = item.get("name")
        if not isinstance(name, str):
            return None
        ns = item.get("namespace")
        ns = ns if isinstance(ns, str) else None
        kind = item.get("kind")
        return cls(
            name=name,
            namespace=ns,
            resolved_namespace=ns or own_namespace,
            kind=kind if isinstance(kind, str) else "",
            source=doc.location(*path),
        )


@attrs.frozen
class SubstituteFrom:
    """A ``postBuild.substituteFrom`` entry: a ConfigMap or Secret of variables."""

    kind: str
    name: str
    optional: bool
    source: Location = source_field()


@attrs.frozen
class FluxKustomization:
    """A ``kustomize.toolkit.fluxcd.io`` Kustomization (usually an app's ks.yaml).

    ``namespace`` is the effective namespace: ``metadata.namespace``, else the one
    the including kustomization.yaml sets; ``path`` is ``spec.path`` as written.
    """

    name: str
    namespace: str | None
    api_version: str
    path: str | None
    prune: bool | None
    wait: bool | None
    interval: str | None
    timeout: str | None
    retry_interval: str | None
    target_namespace: str | None
    depends_on: tuple[NamespacedRef, ...]
    source_ref: NamespacedRef | None
    components: tuple[str, ...]
    patches: tuple[Mapping[str, Any], ...] = attrs.field(repr=False)
    health_checks: tuple[Mapping[str, Any], ...] = attrs.field(repr=False)
    health_check_exprs: tuple[Mapping[str, Any], ...] = attrs.field(repr=False)
    substitute: Mapping[str, str] = attrs.field(repr=False)
    substitute_from: tuple[SubstituteFrom, ...]
    suspend: bool
    source: Location = source_field()
    doc: DocumentRef = doc_field()

    @classmethod
    def from_doc(cls, doc: DocumentRef, namespace: str | None = None) -> FluxKustomization:
        ns = doc.namespace or namespace
        # ``spec`` read once (as DocumentRef.get reads it: a mapping, else nothing);
        # every Flux Kustomization of a repository is modelled on every load
        spec = doc.get("spec")
        if not isinstance(spec, dict):
            spec = _NOTHING
        depends = tuple(
            ref
            for i, item in enumerate(as_list(spec.get("dependsOn")))
            if (ref := NamespacedRef.from_item(doc, ("spec", "dependsOn", i), item, ns))
        )
        source_ref = NamespacedRef.from_item(doc, ("spec", "sourceRef"), spec.get("sourceRef"), ns)
        post_build = spec.get("postBuild")
        if not isinstance(post_build, dict):
            post_build = _NOTHING
        subst = as_mapping(post_build.get("substitute"))
        subst_from = tuple(
            SubstituteFrom(
                kind=str(item.get("kind", "")),
                name=str(item.get("name", "")),
                optional=item.get("optional") is True,
                source=doc.location("spec", "postBuild", "substituteFrom", i),
            )
            for i, item in enumerate(as_list(post_build.get("substituteFrom")))
            if isinstance(item, Mapping)
        )
        return cls(
            name=doc.name,
            namespace=ns,
            api_version=doc.api_version,
            path=as_text(spec.get("path")),
            prune=_bool(spec.get("prune")),
            wait=_bool(spec.get("wait")),
            interval=as_text(spec.get("interval")),
            timeout=as_text(spec.get("timeout")),
            retry_interval=as_text(spec.get("retryInterval")),
            target_namespace=as_text(spec.get("targetNamespace")),
            depends_on=depends,
            source_ref=source_ref,
            components=tuple(str(c) for c in as_list(spec.get("components"))),
            patches=tuple(p for p in as_list(spec.get("patches")) if isinstance(p, Mapping)),
            health_checks=tuple(
                p for p in as_list(spec.get("healthChecks")) if isinstance(p, Mapping)
            ),
            health_check_exprs=tuple(
                p for p in as_list(spec.get("healthCheckExprs")) if isinstance(p, Mapping)
            ),
            substitute={str(k): str(v) for k, v in subst.items()},
            substitute_from=subst_from,
            suspend=spec.get("suspend") is True,
            source=doc.location(),
            doc=doc,
        )

    @property
    def key(self) -> tuple[str | None, str]:
        """``(namespace, name)``: how dependsOn refers to it."""
        return (self.namespace, self.name)

    @property
    def variables(self) -> frozenset[str]:
        """Names defined inline by ``postBuild.substitute``."""
        return frozenset(self.substitute)


@attrs.frozen
class ChartSpec:
    """``spec.chart.spec`` of a HelmRelease (the HelmRepository/GitRepository form)."""

    chart: str | None
    version: str | None
    source_ref: NamespacedRef | None
    source: Location = source_field()


@attrs.frozen
class ValuesReference:
    """A ``valuesFrom`` entry: values read from a ConfigMap or Secret."""

    kind: str
    name: str
    values_key: str
    optional: bool
    source: Location = source_field()

    @classmethod
    def of_release(cls, doc: DocumentRef) -> tuple[ValuesReference, ...]:
        """The ``spec.valuesFrom`` entries of the HelmRelease written at ``doc``.

        What :attr:`HelmRelease.values_from` holds, for a reader that needs no more
        of the release (nothing else is located).
        """
        return tuple(
            cls(
                kind=str(item.get("kind", "")),
                name=str(item.get("name", "")),
                values_key=str(item.get("valuesKey", "values.yaml")),
                optional=item.get("optional") is True,
                source=doc.location("spec", "valuesFrom", i),
            )
            for i, item in enumerate(doc.list_at("spec", "valuesFrom"))
            if isinstance(item, Mapping)
        )


@attrs.frozen
class HelmRelease:
    """A ``helm.toolkit.fluxcd.io`` HelmRelease."""

    name: str
    namespace: str | None
    api_version: str
    chart_ref: NamespacedRef | None
    chart: ChartSpec | None
    interval: str | None
    install_retries: int | None
    upgrade_retries: int | None
    values_from: tuple[ValuesReference, ...]
    values: Mapping[str, Any] = attrs.field(repr=False)
    depends_on: tuple[NamespacedRef, ...]
    target_namespace: str | None
    source: Location = source_field()
    doc: DocumentRef = doc_field()

    @classmethod
    def from_doc(cls, doc: DocumentRef, namespace: str | None = None) -> HelmRelease:
        ns = doc.namespace or namespace
        chart_ref = NamespacedRef.from_item(
            doc, ("spec", "chartRef"), doc.get("spec", "chartRef"), ns
        )
        chart = None
        if isinstance(doc.get("spec", "chart", "spec"), Mapping):
            chart = ChartSpec(
                chart=doc.str_at("spec", "chart", "spec", "chart"),
                version=doc.str_at("spec", "chart", "spec", "version"),
                source_ref=NamespacedRef.from_item(
                    doc,
                    ("spec", "chart", "spec", "sourceRef"),
                    doc.get("spec", "chart", "spec", "sourceRef"),
                    ns,
                ),
                source=doc.location("spec", "chart", "spec"),
            )
        values_from = ValuesReference.of_release(doc)
        depends = tuple(
            ref
            for i, item in enumerate(doc.list_at("spec", "dependsOn"))
            if (ref := NamespacedRef.from_item(doc, ("spec", "dependsOn", i), item, ns))
        )
        return cls(
            name=doc.name,
            namespace=ns,
            api_version=doc.api_version,
            chart_ref=chart_ref,
            chart=chart,
            interval=doc.str_at("spec", "interval"),
            install_retries=doc.int_at("spec", "install", "remediation", "retries"),
            upgrade_retries=doc.int_at("spec", "upgrade", "remediation", "retries"),
            values_from=values_from,
            values=doc.map_at("spec", "values"),
            depends_on=depends,
            target_namespace=doc.str_at("spec", "targetNamespace"),
            source=doc.location(),
            doc=doc,
        )


@attrs.frozen
class SourceReference:
    """``spec.ref`` of a Git or OCI source: exactly one of these is normally set."""

    tag: str | None = None
    semver: str | None = None
    digest: str | None = None
    branch: str | None = None
    commit: str | None = None
    name: str | None = None

    @classmethod
    def from_doc(cls, doc: DocumentRef) -> SourceReference:
        return cls(
            tag=doc.str_at("spec", "ref", "tag"),
            semver=doc.str_at("spec", "ref", "semver"),
            digest=doc.str_at("spec", "ref", "digest"),
            branch=doc.str_at("spec", "ref", "branch"),
            commit=doc.str_at("spec", "ref", "commit"),
            name=doc.str_at("spec", "ref", "name"),
        )


@attrs.frozen
class OCIRepository:
    """A ``source.toolkit.fluxcd.io`` OCIRepository (a Helm chart in an OCI registry)."""

    name: str
    namespace: str | None
    api_version: str
    url: str | None
    ref: SourceReference
    interval: str | None
    source: Location = source_field()
    doc: DocumentRef = doc_field()

    @classmethod
    def from_doc(cls, doc: DocumentRef, namespace: str | None = None) -> OCIRepository:
        return cls(
            name=doc.name,
            namespace=doc.namespace or namespace,
            api_version=doc.api_version,
            url=doc.str_at("spec", "url"),
            ref=SourceReference.from_doc(doc),
            interval=doc.str_at("spec", "interval"),
            source=doc.location(),
            doc=doc,
        )


@attrs.frozen
class HelmRepository:
    """A ``source.toolkit.fluxcd.io`` HelmRepository (``type: oci`` or an index URL)."""

    name: str
    namespace: str | None
    api_version: str
    url: str | None
    type: str | None
    interval: str | None
    source: Location = source_field()
    doc: DocumentRef = doc_field()

    @classmethod
    def from_doc(cls, doc: DocumentRef, namespace: str | None = None) -> HelmRepository:
        return cls(
            name=doc.name,
            namespace=doc.namespace or namespace,
            api_version=doc.api_version,
            url=doc.str_at("spec", "url"),
            type=doc.str_at("spec", "type"),
            interval=doc.str_at("spec", "interval"),
            source=doc.location(),
            doc=doc,
        )


@attrs.frozen
class GitRepository:
    """A ``source.toolkit.fluxcd.io`` GitRepository."""

    name: str
    namespace: str | None
    api_version: str
    url: str | None
    ref: SourceReference
    interval: str | None
    source: Location = source_field()
    doc: DocumentRef = doc_field()

    @classmethod
    def from_doc(cls, doc: DocumentRef, namespace: str | None = None) -> GitRepository:
        return cls(
            name=doc.name,
            namespace=doc.namespace or namespace,
            api_version=doc.api_version,
            url=doc.str_at("spec", "url"),
            ref=SourceReference.from_doc(doc),
            interval=doc.str_at("spec", "interval"),
            source=doc.location(),
            doc=doc,
        )
