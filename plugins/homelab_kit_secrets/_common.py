"""What the Infisical checks share: the InfisicalSecrets the clusters apply, read once."""

from __future__ import annotations

from homelab_kit import Repo
from homelab_kit.model.applied import AppliedDocument
from homelab_kit.model.secret_index import applied_infisical_secrets
from homelab_kit.model.secrets import InfisicalSecret


def infisical_secrets(repo: Repo) -> tuple[tuple[AppliedDocument, InfisicalSecret], ...]:
    """:func:`~homelab_kit.model.secret_index.applied_infisical_secrets`, computed once
    per repository for every check that reads them (shared: read-only)."""
    return repo.derived(_infisical_secrets)


def _infisical_secrets(repo: Repo) -> tuple[tuple[AppliedDocument, InfisicalSecret], ...]:
    return tuple(applied_infisical_secrets(repo))
