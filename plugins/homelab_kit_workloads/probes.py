"""Long-running containers need liveness and readiness probes.

## What it does
Checks that every container of a Deployment, StatefulSet, DaemonSet, ReplicaSet
or Pod (raw manifests and bjw-s app-template values) has a liveness and a
readiness probe. Init containers, Jobs and CronJobs are skipped: they run to
completion. app-template enables its default TCP probes unless a probe says
`enabled: false`, so only disabled probes are reported there.

Workloads are read as each cluster applies them (patches, components, `${VAR}`s,
values merged over `valuesFrom` ConfigMaps), each finding at the line to edit,
naming the cluster when only some of several have it; files no cluster deploys are
not checked (see `workload-image-tag` for the details).

## Options
- `exempt-namespaces` (default `[]`): namespaces whose workloads are skipped.
- `exempt-workloads` (default `[]`): globs on `namespace/name` or `name` of workloads
  to skip (app-template controllers are named `release/controller`).

## Why is this bad?
Without a readiness probe a Service sends traffic to a pod that has not finished
starting (or has stopped serving); without a liveness probe a hung process is
never restarted. Both turn a recoverable fault into an outage someone has to
notice.

## Example
```yaml
containers:
  app:
    probes:
      liveness:
        enabled: false
      readiness:
        enabled: false
```

## Use instead
```yaml
containers:
  app:
    probes:
      liveness: &probes
        enabled: true
        custom: true
        spec:
          httpGet:
            path: /ping
            port: 8989
      readiness: *probes
```
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_workloads._common import JOB_KINDS, container_name, containers, once_per_cluster

ID = "workload-probes"
SEVERITY = Severity.WARNING
CATEGORY = "correctness"
LIVE = True
REMEDIATION = "Add a livenessProbe and a readinessProbe (app-template: probes.liveness/readiness)."


@attrs.frozen
class Options:
    exempt_namespaces: tuple[str, ...] = ()
    exempt_workloads: tuple[str, ...] = ()


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    return once_per_cluster(repo, _findings(repo, options))


def _findings(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    pairs = containers(repo, options.exempt_namespaces, options.exempt_workloads)
    for workload, container in pairs:
        if container.init or workload.kind in JOB_KINDS:
            continue
        live, ready = container.has_probe("liveness"), container.has_probe("readiness")
        if live and ready:
            continue
        if not live and not ready:
            problem = "has neither a liveness nor a readiness probe"
        else:
            problem = f"has no {'readiness' if live else 'liveness'} probe"
        message = f"{container_name(workload, container)} {problem}"
        yield Diagnostic(
            container.source, ID, message, SEVERITY, REMEDIATION, cluster=workload.cluster
        )
