"""``homelab-kit status``: what the cluster says about every app the repository declares.

For each app (and each Flux root outside the apps folder): its Flux Kustomizations
and HelmReleases as the cluster has them (present, Ready, suspended, the revision
last reconciled, the message when not Ready), and each InfisicalSecret's sync
condition together with whether the Secrets it manages exist.

Secrets are read as ``PartialObjectMetadata`` only: their values never reach this
process, let alone a report.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from homelab_kit.cluster.client import ApiResource, Cluster, condition, ready_state
from homelab_kit.model.clusters import Cluster as RepoCluster
from homelab_kit.model.flux import FluxKustomization, HelmRelease
from homelab_kit.model.repo import Repo
from homelab_kit.model.secrets import InfisicalSecret

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
INFISICAL_GROUP = "secrets.infisical.com"
#: The condition the Infisical operator sets on every sync.
INFISICAL_SYNC_CONDITION = "secrets.infisical.com/ReadyToSyncSecrets"
DEFAULT_NAMESPACE = "default"


@attrs.frozen
class ObjectStatus:
    """A Flux Kustomization or HelmRelease as the cluster has it.

    ``ready`` is the Ready condition: True, False, or None while it is Unknown,
    absent or older than the object's generation (still reconciling).
    ``revision`` is the last revision reconciled: a Kustomization's
    ``lastAppliedRevision``, a HelmRelease's installed chart version.
    """

    kind: str
    namespace: str
    name: str
    present: bool
    path: str
    ready: bool | None = None
    suspended: bool = False
    revision: str | None = None
    reason: str | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        """Present and Ready."""
        return self.present and self.ready is True

    @classmethod
    def from_object(
        cls, kind: str, namespace: str, name: str, path: str, obj: Mapping[str, Any] | None
    ) -> ObjectStatus:
        """Read presence, Ready, suspend and revision from a Flux object (None: absent)."""
        if obj is None:
            return cls(kind, namespace, name, present=False, path=path)
        ready, reason, message = ready_state(obj)
        status = _map(obj.get("status"))
        return cls(
            kind,
            namespace,
            name,
            present=True,
            path=path,
            ready=ready,
            suspended=_map(obj.get("spec")).get("suspend") is True,
            revision=_revision(kind, status),
            reason=reason,
            message=message,
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form ``--format json`` prints."""
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "path": self.path,
            "present": self.present,
            "ready": self.ready,
            "suspended": self.suspended,
            "revision": self.revision,
            "reason": self.reason,
            "message": self.message,
        }


@attrs.frozen
class ManagedSecretStatus:
    """A Secret an InfisicalSecret manages, and whether it exists (no value is read)."""

    namespace: str
    name: str
    exists: bool


@attrs.frozen
class SecretStatus:
    """An InfisicalSecret: its sync condition and the Secrets it manages."""

    namespace: str
    name: str
    present: bool
    path: str
    synced: bool | None = None
    reason: str | None = None
    message: str | None = None
    managed: tuple[ManagedSecretStatus, ...] = ()

    @property
    def ok(self) -> bool:
        """Present, synced, and every managed Secret exists."""
        return self.present and self.synced is True and all(m.exists for m in self.managed)

    def to_json(self) -> dict[str, Any]:
        """The JSON form ``--format json`` prints."""
        return {
            "kind": "InfisicalSecret",
            "namespace": self.namespace,
            "name": self.name,
            "path": self.path,
            "present": self.present,
            "synced": self.synced,
            "reason": self.reason,
            "message": self.message,
            "managedSecrets": [
                {"namespace": m.namespace, "name": m.name, "exists": m.exists} for m in self.managed
            ],
        }


@attrs.frozen
class AppStatus:
    """One app of the repository (or a Flux root outside the apps folder) in the cluster.

    ``namespace`` is None for a group that is not an app, such as the cluster's
    entry-point Kustomizations in ``kubernetes/flux/cluster``.  ``cluster`` is the
    repository's cluster the app belongs to, when the repository holds several.
    """

    namespace: str | None
    name: str
    directory: str
    kustomizations: tuple[ObjectStatus, ...] = ()
    helm_releases: tuple[ObjectStatus, ...] = ()
    secrets: tuple[SecretStatus, ...] = ()
    cluster: str | None = None

    @property
    def label(self) -> str:
        """``namespace/app``, or the folder for a group that is not an app."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.directory

    @property
    def ok(self) -> bool:
        """Everything of the app is Ready (and synced)."""
        return all(o.ok for o in (*self.kustomizations, *self.helm_releases)) and all(
            s.ok for s in self.secrets
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form ``--format json`` prints."""
        return {
            "cluster": self.cluster,
            "namespace": self.namespace,
            "name": self.name,
            "directory": self.directory,
            "ready": self.ok,
            "kustomizations": [o.to_json() for o in self.kustomizations],
            "helmReleases": [o.to_json() for o in self.helm_releases],
            "infisicalSecrets": [s.to_json() for s in self.secrets],
        }


@attrs.frozen
class ClusterStatus:
    """Every app's status, and which cluster answered."""

    server: str
    context: str | None
    apps: tuple[AppStatus, ...]

    @property
    def ok(self) -> bool:
        """Everything is Ready: ``homelab-kit status`` exits 0."""
        return all(app.ok for app in self.apps)

    def to_json(self) -> dict[str, Any]:
        """The document ``homelab-kit status --format json`` prints."""
        return {
            "version": 1,
            "server": self.server,
            "context": self.context,
            "ready": self.ok,
            "apps": [app.to_json() for app in self.apps],
        }


# ---------------------------------------------------------------------- gathering


def gather_status(
    repo: Repo, cluster: Cluster, *, scope: RepoCluster | None = None
) -> ClusterStatus:
    """Ask ``cluster`` about everything ``repo`` declares; see the module docstring.

    ``scope`` is the repository's cluster that ``cluster`` runs (``--cluster``): only
    what it applies is asked about.  Without it, in a repository of several
    clusters, each app is labelled with the cluster it belongs to (apps are listed
    cluster by cluster).

    One list request per kind and namespace.  Raises
    :class:`~homelab_kit.errors.ClusterError` when the cluster cannot answer (Flux or
    the Infisical operator not installed, RBAC refusing a list, ...).
    """
    pools = [scope] if scope is not None else list(repo.clusters)

    def owner(path: str) -> str | None:
        found = next((c for c in pools if c.reaches(path)), None)
        return found.name if found is not None and (scope or len(pools) > 1) else None

    def wanted(path: str) -> bool:
        return scope is None or scope.reaches(path)

    kustomizations = [(k, _ns(k.namespace)) for k in repo.kustomizations if wanted(k.source.path)]
    releases = [(h, _ns(h.namespace)) for h in repo.helm_releases if wanted(h.source.path)]
    infisical = [(s, _ns(s.namespace)) for s in repo.infisical_secrets if wanted(s.source.path)]

    Index = dict[tuple[str, str], Mapping[str, Any]]
    ks_objects: Index = {}
    hr_objects: Index = {}
    is_objects: Index = {}
    if kustomizations:
        resource = cluster.resource(KUSTOMIZE_GROUP, "Kustomization", "kustomizations")
        ks_objects = _index(cluster, resource, (ns for _, ns in kustomizations))
    if releases:
        resource = cluster.resource(HELM_GROUP, "HelmRelease", "helmreleases")
        hr_objects = _index(cluster, resource, (ns for _, ns in releases))
    secret_names: Index = {}
    if infisical:
        resource = cluster.resource(INFISICAL_GROUP, "InfisicalSecret", "infisicalsecrets")
        is_objects = _index(cluster, resource, (ns for _, ns in infisical))
        managed_ns = {_ns(m.namespace or ns) for s, ns in infisical for m in s.managed_secrets}
        secret_names = _index(cluster, cluster.resource("", "Secret"), managed_ns, metadata=True)

    groups: dict[tuple[str | None, str | None, str, str], dict[str, list[Any]]] = {}

    def group(path: str) -> dict[str, list[Any]]:
        key = (owner(path), *_group_key(repo, path))
        return groups.setdefault(key, {"ks": [], "hr": [], "is": []})

    for ks, ns in kustomizations:
        group(ks.source.path)["ks"].append(_flux(ks, ns, ks_objects))
    for hr, ns in releases:
        group(hr.source.path)["hr"].append(_flux(hr, ns, hr_objects))
    for secret, ns in infisical:
        group(secret.source.path)["is"].append(_secret(secret, ns, is_objects, secret_names))

    order: dict[tuple[str | None, str, str], int] = {
        (a.namespace, a.name, a.directory): i for i, a in enumerate(repo.apps)
    }
    rank = {c.name: i for i, c in enumerate(pools)}
    apps = [
        AppStatus(
            namespace=key[1],
            name=key[2],
            directory=key[3],
            kustomizations=tuple(found["ks"]),
            helm_releases=tuple(found["hr"]),
            secrets=tuple(found["is"]),
            cluster=key[0],
        )
        for key, found in groups.items()
    ]
    apps.sort(
        key=lambda a: (
            rank.get(a.cluster or "", len(rank)),
            order.get((a.namespace, a.name, a.directory), -1),
            a.directory,
        )
    )
    return ClusterStatus(server=cluster.server, context=cluster.context, apps=tuple(apps))


def _index(
    cluster: Cluster,
    resource: ApiResource,
    namespaces: Iterable[str],
    *,
    metadata: bool = False,
) -> dict[tuple[str, str], Mapping[str, Any]]:
    """``{(namespace, name): object}`` from one list per namespace."""
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    for namespace in sorted(set(namespaces)):
        for item in cluster.list_objects(resource, namespace, metadata_only=metadata):
            meta = _map(item.get("metadata"))
            name = meta.get("name")
            if isinstance(name, str):
                found[(str(meta.get("namespace") or namespace), name)] = item
    return found


def _flux(
    model: FluxKustomization | HelmRelease,
    namespace: str,
    objects: Mapping[tuple[str, str], Mapping[str, Any]],
) -> ObjectStatus:
    kind = "Kustomization" if isinstance(model, FluxKustomization) else "HelmRelease"
    obj = objects.get((namespace, model.name))
    return ObjectStatus.from_object(kind, namespace, model.name, model.source.path, obj)


def _secret(
    secret: InfisicalSecret,
    namespace: str,
    objects: Mapping[tuple[str, str], Mapping[str, Any]],
    secrets: Mapping[tuple[str, str], Mapping[str, Any]],
) -> SecretStatus:
    managed = tuple(
        ManagedSecretStatus(
            _ns(m.namespace or namespace),
            m.name,
            (_ns(m.namespace or namespace), m.name) in secrets,
        )
        for m in secret.managed_secrets
    )
    obj = objects.get((namespace, secret.name))
    if obj is None:
        return SecretStatus(namespace, secret.name, False, secret.source.path, managed=managed)
    synced, reason, message = sync_state(obj, "InfisicalSecret")
    return SecretStatus(
        namespace,
        secret.name,
        True,
        secret.source.path,
        synced=synced,
        reason=reason,
        message=message,
        managed=managed,
    )


def sync_state(obj: Mapping[str, Any], kind: str) -> tuple[bool | None, str | None, str | None]:
    """``(synced, reason, message)`` of an InfisicalSecret or ExternalSecret."""
    found = condition(obj, INFISICAL_SYNC_CONDITION if kind == "InfisicalSecret" else "Ready")
    if found is None:
        return None, None, None
    synced = {"True": True, "False": False}.get(str(found.get("status")))
    return synced, _str(found.get("reason")), _str(found.get("message"))


def _group_key(repo: Repo, path: str) -> tuple[str | None, str, str]:
    app = repo.app_of_file(path)
    if app is not None:
        return (app.namespace, app.name, app.directory)
    directory = posixpath.dirname(path)
    return (None, posixpath.basename(directory) or ".", directory or ".")


def _revision(kind: str, status: Mapping[str, Any]) -> str | None:
    if kind == "HelmRelease":
        history = status.get("history")
        if isinstance(history, list) and history and isinstance(history[0], Mapping):
            latest = history[0]
            version = _str(latest.get("chartVersion"))
            if version:
                return version
    return _str(status.get("lastAppliedRevision")) or (
        _str(status.get("lastAttemptedRevision")) if kind == "HelmRelease" else None
    )


def _ns(namespace: str | None) -> str:
    return namespace or DEFAULT_NAMESPACE


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
