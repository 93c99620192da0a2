"""Containers should run as a non-root user.

## What it does
Checks that every container of raw manifests and bjw-s app-template values runs
as non-root: `runAsNonRoot: true`, or a `runAsUser` other than 0, set on the
container or inherited from the pod (app-template: `defaultPodOptions` or the
controller's `pod`).

Init containers that explicitly ask for `runAsUser: 0` are skipped: fixing
ownership of a volume before the app starts is what they are for.  A pod with
`hostUsers: false` (a user namespace: root in the container is an unprivileged
user on the node; app-template `defaultPodOptions` or the controller's `pod`)
is skipped too.  An init container with `restartPolicy: Always` is a sidecar
and judged as a container. Namespaces in
`exempt-namespaces` (default `kube-system`) and workloads matching
`exempt-workloads` (globs on `namespace/name` or the name; app-template
controllers are named `release/controller`) are skipped too.

Workloads are read as each cluster applies them (patches, components, `${VAR}`s,
values merged over `valuesFrom` ConfigMaps), each finding at the line to edit,
naming the cluster when only some of several have it; files no cluster deploys are
not checked (see `workload-image-tag` for the details).

## Options
- `exempt-namespaces` (default `[kube-system]`): namespaces whose workloads are skipped.
- `exempt-workloads` (default `[]`): globs on `namespace/name` or `name` of workloads
  to skip (app-template controllers are named `release/controller`).

## Why is this bad?
A process running as root inside a container is one kernel bug or one writable
`hostPath` away from root on the node. Most homelab images (home-operations,
bjw-s, onedr0p) run fine as an unprivileged user; linuxserver.io images start
as root and drop privileges, which the cluster cannot enforce.

## Example
```yaml
controllers:
  sonarr:
    containers:
      app:
        image:
          repository: ghcr.io/home-operations/sonarr
          tag: 4.0.15
```

## Use instead
```yaml
defaultPodOptions:
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
    runAsGroup: 1000
    fsGroup: 1000
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

ID = "workload-non-root"
SEVERITY = Severity.WARNING
CATEGORY = "security"
LIVE = True
REMEDIATION = "Set securityContext.runAsNonRoot: true and a non-zero runAsUser."


@attrs.frozen
class Options:
    exempt_namespaces: tuple[str, ...] = DEFAULT_EXEMPT_NAMESPACES
    exempt_workloads: tuple[str, ...] = ()


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    return once_per_cluster(repo, _findings(repo, options))


def _findings(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    pairs = containers(repo, options.exempt_namespaces, options.exempt_workloads)
    for workload, container in pairs:
        security = container.security
        if security.non_root or workload.host.host_users is False:
            continue  # hostUsers: false maps root to an unprivileged user on the node
        if container.init and security.run_as_user == 0:
            continue
        if security.run_as_user == 0 or security.run_as_non_root is False:
            problem = "runs as root"
        else:
            problem = "does not set runAsNonRoot or a non-root runAsUser"
        message = f"{container_name(workload, container)} {problem}"
        where = container.security_location("runAsNonRoot")
        yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION, cluster=workload.cluster)
