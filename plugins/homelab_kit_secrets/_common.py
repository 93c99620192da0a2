"""What the Infisical checks share: the InfisicalSecrets the clusters apply, read once."""

from __future__ import annotations

from homelab_kit import Repo
from homelab_kit.model.applied import AppliedDocument
from homelab_kit.model.secret_index import applied_infisical_secrets
from homelab_kit.model.secrets import InfisicalSecret


def infisical_secrets(repo: Repo) -> tuple[tuple[AppliedDocument, InfisicalSecret], ...]:
    """:func:`~homelab_kit.model.secret_index.applied_infisical_secrets`: computed once
    per repository for every check that reads them, and for the model's indexes of
    who creates and who reads a Secret (shared: read-only)."""
    return applied_infisical_secrets(repo)
