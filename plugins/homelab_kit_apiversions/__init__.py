"""API version checks: Kubernetes and Flux apiVersions deprecated or removed (Pluto's ground)."""

from __future__ import annotations

from typing import Any

from homelab_kit import hookimpl
from homelab_kit_apiversions import deprecated, removed


@hookimpl
def homelab_kit_register_checks() -> list[Any]:
    return [removed, deprecated]
