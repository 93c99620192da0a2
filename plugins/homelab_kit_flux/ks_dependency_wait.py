"""Flux Kustomizations that others depend on must wait until they are healthy.

## What it does
Checks that every Flux `Kustomization` named in another's `spec.dependsOn` sets
`spec.wait: true` or lists `spec.healthChecks` (or `spec.healthCheckExprs`), in its
own manifest or through a patch of the Flux Kustomization that deploys it.  Only
dependents of its own cluster count: one in an app folder no kustomization.yaml
lists, or in another cluster of the repository, waits for nothing.

The fix sets `wait: true` where `spec.wait` is missing (safe: it is what
`dependsOn` assumes); over a written `wait: false` it is unsafe (`--unsafe-fixes`).

## Why is this bad?
`dependsOn` waits for the dependency to be Ready.  Without waiting, a Kustomization
is Ready as soon as its manifests are applied, so its dependents start while the
operator, CRDs or database they need are still coming up, and fail or race.

It is a warning, not an error: Flux retries a failed dependent every
`retryInterval`, so the cluster converges, only later and through failed
reconciliations; and a dependency that only applies plain manifests (CRDs,
namespaces) is ready once applied, so `dependsOn` alone can be exactly what the
owner meant.

## Example
```yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: infisical-secrets-operator
  namespace: infisical-system
spec:
  interval: 1h
  path: ./kubernetes/apps/infisical-system/infisical-secrets-operator/app
  prune: true
  wait: false  # yet media/secrets dependsOn it
```

## Use instead
```yaml
spec:
  interval: 1h
  path: ./kubernetes/apps/infisical-system/infisical-secrets-operator/app
  prune: true
  wait: true
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.clusters import ClusterKustomization
from homelab_kit.model.flux import FluxKustomization
from homelab_kit.model.repo import KsKey
from homelab_kit_flux._common import aggregators, wait_fix, wait_problem, waits

ID = "flux-ks-dependency-wait"
SEVERITY = Severity.WARNING
CATEGORY = "correctness"
COST = 15  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Set spec.wait: true, or list spec.healthChecks of what dependents need."
FIXABLE = True


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    parents = aggregators(repo)
    for ks in repo.kustomizations:
        dependents = _dependents(repo, ks)
        if not dependents or waits(repo, ks) or ks.key in parents:
            continue
        where, what = wait_problem(ks)
        names = ", ".join(f"{ns}/{name}" if ns else name for ns, name in dependents)
        verb = "depends" if len(dependents) == 1 else "depend"
        message = f"{what} and has no spec.healthChecks, yet {names} {verb} on it"
        yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION, fix=wait_fix(ks, safe=True))


def _dependents(repo: Repo, ks: FluxKustomization) -> list[KsKey]:
    """The Kustomizations of ``ks``'s own clusters that depend on it.

    Names repeat across the clusters of one repository (kubernetes/main and
    kubernetes/storage both have flux-system/cilium): each cluster's own graph says
    who depends on whom.  A repository without clusters uses the whole graph, less
    Kustomizations no kustomization.yaml lists.
    """
    out: dict[KsKey, None] = {}  # in order, each once (a list's ``in`` was quadratic)
    clusters = [
        (c, index)
        for c, index in zip(repo.clusters, repo.derived(_built), strict=True)
        if c.reaches(ks.doc.path)
    ]
    for cluster, index in clusters:
        built = index.get((ks.namespace or "flux-system", ks.name))
        for key in cluster.graph.dependents(built.key) if built else ():
            out[key] = None
    if clusters:
        return sorted(out, key=lambda k: (k[0] or "", k[1]))
    return [k for k in repo.kustomization_graph.dependents(ks.key) if _deployed(repo, k)]


def _built(repo: Repo) -> tuple[dict[KsKey, ClusterKustomization], ...]:
    """Each cluster's Flux Kustomizations by key, the first of a key as
    ``Cluster.kustomization`` answers (it scans them all: once per Kustomization
    here, that grew with the square of their number)."""
    out: list[dict[KsKey, ClusterKustomization]] = []
    for cluster in repo.clusters:
        index: dict[KsKey, ClusterKustomization] = {}
        for built in cluster.kustomizations:
            index.setdefault(built.key, built)
        out.append(index)
    return tuple(out)


def _deployed(repo: Repo, key: KsKey) -> bool:
    dependent = repo.kustomization(*key)
    return dependent is None or repo.is_deployed(dependent.doc.path)
