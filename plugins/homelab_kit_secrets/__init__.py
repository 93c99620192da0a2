"""Secrets checks: SOPS only for bootstrap, no plaintext, well-formed Infisical.

Every Secret an app reads must be created by the repository (Infisical, External
Secrets, SOPS, generators, known operators) in the reader's namespace; no
diagnostic ever includes a secret's value.
"""

from __future__ import annotations

from typing import Any

from homelab_kit import hookimpl
from homelab_kit_secrets import (
    consumed_secret_exists,
    infisical_location,
    infisical_scope,
    infisical_unused,
    infisical_well_formed,
    plaintext_secret,
    sops_allowlist,
    sops_encrypted,
)


@hookimpl
def homelab_kit_register_checks() -> list[Any]:
    return [
        sops_allowlist,
        sops_encrypted,
        plaintext_secret,
        infisical_well_formed,
        infisical_scope,
        infisical_location,
        consumed_secret_exists,
        infisical_unused,
    ]
