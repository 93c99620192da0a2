"""``homelab-kit reconcile``: ask Flux to reconcile an object now, and wait for the answer.

What ``flux reconcile`` does, through the kubernetes client:

1. read the object (a 404 is an error; a suspended object is not reconciled);
2. with ``--with-source``, reconcile its source first (a Kustomization's
   ``spec.sourceRef``; a HelmRelease's ``spec.chartRef``, or the HelmChart its
   ``spec.chart`` template makes and that chart's own source);
3. set the annotation ``reconcile.fluxcd.io/requestedAt`` to a fresh token with a JSON
   merge patch (plus ``reconcile.fluxcd.io/forceAt`` for a HelmRelease with
   ``--force``: a one-off install or upgrade even when nothing changed);
4. poll the object until ``status.lastHandledReconcileAt`` equals the token and its
   ``Ready`` condition is decided for the current generation: ``True`` is success,
   ``False`` a failure reported with the condition's reason and message; or until
   the timeout passes.

With no target, the cluster's root Kustomization is reconciled with its source, as
``task reconcile`` (``flux reconcile kustomization flux-system --with-source``) does:
see :func:`root_kustomization`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from homelab_kit.cluster.client import ApiResource, Cluster, ready_state
from homelab_kit.cluster.status import HELM_GROUP, KUSTOMIZE_GROUP
from homelab_kit.errors import ClusterError
from homelab_kit.model.clusters import Cluster as RepoCluster
from homelab_kit.model.repo import Repo

SOURCE_GROUP = "source.toolkit.fluxcd.io"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
FORCE_AT = "reconcile.fluxcd.io/forceAt"
FLUX_NAME_LABEL = "kustomize.toolkit.fluxcd.io/name"
FLUX_NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace"
DEFAULT_NAMESPACE = "flux-system"
DEFAULT_TIMEOUT = 300.0
DEFAULT_INTERVAL = 2.0
#: Never poll the API server faster than this (a 0 interval would be a busy loop).
MIN_INTERVAL = 0.01

#: ``--kind`` values and the group and kind each names.
KINDS: Mapping[str, tuple[str, str]] = {
    "kustomization": (KUSTOMIZE_GROUP, "Kustomization"),
    "helmrelease": (HELM_GROUP, "HelmRelease"),
    "gitrepository": (SOURCE_GROUP, "GitRepository"),
    "ocirepository": (SOURCE_GROUP, "OCIRepository"),
    "helmrepository": (SOURCE_GROUP, "HelmRepository"),
    "helmchart": (SOURCE_GROUP, "HelmChart"),
    "bucket": (SOURCE_GROUP, "Bucket"),
}
SOURCE_KINDS = ("GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket")


@attrs.frozen
class Target:
    """A Flux object to reconcile."""

    group: str
    kind: str
    namespace: str
    name: str

    @property
    def label(self) -> str:
        """``Kustomization flux-system/cluster-apps``."""
        return f"{self.kind} {self.namespace}/{self.name}"

    def to_json(self) -> dict[str, str]:
        """The JSON form ``--format json`` prints."""
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name}


@attrs.frozen
class Outcome:
    """How one reconcile request ended.

    ``state`` is ``ready`` (handled and Ready), ``failed`` (handled, not Ready),
    ``timeout`` (not handled, or not decided, in time), ``suspended`` (not
    requested), ``requested`` (``--no-wait``) or ``static`` (an OCI HelmRepository,
    which has nothing to reconcile).
    """

    target: Target
    state: str
    reason: str | None = None
    message: str | None = None
    revision: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Nothing went wrong (``homelab-kit reconcile`` exits 0)."""
        return self.state in ("ready", "requested", "static")

    def describe(self) -> str:
        """One line for people."""
        what = self.target.label
        why = ": ".join(p for p in (self.reason, self.message) if p)
        if self.state == "ready":
            return f"{what} reconciled" + (f": {self.message}" if self.message else "")
        if self.state == "failed":
            return f"{what} reconciliation failed: {why or 'not Ready'}"
        if self.state == "timeout":
            last = f" (last: {why})" if why else ""
            return (
                f"{what} did not finish reconciling within {_seconds(self.seconds)}{last}; "
                "it may still be working: raise --timeout, or run homelab-kit doctor"
            )
        if self.state == "suspended":
            return (
                f"{what} is suspended (spec.suspend: true) and was not reconciled; resume it "
                f"with: flux resume {self.target.kind.lower()} {self.target.name} "
                f"-n {self.target.namespace}"
            )
        if self.state == "static":
            return f"{what} is an OCI HelmRepository: static, nothing to reconcile"
        return f"{what} reconciliation requested (not waiting)"

    def to_json(self) -> dict[str, Any]:
        """The JSON form ``--format json`` prints."""
        return {
            **self.target.to_json(),
            "state": self.state,
            "ok": self.ok,
            "reason": self.reason,
            "message": self.message,
            "revision": self.revision,
            "seconds": round(self.seconds, 3),
        }


@attrs.frozen
class Progress:
    """What the object says while we wait (for the progress line)."""

    target: Target
    handled: bool
    ready: bool | None
    reason: str | None
    message: str | None
    seconds: float


@attrs.frozen
class WaitOptions:
    """How long to wait and how often to look (seconds); ``wait=False`` only asks."""

    wait: bool = True
    timeout: float = DEFAULT_TIMEOUT
    interval: float = DEFAULT_INTERVAL


Events = Callable[[str, Target, "Progress | None"], None]


def _quiet(event: str, target: Target, progress: Progress | None) -> None:
    pass


# ---------------------------------------------------------------------- targets


def parse_target(text: str) -> tuple[str, str]:
    """``NAMESPACE/NAME`` (or ``NAME``, in flux-system) as ``(namespace, name)``."""
    namespace, sep, name = text.partition("/")
    if not sep:
        namespace, name = DEFAULT_NAMESPACE, text
    if not namespace or not name or "/" in name:
        raise ClusterError(
            f"invalid target {text!r}: write NAMESPACE/NAME (or NAME in flux-system)"
        )
    return namespace, name


def find_target(cluster: Cluster, kind: str, namespace: str, name: str) -> Target:
    """The object ``--kind kind`` names; ``source`` finds which source kind it is.

    Raises :class:`ClusterError` when nothing of that name exists (or, for
    ``source``, when several source kinds share the name).
    """
    if kind != "source":
        group, flux_kind = KINDS[kind]
        resource = cluster.resource(group, flux_kind)
        target = Target(group, flux_kind, namespace, name)
        if cluster.get(resource, name, namespace) is None:
            raise ClusterError(f"{target.label} is not on {_where(cluster)}")
        return target
    found = []
    for source_kind in SOURCE_KINDS:
        served = cluster.find_resource(SOURCE_GROUP, source_kind)
        if served is not None and cluster.get(served, name, namespace) is not None:
            found.append(Target(SOURCE_GROUP, source_kind, namespace, name))
    if not found:
        raise ClusterError(f"no Flux source {namespace}/{name} is on {_where(cluster)}")
    if len(found) > 1:
        kinds = ", ".join(t.kind for t in found)
        raise ClusterError(
            f"several sources are named {namespace}/{name} ({kinds}); pass --kind "
            f"{found[0].kind.lower()}"
        )
    return found[0]


def root_kustomization(
    repo: Repo | None, cluster: Cluster, *, scope: RepoCluster | None = None
) -> Target:
    """The Flux Kustomization at the top of what the repository deploys on ``cluster``.

    The repository's root Kustomizations (those no other Kustomization in it
    applies) are looked up on the cluster and followed upwards through the labels
    kustomize-controller puts on what it applies
    (``kustomize.toolkit.fluxcd.io/name`` and ``.../namespace``) to the one nothing
    applies: the ``flux-system`` Kustomization that ``flux bootstrap`` or a
    FluxInstance creates, or the repository's own root when it is the top.  Without a
    repository, or when none of its roots is on the cluster, ``flux-system/flux-system``.

    ``scope``: the repository's cluster that ``cluster`` runs, when the repository
    holds several; only its roots are looked up.

    Raises :class:`ClusterError` when none is found, or when several tops are (pass a
    name then).
    """
    resource = cluster.resource(KUSTOMIZE_GROUP, "Kustomization", "kustomizations")
    candidates: list[tuple[str, str]] = []
    if scope is not None:  # what bootstrap applies, or what applies itself
        for cks in scope.kustomizations:
            key = (cks.namespace, cks.name)
            if cks.object.applied_by in (None, cks.key) and key not in candidates:
                candidates.append(key)
    elif repo is not None:
        for ks in repo.kustomizations:
            if ks.source.path not in repo.deployed_by:
                candidates.append((ks.namespace or DEFAULT_NAMESPACE, ks.name))
    tops: list[tuple[str, str]] = []
    for namespace, name in candidates:
        top = _top(cluster, resource, namespace, name)
        if top is not None and top not in tops:
            tops.append(top)
    if not tops and cluster.get(resource, DEFAULT_NAMESPACE, DEFAULT_NAMESPACE) is not None:
        tops.append((DEFAULT_NAMESPACE, DEFAULT_NAMESPACE))
    if not tops:
        looked = ", ".join(f"{ns}/{n}" for ns, n in candidates) or "none in the repository"
        raise ClusterError(
            f"no root Kustomization found on {_where(cluster)} (looked for "
            f"{DEFAULT_NAMESPACE}/{DEFAULT_NAMESPACE} and the repository's roots: {looked}); "
            "name one: homelab-kit reconcile NAMESPACE/NAME"
        )
    if len(tops) > 1:
        names = ", ".join(f"{ns}/{n}" for ns, n in tops)
        raise ClusterError(f"several root Kustomizations ({names}); name the one to reconcile")
    namespace, name = tops[0]
    return Target(KUSTOMIZE_GROUP, "Kustomization", namespace, name)


def _top(
    cluster: Cluster, resource: ApiResource, namespace: str, name: str
) -> tuple[str, str] | None:
    obj = cluster.get(resource, name, namespace)
    if obj is None:
        return None
    seen = {(namespace, name)}
    while True:
        labels = _map(_map(obj.get("metadata")).get("labels"))
        parent = (labels.get(FLUX_NAMESPACE_LABEL), labels.get(FLUX_NAME_LABEL))
        if not all(isinstance(p, str) and p for p in parent) or parent in seen:
            return namespace, name
        parent_obj = cluster.get(resource, str(parent[1]), str(parent[0]))
        if parent_obj is None:
            return namespace, name
        seen.add((str(parent[0]), str(parent[1])))
        namespace, name, obj = str(parent[0]), str(parent[1]), parent_obj


def sources_of(cluster: Cluster, target: Target, obj: Mapping[str, Any]) -> list[Target]:
    """The sources to reconcile before ``target`` with ``--with-source``, in order."""
    spec = _map(obj.get("spec"))
    if target.kind == "Kustomization":
        ref = _map(spec.get("sourceRef"))
        return [_ref_target(ref, target.namespace)] if ref.get("name") else []
    if target.kind == "HelmRelease":
        ref = _map(spec.get("chartRef"))
        if ref.get("name"):
            return [_ref_target(ref, target.namespace)]
        template = _map(_map(spec.get("chart")).get("spec"))
        source_ref = _map(template.get("sourceRef"))
        chart_ns = str(source_ref.get("namespace") or target.namespace)
        chart = _str(_map(obj.get("status")).get("helmChart"))
        if chart and "/" in chart:
            chart_ns, chart_name = chart.split("/", 1)
        else:
            chart_name = f"{target.namespace}-{target.name}"
        out = [_ref_target(source_ref, target.namespace)] if source_ref.get("name") else []
        return [*out, Target(SOURCE_GROUP, "HelmChart", chart_ns, chart_name)]
    if target.kind == "HelmChart":
        ref = _map(spec.get("sourceRef"))
        return [_ref_target(ref, target.namespace)] if ref.get("name") else []
    return []


def _ref_target(ref: Mapping[str, Any], namespace: str) -> Target:
    api_version = str(ref.get("apiVersion") or SOURCE_GROUP)
    return Target(
        api_version.split("/")[0],
        str(ref.get("kind") or "GitRepository"),
        str(ref.get("namespace") or namespace),
        str(ref.get("name")),
    )


# ---------------------------------------------------------------------- reconciling


def reconcile(
    cluster: Cluster,
    target: Target,
    *,
    with_source: bool = False,
    force: bool = False,
    options: WaitOptions = WaitOptions(),
    on_event: Events = _quiet,
) -> list[Outcome]:
    """Reconcile ``target`` (its sources first with ``with_source``); see the module.

    ``on_event(event, target, progress)`` is told ``annotating``, ``annotated``,
    ``waiting`` (with the latest :class:`Progress`) and ``done``.  Returns one
    :class:`Outcome` per object asked, sources first; stops at the first that is
    not ok.  Raises :class:`ClusterError` when the cluster cannot be asked (the
    object or its source missing, RBAC refusing the patch, ...).
    """
    resource = _resource(cluster, target)
    obj = cluster.get(resource, target.name, target.namespace)
    if obj is None:
        raise ClusterError(f"{target.label} is not on {_where(cluster)}")
    if _map(obj.get("spec")).get("suspend") is True:
        return [Outcome(target, "suspended")]
    outcomes: list[Outcome] = []
    if with_source:
        for source in sources_of(cluster, target, obj):
            outcomes.extend(
                reconcile(cluster, source, with_source=False, options=options, on_event=on_event)
            )
            if not outcomes[-1].ok:
                return outcomes
    outcomes.append(_reconcile_one(cluster, resource, target, obj, force, options, on_event))
    return outcomes


def _reconcile_one(
    cluster: Cluster,
    resource: ApiResource,
    target: Target,
    obj: Mapping[str, Any],
    force: bool,
    options: WaitOptions,
    on_event: Events,
) -> Outcome:
    if target.kind == "HelmRepository" and _map(obj.get("spec")).get("type") == "oci":
        return Outcome(target, "static")
    token = request_reconcile(cluster, resource, target, force=force, on_event=on_event)
    if not options.wait:
        return Outcome(target, "requested")
    outcome = wait_for(cluster, resource, target, token, options, on_event)
    on_event("done", target, None)
    return outcome


def request_reconcile(
    cluster: Cluster,
    resource: ApiResource,
    target: Target,
    *,
    force: bool = False,
    on_event: Events = _quiet,
) -> str:
    """Annotate ``target`` with a fresh ``requestedAt`` token (and ``forceAt``); the token."""
    token = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    annotations = {REQUESTED_AT: token}
    if force:
        annotations[FORCE_AT] = token
    on_event("annotating", target, None)
    cluster.merge_patch(
        resource, target.name, target.namespace, {"metadata": {"annotations": annotations}}
    )
    on_event("annotated", target, None)
    return token


def wait_for(
    cluster: Cluster,
    resource: ApiResource,
    target: Target,
    token: str,
    options: WaitOptions,
    on_event: Events = _quiet,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Poll ``target`` until it handled ``token`` and Ready is decided, or time runs out."""
    start = clock()
    while True:
        obj = cluster.get(resource, target.name, target.namespace)
        elapsed = clock() - start
        if obj is None:
            raise ClusterError(f"{target.label} was deleted while waiting for it")
        progress = _progress(target, obj, token, elapsed)
        on_event("waiting", target, progress)
        if progress.handled and progress.ready is not None:
            return Outcome(
                target,
                "ready" if progress.ready else "failed",
                progress.reason,
                progress.message,
                _revision(obj),
                elapsed,
            )
        if elapsed >= options.timeout:
            return Outcome(
                target, "timeout", progress.reason, progress.message, _revision(obj), elapsed
            )
        sleep(max(0.0, min(max(options.interval, MIN_INTERVAL), options.timeout - elapsed)))


def _progress(target: Target, obj: Mapping[str, Any], token: str, elapsed: float) -> Progress:
    handled = _map(obj.get("status")).get("lastHandledReconcileAt") == token
    ready, reason, message = ready_state(obj)
    return Progress(target, handled, ready, reason, message, elapsed)


def _revision(obj: Mapping[str, Any]) -> str | None:
    status = _map(obj.get("status"))
    artifact = _map(status.get("artifact"))
    return (
        _str(status.get("lastAppliedRevision"))
        or _str(artifact.get("revision"))
        or _str(status.get("lastAttemptedRevision"))
    )


def _resource(cluster: Cluster, target: Target) -> ApiResource:
    return cluster.resource(target.group, target.kind)


def _where(cluster: Cluster) -> str:
    where = f"the cluster at {cluster.server}"
    return f"{where} (context {cluster.context})" if cluster.context else where


def _seconds(value: float) -> str:
    if value >= 60:
        minutes, seconds = divmod(round(value), 60)
        return f"{minutes}m{seconds}s" if seconds else f"{minutes}m"
    return f"{value:.1f}s" if value < 10 else f"{round(value)}s"


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
