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

Versions still holding a `${VAR}` after the Flux Kustomization's inline
substitutions are not judged.

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

from collections.abc import Iterator

from homelab_kit import Diagnostic, HelmRelease, OCIRepository, Repo, Severity
from homelab_kit.model.substitute import has_variables
from homelab_kit_helm._support import (
    EXACT_VERSION,
    chart_ref_of,
    is_range,
    resolve_chart_source,
)

ID = "helm-chart-version-pinned"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
LIVE = True
REMEDIATION = "Pin the chart to one exact version (an OCI tag or digest, or chart.spec.version)."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    charts: set[tuple[str, int]] = set()
    for hr in repo.helm_releases:
        for source in resolve_chart_source(repo, hr) or ():
            charts.add((source.doc.path, source.doc.index))
        _, kind = chart_ref_of(hr)
        if hr.chart is not None and hr.chart_ref is None and kind == "HelmRepository":
            yield from _chart_version(repo, hr)
    for oci in repo.oci_repositories:
        media = str(oci.doc.get("spec", "layerSelector", "mediaType") or "")
        if (oci.doc.path, oci.doc.index) in charts or "helm.chart" in media:
            yield from _oci_ref(repo, oci)


def _judge(repo: Repo, path: str, version: str) -> str | None:
    """Why ``version`` is not one exact version, or None when it is (or can't be told)."""
    expanded = repo.expand(path, version)
    if any(has_variables(v) for v in expanded):
        return None
    if all(EXACT_VERSION.match(v) for v in expanded):
        return None
    return "a version range" if is_range(version) else "not an exact version"


def _chart_version(repo: Repo, hr: HelmRelease) -> Iterator[Diagnostic]:
    version = hr.chart.version if hr.chart is not None else None
    if version is None:
        yield Diagnostic(
            hr.doc.location("spec", "chart", "spec"),
            ID,
            f"HelmRelease {hr.name} sets no chart version, so it follows the latest chart",
            SEVERITY,
            REMEDIATION,
        )
        return
    why = _judge(repo, hr.doc.path, version)
    if why is not None:
        yield Diagnostic(
            hr.doc.location("spec", "chart", "spec", "version"),
            ID,
            f"HelmRelease {hr.name} chart version {version!r} is {why}",
            SEVERITY,
            REMEDIATION,
        )


def _oci_ref(repo: Repo, oci: OCIRepository) -> Iterator[Diagnostic]:
    ref = oci.ref
    doc = oci.doc
    if ref.digest:
        return
    if ref.tag is not None:
        if ref.tag == "latest":
            why: str | None = "the mutable tag 'latest'"
        else:
            why = "a version range" if is_range(ref.tag) else None
        if why is not None:
            yield Diagnostic(
                doc.location("spec", "ref", "tag"),
                ID,
                f"OCIRepository {oci.name} follows {why}",
                SEVERITY,
                REMEDIATION,
            )
        return
    if ref.semver is not None:
        why = _judge(repo, doc.path, ref.semver)
        if why is not None:
            yield Diagnostic(
                doc.location("spec", "ref", "semver"),
                ID,
                f"OCIRepository {oci.name} ref.semver {ref.semver!r} is {why}",
                SEVERITY,
                REMEDIATION,
            )
        return
    yield Diagnostic(
        doc.location("spec", "ref") if doc.get("spec", "ref") is not None else doc.location("spec"),
        ID,
        f"OCIRepository {oci.name} sets no ref.tag or ref.digest, so it follows 'latest'",
        SEVERITY,
        REMEDIATION,
    )
