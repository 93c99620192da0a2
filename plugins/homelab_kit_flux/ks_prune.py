"""Flux Kustomizations must prune what they no longer declare.

## What it does
Checks that every Flux `Kustomization` sets `spec.prune` (Flux requires the field),
in its own manifest or through a patch of the Flux Kustomization that deploys it.
A written `prune: false` is the owner's choice (Flux itself, CRDs, cluster DNS are
often deliberately never pruned) and is reported only with `allow-false: false`,
the guide's convention that every Kustomization prunes.

The fix sets `prune: true` where `spec.prune` is missing (safe: Flux requires
the field). A written `prune: false` is a choice: flipping it is an unsafe fix
(`--unsafe-fixes`), and it is never offered for a Kustomization that deploys
CustomResourceDefinitions (or a HelmRelease managing them): pruning a CRD deletes
every custom resource of its kind.

## Options
- `allow-false` (default `true`): accept a written `prune: false`; set it to `false`
  to require `prune: true` everywhere.

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

import attrs

from homelab_kit import Diagnostic, FluxKustomization, Repo, Severity
from homelab_kit.diagnostic import SAFE, UNSAFE, Edit, Fix
from homelab_kit_flux._common import files_deployed_by, injected_spec, yaml_scalar

ID = "flux-ks-prune"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 25  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Set spec.prune: true."
FIXABLE = True


@attrs.frozen
class Options:
    """``allow_false``: whether a written ``prune: false`` is accepted."""

    allow_false: bool = True


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    for ks in repo.kustomizations:
        injected = injected_spec(repo, ks)
        prune = injected.get("prune", ks.prune)
        if prune is True:
            continue
        written = prune is False or ks.doc.get("spec", "prune") is not None
        if written and options.allow_false:
            continue
        if ks.doc.get("spec", "prune") is None:
            where = ks.doc.location("spec")
            message = f"Kustomization {ks.name} does not set spec.prune"
        else:
            where = ks.doc.location("spec", "prune")
            written = yaml_scalar(ks.doc.get("spec", "prune"))
            message = f"Kustomization {ks.name} sets spec.prune: {written}"
        yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION, fix=_fix(repo, ks))


def _fix(repo: Repo, ks: FluxKustomization) -> Fix | None:
    """Safe where prune is missing, unsafe where written false; over CRDs, never safe."""
    edit = Edit(ks.doc.path, ks.doc.index, ("spec", "prune"), True)
    crds = _deploys_crds(repo, ks)
    if ks.doc.get("spec", "prune") is None:
        return Fix("set spec.prune: true", (edit,), applicability=UNSAFE if crds else SAFE)
    if crds:
        return None
    return Fix("set spec.prune: true", (edit,), applicability=UNSAFE)


def _deploys_crds(repo: Repo, ks: FluxKustomization) -> bool:
    """Whether ``ks`` applies CustomResourceDefinitions (or a release managing them)."""
    for path in files_deployed_by(repo, ks):
        for doc in repo.documents_in(path):
            if doc.kind == "CustomResourceDefinition":
                return True
            if doc.kind == "HelmRelease" and any(
                doc.get("spec", action, "crds") is not None for action in ("install", "upgrade")
            ):
                return True
    return False
