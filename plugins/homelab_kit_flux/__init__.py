"""Flux wiring checks: Kustomizations (ks.yaml), their sources and dependencies."""

from __future__ import annotations

from typing import Any

from homelab_kit import hookimpl
from homelab_kit_flux import ks_prune


@hookimpl
def homelab_kit_register_checks() -> list[Any]:
    return [ks_prune]
