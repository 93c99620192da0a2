"""A Flux Kustomization's dependsOn must name declared Kustomizations.

## What it does
Checks that every `spec.dependsOn` entry of a Flux `Kustomization` names a Flux
Kustomization declared in the repository, in the namespace the entry resolves to
(the written `namespace`, else the Kustomization's own).

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
from homelab_kit.model.repo import KsKey
from homelab_kit_flux._common import ks_label

ID = "flux-ks-depends-on"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
LIVE = True
REMEDIATION = "Fix the name, or add the namespace the dependency lives in."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    declared = set(repo.kustomization_graph.nodes)
    for ks in repo.kustomizations:
        for dep in ks.depends_on:
            if (dep.resolved_namespace, dep.name) in declared:
                continue
            target = f"{dep.resolved_namespace}/{dep.name}" if dep.resolved_namespace else dep.name
            hint = _hint(repo, dep.name, (dep.resolved_namespace, dep.name))
            yield Diagnostic(
                dep.source,
                ID,
                f"Kustomization {ks.name} depends on {target}, which is not declared{hint}",
                SEVERITY,
                REMEDIATION,
            )


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
