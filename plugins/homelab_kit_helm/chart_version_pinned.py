"""Helm charts must be pinned to one exact version.

## What it does
Checks the version of every chart a HelmRelease installs:

- an `OCIRepository` a HelmRelease takes its chart from (or whose layer selector
  names a Helm chart) must set `spec.ref.tag` to an exact version or
  `spec.ref.digest` (an exact `spec.ref.semver` is accepted too); no `latest`,
  no semver range, no missing `ref` (which follows `latest`);
- `spec.chart.spec.version` of a HelmRelease whose chart comes from a
  `HelmRepository` must be one exact version, not a range such as `>=1.0`,
  `1.x`, `~1.2`, `^1.2` or `*`, and must be set.

Releases and sources are read as each cluster applies them: a version a patch
sets (a kustomize patch, a Flux Kustomization's `spec.patches`) is reported at
the patch, a version `postBuild` substitution fills (`${CHART_VERSION}` from
`substitute` or a `substituteFrom` ConfigMap) at its `${VAR}` reference with
where the value came from, and the finding names the cluster when the
repository's clusters apply the object differently. Versions still holding a
`${VAR}` (a variable no cluster sets, a SOPS value) are not judged; files no
cluster deploys are not checked.

## Why is this bad?
A range or `latest` lets Flux upgrade the chart whenever a new one is published:
upgrades land unreviewed, at any hour, and the repository no longer says what
runs.  Renovate and similar tools can only propose updates for pinned versions.

## Example
```yaml
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: echo
spec:
  interval: 1h
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
  ref:
    semver: ">=4.0.0"
```

## Use instead
```yaml
spec:
  interval: 1h
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
  ref:
    tag: 4.2.0
```
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from homelab_kit import Diagnostic, DocumentRef, Location, Repo, Severity
from homelab_kit.model.patches import applied_copies_by_cluster
from homelab_kit.model.substitute import has_variables
from homelab_kit.model.substituted import SECRET
from homelab_kit_helm._support import EXACT_VERSION, is_range, resolve_chart_source

ID = "helm-chart-version-pinned"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 15  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Pin the chart to one exact version (an OCI tag or digest, or chart.spec.version)."

FieldPath = tuple[str, ...]
#: A value of the object, and every value it may take (``${VAR}`` expanded).
Getter = Callable[..., Any]
Expand = Callable[[str], Sequence[str]]
Judgement = Iterator[tuple[FieldPath, str]]


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    charts: set[tuple[str, int]] = set()
    for hr in repo.helm_releases:
        for source in resolve_chart_source(repo, hr) or ():
            charts.add((source.doc.path, source.doc.index))
        yield from _as_applied(repo, hr.doc, _release)
    for oci in repo.oci_repositories:
        media = str(oci.doc.get("spec", "layerSelector", "mediaType") or "")
        if (oci.doc.path, oci.doc.index) in charts or "helm.chart" in media:
            yield from _as_applied(repo, oci.doc, _oci_ref)


def _as_applied(
    repo: Repo, doc: DocumentRef, judge: Callable[[Getter, Expand], Judgement]
) -> Iterator[Diagnostic]:
    """``judge`` the object as each cluster applies it, else as written.

    A finding is placed where its field was set (a patch, a ``${VAR}`` reference,
    else the document), reported once per place, and names the cluster when only
    some of the clusters applying the object get it.
    """
    copies = applied_copies_by_cluster(repo, doc)
    if not copies:
        for path, problem in judge(doc.get, lambda value: repo.expand(doc.path, value)):
            yield Diagnostic(doc.location(*path), ID, problem, SEVERITY, REMEDIATION)
        return
    found: dict[tuple[Location, str], set[str]] = {}
    for cluster, copy in copies:
        for path, problem in judge(copy.get, lambda value: [value]):
            where = copy.provenance.changed_by(path) or doc.location(*path)
            filled = copy.provenance.substituted(path)
            if any(s.origin == SECRET for s in filled):
                # A value a Secret gave is never quoted (the message's only value).
                problem = problem.replace(repr(str(copy.get(*path))), "from a Secret")
            if filled:
                problem += f" ({'; '.join(s.describe() for s in filled)})"
            found.setdefault((where, problem), set()).add(cluster)
    deployers = {cluster for cluster, _ in copies}
    for (where, problem), clusters in found.items():
        named = sorted(clusters) if len(deployers) > 1 and clusters < deployers else [None]
        for cluster in named:
            yield Diagnostic(where, ID, problem, SEVERITY, REMEDIATION, cluster=cluster)


def _judge(version: str, expand: Expand) -> str | None:
    """Why ``version`` is not one exact version, or None when it is (or can't be told)."""
    expanded = expand(version)
    if any(has_variables(v) for v in expanded):
        return None
    if all(EXACT_VERSION.match(v) for v in expanded):
        return None
    return "a version range" if is_range(version) else "not an exact version"


def _release(get: Getter, expand: Expand) -> Judgement:
    """A HelmRelease's chart version, when its chart comes from a HelmRepository."""
    name = get("metadata", "name")
    chart = get("spec", "chart", "spec")
    if get("spec", "chartRef") is not None or not isinstance(chart, dict):
        return
    kind = get("spec", "chart", "spec", "sourceRef", "kind") or "HelmRepository"
    if kind != "HelmRepository":
        return
    version = get("spec", "chart", "spec", "version")
    if version is None:
        yield (
            ("spec", "chart", "spec"),
            f"HelmRelease {name} sets no chart version, so it follows the latest chart",
        )
        return
    why = _judge(str(version), expand)
    if why is not None:
        yield (
            ("spec", "chart", "spec", "version"),
            f"HelmRelease {name} chart version {str(version)!r} is {why}",
        )


def _oci_ref(get: Getter, expand: Expand) -> Judgement:
    """An OCIRepository a chart comes from: an exact tag, a digest or an exact semver."""
    name = get("metadata", "name")
    ref = get("spec", "ref")
    ref = ref if isinstance(ref, dict) else {}
    if ref.get("digest"):
        return
    semver = ref.get("semver")
    if ref.get("tag") is not None:
        tag = str(ref["tag"])
        if tag == "latest":
            yield ("spec", "ref", "tag"), f"OCIRepository {name} follows the mutable tag 'latest'"
        elif is_range(tag) and not has_variables(tag):
            yield ("spec", "ref", "tag"), f"OCIRepository {name} follows a version range"
        return
    if semver is not None:
        why = _judge(str(semver), expand)
        if why is not None:
            yield (
                ("spec", "ref", "semver"),
                f"OCIRepository {name} ref.semver {str(semver)!r} is {why}",
            )
        return
    yield (
        ("spec", "ref") if get("spec", "ref") is not None else ("spec",),
        f"OCIRepository {name} sets no ref.tag or ref.digest, so it follows 'latest'",
    )
