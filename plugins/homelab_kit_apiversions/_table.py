"""Which apiVersions are deprecated or removed, and in which release.

Kubernetes entries follow the Kubernetes Deprecated API Migration Guide
(kubernetes.io/docs/reference/using-api/deprecation-guide); Flux entries follow
the Flux release notes (v2.7 removed the ``v1beta1``/``v2beta1`` APIs, v2.8 the
``source``/``kustomize``/``helm`` ``v1beta2``/``v2beta2`` APIs, v2.9 the
``image``/``notification`` ``v1beta2`` APIs).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from homelab_kit import Diagnostic, DocumentRef, Edit, Fix, Location, Repo, Severity
from homelab_kit.model.patches import applied_copies_by_cluster
from homelab_kit.model.provenance import Provenance

Version = tuple[int, int]

KUBERNETES = "Kubernetes"
FLUX = "Flux"

# The newest releases this table knows; an unknown target is taken to be these.
LATEST: Mapping[str, Version] = {KUBERNETES: (1, 35), FLUX: (2, 9)}

_VERSION_RE = re.compile(r"^\s*v?(\d+)\.(\d+)")


@attrs.frozen
class ApiChange:
    """One apiVersion (for some or all of its kinds) on its way out.

    ``removed`` is ``None`` for a deprecated API with no removal scheduled;
    ``compatible`` marks a replacement that takes the same fields, so changing
    the apiVersion alone is a safe fix.
    """

    platform: str
    api_version: str
    kinds: frozenset[str]  # empty: every kind of the apiVersion
    deprecated: Version
    removed: Version | None
    replacement: str
    compatible: bool = False

    def applies_to(self, api_version: str, kind: str) -> bool:
        return api_version == self.api_version and (not self.kinds or kind in self.kinds)


def _k(
    api: str,
    kinds: str,
    deprecated: Version,
    removed: Version | None,
    replacement: str,
    compatible: bool = False,
) -> ApiChange:
    return ApiChange(
        KUBERNETES, api, frozenset(kinds.split()), deprecated, removed, replacement, compatible
    )


def _f(
    api: str,
    kinds: str,
    deprecated: Version,
    removed: Version | None,
    replacement: str,
    compatible: bool = False,
) -> ApiChange:
    return ApiChange(
        FLUX, api, frozenset(kinds.split()), deprecated, removed, replacement, compatible
    )


_WORKLOADS = "Deployment DaemonSet ReplicaSet StatefulSet"

CHANGES: tuple[ApiChange, ...] = (
    # v1.16
    _k("extensions/v1beta1", "Deployment DaemonSet ReplicaSet", (1, 9), (1, 16), "apps/v1"),
    _k("apps/v1beta1", "Deployment StatefulSet ReplicaSet", (1, 9), (1, 16), "apps/v1"),
    _k("apps/v1beta2", _WORKLOADS, (1, 9), (1, 16), "apps/v1"),
    _k("extensions/v1beta1", "NetworkPolicy", (1, 9), (1, 16), "networking.k8s.io/v1"),
    _k("extensions/v1beta1", "PodSecurityPolicy", (1, 10), (1, 16), "policy/v1beta1"),
    # v1.22
    _k(
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration ValidatingWebhookConfiguration",
        (1, 16),
        (1, 22),
        "admissionregistration.k8s.io/v1",
    ),
    _k(
        "apiextensions.k8s.io/v1beta1",
        "CustomResourceDefinition",
        (1, 16),
        (1, 22),
        "apiextensions.k8s.io/v1",
    ),
    _k(
        "apiregistration.k8s.io/v1beta1",
        "APIService",
        (1, 19),
        (1, 22),
        "apiregistration.k8s.io/v1",
        True,
    ),
    _k(
        "authentication.k8s.io/v1beta1", "TokenReview", (1, 19), (1, 22), "authentication.k8s.io/v1"
    ),
    _k(
        "authorization.k8s.io/v1beta1",
        "LocalSubjectAccessReview SelfSubjectAccessReview SubjectAccessReview",
        (1, 19),
        (1, 22),
        "authorization.k8s.io/v1",
    ),
    _k(
        "certificates.k8s.io/v1beta1",
        "CertificateSigningRequest",
        (1, 19),
        (1, 22),
        "certificates.k8s.io/v1",
    ),
    _k("coordination.k8s.io/v1beta1", "Lease", (1, 19), (1, 22), "coordination.k8s.io/v1", True),
    _k("extensions/v1beta1", "Ingress", (1, 14), (1, 22), "networking.k8s.io/v1"),
    _k("networking.k8s.io/v1beta1", "Ingress", (1, 19), (1, 22), "networking.k8s.io/v1"),
    _k("networking.k8s.io/v1beta1", "IngressClass", (1, 19), (1, 22), "networking.k8s.io/v1", True),
    _k(
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRole ClusterRoleBinding Role RoleBinding",
        (1, 17),
        (1, 22),
        "rbac.authorization.k8s.io/v1",
        True,
    ),
    _k(
        "scheduling.k8s.io/v1beta1", "PriorityClass", (1, 14), (1, 22), "scheduling.k8s.io/v1", True
    ),
    _k(
        "storage.k8s.io/v1beta1",
        "CSIDriver CSINode StorageClass VolumeAttachment",
        (1, 19),
        (1, 22),
        "storage.k8s.io/v1",
        True,
    ),
    # v1.23: alpha APIs graduated long before
    _k(
        "rbac.authorization.k8s.io/v1alpha1",
        "",
        (1, 17),
        (1, 23),
        "rbac.authorization.k8s.io/v1",
        True,
    ),
    _k("scheduling.k8s.io/v1alpha1", "", (1, 14), (1, 23), "scheduling.k8s.io/v1", True),
    # v1.25
    _k("batch/v1beta1", "CronJob", (1, 21), (1, 25), "batch/v1", True),
    _k("discovery.k8s.io/v1beta1", "EndpointSlice", (1, 21), (1, 25), "discovery.k8s.io/v1"),
    _k("events.k8s.io/v1beta1", "Event", (1, 19), (1, 25), "events.k8s.io/v1"),
    _k("autoscaling/v2beta1", "HorizontalPodAutoscaler", (1, 22), (1, 25), "autoscaling/v2"),
    _k("policy/v1beta1", "PodDisruptionBudget", (1, 21), (1, 25), "policy/v1"),
    _k(
        "policy/v1beta1",
        "PodSecurityPolicy",
        (1, 21),
        (1, 25),
        "Pod Security Admission (no replacement API)",
    ),
    _k("node.k8s.io/v1beta1", "RuntimeClass", (1, 20), (1, 25), "node.k8s.io/v1", True),
    # v1.26
    _k(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "FlowSchema PriorityLevelConfiguration",
        (1, 23),
        (1, 26),
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    _k("autoscaling/v2beta2", "HorizontalPodAutoscaler", (1, 23), (1, 26), "autoscaling/v2", True),
    # v1.27
    _k("storage.k8s.io/v1beta1", "CSIStorageCapacity", (1, 24), (1, 27), "storage.k8s.io/v1", True),
    # v1.29
    _k(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "FlowSchema PriorityLevelConfiguration",
        (1, 26),
        (1, 29),
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    # v1.32
    _k(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "FlowSchema PriorityLevelConfiguration",
        (1, 29),
        (1, 32),
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    # deprecated, still served
    _k("v1", "Endpoints", (1, 33), None, "discovery.k8s.io/v1 EndpointSlice"),
    # Flux: v1beta1 and v2beta1 removed in v2.7
    _f("source.toolkit.fluxcd.io/v1beta1", "", (2, 0), (2, 7), "source.toolkit.fluxcd.io/v1"),
    _f("kustomize.toolkit.fluxcd.io/v1beta1", "", (2, 0), (2, 7), "kustomize.toolkit.fluxcd.io/v1"),
    _f("helm.toolkit.fluxcd.io/v2beta1", "", (2, 2), (2, 7), "helm.toolkit.fluxcd.io/v2"),
    _f("image.toolkit.fluxcd.io/v1beta1", "", (2, 3), (2, 7), "image.toolkit.fluxcd.io/v1"),
    _f(
        "notification.toolkit.fluxcd.io/v1beta1",
        "Receiver",
        (2, 1),
        (2, 7),
        "notification.toolkit.fluxcd.io/v1",
    ),
    _f(
        "notification.toolkit.fluxcd.io/v1beta1",
        "Alert Provider",
        (2, 1),
        (2, 7),
        "notification.toolkit.fluxcd.io/v1beta3",
    ),
    # Flux: source, kustomize and helm v1beta2/v2beta2 removed in v2.8
    _f(
        "source.toolkit.fluxcd.io/v1beta2",
        "GitRepository",
        (2, 0),
        (2, 8),
        "source.toolkit.fluxcd.io/v1",
    ),
    _f(
        "source.toolkit.fluxcd.io/v1beta2",
        "HelmRepository HelmChart",
        (2, 3),
        (2, 8),
        "source.toolkit.fluxcd.io/v1",
        True,
    ),
    _f(
        "source.toolkit.fluxcd.io/v1beta2",
        "Bucket",
        (2, 5),
        (2, 8),
        "source.toolkit.fluxcd.io/v1",
        True,
    ),
    _f(
        "source.toolkit.fluxcd.io/v1beta2",
        "OCIRepository",
        (2, 6),
        (2, 8),
        "source.toolkit.fluxcd.io/v1",
        True,
    ),
    _f("kustomize.toolkit.fluxcd.io/v1beta2", "", (2, 0), (2, 8), "kustomize.toolkit.fluxcd.io/v1"),
    _f("helm.toolkit.fluxcd.io/v2beta2", "", (2, 3), (2, 8), "helm.toolkit.fluxcd.io/v2", True),
    # Flux: image and notification v1beta2 removed in v2.9
    _f("image.toolkit.fluxcd.io/v1beta2", "", (2, 7), (2, 9), "image.toolkit.fluxcd.io/v1", True),
    _f(
        "notification.toolkit.fluxcd.io/v1beta2",
        "Receiver",
        (2, 1),
        (2, 9),
        "notification.toolkit.fluxcd.io/v1",
        True,
    ),
    _f(
        "notification.toolkit.fluxcd.io/v1beta2",
        "Alert Provider",
        (2, 1),
        (2, 9),
        "notification.toolkit.fluxcd.io/v1beta3",
        True,
    ),
)


def parse_version(text: str | None) -> Version | None:
    """``v1.33.4``, ``1.33``, ``2.6.x`` to ``(major, minor)``; ``None`` for ``2.x`` or junk."""
    if not text:
        return None
    match = _VERSION_RE.match(str(text))
    return (int(match.group(1)), int(match.group(2))) if match else None


def show(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def flux_version(repo: Repo, configured: str) -> Version | None:
    """The Flux release the repository runs: configured, else the oldest one it pins.

    Flux is pinned by a flux-operator FluxInstance's ``spec.distribution.version``
    (as a manifest or in the ``flux-instance`` chart's values,
    ``instance.distribution.version``), by an OCIRepository of
    ``oci://ghcr.io/fluxcd/flux-manifests`` (its ``ref.tag`` or ``ref.semver``), by a
    kustomization.yaml resource ``github.com/fluxcd/flux2/manifests/install?ref=``
    (or a release's ``install.yaml``), or by the ``# Flux Version:`` header ``flux
    bootstrap`` writes in ``gotk-components.yaml``.  Where clusters pin different
    releases the oldest counts: an API it still serves is not removed for the
    repository.  ``2.x``, ``latest`` or a ``${VAR}`` pins nothing.
    """
    if configured:
        return parse_version(configured)
    pinned = repo.derived(_pinned_flux_versions)
    return min(pinned) if pinned else None


_FLUX_MANIFESTS = "ghcr.io/fluxcd/flux-manifests"
_FLUX_INSTALL_RE = re.compile(
    r"github\.com/fluxcd/flux2/+(?:manifests/install/*\?(?:[^#]*&)?ref=|releases/download/)"
    r"(v?\d+\.\d+[^/&#]*)"
)
_GOTK_HEADER_RE = re.compile(r"^#\s*Flux Version:\s*(\S+)", re.MULTILINE)
_GOTK_HEADER_LINES = 10
_RANGE_PREFIX = "~^=>< "


def _pinned_flux_versions(repo: Repo) -> tuple[Version, ...]:
    """Every Flux release the repository pins, in any of the ways ``flux_version`` reads."""
    texts: list[str | None] = []
    for doc in repo.documents:
        if doc.kind == "FluxInstance":
            texts.append(doc.str_at("spec", "distribution", "version"))
    for values in repo.values:
        instance = values.data.get("instance")
        distribution = instance.get("distribution") if isinstance(instance, Mapping) else None
        version = distribution.get("version") if isinstance(distribution, Mapping) else None
        texts.append(version if isinstance(version, str) else None)
    for oci in repo.oci_repositories:
        url = (oci.url or "").rstrip("/")
        if url.removeprefix("oci://") == _FLUX_MANIFESTS:
            # a semver range's lower bound is the oldest release it admits
            texts.append(oci.ref.tag or (oci.ref.semver or "").lstrip(_RANGE_PREFIX))
    for kustomize in repo.kustomize_files:
        for entry in kustomize.resources:
            if entry.status == "remote" and (match := _FLUX_INSTALL_RE.search(entry.value)):
                texts.append(match.group(1))
    for path in repo.files:
        # endswith first: basename for every file of the repository cost more than the rest
        if path.endswith("gotk-components.yaml") and posixpath.basename(path) == (
            "gotk-components.yaml"
        ):
            texts.append(_gotk_header_version(repo.root / path))
    return tuple(v for text in texts if (v := parse_version(text)))


def _gotk_header_version(path: Path) -> str | None:
    """The ``# Flux Version: v2.3.0`` line ``flux bootstrap`` writes atop gotk-components.yaml."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            head = "".join(handle.readline() for _ in range(_GOTK_HEADER_LINES))
    except OSError:
        return None
    match = _GOTK_HEADER_RE.search(head)
    return match.group(1) if match else None


@attrs.frozen
class Use:
    """One place an apiVersion is written: an object, a patch or a health check.

    Read from the object as each cluster applies it (a parent's patch may set a
    health check, a patch or substitution the apiVersion itself): ``location`` is
    where that value was written (the patch's line when a patch set it), ``cluster``
    the cluster applying that copy (None: as written, outside any cluster's
    desired state), ``edited`` whether the value is the document's own (so the fix
    may change it there).
    """

    api_version: str
    kind: str
    what: str
    location: Location
    doc: DocumentRef
    key_path: tuple[str | int, ...]
    cluster: str | None = None
    edited: bool = True


def uses(repo: Repo, only: Callable[[str, str], bool] | None = None) -> Iterator[Use]:
    """Every apiVersion the repository applies for objects, patches and health checks.

    Objects and Flux Kustomizations a cluster builds are read as it applies them,
    one use per cluster's copy; the rest (no cluster, a failed build, what
    bootstrap applies) as written.  ``only``: just the uses whose apiVersion and kind
    it accepts (asked before any copy's provenance is worked out).
    """
    # The files of the applied copies ``only`` accepts: a document of another file
    # that ``only`` rejects as written has no use (its copies are of its own file),
    # and its copies need not be looked up.
    accepted: set[str] = set()
    if only is not None:
        accepted = {
            obj.source.path
            for cluster in repo.clusters
            for obj in cluster.objects
            if obj.applied_by is not None and only(obj.api_version, obj.kind)
        }
    for doc in repo.documents:
        if not doc.api_version or not doc.kind:
            continue
        if only is not None and doc.path not in accepted and not only(doc.api_version, doc.kind):
            continue
        copies = applied_copies_by_cluster(repo, doc)
        if not copies:
            if only is None or only(doc.api_version, doc.kind):
                yield Use(
                    doc.api_version,
                    doc.kind,
                    _name(doc),
                    doc.location("apiVersion"),
                    doc,
                    ("apiVersion",),
                )
            continue
        for cluster, copy in copies:
            if only is not None and not only(copy.api_version, copy.kind):
                continue
            changed = copy.provenance.changed_by(("apiVersion",))
            yield Use(
                copy.api_version,
                copy.kind,
                _name(doc),
                changed or doc.location("apiVersion"),
                doc,
                ("apiVersion",),
                cluster,
                changed is None,
            )
    for doc in repo.patch_documents:
        if doc.api_version and doc.kind and (only is None or only(doc.api_version, doc.kind)):
            yield Use(
                doc.api_version,
                doc.kind,
                f"the patch of {_name(doc)}",
                doc.location("apiVersion"),
                doc,
                ("apiVersion",),
            )
    for ks in repo.kustomizations:
        copies = applied_copies_by_cluster(repo, ks.doc)
        for field in ("healthChecks", "healthCheckExprs"):
            if not copies:
                yield from _health_checks(
                    ks.name, ks.doc, field, ks.doc.list_at("spec", field), only
                )
                continue
            for cluster, copy in copies:
                checks = copy.get("spec", field)
                yield from _health_checks(
                    ks.name,
                    ks.doc,
                    field,
                    checks if isinstance(checks, list) else [],
                    only,
                    cluster,
                    copy.provenance,
                )


def _health_checks(
    name: str,
    doc: DocumentRef,
    field: str,
    entries: Iterable[Any],
    only: Callable[[str, str], bool] | None,
    cluster: str | None = None,
    provenance: Provenance | None = None,
) -> Iterator[Use]:
    for i, ref in enumerate(entries):
        if not isinstance(ref, Mapping):
            continue
        api, kind = ref.get("apiVersion"), ref.get("kind")
        if not isinstance(api, str) or not isinstance(kind, str):
            continue
        if only is not None and not only(api, kind):
            continue
        path = ("spec", field, i, "apiVersion")
        changed = provenance.changed_by(path) if provenance is not None else None
        written = doc.get(*path) == api and changed is None
        yield Use(
            api,
            kind,
            f"a {field} entry of Kustomization {name}",
            changed or doc.location(*path),
            doc,
            path,
            cluster,
            written,
        )


def _name(doc: DocumentRef) -> str:
    return f"{doc.kind} {doc.name}" if doc.name else doc.kind


@attrs.frozen
class Target:
    """The release a platform is judged against; ``assumed`` when none was found."""

    version: Version
    assumed: bool

    def __str__(self) -> str:
        return f"targeting {show(self.version)}" + (", the newest known" if self.assumed else "")


def targets(repo: Repo, flux: str) -> dict[str, Target]:
    kubernetes = parse_version(repo.settings.kubernetes_version)
    found_flux = flux_version(repo, flux)
    return {
        KUBERNETES: Target(kubernetes or LATEST[KUBERNETES], kubernetes is None),
        FLUX: Target(found_flux or LATEST[FLUX], found_flux is None),
    }


def findings(
    repo: Repo, flux: str, *, removed: bool
) -> Iterator[tuple[Use, ApiChange, Target, str | None]]:
    """Uses of removed APIs (``removed=True``) or of deprecated, still-served ones.

    One finding per place and apiVersion: copies of one document (a component two
    apps include), or objects one parent patch changes, are reported once, at the
    patch (``what`` then counts the others).  The fourth item names the cluster when
    the clusters applying those objects disagree (only some use that apiVersion
    there), else None.
    """
    by_platform = targets(repo, flux)
    found: dict[tuple[Location, str, str], _Found] = {}
    for use in repo.derived(_changing_uses):  # shared by the removed and deprecated checks
        for change in _BY_API_VERSION[use.api_version]:
            if not change.applies_to(use.api_version, use.kind):
                continue
            target = by_platform[change.platform]
            gone = change.removed is not None and target.version >= change.removed
            deprecated = not gone and target.version >= change.deprecated
            if gone if removed else deprecated:
                key = (use.location, use.api_version, use.kind)
                entry = found.setdefault(key, _Found(use, change, target))
                entry.add(repo, use)
            break
    for entry in found.values():
        use = entry.use
        if len(entry.whats) > 1:
            more = len(entry.whats) - 1
            use = attrs.evolve(use, what=f"{use.what} (and {more} more)")
        if not entry.edited:
            use = attrs.evolve(use, edited=False)
        clusters, every = entry.clusters, entry.deployers
        if None in clusters or clusters >= every or len(every) < 2:
            yield use, entry.change, entry.target, None
        else:
            for cluster in sorted(c for c in clusters if c is not None):
                yield use, entry.change, entry.target, cluster


def _changing_uses(repo: Repo) -> tuple[Use, ...]:
    """The uses of apiVersions some release deprecates or removes."""
    return tuple(uses(repo, _changes))


def _changes(api_version: str, kind: str) -> bool:
    """Whether a release deprecates or removes ``kind`` of ``api_version``."""
    return any(c.applies_to(api_version, kind) for c in _BY_API_VERSION.get(api_version, ()))


@attrs.define
class _Found:
    """The uses reported as one finding, gathered."""

    use: Use
    change: ApiChange
    target: Target
    whats: dict[str, None] = attrs.field(factory=dict)
    clusters: set[str | None] = attrs.field(factory=set)
    deployers: set[str | None] = attrs.field(factory=set)
    edited: bool = True

    def add(self, repo: Repo, use: Use) -> None:
        self.whats[use.what] = None
        self.clusters.add(use.cluster)
        self.deployers |= {cluster for cluster, _ in applied_copies_by_cluster(repo, use.doc)}
        self.edited = self.edited and use.edited


def _by_api_version() -> dict[str, tuple[ApiChange, ...]]:
    out: dict[str, list[ApiChange]] = {}
    for change in CHANGES:
        out.setdefault(change.api_version, []).append(change)
    return {k: tuple(v) for k, v in out.items()}


_BY_API_VERSION = _by_api_version()  # CHANGES by apiVersion, in order


def unpinned_flux(change: ApiChange, target: Target) -> bool:
    """Judged against the newest Flux only because the repository pins no Flux release."""
    return change.platform == FLUX and target.assumed


def message(use: Use, change: ApiChange, target: Target, verb: str) -> str:
    when = change.removed if verb == "removed" and change.removed else change.deprecated
    if unpinned_flux(change, target):
        why = (
            "this repository does not pin its Flux version; "
            "set the flux-version option to the release its clusters run"
        )
    else:
        why = str(target)
    return (
        f"{use.what} uses {use.api_version}, {verb} in {change.platform} {show(when)} "
        f"({why}); use {change.replacement}"
    )


def diagnostic(
    check_id: str,
    severity: Severity,
    remediation: str,
    use: Use,
    change: ApiChange,
    target: Target,
    verb: str,
    cluster: str | None = None,
) -> Diagnostic:
    """The finding for one use, with a fix when the replacement takes the same fields
    and the apiVersion is the document's own (not one a patch or substitution set)."""
    fix = None
    if change.compatible and use.edited:
        fix = Fix(
            f"Change apiVersion to {change.replacement}",
            (Edit(use.doc.path, use.doc.index, use.key_path, change.replacement),),
        )
    return Diagnostic(
        use.location,
        check_id,
        message(use, change, target, verb),
        severity,
        remediation,
        fix,
        cluster=cluster,
    )
