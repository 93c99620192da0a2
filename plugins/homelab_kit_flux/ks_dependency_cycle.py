"""Flux Kustomizations must not depend on each other in a cycle.

## What it does
Finds cycles in the `spec.dependsOn` graph of Flux `Kustomization`s and reports each
cycle once, with all its members, at the dependsOn entry of its first member.  In a
repository of several clusters each cluster's graph is its own: the same names in
two clusters depending on each other the opposite way make no cycle.

## Why is this bad?
Every Kustomization in a cycle waits for another one in it to be ready first, so
none of them ever reconciles: the apps never deploy and Flux reports
"dependency not ready" forever.

## Example
```yaml
# media/radarr/ks.yaml
spec:
  dependsOn:
    - name: sonarr
---
# media/sonarr/ks.yaml
spec:
  dependsOn:
    - name: radarr
```

## Use instead
```yaml
# media/radarr/ks.yaml
spec:
  dependsOn:
    - name: sonarr
---
# media/sonarr/ks.yaml: no dependsOn on radarr
spec: {}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.location import Location
from homelab_kit.model.clusters import Cluster
from homelab_kit.model.flux import FluxKustomization
from homelab_kit.model.graph import DependencyGraph
from homelab_kit.model.repo import KsKey

ID = "flux-ks-dependency-cycle"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 5  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Remove one dependsOn entry of the cycle."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    seen: set[tuple[Location, str]] = set()
    for cluster, graph in _graphs(repo):
        for cycle in graph.cycles():
            first, second = cycle[0], cycle[1]
            ks = _member(repo, cluster, first)
            if ks is None:
                continue
            entry = next(
                (d for d in ks.depends_on if (d.resolved_namespace, d.name) == second), None
            )
            where = entry.source if entry is not None else ks.doc.location("spec", "dependsOn")
            message = f"dependency cycle: {_describe(cycle)}"
            if (where, message) not in seen:
                seen.add((where, message))
                yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION)


def _graphs(repo: Repo) -> list[tuple[Cluster | None, DependencyGraph[KsKey]]]:
    """Each cluster's own graph when the repository has several (names repeat across
    them: main's a -> b and storage's b -> a make no cycle), else the repository's."""
    clusters = repo.clusters
    if len(clusters) < 2:
        return [(None, repo.kustomization_graph)]
    return [(c, c.graph) for c in clusters]


def _member(repo: Repo, cluster: Cluster | None, key: KsKey) -> FluxKustomization | None:
    """The Flux Kustomization ``key`` as written, in ``cluster`` when one is given."""
    if cluster is None:
        return repo.kustomization(*key)
    built = cluster.kustomization(*key)
    if built is None:
        return None
    path = built.source.path
    return next((k for k in repo.kustomizations_in(path) if k.name == key[1]), None)


_SHOWN = 8  # members named in a message; a longer cycle is abridged to stay one line


def _describe(cycle: list[tuple[str | None, str]]) -> str:
    names = [f"{ns}/{name}" if ns else name for ns, name in cycle]
    if len(names) <= _SHOWN + 1:
        return " -> ".join(names)
    members = len(names) - 1  # the first member closes the cycle again
    head = " -> ".join(names[: _SHOWN - 2])
    tail = " -> ".join(names[-2:])
    return f"{head} -> ... ({members - _SHOWN + 1} more) ... -> {tail} ({members} Kustomizations)"
