"""``homelab-kit doctor``: walk each app's chain from git to pod on the live cluster.

For every app of the repository (a folder with a ``ks.yaml``), or one, the links are
checked in the order Flux builds them, and the walk stops at the first link that is
broken (every problem of that link is reported, one :class:`Finding` each).  The
cluster's entry-point Kustomizations outside the apps (``kubernetes/flux/cluster``)
are walked first, as a group of their own, through link 1 only.

1. ``kustomization``: each Flux Kustomization of the app is on the cluster and Ready
   (a suspended one is a warning);
2. ``dependency``: each of its ``dependsOn`` is Ready.  A Kustomization that is not
   Ready while a dependency is not either is reported as the dependency: the cause;
3. ``helmrelease``: each HelmRelease of the app is Ready; when not, the last failure
   (the Ready condition, failure counts, the last release's status) and the
   remediation state (Stalled, Remediated);
4. ``source``: the chart's source is Ready (``chartRef``; or the HelmChart of a
   ``chart`` template and its HelmRepository, GitRepository or Bucket);
5. ``secret``: each InfisicalSecret / ExternalSecret of the app, or producing a Secret
   the app reads, is synced, and each Secret it manages exists (read as metadata:
   values never reach this process).  The secrets operator's pods and the lines of
   their last 50 log lines naming the object come with the finding;
6. ``pod``: the pods of the app's workloads (Deployments, StatefulSets and DaemonSets
   labelled by the app's Flux Kustomizations or HelmReleases): not Running or not
   Ready, CrashLoopBackOff, ImagePullBackOff, Pending with the scheduler's reason;
   restarts of a Ready pod are a warning;
7. ``event``: the namespace's Warning events about those objects (warnings; the API
   server keeps events for an hour by default, so all it holds are recent).

Every finding carries the next command to run.  Warnings are reported and do not
stop the walk nor fail the command.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from homelab_kit.cluster.client import ApiResource, Cluster, condition, ready_state
from homelab_kit.cluster.reconcile import Target, sources_of
from homelab_kit.cluster.status import (
    HELM_GROUP,
    KUSTOMIZE_GROUP,
)
from homelab_kit.model.clusters import Cluster as RepoCluster
from homelab_kit.model.flux import FluxKustomization
from homelab_kit.model.repo import App, Repo

EXTERNAL_SECRETS_GROUP = "external-secrets.io"
LINKS = ("kustomization", "dependency", "helmrelease", "source", "secret", "pod", "event")
ERROR = "error"
WARNING = "warning"


@attrs.frozen
class Finding:
    """One broken link: what, where, why, and the command to run next.

    ``details`` are extra lines for people (the secrets operator's pods and logs);
    ``facts`` the same for scripts.  Neither ever holds a Secret value.
    """

    link: str
    kind: str
    namespace: str
    name: str
    problem: str
    next_command: str
    severity: str = ERROR
    details: tuple[str, ...] = ()
    facts: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def label(self) -> str:
        """``HelmRelease web/echo``."""
        return f"{self.kind} {self.namespace}/{self.name}"

    def to_json(self) -> dict[str, Any]:
        """The JSON form ``--format json`` prints."""
        return {
            "link": self.link,
            "severity": self.severity,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "problem": self.problem,
            "next": self.next_command,
            "details": list(self.details),
            **({"facts": dict(self.facts)} if self.facts else {}),
        }


@attrs.frozen
class AppDiagnosis:
    """One app: the links walked and what was found (nothing: healthy)."""

    namespace: str
    name: str
    directory: str
    walked: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def label(self) -> str:
        """``namespace/app``, or the folder of a group of Flux roots."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.directory

    @property
    def ok(self) -> bool:
        """No error (warnings allowed)."""
        return not any(f.severity == ERROR for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """The JSON form ``--format json`` prints."""
        return {
            "namespace": self.namespace or None,
            "name": self.name,
            "directory": self.directory,
            "ok": self.ok,
            "walked": list(self.walked),
            "findings": [f.to_json() for f in self.findings],
        }


@attrs.frozen
class DoctorReport:
    """Every app's diagnosis, and which cluster answered."""

    server: str
    context: str | None
    apps: tuple[AppDiagnosis, ...]

    @property
    def ok(self) -> bool:
        """No app has an error: ``homelab-kit doctor`` exits 0."""
        return all(app.ok for app in self.apps)

    @property
    def warnings(self) -> int:
        """How many warnings were found."""
        return sum(1 for a in self.apps for f in a.findings if f.severity == WARNING)

    def summary(self) -> str:
        """``3 apps: 2 healthy, 1 with problems (1 warning)``."""
        broken = sum(1 for a in self.apps if not a.ok)
        text = f"{len(self.apps)} apps: {len(self.apps) - broken} healthy, {broken} with problems"
        if self.warnings:
            text += f" ({self.warnings} warning{'s' if self.warnings != 1 else ''})"
        return text

    def to_json(self) -> dict[str, Any]:
        """The document ``homelab-kit doctor --format json`` prints."""
        return {
            "version": 1,
            "server": self.server,
            "context": self.context,
            "ok": self.ok,
            "summary": {
                "apps": len(self.apps),
                "healthy": sum(1 for a in self.apps if a.ok),
                "withProblems": sum(1 for a in self.apps if not a.ok),
                "warnings": self.warnings,
            },
            "apps": [a.to_json() for a in self.apps],
        }


# ---------------------------------------------------------------------- reading


class Reader:
    """Cached reads of one cluster, so apps sharing a namespace share its lists."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._lists: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._gets: dict[tuple[str, str, str, str, bool], dict[str, Any] | None] = {}

    def resource(self, group: str, kind: str) -> ApiResource | None:
        """The served resource, or None when the cluster does not serve the kind."""
        return self.cluster.find_resource(group, kind)

    def flux(self, group: str, kind: str) -> ApiResource:
        """A Flux resource; a ClusterError (exit 2) when Flux is not installed."""
        return self.cluster.resource(group, kind)

    def get(
        self, resource: ApiResource, namespace: str, name: str, *, metadata: bool = False
    ) -> dict[str, Any] | None:
        """One object (None: absent), read once."""
        key = (resource.group, resource.name, namespace, name, metadata)
        if key not in self._gets:
            self._gets[key] = self.cluster.get(resource, name, namespace, metadata_only=metadata)
        return self._gets[key]

    def list(self, resource: ApiResource, namespace: str) -> list[dict[str, Any]]:
        """Every object of ``resource`` in ``namespace``, read once."""
        key = (resource.group, resource.name, namespace)
        if key not in self._lists:
            self._lists[key] = self.cluster.list_objects(resource, namespace)
        return self._lists[key]


# ---------------------------------------------------------------------- the walk


def diagnose(
    repo: Repo,
    cluster: Cluster,
    apps: Iterable[App] | None = None,
    *,
    scope: RepoCluster | None = None,
) -> DoctorReport:
    """Walk every app of ``repo`` (or ``apps``) on ``cluster``; see the module docstring.

    ``scope`` is the repository's cluster that ``cluster`` runs, when the repository
    holds several: only its entry points and apps are walked (another cluster's apps
    are not on this one).

    Raises :class:`ClusterError` when the cluster cannot be asked (Flux not
    installed, RBAC refusing a read the walk needs, ...).
    """
    from homelab_kit.cluster.pods import event_findings, pod_findings, secret_findings

    reader = Reader(cluster)
    out: list[AppDiagnosis] = []
    roots = flux_roots(repo)
    pool: Iterable[App] = repo.apps
    if scope is not None:
        written = {k.object.source.path for k in scope.kustomizations} | scope.files
        roots = [root for root in roots if root.ks_path in written]
        pool = scope.apps
    every: list[tuple[App, bool]] = (
        [(root, True) for root in roots] + [(app, False) for app in pool]
        if apps is None
        else [(app, False) for app in apps]
    )
    for app, root in every:
        walk = AppWalk(repo, reader, app)
        stages: tuple[tuple[str, Callable[[AppWalk], Iterable[Finding]]], ...] = (
            ("kustomization", AppWalk.kustomizations),
            ("helmrelease", AppWalk.helm_releases),
            ("source", AppWalk.sources),
            ("secret", secret_findings),
            ("pod", pod_findings),
            ("event", event_findings),
        )
        if root:
            stages = stages[:1]
        walked: list[str] = []
        findings: list[Finding] = []
        for name, stage in stages:
            walked.append(name)
            found = list(stage(walk))
            findings.extend(found)
            if any(f.severity == ERROR for f in found):
                break
        out.append(
            AppDiagnosis(app.namespace, app.name, app.directory, tuple(walked), tuple(findings))
        )
    return DoctorReport(server=cluster.server, context=cluster.context, apps=tuple(out))


def flux_roots(repo: Repo) -> list[App]:
    """The Flux Kustomizations outside every app (the cluster's entry points, such as
    ``kubernetes/flux/cluster``), one group per folder, walked as the first link of
    every app's chain.  Their ``namespace`` is empty; the label is the folder."""
    groups: dict[str, list[FluxKustomization]] = {}
    for ks in repo.kustomizations:
        if repo.app_of_file(ks.source.path) is None:
            groups.setdefault(posixpath.dirname(ks.source.path) or ".", []).append(ks)
    return [
        App(
            name=posixpath.basename(directory) or ".",
            namespace="",
            directory=directory,
            ks_path=found[0].source.path,
            kustomizations=tuple(found),
            files=tuple(dict.fromkeys(k.source.path for k in found)),
            source=found[0].source,
        )
        for directory, found in sorted(groups.items())
    ]


class AppWalk:
    """One app's objects, in the repository and on the cluster."""

    def __init__(self, repo: Repo, reader: Reader, app: App) -> None:
        self.repo = repo
        self.reader = reader
        self.app = app
        #: (namespace, name, live object) of the app's Flux Kustomizations and HelmReleases.
        self.live_kustomizations: list[tuple[str, str, Mapping[str, Any]]] = []
        self.live_releases: list[tuple[str, str, Mapping[str, Any]]] = []
        #: (kind, namespace, name) of every object the walk met, for events.
        self.seen: set[tuple[str, str, str]] = set()

    def landed(self, path: str, written: str | None) -> str:
        """The namespace an object of ``path`` lands in (kustomize and Flux decide)."""
        return self.repo.namespace_of_file(path) or written or self.app.namespace or "default"

    def deployer(self, path: str) -> str | None:
        """``namespace/name`` of the Flux Kustomization applying ``path``."""
        for namespace, name in self.repo.deployed_by.get(path) or ():
            return f"{namespace or 'flux-system'}/{name}"
        return None

    # ------------------------------------------------------------------ links 1-2

    def kustomizations(self) -> Iterator[Finding]:
        resource = self.reader.flux(KUSTOMIZE_GROUP, "Kustomization")
        for ks in self.app.kustomizations:
            namespace = self.landed(ks.source.path, ks.namespace)
            obj = self.reader.get(resource, namespace, ks.name)
            self.seen.add(("Kustomization", namespace, ks.name))
            if obj is None:
                parent = self.deployer(ks.source.path)
                yield Finding(
                    "kustomization",
                    "Kustomization",
                    namespace,
                    ks.name,
                    "is not on the cluster"
                    + (f": Kustomization {parent} has not applied it yet" if parent else ""),
                    f"homelab-kit reconcile {parent} --with-source"
                    if parent
                    else "homelab-kit reconcile --with-source",
                )
                continue
            self.live_kustomizations.append((namespace, ks.name, obj))
            if _suspended(obj):
                yield _suspended_finding("kustomization", "Kustomization", namespace, ks.name)
            broken = list(self._dependencies(resource, namespace, obj))
            ready, reason, message = ready_state(obj)
            if ready is not True and not broken:
                yield Finding(
                    "kustomization",
                    "Kustomization",
                    namespace,
                    ks.name,
                    _not_ready(ready, reason, message),
                    _ks_next(namespace, ks.name, reason),
                )
            yield from broken

    def _dependencies(
        self, resource: ApiResource, namespace: str, obj: Mapping[str, Any]
    ) -> Iterator[Finding]:
        for dep in _items(_map(obj.get("spec")).get("dependsOn")):
            name = dep.get("name")
            if not isinstance(name, str):
                continue
            dep_ns = str(dep.get("namespace") or namespace)
            dep_obj = self.reader.get(resource, dep_ns, name)
            model = self.repo.kustomization(dep_ns, name)
            app = self.repo.app_of_file(model.source.path) if model else None
            where = (
                f"homelab-kit doctor {app.namespace}/{app.name}"
                if app is not None and app != self.app
                else f"homelab-kit reconcile {dep_ns}/{name}"
            )
            if dep_obj is None:
                yield Finding(
                    "dependency",
                    "Kustomization",
                    dep_ns,
                    name,
                    "(a dependsOn of this app) is not on the cluster",
                    where,
                )
                continue
            ready, reason, message = ready_state(dep_obj)
            if ready is not True:
                yield Finding(
                    "dependency",
                    "Kustomization",
                    dep_ns,
                    name,
                    f"(a dependsOn of this app) {_not_ready(ready, reason, message)}",
                    where,
                )

    # ------------------------------------------------------------------ links 3-4

    def _releases(self) -> Iterator[tuple[str, str, str]]:
        files = set(self.app.files)
        for hr in self.repo.helm_releases:
            if hr.source.path in files:
                yield self.landed(hr.source.path, hr.namespace), hr.name, hr.source.path

    def helm_releases(self) -> Iterator[Finding]:
        releases = list(self._releases())
        if not releases:
            return
        resource = self.reader.flux(HELM_GROUP, "HelmRelease")
        for namespace, name, path in releases:
            obj = self.reader.get(resource, namespace, name)
            self.seen.add(("HelmRelease", namespace, name))
            if obj is None:
                parent = self.deployer(path)
                yield Finding(
                    "helmrelease",
                    "HelmRelease",
                    namespace,
                    name,
                    "is not on the cluster"
                    + (f": Kustomization {parent} has not applied it" if parent else ""),
                    f"homelab-kit reconcile {parent} --with-source"
                    if parent
                    else f"homelab-kit doctor {self.app.namespace}/{self.app.name}",
                )
                continue
            self.live_releases.append((namespace, name, obj))
            if _suspended(obj):
                yield _suspended_finding("helmrelease", "HelmRelease", namespace, name)
            ready, reason, message = ready_state(obj)
            if ready is True:
                continue
            source = list(self._chart_sources(namespace, name, obj))
            if source:
                yield from source
                continue
            yield _release_failure(namespace, name, obj, ready, reason, message)

    def sources(self) -> Iterator[Finding]:
        for namespace, name, obj in self.live_releases:
            yield from self._chart_sources(namespace, name, obj)

    def _chart_sources(
        self, namespace: str, name: str, obj: Mapping[str, Any]
    ) -> Iterator[Finding]:
        release = Target(HELM_GROUP, "HelmRelease", namespace, name)
        for source in sources_of(self.reader.cluster, release, obj):
            key = (source.kind, source.namespace, source.name)
            if key in self.seen and key[0] != "HelmRelease":
                continue
            self.seen.add(key)
            finding = self._source(source)
            if finding is not None:
                yield finding
                return

    def _source(self, source: Target) -> Finding | None:
        resource = self.reader.resource(source.group, source.kind)
        command = (
            f"homelab-kit reconcile {source.namespace}/{source.name} --kind {source.kind.lower()}"
        )
        if resource is None:
            return Finding(
                "source",
                source.kind,
                source.namespace,
                source.name,
                f"cannot be checked: the cluster serves no {source.kind} in API group "
                f"{source.group}",
                "flux check",
            )
        obj = self.reader.get(resource, source.namespace, source.name)
        if obj is None:
            return Finding(
                "source",
                source.kind,
                source.namespace,
                source.name,
                "(the chart's source) is not on the cluster",
                f"kubectl -n {source.namespace} get {source.kind.lower()}",
            )
        if source.kind == "HelmRepository" and _map(obj.get("spec")).get("type") == "oci":
            return None  # static: no status to check
        ready, reason, message = ready_state(obj)
        if ready is True:
            return None
        return Finding(
            "source",
            source.kind,
            source.namespace,
            source.name,
            f"(the chart's source) {_not_ready(ready, reason, message)}",
            command,
        )


# ---------------------------------------------------------------------- conditions


def _not_ready(ready: bool | None, reason: str | None, message: str | None) -> str:
    why = ": ".join(p for p in (reason, message) if p)
    head = "is not Ready" if ready is False else "is not Ready yet"
    return f"{head}: {why}" if why else f"{head} (no Ready condition)"


def _ks_next(namespace: str, name: str, reason: str | None) -> str:
    if reason in ("BuildFailed", "ArtifactFailed"):
        return f"homelab-kit build {namespace}/{name}"
    return f"homelab-kit reconcile {namespace}/{name} --with-source"


def _release_failure(
    namespace: str,
    name: str,
    obj: Mapping[str, Any],
    ready: bool | None,
    reason: str | None,
    message: str | None,
) -> Finding:
    """A HelmRelease that is not Ready: its last failure and its remediation state."""
    status = _map(obj.get("status"))
    facts: dict[str, Any] = {}
    parts = [_not_ready(ready, reason, message)]
    counts = []
    for field, label in (
        ("failures", "failures"),
        ("installFailures", "install failures"),
        ("upgradeFailures", "upgrade failures"),
    ):
        value = status.get(field)
        if isinstance(value, int) and value:
            facts[field] = value
            counts.append(f"{label}: {value}")
    history = _items(status.get("history"))
    if history:
        last = history[0]
        facts["lastRelease"] = {
            k: last.get(k) for k in ("chartVersion", "status", "version") if k in last
        }
        if last.get("status"):
            counts.append(
                f"last release: {last.get('status')} ({last.get('chartName', 'chart')}@"
                f"{last.get('chartVersion', '?')})"
            )
    stalled = condition(obj, "Stalled")
    remediated = condition(obj, "Remediated")
    if stalled is not None and stalled.get("status") == "True":
        facts["remediation"] = "exhausted"
        counts.append(
            f"remediation: retries exhausted (Stalled: {stalled.get('reason') or 'True'})"
        )
    elif remediated is not None and remediated.get("status") == "True":
        facts["remediation"] = str(remediated.get("reason") or "remediated")
        counts.append(f"remediation: {remediated.get('reason') or 'done'}")
    if counts:
        parts.append("; ".join(counts))
    stuck = facts.get("remediation") == "exhausted"
    command = (
        f"homelab-kit reconcile {namespace}/{name} --kind helmrelease --force"
        if stuck
        else f"kubectl -n {namespace} describe helmrelease {name}"
    )
    return Finding(
        "helmrelease",
        "HelmRelease",
        namespace,
        name,
        " (".join(parts) + (")" if counts else ""),
        command,
        facts=facts,
    )


def _suspended(obj: Mapping[str, Any]) -> bool:
    return _map(obj.get("spec")).get("suspend") is True


def _suspended_finding(link: str, kind: str, namespace: str, name: str) -> Finding:
    return Finding(
        link,
        kind,
        namespace,
        name,
        "is suspended (spec.suspend: true): Flux does not apply changes to it",
        f"flux resume {kind.lower()} {name} -n {namespace}",
        severity=WARNING,
    )


def _items(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
