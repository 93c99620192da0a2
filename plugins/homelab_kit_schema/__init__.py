"""Strict schema validation of every Kubernetes object and kustomization.yaml.

``schema-invalid`` reports violations; ``schema-invalid-bundled`` those found with a
bundled CRD schema (a warning); ``schema-missing`` kinds without a schema, at
the severity the ``missing-schema`` setting chooses.  The engine gives each finding
its check's registered severity, so the setting is read in
``homelab_kit_configure`` (called before checks are registered) and applied to
``schema-missing`` at registration.
"""

from __future__ import annotations

from typing import Any

import attrs

from homelab_kit import Check, Config, hookimpl
from homelab_kit_schema import schema_invalid, schema_invalid_bundled, schema_missing

_settings: dict[str, str] = {"missing-schema": "warning"}


@hookimpl
def homelab_kit_configure(config: Config) -> None:
    _settings["missing-schema"] = config.missing_schema


@hookimpl
def homelab_kit_register_checks() -> list[Any]:
    missing = Check.from_module(schema_missing)
    severity = schema_missing.severity_for(_settings["missing-schema"])
    return [schema_invalid, schema_invalid_bundled, attrs.evolve(missing, severity=severity)]
