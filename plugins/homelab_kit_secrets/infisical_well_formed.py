"""InfisicalSecrets must say where to read from, how to log in, and what to create.

## What it does
Checks that every `InfisicalSecret` sets:

- an allowed authentication method;
- under it, `secretsScope.projectSlug`, `secretsScope.envSlug` and
  `secretsScope.secretsPath`;
- `credentialsRef.secretName` and `credentialsRef.secretNamespace` (the machine
  identity's Secret);
- a managed Secret: `managedSecretReference.secretName` or
  `managedKubeSecretReferences[].secretName`.

Each missing field is one finding, at the mapping that should hold it.  The
InfisicalSecret is read as its cluster applies it: a field a patch sets is not
missing.

With `require-host-api: true` it also asks for `spec.hostAPI` (the Infisical
instance): the guide's conventions always write it.  Without it the operator reads
from Infisical Cloud (`https://app.infisical.com/api`), which is right for a
repository that uses the cloud, so it is not required by default.

## Options
- `auth-methods` (default `[universalAuth]`): the `spec.authentication` methods allowed.
- `require-host-api` (default `false`): require `spec.hostAPI` as well.

## Why is this bad?
The operator cannot sync an incomplete InfisicalSecret: the managed Secret is
never created and every app reading it fails to start, with the error only in the
operator's logs.  Where the repository's Infisical is self-hosted, an implicit
`hostAPI` silently points at Infisical Cloud (US) instead.

## Example
```yaml
apiVersion: secrets.infisical.com/v1alpha1
kind: InfisicalSecret
metadata:
  name: sonarr-secrets
spec:
  authentication:
    universalAuth:
      secretsScope:
        projectSlug: homelab
        secretsPath: /sonarr
  managedSecretReference:
    secretName: sonarr-secret
```

## Use instead
```yaml
spec:
  hostAPI: https://app.infisical.com/api
  authentication:
    universalAuth:
      secretsScope:
        projectSlug: homelab
        envSlug: prod
        secretsPath: /sonarr
      credentialsRef:
        secretName: universal-auth-credentials
        secretNamespace: infisical-system
  managedSecretReference:
    secretName: sonarr-secret
    secretType: Opaque
```
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, InfisicalSecret, Location, Repo, Severity
from homelab_kit.model.secret_index import Outcome, per_cluster
from homelab_kit_secrets._common import infisical_secrets

ID = "secrets-infisical-well-formed"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 5  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Add the missing field (see the InfisicalSecret pattern of the conventions)."


@attrs.frozen
class Options:
    """``auth_methods``: the methods allowed; ``require_host_api``: ask for ``spec.hostAPI``."""

    auth_methods: tuple[str, ...] = ("universalAuth",)
    require_host_api: bool = False


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    outcomes: list[Outcome] = []
    for doc, infisical in infisical_secrets(repo):
        problems = list(_problems(infisical, options))
        outcomes.extend((where, doc.cluster, message) for where, message in problems)
        if not problems:
            outcomes.append((doc.location(), doc.cluster, None))
    for source, message, cluster in per_cluster(outcomes):
        yield Diagnostic(source, ID, message, SEVERITY, REMEDIATION, cluster=cluster)


def _problems(s: InfisicalSecret, options: Options) -> Iterator[tuple[Location, str]]:
    doc = s.doc
    name = f"InfisicalSecret {s.name}"
    if options.require_host_api and not s.host_api:
        yield doc.location("spec"), f"{name} sets no spec.hostAPI"
    if s.auth_method is None:
        yield (
            doc.location("spec", "authentication"),
            f"{name} sets no authentication method ({' or '.join(options.auth_methods)})",
        )
    else:
        base = ("spec", "authentication", s.auth_method)
        if s.auth_method not in options.auth_methods:
            yield (
                doc.key_location(*base),
                f"{name} authenticates with {s.auth_method}, not "
                f"{' or '.join(options.auth_methods)}",
            )
        for key, value in (
            ("projectSlug", s.project_slug),
            ("envSlug", s.env_slug),
            ("secretsPath", s.secrets_path),
        ):
            if not value:
                yield doc.location(*base, "secretsScope"), f"{name} sets no secretsScope.{key}"
        for key, value in (
            ("secretName", s.credentials_secret),
            ("secretNamespace", s.credentials_namespace),
        ):
            if not value:
                yield doc.location(*base, "credentialsRef"), f"{name} sets no credentialsRef.{key}"
    if not s.managed_secrets:
        yield (
            doc.location("spec"),
            f"{name} creates no Secret (managedSecretReference or managedKubeSecretReferences)",
        )
    for managed in s.managed_secrets:
        if not managed.name:
            yield managed.source, f"{name} has a managed Secret reference without secretName"
