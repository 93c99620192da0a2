"""``homelab-kit drift``: where the cluster and the repository disagree.

Three kinds of drift:

* **missing**: an object the repository declares (in a file a Flux Kustomization
  deploys) that the cluster does not have, or whose API the cluster does not serve;
* **extra**: an object Flux applied (labelled ``kustomize.toolkit.fluxcd.io/name`` and
  ``.../namespace``) that the repository no longer declares: ``prune: false``
  leftovers, or objects of a Kustomization that was removed from git;
* **lagging**: a Flux Kustomization whose ``status.lastAppliedRevision`` differs from
  its ``lastAttemptedRevision`` (the last attempt failed) or from the artifact
  revision of its source (a GitRepository or OCIRepository that moved on).

What the repository declares follows kustomize and Flux: the namespace kustomize's
``namespace:`` or Flux's ``targetNamespace`` sets wins over the one written in a
manifest (a ``Namespace`` object is renamed to it), ``postBuild`` variables are
substituted where their value is known, and configMapGenerator/secretGenerator
objects match their hash-suffixed names.  Objects whose name keeps a variable only
a ``substituteFrom`` can fill are left out.

The cluster is read as ``PartialObjectMetadata`` (names and labels only, one
label-selected list per resource type), so no Secret value is ever read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from homelab_kit.cluster.client import ApiResource, Cluster
from homelab_kit.cluster.status import KUSTOMIZE_GROUP
from homelab_kit.model.base import DocumentRef, ObjectKey
from homelab_kit.model.clusters import Cluster as RepoCluster
from homelab_kit.model.repo import Repo
from homelab_kit.model.substitute import has_variables

FLUX_NAME_LABEL = "kustomize.toolkit.fluxcd.io/name"
FLUX_NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
#: kustomize appends ``-`` and a 10-character hash to generated names.
_HASH_SUFFIX = r"-[a-z0-9]{10}"


@attrs.frozen
class DeclaredObject:
    """An object the repository declares, where it is written, and how to match it.

    ``generated`` objects (configMapGenerator, secretGenerator) match a cluster
    object named ``{name}-{hash}``.  ``key.namespace`` is what kustomize and Flux
    make of it; cluster-scoped kinds drop it once discovery tells which they are.
    """

    key: ObjectKey
    path: str
    line: int
    generated: bool = False

    def matches(self, name: str) -> bool:
        """Whether a cluster object called ``name`` is this one."""
        if name == self.key.name:
            return True
        pattern = re.escape(self.key.name) + _HASH_SUFFIX
        return self.generated and re.fullmatch(pattern, name) is not None


@attrs.frozen
class MissingObject:
    """Declared in git, absent from the cluster (``reason`` says why)."""

    key: ObjectKey
    path: str
    line: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        """The JSON form ``--format json`` prints."""
        return {**_key_json(self.key), "path": self.path, "line": self.line, "reason": self.reason}


@attrs.frozen
class ExtraObject:
    """Applied by Flux Kustomization ``owner`` (``namespace/name``); no longer in git."""

    key: ObjectKey
    owner: str

    def to_json(self) -> dict[str, Any]:
        """The JSON form ``--format json`` prints."""
        return {**_key_json(self.key), "kustomization": self.owner}


@attrs.frozen
class LaggingKustomization:
    """A Flux Kustomization whose applied revision is behind; ``reason`` says how."""

    namespace: str
    name: str
    applied: str | None
    attempted: str | None
    source: str | None
    source_revision: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        """The JSON form ``--format json`` prints."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "lastAppliedRevision": self.applied,
            "lastAttemptedRevision": self.attempted,
            "source": self.source,
            "sourceRevision": self.source_revision,
            "reason": self.reason,
        }


@attrs.frozen
class DriftReport:
    """Everything ``homelab-kit drift`` found, sorted; ``clean`` when nothing."""

    server: str
    context: str | None
    missing: tuple[MissingObject, ...]
    extra: tuple[ExtraObject, ...]
    lagging: tuple[LaggingKustomization, ...]

    @property
    def clean(self) -> bool:
        """No drift: ``homelab-kit drift`` exits 0."""
        return not (self.missing or self.extra or self.lagging)

    def to_json(self) -> dict[str, Any]:
        """The document ``homelab-kit drift --format json`` prints."""
        return {
            "version": 1,
            "server": self.server,
            "context": self.context,
            "clean": self.clean,
            "missing": [m.to_json() for m in self.missing],
            "extra": [e.to_json() for e in self.extra],
            "lagging": [lag.to_json() for lag in self.lagging],
        }


# ---------------------------------------------------------------------- what git declares


def declared_objects(repo: Repo) -> list[DeclaredObject]:
    """Every object the repository's Flux Kustomizations deploy; see the module docstring.

    The Flux Kustomizations themselves are included, also the cluster's entry
    points that a FluxInstance or ``flux bootstrap`` applies.
    """
    out: list[DeclaredObject] = []
    for doc in repo.documents:
        if not (doc.kind and doc.api_version and doc.name):
            continue
        is_flux_ks = doc.group == KUSTOMIZE_GROUP and doc.kind == "Kustomization"
        if doc.path not in repo.deployed_by and not is_flux_ks:
            continue
        out.extend(_declared(repo, doc))
    for kfile, generator in repo.generators():
        if kfile.path not in repo.deployed_by or generator.behavior not in ("", "create"):
            continue
        namespaces = (
            (generator.namespace,)
            if generator.namespace
            else repo.all_namespaces_of_file(kfile.path) or (None,)
        )
        for namespace in namespaces:
            out.append(
                DeclaredObject(
                    ObjectKey(generator.kind, generator.name, namespace, ""),
                    kfile.path,
                    generator.source.line,
                    generated=not generator.disable_name_suffix_hash,
                )
            )
    return out


def _declared(repo: Repo, doc: DocumentRef) -> Iterable[DeclaredObject]:
    landed = repo.all_namespaces_of_file(doc.path)
    names = [n for n in repo.expand(doc.path, doc.name) if not has_variables(n)]
    if doc.group == "" and doc.kind == "Namespace":
        # kustomize's namespace transformer (and Flux's targetNamespace) rename Namespaces.
        for name in landed or names:
            yield DeclaredObject(ObjectKey("Namespace", name, None, ""), doc.path, doc.start_line)
        return
    if landed:
        namespaces: tuple[str | None, ...] = landed
    elif doc.namespace:
        namespaces = tuple(n for n in repo.expand(doc.path, doc.namespace) if not has_variables(n))
    else:
        namespaces = (None,)
    for name in names:
        for namespace in namespaces:
            yield DeclaredObject(
                ObjectKey(doc.kind, name, namespace, doc.group), doc.path, doc.start_line
            )


# ---------------------------------------------------------------------- comparing


def gather_drift(repo: Repo, cluster: Cluster, *, scope: RepoCluster | None = None) -> DriftReport:
    """Compare ``repo`` with ``cluster``; see the module docstring.

    ``scope`` is the repository's cluster that ``cluster`` runs (``--cluster``): only
    what it applies (and what no cluster of the repository claims) is expected there.

    Raises :class:`~homelab_kit.errors.ClusterError` when the cluster cannot answer
    (Flux not installed, RBAC refusing a list, ...).
    """
    ks_resource = cluster.resource(KUSTOMIZE_GROUP, "Kustomization", "kustomizations")
    managed = _flux_managed(cluster)
    expected = declared_objects(repo)
    if scope is not None:
        from homelab_kit.model.clusters import outside

        expected = [d for d in expected if not outside(repo.clusters, [scope], d.path)]
    declared = _resolve(cluster, expected)

    missing: list[MissingObject] = []
    for item, resource in declared:
        if resource is None:
            missing.append(
                MissingObject(
                    item.key,
                    item.path,
                    item.line,
                    f"the cluster serves no {item.key.kind} in API group "
                    f"{item.key.group or 'core'}",
                )
            )
            continue
        candidates = managed.get((item.key.group, item.key.kind, item.key.namespace), {})
        if any(item.matches(name) for name in candidates):
            continue
        if not item.generated and cluster.get(
            resource, item.key.name, item.key.namespace, metadata_only=True
        ):
            continue
        missing.append(MissingObject(item.key, item.path, item.line, "not found in the cluster"))

    by_slot: dict[tuple[str, str, str | None], list[DeclaredObject]] = {}
    for item, _ in declared:
        by_slot.setdefault((item.key.group, item.key.kind, item.key.namespace), []).append(item)
    extra = [
        ExtraObject(ObjectKey(kind, name, namespace, group), owner)
        for (group, kind, namespace), names in managed.items()
        for name, owner in names.items()
        if not any(d.matches(name) for d in by_slot.get((group, kind, namespace), ()))
    ]

    lagging = _lagging(repo, cluster, ks_resource)
    return DriftReport(
        server=cluster.server,
        context=cluster.context,
        missing=tuple(sorted(missing, key=lambda m: _sort_key(m.key))),
        extra=tuple(sorted(extra, key=lambda e: _sort_key(e.key))),
        lagging=tuple(sorted(lagging, key=lambda lag: (lag.namespace, lag.name))),
    )


def _flux_managed(cluster: Cluster) -> dict[tuple[str, str, str | None], dict[str, str]]:
    """``{(group, kind, namespace): {name: "owner-namespace/owner-name"}}`` of Flux objects."""
    found: dict[tuple[str, str, str | None], dict[str, str]] = {}
    seen: set[tuple[str, str]] = set()
    for resource in cluster.listable_resources():
        if (resource.group, resource.kind) in seen:
            continue
        seen.add((resource.group, resource.kind))
        items = cluster.list_objects(resource, label_selector=FLUX_NAME_LABEL, metadata_only=True)
        for item in items:
            meta = _map(item.get("metadata"))
            labels = _map(meta.get("labels"))
            name = meta.get("name")
            if not isinstance(name, str) or FLUX_NAME_LABEL not in labels:
                continue
            namespace = meta.get("namespace") if resource.namespaced else None
            owner = f"{labels.get(FLUX_NAMESPACE_LABEL, '')}/{labels[FLUX_NAME_LABEL]}"
            scope = namespace if isinstance(namespace, str) else None
            slot = (resource.group, resource.kind, scope)
            found.setdefault(slot, {})[name] = owner
    return found


def _resolve(
    cluster: Cluster, declared: list[DeclaredObject]
) -> list[tuple[DeclaredObject, ApiResource | None]]:
    """Pair each object with the resource serving it; fix namespaces by its scope."""
    out: list[tuple[DeclaredObject, ApiResource | None]] = []
    seen: set[ObjectKey] = set()
    for item in declared:
        resource = cluster.find_resource(item.key.group, item.key.kind)
        if resource is not None:
            namespace = (item.key.namespace or "default") if resource.namespaced else None
            item = attrs.evolve(item, key=attrs.evolve(item.key, namespace=namespace))
        if item.key not in seen:
            seen.add(item.key)
            out.append((item, resource))
    return out


def _lagging(repo: Repo, cluster: Cluster, resource: ApiResource) -> list[LaggingKustomization]:
    declared = {(k.namespace or "default", k.name) for k in repo.kustomizations}
    revisions: dict[tuple[str, str, str], tuple[str | None, bool]] = {}
    out: list[LaggingKustomization] = []
    for obj in cluster.list_objects(resource):
        meta = _map(obj.get("metadata"))
        namespace, name = str(meta.get("namespace") or "default"), str(meta.get("name") or "")
        if (namespace, name) not in declared:
            continue
        status, spec = _map(obj.get("status")), _map(obj.get("spec"))
        applied = _str(status.get("lastAppliedRevision"))
        attempted = _str(status.get("lastAttemptedRevision"))
        ref = _map(spec.get("sourceRef"))
        source = source_revision = None
        found = True
        if isinstance(ref.get("kind"), str) and isinstance(ref.get("name"), str):
            src_ns = str(ref.get("namespace") or namespace)
            source = f"{ref['kind']} {src_ns}/{ref['name']}"
            group = str(ref.get("apiVersion") or SOURCE_GROUP).split("/")[0]
            key = (group, str(ref["kind"]), f"{src_ns}/{ref['name']}")
            if key not in revisions:
                revisions[key] = _source_revision(cluster, group, ref["kind"], src_ns, ref["name"])
            source_revision, found = revisions[key]
        reason = _lag_reason(applied, attempted, source, source_revision, found)
        if reason:
            out.append(
                LaggingKustomization(
                    namespace, name, applied, attempted, source, source_revision, reason
                )
            )
    return out


def _source_revision(
    cluster: Cluster, group: str, kind: str, namespace: str, name: str
) -> tuple[str | None, bool]:
    resource = cluster.find_resource(group, kind)
    if resource is None:
        return None, False
    obj = cluster.get(resource, name, namespace)
    if obj is None:
        return None, False
    artifact = _map(_map(obj.get("status")).get("artifact"))
    return _str(artifact.get("revision")), True


def _lag_reason(
    applied: str | None,
    attempted: str | None,
    source: str | None,
    source_revision: str | None,
    source_found: bool,
) -> str | None:
    if applied is None:
        return "no revision has been applied yet"
    if attempted and attempted != applied:
        return f"the last attempt, {attempted}, was not applied (it still runs {applied})"
    if source and not source_found:
        return f"its source {source} is not in the cluster"
    if source_revision and source_revision != applied:
        return f"its source {source} is at {source_revision}, it has applied {applied}"
    return None


def _sort_key(key: ObjectKey) -> tuple[str, str, str, str]:
    return (key.namespace or "", key.group, key.kind, key.name)


def _key_json(key: ObjectKey) -> dict[str, Any]:
    return {"group": key.group, "kind": key.kind, "namespace": key.namespace, "name": key.name}


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
