"""Talos: talconfig.yaml (talhelper) with ${var} substitution from talenv.yaml."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from homelab_kit.location import Location
from homelab_kit.model.base import DocumentRef, doc_field, source_field

_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def expand(text: str, variables: Mapping[str, str]) -> tuple[str, frozenset[str]]:
    """Replace ``${var}``/``$var`` from ``variables``; the names left unresolved."""
    missing: set[str] = set()

    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in variables:
            return variables[name]
        missing.add(name)
        return match.group(0)

    return _VAR_RE.sub(repl, text), frozenset(missing)


@attrs.frozen
class TalosNode:
    """A node of talconfig.yaml."""

    hostname: str | None
    ip_address: str | None
    control_plane: bool
    install_disk: str | None
    source: Location = source_field()
    hostname_source: Location = source_field()
    ip_source: Location = source_field()


@attrs.frozen
class TalosConfig:
    """talconfig.yaml as talhelper reads it, after talenv.yaml substitution.

    ``talos_version`` and ``kubernetes_version`` are the substituted values;
    ``*_written`` keep what the file says (``${talosVersion}``, say).
    """

    cluster_name: str | None
    endpoint: str | None
    talos_version: str | None
    kubernetes_version: str | None
    talos_version_written: str | None
    kubernetes_version_written: str | None
    pod_networks: tuple[str, ...]
    service_networks: tuple[str, ...]
    nodes: tuple[TalosNode, ...]
    patches: tuple[str, ...]
    variables: Mapping[str, str] = attrs.field(repr=False)
    env_path: str | None
    unresolved: frozenset[str]
    source: Location = source_field()
    doc: DocumentRef = doc_field()

    @classmethod
    def from_doc(
        cls, doc: DocumentRef, env: Mapping[str, Any] | None = None, env_path: str | None = None
    ) -> TalosConfig:
        variables = {
            str(k): str(v)
            for k, v in (env or {}).items()
            if isinstance(v, str | int | float) and not isinstance(v, bool)
        }
        unresolved: set[str] = set()

        def sub(value: str | None) -> str | None:
            if value is None:
                return None
            out, missing = expand(value, variables)
            unresolved.update(missing)
            return out

        nodes = []
        for i, node in enumerate(doc.list_at("nodes")):
            if not isinstance(node, Mapping):
                continue
            hostname = node.get("hostname")
            ip = node.get("ipAddress")
            disk = node.get("installDisk")
            nodes.append(
                TalosNode(
                    hostname=sub(str(hostname)) if isinstance(hostname, str) else None,
                    ip_address=sub(str(ip)) if isinstance(ip, str) else None,
                    control_plane=node.get("controlPlane") is True,
                    install_disk=str(disk) if isinstance(disk, str) else None,
                    source=doc.location("nodes", i),
                    hostname_source=doc.location("nodes", i, "hostname"),
                    ip_source=doc.location("nodes", i, "ipAddress"),
                )
            )
        patches = [str(p) for p in doc.list_at("patches") if isinstance(p, str)]
        for section in ("controlPlane", "worker"):
            patches += [str(p) for p in doc.list_at(section, "patches") if isinstance(p, str)]
        talos_written = doc.str_at("talosVersion")
        k8s_written = doc.str_at("kubernetesVersion")
        return cls(
            cluster_name=sub(doc.str_at("clusterName")),
            endpoint=sub(doc.str_at("endpoint")),
            talos_version=sub(talos_written),
            kubernetes_version=sub(k8s_written),
            talos_version_written=talos_written,
            kubernetes_version_written=k8s_written,
            pod_networks=tuple(str(n) for n in doc.list_at("clusterPodNets")),
            service_networks=tuple(str(n) for n in doc.list_at("clusterSvcNets")),
            nodes=tuple(nodes),
            patches=tuple(patches),
            variables=variables,
            env_path=env_path,
            unresolved=frozenset(unresolved),
            source=doc.location(),
            doc=doc,
        )
