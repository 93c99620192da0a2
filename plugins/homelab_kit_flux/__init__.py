"""Flux wiring checks: Kustomizations (ks.yaml), their sources and dependencies."""

from __future__ import annotations

from typing import Any

from homelab_kit import hookimpl
from homelab_kit_flux import (
    ks_dependency_cycle,
    ks_dependency_wait,
    ks_depends_on,
    ks_interval,
    ks_path,
    ks_prune,
    ks_secrets_dependency,
    ks_source,
    ks_substitute_deadlock,
    ks_substitute_from,
    ks_substitute_undefined,
    ks_wait,
)


@hookimpl
def homelab_kit_register_checks() -> list[Any]:
    return [
        ks_dependency_cycle,
        ks_dependency_wait,
        ks_depends_on,
        ks_interval,
        ks_path,
        ks_prune,
        ks_secrets_dependency,
        ks_source,
        ks_substitute_deadlock,
        ks_substitute_from,
        ks_substitute_undefined,
        ks_wait,
    ]
