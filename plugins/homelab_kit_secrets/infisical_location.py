"""InfisicalSecrets must live in their namespace's secrets/ folder.

## What it does
Reports every `InfisicalSecret` written outside a namespace's `secrets/` folder
(`kubernetes/apps/<namespace>/secrets/`, deployed by its own Flux Kustomization
that the apps depend on).

## Options
- `allowed` (default none): glob patterns of other paths where InfisicalSecrets
  may live, for repositories that keep them next to each app or in shared
  kustomize components with `${APP}` substitution, such as
  `["kubernetes/components/**", "kubernetes/apps/*/*/app/*"]`.

## Why is this bad?
The namespace's secrets Kustomization is reconciled before its apps, so every
Secret exists when an app first starts; InfisicalSecrets scattered through app
folders are created in the same reconcile as the pods that need them, and are
harder to audit in one place.

## Example
```yaml
# kubernetes/apps/media/sonarr/app/infisicalsecret.yaml
apiVersion: secrets.infisical.com/v1alpha1
kind: InfisicalSecret
metadata:
  name: sonarr-secrets
```

## Use instead
```yaml
# kubernetes/apps/media/secrets/sonarr-secrets.yaml
apiVersion: secrets.infisical.com/v1alpha1
kind: InfisicalSecret
metadata:
  name: sonarr-secrets
```
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.config import path_matches

ID = "secrets-infisical-location"
SEVERITY = Severity.WARNING
CATEGORY = "convention"
LIVE = True
REMEDIATION = "Move the InfisicalSecret into the namespace's secrets/ folder."


@attrs.frozen
class Options:
    """``allowed``: extra path globs where InfisicalSecrets may live."""

    allowed: tuple[str, ...] = ()


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    folders = {ns.secrets_directory for ns in repo.namespaces}
    folders.update(f"{repo.apps_root}/{ns.name}/secrets" for ns in repo.namespaces)
    for infisical in repo.infisical_secrets:
        path = infisical.doc.path
        if _under(path, folders):
            continue
        if any(path_matches(path, pattern) for pattern in options.allowed):
            continue
        yield Diagnostic(
            infisical.doc.location(),
            ID,
            f"InfisicalSecret {infisical.name} is outside its namespace's secrets/ folder",
            SEVERITY,
            REMEDIATION,
        )


def _under(path: str, folders: set[str]) -> bool:
    """Whether ``path`` lies below one of ``folders``: its parent folders looked up."""
    slash = path.rfind("/")
    while slash > 0:
        if path[:slash] in folders:
            return True
        slash = path.rfind("/", 0, slash)
    return False
