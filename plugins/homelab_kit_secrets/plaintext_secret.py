"""Secrets must not be committed with plaintext values.

## What it does
Reports every `v1` Secret manifest whose `data` or `stringData` holds a value
that is neither SOPS-encrypted (`ENC[...]`), empty, nor a placeholder filled in
later.  The message names the Secret and its keys, never a value.

## Options
- `placeholders` (default: a Flux `${VAR}` substitution, a 1Password `op://`
  reference, a `{{ ... }}` template, a `ref+` (vals) reference): regular
  expressions of values that are filled in at apply or bootstrap time.

## Why is this bad?
Anything committed is readable by everyone with access to the repository and
stays in its history forever; a leaked credential must be rotated, not just
deleted.

## Example
```yaml
apiVersion: v1
kind: Secret
metadata:
  name: sonarr-secret
stringData:
  API_KEY: 0123456789abcdef
```

## Use instead
```yaml
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

import re
from collections.abc import Iterator
from typing import Any

import attrs

from homelab_kit import Diagnostic, Repo, Severity

ID = "secrets-plaintext-secret"
SCOPE = ("secrets",)  # what it reads
SEVERITY = Severity.ERROR
CATEGORY = "security"
REMEDIATION = "Produce the Secret with an InfisicalSecret (or encrypt it with SOPS at bootstrap)."


@attrs.frozen
class Options:
    """``placeholders``: regular expressions of values that are not secrets themselves."""

    placeholders: tuple[str, ...] = (
        r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-=][^}]*)?\}",
        r"^op://",
        r"\{\{.*\}\}",
        r"^ref\+",
    )


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    patterns = [re.compile(p) for p in options.placeholders]
    for secret in repo.secrets:
        if not secret.plaintext:
            continue
        keys = [
            (field, key)
            for field in ("data", "stringData")
            for key, value in secret.doc.map_at(field).items()
            if not _placeholder(value, patterns)
        ]
        if not keys:
            continue
        field, first = keys[0]
        names = ", ".join(str(k) for _, k in keys)
        yield Diagnostic(
            secret.doc.location(field, first),
            ID,
            f"Secret {secret.name} holds plaintext values ({names})",
            SEVERITY,
            REMEDIATION,
        )


def _placeholder(value: Any, patterns: list[re.Pattern[str]]) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    text = value.strip()
    return not text or text.startswith("ENC[") or any(p.search(text) for p in patterns)
