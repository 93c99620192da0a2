"""HelmReleases and their chart sources must set a reconcile interval.

## What it does
Checks that every HelmRelease sets `spec.interval` (written in it, or injected by
a patch of a Flux Kustomization that deploys it or of its kustomization.yaml),
and that every `OCIRepository`, `GitRepository` and index `HelmRepository` a
HelmRelease takes its chart from sets `spec.interval`.  OCI HelmRepositories
(`type: oci`) are not polled and need none.

## Why is this bad?
`spec.interval` is required by the Flux APIs: without it the object is rejected
at apply time and the whole Flux Kustomization fails.  It is also how often
drift is corrected and new chart versions are fetched.

## Example
```yaml
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: echo
spec:
  chartRef:
    kind: OCIRepository
    name: echo
```

## Use instead
```yaml
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: echo
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model import GitRepository, HelmRepository, OCIRepository
from homelab_kit.model.patches import applied_field, applied_known
from homelab_kit_helm._support import resolve_chart_source

ID = "helm-interval-set"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
LIVE = True
REMEDIATION = "Set spec.interval (for example 1h)."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    used: dict[tuple[str, int], str] = {}
    for hr in repo.helm_releases:
        for source in resolve_chart_source(repo, hr) or ():
            used[(source.doc.path, source.doc.index)] = source.kind
        if hr.interval is not None:
            continue
        value = applied_field(repo, hr.doc, "spec", "interval")
        if value is not None or not applied_known(repo, hr.doc):
            continue
        yield Diagnostic(
            hr.doc.location("spec"),
            ID,
            f"HelmRelease {hr.name} sets no spec.interval",
            SEVERITY,
            REMEDIATION,
        )
    pools: tuple[OCIRepository | HelmRepository | GitRepository, ...] = (
        *repo.oci_repositories,
        *repo.helm_repositories,
        *repo.git_repositories,
    )
    for obj in pools:
        kind = used.get((obj.doc.path, obj.doc.index))
        if kind is None or obj.interval is not None:
            continue
        if kind == "HelmRepository" and obj.doc.str_at("spec", "type") == "oci":
            continue
        yield Diagnostic(
            obj.doc.location("spec"),
            ID,
            f"{kind} {obj.name} (a chart source) sets no spec.interval",
            SEVERITY,
            REMEDIATION,
        )
