"""A Flux Kustomization's dependsOn must name declared Kustomizations.

## What it does
Checks that every `spec.dependsOn` entry of a Flux `Kustomization` names a Flux
Kustomization declared in the repository, in the namespace the entry resolves to
(the written `namespace`, else the Kustomization's own).  In a repository of
several clusters, the dependency must be declared in the Kustomization's own cluster.

## Why is this bad?
Flux waits for a dependency to be ready before it reconciles the dependent.  A
dependency that does not exist (a typo, a renamed app, a missing `namespace:`)
is never ready, so the app never deploys.

## Example
```yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: sonarr
  namespace: media
spec:
  dependsOn:
    - name: infisical-secrets-operator  # lives in infisical-system, not media
```

## Use instead
```yaml
spec:
  dependsOn:
    - name: infisical-secrets-operator
      namespace: infisical-system
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.flux import FluxKustomization
from homelab_kit.model.repo import KsKey
from homelab_kit_flux._common import ks_label

ID = "flux-ks-depends-on"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 5  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Fix the name, or add the namespace the dependency lives in."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    declared = set(repo.kustomization_graph.nodes)
    for ks in repo.kustomizations:
        for dep in ks.depends_on:
            key = (dep.resolved_namespace, dep.name)
            target = f"{dep.resolved_namespace}/{dep.name}" if dep.resolved_namespace else dep.name
            if key in declared:
                elsewhere = _only_elsewhere(repo, ks, key)
                if elsewhere:
                    yield Diagnostic(
                        dep.source,
                        ID,
                        f"Kustomization {ks.name} depends on {target}, which its cluster does "
                        f"not declare (only {elsewhere})",
                        SEVERITY,
                        REMEDIATION,
                    )
                continue
            hint = _hint(repo, dep.name, key)
            yield Diagnostic(
                dep.source,
                ID,
                f"Kustomization {ks.name} depends on {target}, which is not declared{hint}",
                SEVERITY,
                REMEDIATION,
            )


def _only_elsewhere(repo: Repo, ks: FluxKustomization, key: KsKey) -> str:
    """The other clusters declaring ``key`` when none of ``ks``'s own does, else "".

    Each cluster of a repository is its own Flux: a dependency declared only by
    kubernetes/storage is never ready in kubernetes/main.
    """
    clusters = repo.clusters
    if len(clusters) < 2:
        return ""
    own = [c for c in clusters if c.reaches(ks.doc.path)]
    paths = [k.doc.path for k in repo.kustomizations if k.key == key]
    if not own or any(c.reaches(p) for c in own for p in paths):
        return ""
    others = sorted({c.name for c in clusters if c not in own for p in paths if c.reaches(p)})
    return ", ".join(f"cluster {name}" for name in others)


def _hint(repo: Repo, name: str, wanted: KsKey) -> str:
    """Where Kustomizations of that name are, to tell a wrong namespace from a typo."""
    found = []
    for ks in repo.kustomizations:
        if ks.name != name or ks.key == wanted:
            continue
        if repo.app_of_file(ks.doc.path) is not None and not repo.deployed_by.get(ks.doc.path):
            found.append(f"{ks.name} in {ks.doc.path}, which nothing deploys")
        else:
            found.append(ks_label(ks))
    return f" (found {'; '.join(sorted(found))})" if found else ""
