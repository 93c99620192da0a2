"""Talos clusters have enough control-plane nodes to survive losing one.

## What it does
Reports a `talconfig.yaml` with an odd number of control-plane nodes below
`minimum` (default 3): in practice, a single control-plane node. Even counts
are `talos-control-plane-quorum`'s.

This is a warning: a one-node cluster is a legitimate homelab choice; switch the
check off (`ignore: [talos-control-plane-ha]`) or set `minimum: 1` if yours is
one on purpose.

## Options
- `minimum` (default `3`): the fewest control-plane nodes that count as highly available.

## Why is this bad?
With one control-plane node, its reboot (every Talos or Kubernetes upgrade) takes
the API server and etcd down: Flux stops reconciling and nothing can be
scheduled until it is back. Losing its disk loses the cluster state.

## Example
```yaml
nodes:
  - hostname: homelab-01
    controlPlane: true
  - hostname: homelab-02
    controlPlane: false
```

## Use instead
```yaml
nodes:
  - hostname: homelab-01
    controlPlane: true
  - hostname: homelab-02
    controlPlane: true
  - hostname: homelab-03
    controlPlane: true
```
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, Repo, Severity

ID = "talos-control-plane-ha"
SCOPE = ("talos",)  # what it reads
SEVERITY = Severity.WARNING
CATEGORY = "convention"
REMEDIATION = "Run three control-plane nodes so one can fail or reboot."


@attrs.frozen
class Options:
    minimum: int = 3


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    talos = repo.talos
    if talos is None or not talos.nodes:
        return
    count = sum(1 for node in talos.nodes if node.control_plane)
    if count % 2 == 0 or count >= options.minimum:
        return
    plural = "node" if count == 1 else "nodes"
    message = (
        f"talconfig.yaml has {count} control-plane {plural}, fewer than {options.minimum}; "
        "losing one stops the API server"
    )
    yield Diagnostic(talos.doc.location("nodes"), ID, message, SEVERITY, REMEDIATION)
