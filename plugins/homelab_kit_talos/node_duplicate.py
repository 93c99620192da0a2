"""Talos nodes have unique hostnames and addresses.

## What it does
Reports a node of `talconfig.yaml` whose `hostname` or `ipAddress` (after
`${variable}` substitution) repeats an earlier node's.

## Why is this bad?
talhelper writes one machine config per node, named after the hostname: a
duplicate overwrites another node's config. Two nodes with one address means
`talosctl apply-config` configures the wrong machine, and etcd members clash.
It is almost always a copy-pasted node entry not fully edited.

## Example
```yaml
nodes:
  - hostname: homelab-01
    ipAddress: 192.168.121.11
  - hostname: homelab-01
    ipAddress: 192.168.121.11
```

## Use instead
```yaml
nodes:
  - hostname: homelab-01
    ipAddress: 192.168.121.11
  - hostname: homelab-02
    ipAddress: 192.168.121.12
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Location, Repo, Severity

ID = "talos-node-duplicate"
SCOPE = ("talos",)  # what it reads
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
REMEDIATION = "Give every node its own hostname and ipAddress."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    talos = repo.talos
    if talos is None:
        return
    hostnames: dict[str, Location] = {}
    addresses: dict[str, Location] = {}
    for node in talos.nodes:
        for field, value, where, seen in (
            ("hostname", node.hostname, node.hostname_source, hostnames),
            ("ipAddress", node.ip_address, node.ip_source, addresses),
        ):
            if not value:
                continue
            first = seen.get(value)
            if first is None:
                seen[value] = where
                continue
            message = f"node {field} {value} is already used by the node at line {first.line}"
            yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION)
