"""InfisicalSecrets must read only their app's folder, never the project root.

## What it does
Reports every `InfisicalSecret` whose `secretsScope.secretsPath` is the project
root (`/`), with or without `recursive: true`, as its cluster applies it (after
patches and Flux substitution).  The conventions scope each
InfisicalSecret to one app's folder (`secretsPath: /sonarr`).

## Why is this bad?
Reading from `/` copies every secret of the environment, of every app, into the
namespace's Secret: anything that can read that Secret (the app, a compromised
pod, a too-broad RBAC rule) gets all of them.  App-scoped paths are the
principle of least privilege the secrets architecture is built on.

## Example
```yaml
spec:
  authentication:
    universalAuth:
      secretsScope:
        projectSlug: homelab
        envSlug: prod
        secretsPath: /
        recursive: true
```

## Use instead
```yaml
spec:
  authentication:
    universalAuth:
      secretsScope:
        projectSlug: homelab
        envSlug: prod
        secretsPath: /sonarr
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.secret_index import Pending, per_cluster_at
from homelab_kit_secrets._common import infisical_secrets

ID = "secrets-infisical-scope"
SEVERITY = Severity.ERROR
CATEGORY = "convention"
LIVE = True
REMEDIATION = "Set secretsScope.secretsPath to the app's own folder (for example /sonarr)."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    outcomes: list[Pending] = []
    for doc, infisical in infisical_secrets(repo):
        path = infisical.secrets_path
        base = ("spec", "authentication", infisical.auth_method or "")
        where = (*base, "secretsScope", "secretsPath")
        if path is None or path.strip().strip("/"):
            outcomes.append((doc, where, doc.cluster, None))
            continue
        recursive = " recursively" if infisical.recursive else ""
        message = (
            f"InfisicalSecret {infisical.name} reads{recursive} from the project root "
            f"({path!r}), not its app's folder"
        )
        outcomes.append((doc, where, doc.cluster, message))
    for source, message, cluster in per_cluster_at(outcomes):
        yield Diagnostic(source, ID, message, SEVERITY, REMEDIATION, cluster=cluster)
