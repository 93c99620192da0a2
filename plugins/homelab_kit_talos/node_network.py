"""Talos node addresses lie inside the node network.

## What it does
Checks that every node's `ipAddress`, and every virtual IP (`vip.ip`) its
interfaces share, lies inside the node network.

The node network is the `node-cidrs` option when set. Otherwise it is derived
from talconfig.yaml itself: the subnets of the static addresses the nodes'
`networkInterfaces` declare (`192.168.121.11/24` gives `192.168.121.0/24`).
With neither (every node on DHCP, no option) there is nothing to check against.
Host names and addresses built from unresolved `${variables}` are skipped.

## Options
- `node-cidrs` (default `[]`: derived from the interfaces): the node networks, such as
  `[192.168.121.0/24]`.

## Why is this bad?
A node address outside the network its peers are on is a typo (`192.168.12.14`
for `192.168.121.14`): talhelper renders the config happily, and the node is
unreachable or joins with an address etcd peers cannot route to. A VIP outside
the interface's subnet is never answered, so the API endpoint is down.

## Example
```yaml
nodes:
  - hostname: homelab-02
    ipAddress: 192.168.12.12
    networkInterfaces:
      - addresses: [192.168.121.12/24]
```

## Use instead
```yaml
nodes:
  - hostname: homelab-02
    ipAddress: 192.168.121.12
    networkInterfaces:
      - addresses: [192.168.121.12/24]
```
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from homelab_kit import ConfigError, Diagnostic, Repo, Severity
from homelab_kit.model.talos import TalosConfig

ID = "talos-node-network"
SCOPE = ("talos",)  # what it reads
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
REMEDIATION = "Fix the address, or list the node network in the node-cidrs option."

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _valid_cidrs(instance: Any, attribute: Any, value: tuple[str, ...]) -> None:
    for text in value:
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ConfigError(f"option node-cidrs of {ID}: {text!r} is not a CIDR") from None


@attrs.frozen
class Options:
    node_cidrs: tuple[str, ...] = attrs.field(default=(), validator=_valid_cidrs)


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    talos = repo.talos
    if talos is None:
        return
    if options.node_cidrs:
        networks = [ipaddress.ip_network(c, strict=False) for c in options.node_cidrs]
        origin = "node-cidrs"
    else:
        networks = sorted(set(_interface_networks(talos)), key=str)
        origin = "the nodes' interface addresses"
    if not networks:
        return
    shown = ", ".join(str(n) for n in networks)
    indexes = [i for i, n in enumerate(talos.doc.list_at("nodes")) if isinstance(n, Mapping)]
    for node, index in zip(talos.nodes, indexes, strict=False):
        name = node.hostname or f"at line {node.source.line}"
        candidates = [(node.ip_address, node.ip_source, "address")]
        for path, interface in _interfaces(talos, index):
            vip = interface.get("vip")
            if isinstance(vip, Mapping) and isinstance(vip.get("ip"), str):
                candidates.append((vip["ip"], talos.doc.location(*path, "vip", "ip"), "VIP"))
        for text, where, what in candidates:
            address = _address(text)
            if address is None or any(address in n for n in networks):
                continue
            message = f"node {name} {what} {text} is outside the node network {shown} ({origin})"
            yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION)


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text or "$" in text:
        return None
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None  # a DNS name


def _interfaces(
    talos: TalosConfig, index: int
) -> Iterator[tuple[tuple[str | int, ...], Mapping[str, Any]]]:
    """The interfaces (and their VLANs) of node ``index``, with their paths."""
    base: tuple[str | int, ...] = ("nodes", index, "networkInterfaces")
    for j, interface in enumerate(talos.doc.list_at(*base)):
        if not isinstance(interface, Mapping):
            continue
        yield (*base, j), interface
        for k, vlan in enumerate(interface.get("vlans") or ()):
            if isinstance(vlan, Mapping):
                yield (*base, j, "vlans", k), vlan


def _interface_networks(talos: TalosConfig) -> Iterator[Network]:
    for index in range(len(talos.doc.list_at("nodes"))):
        for _, interface in _interfaces(talos, index):
            for text in interface.get("addresses") or ():
                if not isinstance(text, str) or "/" not in text or "$" in text:
                    continue
                try:
                    network = ipaddress.ip_interface(text.strip()).network
                except ValueError:
                    continue
                if network.num_addresses > 1:
                    yield network
