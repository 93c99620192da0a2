"""Flux Kustomizations must prune what they no longer declare.

## What it does
Checks that every Flux `Kustomization` sets `spec.prune: true`, in its own manifest
or through a patch of the Flux Kustomization that deploys it.

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
from homelab_kit.diagnostic import Edit, Fix
from homelab_kit_flux._common import injected_spec, yaml_scalar

ID = "flux-ks-prune"
SEVERITY = Severity.ERROR
REMEDIATION = "Set spec.prune: true."
FIXABLE = True


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for ks in repo.kustomizations:
        injected = injected_spec(repo, ks)
        prune = injected.get("prune", ks.prune)
        if prune is True:
            continue
        if ks.doc.get("spec", "prune") is None:
            where = ks.doc.location("spec")
            message = f"Kustomization {ks.name} does not set spec.prune"
        else:
            where = ks.doc.location("spec", "prune")
            written = yaml_scalar(ks.doc.get("spec", "prune"))
            message = f"Kustomization {ks.name} sets spec.prune: {written}"
        fix = Fix(
            "set spec.prune: true", (Edit(ks.doc.path, ks.doc.index, ("spec", "prune"), True),)
        )
        yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION, fix=fix)
