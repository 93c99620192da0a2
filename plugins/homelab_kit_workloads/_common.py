"""Helpers the workload checks share: the live workloads, naming, exempting, reporting.

Every check reads :func:`~homelab_kit.model.live_workloads.live_workloads`: the
workloads of each cluster's desired state, each field placed where the user edits
it.  :func:`once_per_cluster` reports a finding every cluster has once, and names
the cluster (``[cluster storage]``) when the repository has several and only some
of them have it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator

import attrs

from homelab_kit import Diagnostic, Location, Repo
from homelab_kit.model.live_workloads import live_workloads
from homelab_kit.model.workloads import Container, Workload

JOB_KINDS = frozenset(("Job", "CronJob"))

# Namespaces whose components legitimately need node access and privileges.
DEFAULT_EXEMPT_NAMESPACES = ("kube-system",)


def describe(workload: Workload) -> str:
    """``Deployment media/sonarr``, or ``controller main of HelmRelease media/sonarr``."""
    where = f"{workload.namespace}/" if workload.namespace else ""
    if workload.origin == "values":
        release, _, controller = workload.name.partition("/")
        return f"controller {controller} of HelmRelease {where}{release}"
    return f"{workload.kind} {where}{workload.name}"


def container_name(workload: Workload, container: Container) -> str:
    kind = "init container" if container.init else "container"
    return f"{kind} {container.name} of {describe(workload)}"


def exempt(workload: Workload, namespaces: tuple[str, ...], workloads: tuple[str, ...]) -> bool:
    """Whether options exempt the workload: its namespace, or a name pattern.

    Name patterns are globs matched against ``namespace/name`` and ``name``
    (values workloads are named ``release/controller``).
    """
    if workload.namespace is not None and workload.namespace in namespaces:
        return True
    full = f"{workload.namespace or ''}/{workload.name}"
    return any(
        fnmatch.fnmatchcase(full, p) or fnmatch.fnmatchcase(workload.name, p) for p in workloads
    )


def workloads(
    repo: Repo, namespaces: tuple[str, ...], names: tuple[str, ...]
) -> Iterator[Workload]:
    """Every workload the clusters run that the options do not exempt."""
    for workload in live_workloads(repo):
        if not exempt(workload, namespaces, names):
            yield workload


def containers(
    repo: Repo, namespaces: tuple[str, ...], names: tuple[str, ...]
) -> Iterator[tuple[Workload, Container]]:
    """Every container of every workload the clusters run that the options do not exempt."""
    for workload in workloads(repo, namespaces, names):
        for container in workload.containers:
            yield workload, container


def once_per_cluster(repo: Repo, found: Iterable[Diagnostic]) -> Iterator[Diagnostic]:
    """``found`` with each finding once, naming its clusters only where they differ.

    A finding (same place, same words) that every cluster's copy has is reported
    once, without a cluster; one that only some clusters of several have is
    reported once per cluster, naming it.  Findings read as written (``cluster``
    None) pass through once.
    """
    every = {cluster.name for cluster in repo.clusters}
    groups: dict[tuple[Location, str, str], tuple[Diagnostic, dict[str, None]]] = {}
    for diagnostic in found:
        key = (diagnostic.location, diagnostic.check_id, diagnostic.message)
        first, clusters = groups.setdefault(key, (diagnostic, {}))
        if diagnostic.cluster is not None:
            clusters[diagnostic.cluster] = None
    for first, clusters in groups.values():
        if len(every) > 1 and clusters and set(clusters) < every:
            for name in clusters:
                yield attrs.evolve(first, cluster=name)
        else:
            yield attrs.evolve(first, cluster=None)
