"""Containers must not run privileged.

## What it does
Reports every container (raw manifests and bjw-s app-template values) with
`securityContext.privileged: true`, outside `exempt-namespaces` (default
`kube-system`) and `exempt-workloads` (globs on `namespace/name` or the name).

Workloads are read as each cluster applies them (patches, components, `${VAR}`s,
values merged over `valuesFrom` ConfigMaps), each finding at the line to edit,
naming the cluster when only some of several have it; files no cluster deploys are
not checked (see `workload-image-tag` for the details).

## Options
- `exempt-namespaces` (default `[kube-system]`): namespaces whose workloads are skipped.
- `exempt-workloads` (default `[]`): globs on `namespace/name` or `name` of workloads
  to skip (app-template controllers are named `release/controller`).

## Why is this bad?
A privileged container has every capability and every device of the node: it is
root on the host in all but name. CNI plugins, storage drivers and device
plugins need it; an app almost never does, and each one that has it widens what
a single compromised image can do.

## Example
```yaml
containers:
  app:
    securityContext:
      privileged: true
```

## Use instead
```yaml
containers:
  app:
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop: [ALL]
        add: [NET_ADMIN]   # only what the app needs
```
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_workloads._common import (
    DEFAULT_EXEMPT_NAMESPACES,
    container_name,
    containers,
    once_per_cluster,
)

ID = "workload-privileged"
SEVERITY = Severity.ERROR
CATEGORY = "security"
LIVE = True
REMEDIATION = "Remove privileged: true and add only the capabilities the app needs."


@attrs.frozen
class Options:
    exempt_namespaces: tuple[str, ...] = DEFAULT_EXEMPT_NAMESPACES
    exempt_workloads: tuple[str, ...] = ()


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    return once_per_cluster(repo, _findings(repo, options))


def _findings(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    pairs = containers(repo, options.exempt_namespaces, options.exempt_workloads)
    for workload, container in pairs:
        if container.security.privileged is True:
            message = f"{container_name(workload, container)} runs privileged"
            yield Diagnostic(
                container.security_location("privileged"),
                ID,
                message,
                SEVERITY,
                REMEDIATION,
                cluster=workload.cluster,
            )
