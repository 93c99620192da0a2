"""Files named `*.sops.yaml` must be encrypted.

## What it does
Reports every file whose name says it is SOPS-encrypted (`*.sops.yaml`,
`*.sops.yml`) but that carries no SOPS metadata: it was never encrypted, or was
decrypted in place and committed.

## Why is this bad?
The name promises ciphertext, so reviewers and tools trust it; a plaintext file
under that name is a secret committed in the clear, and stays in Git history
even after it is encrypted later.

## Example
```yaml
# talos/talsecret.sops.yaml, without a sops: block
cluster:
  id: ...
  secret: ...
```

## Use instead
```yaml
# sops --encrypt --in-place talos/talsecret.sops.yaml
cluster:
  id: ENC[AES256_GCM,data:...,type:str]
sops:
  age: ...
  mac: ENC[...]
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity

ID = "secrets-sops-encrypted"
SCOPE = ("sops_files",)  # what it reads
SEVERITY = Severity.ERROR
CATEGORY = "security"
REMEDIATION = "Encrypt the file with sops (and rotate what was committed in the clear)."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for sops in repo.sops_files:
        if sops.named_sops and not sops.encrypted:
            yield Diagnostic(
                sops.source,
                ID,
                f"{sops.path} is named as a SOPS file but holds no SOPS metadata (not encrypted)",
                SEVERITY,
                REMEDIATION,
            )
