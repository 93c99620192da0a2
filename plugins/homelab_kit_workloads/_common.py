"""Helpers the workload checks share: naming workloads and exempting them."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

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


def containers(
    workloads: tuple[Workload, ...], namespaces: tuple[str, ...], names: tuple[str, ...]
) -> Iterator[tuple[Workload, Container]]:
    """Every container of every workload the options do not exempt."""
    for workload in workloads:
        if exempt(workload, namespaces, names):
            continue
        for container in workload.containers:
            yield workload, container
