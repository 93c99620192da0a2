"""A HelmRelease's chart source must exist, with the right kind, in the right namespace.

## What it does
Resolves `spec.chartRef` and `spec.chart.spec.sourceRef` of every HelmRelease to
an `OCIRepository`, `HelmRepository` or `GitRepository` that the cluster applying
the HelmRelease applies too (a source only another cluster deploys does not count;
the finding names the cluster where they differ).  The reference's namespace
defaults to the HelmRelease's own, where its cluster applies it; names
and namespaces are compared after the deploying Flux Kustomization's inline
`postBuild.substitute` variables are applied.  A reference that only a patch sets
(a component or parent Kustomization adding `chartRef`) is read from the
HelmRelease as the clusters apply it.  A HelmRelease with neither `chartRef` nor
`chart`, even once patched, is reported too.  `GitRepository flux-system`, which
bootstrap creates, always resolves.

## Why is this bad?
Flux cannot fetch the chart: the HelmRelease stays not ready with "source not
found", and nothing in the repository says so until it is reconciled.

## Example
```yaml
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: echo
  namespace: default
spec:
  chartRef:
    kind: OCIRepository
    name: echo-chart   # no OCIRepository echo-chart in namespace default
```

## Use instead
```yaml
spec:
  chartRef:
    kind: OCIRepository
    name: echo         # declared next to the HelmRelease, same namespace
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, HelmRelease, Repo, Severity
from homelab_kit.model.flux import NamespacedRef
from homelab_kit.model.secret_index import Outcome, per_cluster
from homelab_kit_helm._support import (
    CHART_SOURCE_KINDS,
    Place,
    chart_ref_of,
    implicit_source,
    names_chart_ref,
    ref_namespaces,
    release_places,
    resolve_chart_source,
)

ID = "helm-chart-source-resolves"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 5  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Declare the chart source, or fix the reference's kind, name or namespace."

_CHART_REF_KINDS = ("OCIRepository", "HelmChart")
_SOURCE_REF_KINDS = ("HelmRepository", "GitRepository", "Bucket")


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    outcomes: list[Outcome] = []
    for hr in repo.helm_releases:
        ref, kind = chart_ref_of(hr, repo)
        if ref is None:
            yield Diagnostic(
                hr.doc.location("spec"),
                ID,
                f"HelmRelease {hr.name} names no chart source (spec.chartRef or "
                "spec.chart.spec.sourceRef)",
                SEVERITY,
                REMEDIATION,
            )
            continue
        allowed = _CHART_REF_KINDS if names_chart_ref(hr, repo) else _SOURCE_REF_KINDS
        if kind not in allowed:
            yield Diagnostic(
                ref.source,
                ID,
                f"HelmRelease {hr.name} refers to a {kind}, which cannot hold its chart "
                f"(expected {' or '.join(allowed)})",
                SEVERITY,
                REMEDIATION,
            )
            continue
        if kind not in CHART_SOURCE_KINDS or implicit_source(repo, hr):
            continue
        for place in release_places(repo, hr):
            message = None
            if not resolve_chart_source(repo, hr, place):
                message = _missing(repo, hr, ref, kind, place)
            outcomes.append((ref.source, place[0], message))
    for source, message, cluster in per_cluster(outcomes):
        yield Diagnostic(source, ID, message, SEVERITY, REMEDIATION, cluster=cluster)


def _missing(repo: Repo, hr: HelmRelease, ref: NamespacedRef, kind: str, place: Place) -> str:
    """The message for a source ``place`` does not declare."""
    known = sorted(ns for ns in ref_namespaces(repo, hr.doc, ref, place[1]) if ns)
    if not known:
        where = "its namespace"
    elif len(known) <= 3:
        where = f"namespace {', '.join(known)}"
    else:
        where = f"its {len(known)} namespaces"
    elsewhere = ""
    if place[0] is not None and resolve_chart_source(repo, hr, (None, place[1])):
        elsewhere = " in this cluster (only another cluster declares it)"
    return (
        f"HelmRelease {hr.name} takes its chart from {kind} {ref.name}, "
        f"which is not declared in {where}{elsewhere}"
    )
