"""Workload checks: image pinning, resources, probes and security context.

They read raw manifests and the bjw-s app-template ``controllers`` shape of Helm
values alike (``Repo.workloads``), and images named anywhere in chart values.
"""

from __future__ import annotations

from typing import Any

from homelab_kit import hookimpl
from homelab_kit_workloads import (
    host_access,
    image_tag,
    non_root,
    privilege_escalation,
    privileged,
    probes,
    read_only_root_fs,
    resources,
)


@hookimpl
def homelab_kit_register_checks() -> list[Any]:
    return [
        image_tag,
        resources,
        probes,
        non_root,
        privileged,
        privilege_escalation,
        host_access,
        read_only_root_fs,
    ]
