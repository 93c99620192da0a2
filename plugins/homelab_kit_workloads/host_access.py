"""Pods should not share the node's namespaces or mount its filesystem.

## What it does
Reports workloads (raw manifests and bjw-s app-template values) whose pod sets
`hostNetwork`, `hostPID` or `hostIPC`, or mounts a `hostPath` volume, outside
`exempt-namespaces` (default `kube-system`) and `exempt-workloads` (globs on
`namespace/name` or the name; app-template controllers are `release/controller`).
For app-template values, `defaultPodOptions` counts for every controller (a
controller's `pod` overrides it) and a `persistence` item of `type: hostPath` is
a hostPath mount.

Workloads are read as each cluster applies them (patches, components, `${VAR}`s,
values merged over `valuesFrom` ConfigMaps), each finding at the line to edit,
naming the cluster when only some of several have it; files no cluster deploys are
not checked (see `workload-image-tag` for the details).

## Options
- `exempt-namespaces` (default `[kube-system]`): namespaces whose workloads are skipped.
- `exempt-workloads` (default `[]`): globs on `namespace/name` or `name` of workloads
  to skip (app-template controllers are named `release/controller`).

## Why is this bad?
`hostNetwork` puts the pod on the node's network stack: it can bind any port and
sniff node traffic, and NetworkPolicies no longer apply. `hostPID` and `hostIPC`
let it see and signal the node's processes. A `hostPath` mount reads or writes
the node's disk, and ties the pod to one node's layout.

## Example
```yaml
spec:
  template:
    spec:
      hostNetwork: true
      volumes:
        - name: data
          hostPath:
            path: /var/lib/app
```

## Use instead
```yaml
spec:
  template:
    spec:
      volumes:
        - name: data
          persistentVolumeClaim:
            claimName: app-data
```
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_workloads._common import (
    DEFAULT_EXEMPT_NAMESPACES,
    describe,
    once_per_cluster,
    workloads,
)

ID = "workload-host-access"
SEVERITY = Severity.WARNING
CATEGORY = "security"
COST = 140  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Remove host namespaces and hostPath volumes, or exempt the workload with a reason."


@attrs.frozen
class Options:
    exempt_namespaces: tuple[str, ...] = DEFAULT_EXEMPT_NAMESPACES
    exempt_workloads: tuple[str, ...] = ()


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    return once_per_cluster(repo, _findings(repo, options))


def _findings(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    for workload in workloads(repo, options.exempt_namespaces, options.exempt_workloads):
        host = workload.host
        uses = [
            name
            for name, on in (
                ("hostNetwork", host.host_network),
                ("hostPID", host.host_pid),
                ("hostIPC", host.host_ipc),
            )
            if on
        ]
        uses += [f"hostPath {path}" for path in host.host_paths]
        if uses:
            message = f"{describe(workload)} uses {', '.join(uses)}"
            yield Diagnostic(
                workload.host_source, ID, message, SEVERITY, REMEDIATION, cluster=workload.cluster
            )
