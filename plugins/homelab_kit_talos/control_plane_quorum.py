"""Talos clusters have an odd number of control-plane nodes.

## What it does
Reports a `talconfig.yaml` whose nodes include an even number of control-plane
nodes (`controlPlane: true`), or none at all.

## Why is this bad?
Each control-plane node runs an etcd member, and etcd needs a majority to write.
Two members tolerate no failure (the same as one, with twice the chance of
one failing); four tolerate one (the same as three). An even count adds
hardware without adding fault tolerance, and a cluster without a control-plane
node cannot bootstrap.

## Example
```yaml
nodes:
  - hostname: homelab-01
    controlPlane: true
  - hostname: homelab-02
    controlPlane: true
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

from homelab_kit import Diagnostic, Repo, Severity

ID = "talos-control-plane-quorum"
SCOPE = ("talos",)  # what it reads
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
REMEDIATION = "Run 1, 3 or 5 control-plane nodes (make one a worker, or add one)."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    talos = repo.talos
    if talos is None or not talos.nodes:
        return
    count = sum(1 for node in talos.nodes if node.control_plane)
    if count % 2:
        return
    where = talos.doc.location("nodes")
    if count == 0:
        message = "talconfig.yaml has no control-plane node (controlPlane: true)"
    else:
        message = (
            f"talconfig.yaml has {count} control-plane nodes; etcd needs an odd number "
            "for its quorum"
        )
    yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION)
