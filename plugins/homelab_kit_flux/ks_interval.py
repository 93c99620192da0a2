"""Flux Kustomizations must say how often they reconcile.

## What it does
Checks that every Flux `Kustomization` sets `spec.interval`, in its own manifest or
through a patch of the Flux Kustomization that deploys it.

## Why is this bad?
`spec.interval` is required: the API server rejects a Kustomization without it, so
the app never deploys, and the Flux Kustomization that applies it fails.

## Example
```yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: echo
spec:
  path: ./kubernetes/apps/default/echo/app
  prune: true
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
from homelab_kit_flux._common import injected_spec

ID = "flux-ks-interval"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
LIVE = True
REMEDIATION = "Set spec.interval (for example 1h)."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for ks in repo.kustomizations:
        if ks.interval or injected_spec(repo, ks).get("interval"):
            continue
        yield Diagnostic(
            ks.doc.location("spec"),
            ID,
            f"Kustomization {ks.name} does not set spec.interval",
            SEVERITY,
            REMEDIATION,
        )
