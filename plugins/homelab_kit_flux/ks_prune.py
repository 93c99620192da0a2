"""Flux Kustomizations must prune what they no longer declare.

## What it does
Checks that every Flux `Kustomization` sets `spec.prune: true`.

## Why is this bad?
Without pruning, deleting a manifest from Git leaves the object running in the
cluster: Git stops being the source of truth, and removed apps, secrets and
permissions linger unnoticed.

## Example
```yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: echo
spec:
  interval: 1h
  path: ./kubernetes/apps/default/echo/app
  prune: false
```

## Use instead
```yaml
spec:
  interval: 1h
  path: ./kubernetes/apps/default/echo/app
  prune: true
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity

ID = "flux-ks-prune"
SEVERITY = Severity.ERROR
REMEDIATION = "Set spec.prune: true."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for ks in repo.kustomizations:
        if ks.prune is True:
            continue
        if ks.prune is None:
            where = ks.doc.location("spec")
            message = f"Kustomization {ks.name} does not set spec.prune"
        else:
            where = ks.doc.location("spec", "prune")
            message = f"Kustomization {ks.name} sets spec.prune: {ks.doc.get('spec', 'prune')}"
        yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION)
