"""Helm checks: HelmReleases and the chart sources they install from.

Pinned chart versions, chart sources that resolve and sit next to their release,
intervals, remediation retries (also when a parent Flux Kustomization injects
them through ``spec.patches``) and ``valuesFrom`` that resolve.
"""

from __future__ import annotations

from typing import Any

from homelab_kit import hookimpl
from homelab_kit_helm import (
    chart_source_placement,
    chart_source_resolves,
    chart_source_unused,
    chart_version_pinned,
    interval_set,
    remediation_retries,
    values_from_resolves,
)


@hookimpl
def homelab_kit_register_checks() -> list[Any]:
    return [
        chart_version_pinned,
        chart_source_resolves,
        chart_source_placement,
        chart_source_unused,
        interval_set,
        remediation_retries,
        values_from_resolves,
    ]
