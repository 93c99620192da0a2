"""Containers should mount their root filesystem read-only.

## What it does
Reports containers (raw manifests and bjw-s app-template values) that do not set
`securityContext.readOnlyRootFilesystem: true`. Init containers are skipped, and
so are `exempt-namespaces` (default `kube-system`) and `exempt-workloads`.

This is a recommendation (severity info): many apps need a writable `/tmp` or
cache folder, which an `emptyDir` mount provides.

Workloads are read as each cluster applies them (patches, components, `${VAR}`s,
values merged over `valuesFrom` ConfigMaps), each finding at the line to edit,
naming the cluster when only some of several have it; files no cluster deploys are
not checked (see `workload-image-tag` for the details).

## Options
- `exempt-namespaces` (default `[kube-system]`): namespaces whose workloads are skipped.
- `exempt-workloads` (default `[]`): globs on `namespace/name` or `name` of workloads
  to skip (app-template controllers are named `release/controller`).

## Why is this bad?
A writable root filesystem lets an attacker who gets code execution drop tools
and persist changes inside the container, and hides state the app writes outside
its volumes (lost on every restart, surprising on every upgrade).

## Example
```yaml
containers:
  app:
    securityContext:
      allowPrivilegeEscalation: false
```

## Use instead
```yaml
containers:
  app:
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
persistence:
  tmp:
    type: emptyDir
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

ID = "workload-read-only-root-fs"
SEVERITY = Severity.INFO
CATEGORY = "security"
LIVE = True
REMEDIATION = "Set securityContext.readOnlyRootFilesystem: true and mount emptyDir where it writes."


@attrs.frozen
class Options:
    exempt_namespaces: tuple[str, ...] = DEFAULT_EXEMPT_NAMESPACES
    exempt_workloads: tuple[str, ...] = ()


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    return once_per_cluster(repo, _findings(repo, options))


def _findings(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    pairs = containers(repo, options.exempt_namespaces, options.exempt_workloads)
    for workload, container in pairs:
        if container.init or container.security.read_only_root_filesystem is True:
            continue
        message = f"{container_name(workload, container)} has a writable root filesystem"
        where = container.security_location("readOnlyRootFilesystem")
        yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION, cluster=workload.cluster)
