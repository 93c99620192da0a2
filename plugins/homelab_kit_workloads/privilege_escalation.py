"""Containers must not allow privilege escalation.

## What it does
Reports every container (raw manifests and bjw-s app-template values) that sets
`securityContext.allowPrivilegeEscalation: true`. With
`require-explicit-false: true` it also reports containers that leave the field
unset (Kubernetes then allows escalation), as Polaris does.

Privileged containers are reported by `workload-privileged` instead (privilege
implies escalation). `exempt-namespaces` (default `kube-system`) and
`exempt-workloads` skip workloads as in the other security checks.

Workloads are read as each cluster applies them (patches, components, `${VAR}`s,
values merged over `valuesFrom` ConfigMaps), each finding at the line to edit,
naming the cluster when only some of several have it; files no cluster deploys are
not checked (see `workload-image-tag` for the details).

## Options
- `require-explicit-false` (default `false`): also report containers that leave the
  field unset.
- `exempt-namespaces` (default `[kube-system]`): namespaces whose workloads are skipped.
- `exempt-workloads` (default `[]`): globs on `namespace/name` or `name` of workloads
  to skip (app-template controllers are named `release/controller`).

## Why is this bad?
Allowing escalation lets a process gain more privileges than its parent through
setuid binaries or file capabilities, undoing `runAsNonRoot` and dropped
capabilities.

## Example
```yaml
securityContext:
  allowPrivilegeEscalation: true
```

## Use instead
```yaml
securityContext:
  allowPrivilegeEscalation: false
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

ID = "workload-privilege-escalation"
SEVERITY = Severity.WARNING
CATEGORY = "security"
LIVE = True
REMEDIATION = "Set securityContext.allowPrivilegeEscalation: false."


@attrs.frozen
class Options:
    require_explicit_false: bool = False
    exempt_namespaces: tuple[str, ...] = DEFAULT_EXEMPT_NAMESPACES
    exempt_workloads: tuple[str, ...] = ()


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    return once_per_cluster(repo, _findings(repo, options))


def _findings(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    pairs = containers(repo, options.exempt_namespaces, options.exempt_workloads)
    for workload, container in pairs:
        security = container.security
        if security.privileged is True or security.allow_privilege_escalation is False:
            continue
        if security.allow_privilege_escalation is True:
            problem = "sets allowPrivilegeEscalation: true"
        elif options.require_explicit_false:
            problem = "does not set allowPrivilegeEscalation: false"
        else:
            continue
        message = f"{container_name(workload, container)} {problem}"
        where = container.security_location("allowPrivilegeEscalation")
        yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION, cluster=workload.cluster)
