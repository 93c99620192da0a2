"""Flux Kustomizations must wait for what they deploy to become healthy.

## What it does
Checks that every Flux `Kustomization` sets `spec.wait: true` or lists
`spec.healthChecks` (or `spec.healthCheckExprs`), in its own manifest or through a
patch of the Flux Kustomization that deploys it.  Kustomizations that deploy other
Flux Kustomizations (cluster-apps and the like) are not checked: waiting on them
would wait on the whole cluster.  Kustomizations that others depend on are left to
`flux-ks-dependency-wait`.

Its fix (`wait: true`) is unsafe (`--unsafe-fixes`): waiting changes when a
Kustomization reports Ready and can hold back every dependent while an app is
unhealthy, so it is the owner's decision, Kustomization by Kustomization.

## Why is this bad?
Without waiting, a Kustomization is Ready as soon as its manifests are applied,
whether or not its pods start: `flux get ks` reports green while the app is down,
and alerts on failed Kustomizations never fire.  Repositories that deliberately
wait only where something depends on the result can ignore this check and keep
`flux-ks-dependency-wait`.

## Example
```yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: echo
spec:
  interval: 1h
  path: ./kubernetes/apps/default/echo/app
  prune: true
  wait: false
```

## Use instead
```yaml
spec:
  interval: 1h
  path: ./kubernetes/apps/default/echo/app
  prune: true
  wait: true
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_flux._common import aggregators, wait_fix, wait_problem, waits

ID = "flux-ks-wait"
SEVERITY = Severity.WARNING
CATEGORY = "convention"
LIVE = True
REMEDIATION = "Set spec.wait: true, or list spec.healthChecks."
FIXABLE = True


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    graph = repo.kustomization_graph
    parents = aggregators(repo)
    for ks in repo.kustomizations:
        if waits(repo, ks) or graph.dependents(ks.key) or ks.key in parents:
            continue
        where, what = wait_problem(ks)
        message = f"{what} and has no spec.healthChecks"
        yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION, fix=wait_fix(ks, safe=False))
