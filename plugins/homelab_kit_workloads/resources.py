"""Containers must request CPU and memory and limit memory.

## What it does
Checks every container of raw manifests and of bjw-s app-template values for a
CPU request and a memory limit. Kubernetes copies a limit into a missing
request, so a CPU limit stands in for a CPU request and the memory limit for the
memory request; only the memory *limit* is always required. CPU limits are not
required (they throttle a container even when the node is idle).

Init containers run to completion before the app starts and are skipped unless
`include-init-containers: true`. `exempt-namespaces` and `exempt-workloads`
(globs on `namespace/name` or the name) skip workloads.

Workloads are read as each cluster applies them (patches, components, `${VAR}`s,
values merged over `valuesFrom` ConfigMaps), each finding at the line to edit,
naming the cluster when only some of several have it; files no cluster deploys are
not checked (see `workload-image-tag` for the details).

## Options
- `include-init-containers` (default `false`): check init containers too.
- `exempt-namespaces` (default `[]`): namespaces whose workloads are skipped.
- `exempt-workloads` (default `[]`): globs on `namespace/name` or `name` of workloads
  to skip (app-template controllers are named `release/controller`).

## Why is this bad?
Without requests the scheduler packs pods onto nodes blind and they get the
`BestEffort` quality of service: the first evicted under pressure. Without a
memory limit one leaking container can push the whole node out of memory, and
the kernel's OOM killer may pick a neighbour instead.

## Example
```yaml
containers:
  app:
    image:
      repository: ghcr.io/home-operations/sonarr
      tag: 4.0.15
```

## Use instead
```yaml
containers:
  app:
    image:
      repository: ghcr.io/home-operations/sonarr
      tag: 4.0.15
    resources:
      requests:
        cpu: 100m
        memory: 256Mi
      limits:
        memory: 1Gi
```
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_workloads._common import container_name, containers, once_per_cluster

ID = "workload-resources"
SEVERITY = Severity.WARNING
CATEGORY = "correctness"
LIVE = True
REMEDIATION = "Set resources.requests.cpu and resources.limits.memory."


@attrs.frozen
class Options:
    include_init_containers: bool = False
    exempt_namespaces: tuple[str, ...] = ()
    exempt_workloads: tuple[str, ...] = ()


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    return once_per_cluster(repo, _findings(repo, options))


def _findings(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    pairs = containers(repo, options.exempt_namespaces, options.exempt_workloads)
    for workload, container in pairs:
        if container.init and not options.include_init_containers:
            continue
        res = container.resources
        no_cpu = res.cpu_request is None and res.cpu_limit is None
        no_memory = res.memory_limit is None
        if no_cpu and no_memory:
            problem = "sets neither a CPU request nor a memory limit"
        elif no_cpu:
            problem = "sets no CPU request"
        elif no_memory:
            problem = "sets no memory limit"
        else:
            continue
        message = f"{container_name(workload, container)} {problem}"
        yield Diagnostic(
            container.resources_source, ID, message, SEVERITY, REMEDIATION, cluster=workload.cluster
        )
