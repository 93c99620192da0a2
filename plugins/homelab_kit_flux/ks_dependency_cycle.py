"""Flux Kustomizations must not depend on each other in a cycle.

## What it does
Finds cycles in the `spec.dependsOn` graph of Flux `Kustomization`s and reports each
cycle once, with all its members, at the dependsOn entry of its first member.

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

ID = "flux-ks-dependency-cycle"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
LIVE = True
REMEDIATION = "Remove one dependsOn entry of the cycle."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for cycle in repo.kustomization_graph.cycles():
        first, second = cycle[0], cycle[1]
        ks = repo.kustomization(*first)
        if ks is None:
            continue
        entry = next((d for d in ks.depends_on if (d.resolved_namespace, d.name) == second), None)
        where = entry.source if entry is not None else ks.doc.location("spec", "dependsOn")
        yield Diagnostic(where, ID, f"dependency cycle: {_describe(cycle)}", SEVERITY, REMEDIATION)


_SHOWN = 8  # members named in a message; a longer cycle is abridged to stay one line


def _describe(cycle: list[tuple[str | None, str]]) -> str:
    names = [f"{ns}/{name}" if ns else name for ns, name in cycle]
    if len(names) <= _SHOWN + 1:
        return " -> ".join(names)
    members = len(names) - 1  # the first member closes the cycle again
    head = " -> ".join(names[: _SHOWN - 2])
    tail = " -> ".join(names[-2:])
    return f"{head} -> ... ({members - _SHOWN + 1} more) ... -> {tail} ({members} Kustomizations)"
