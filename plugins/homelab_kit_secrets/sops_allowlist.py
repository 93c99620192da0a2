"""SOPS files may only live where bootstrap needs them.

## What it does
Reports every SOPS file (a file with SOPS metadata, or named `*.sops.yaml`)
whose path matches none of the repository's `sops-allowlist` patterns.  The
default allowlist holds the bootstrap secrets of the conventions:
`kubernetes/components/common/sops/*.sops.yaml`, `kubernetes/flux/**/*.sops.yaml`,
`talos/*.sops.yaml` and `bootstrap/**`.  Configure it in `.homelab-kit.yaml`:

```yaml
sops-allowlist:
  - bootstrap/**
  - talos/*.sops.yaml
```

## Why is this bad?
Secrets belong in Infisical: SOPS is only for what must exist before the
Infisical operator runs (Flux's age key, Talos secrets, the Infisical machine
identity).  Every new SOPS file is a secret that is rotated by hand, copied
between machines with the age key, and invisible to Infisical's audit log.

## Example
```yaml
# kubernetes/apps/media/sonarr/app/secret.sops.yaml
apiVersion: v1
kind: Secret
metadata:
  name: sonarr-secret
stringData:
  API_KEY: ENC[AES256_GCM,data:...,type:str]
sops:
  ...
```

## Use instead
```yaml
# kubernetes/apps/media/secrets/sonarr-secrets.yaml
apiVersion: secrets.infisical.com/v1alpha1
kind: InfisicalSecret
metadata:
  name: sonarr-secrets
spec:
  ...
  managedSecretReference:
    secretName: sonarr-secret
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.config import path_matches

ID = "secrets-sops-allowlist"
SCOPE = ("sops_files",)  # what it reads
SEVERITY = Severity.ERROR
CATEGORY = "convention"
REMEDIATION = "Move the secret to Infisical (an InfisicalSecret), or allowlist this bootstrap path."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    allowlist = repo.settings.sops_allowlist
    for sops in repo.sops_files:
        if any(path_matches(sops.path, pattern) for pattern in allowlist):
            continue
        yield Diagnostic(
            sops.source,
            ID,
            f"SOPS file {sops.path} is outside the bootstrap allowlist",
            SEVERITY,
            REMEDIATION,
        )
