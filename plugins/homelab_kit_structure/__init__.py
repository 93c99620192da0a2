"""Repository structure checks: app folders, kustomizations and values files."""

from __future__ import annotations

from typing import Any

from homelab_kit import hookimpl
from homelab_kit_structure import (
    app_kustomization,
    app_layout,
    app_unreachable,
    helmrelease_file,
    kustomize_missing,
    kustomize_outside,
    kustomize_remote,
    values_file,
    values_name_reference,
)


@hookimpl
def homelab_kit_register_checks() -> list[Any]:
    return [
        app_kustomization,
        app_layout,
        app_unreachable,
        helmrelease_file,
        kustomize_missing,
        kustomize_outside,
        kustomize_remote,
        values_file,
        values_name_reference,
    ]
