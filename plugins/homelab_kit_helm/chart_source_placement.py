"""A chart source used by one HelmRelease must sit next to it.

## What it does
Finds each `OCIRepository`, `HelmRepository` or `GitRepository` that exactly one
HelmRelease takes its chart from, and checks that it is written where the
repository's convention puts it:

- `placement: helmrelease` (the default): in the HelmRelease's own file
  (`app/helmrelease.yaml`);
- `placement: folder`: in the HelmRelease's file or in a file of the HelmRelease's
  folder whose name matches one of `file-names` (glob patterns; by default
  `ocirepository.yaml`, `helmrepository.yaml` and `gitrepository.yaml`), as the
  onedr0p-style repositories do.

Sources that two or more HelmReleases share (or that a Flux Kustomization uses
too) may live anywhere (a component, a `repos/` folder).

## Options
- `placement` (default `helmrelease`): `helmrelease` or `folder`, as above.
- `file-names` (default `[ocirepository.yaml, helmrepository.yaml,
  gitrepository.yaml]`): glob patterns of the file names `folder` allows.

## Why is this bad?
A chart source far from the only release that uses it makes an app harder to
read, move or delete in one piece: removing the app leaves an orphaned source,
and upgrading the chart means editing a file in another folder.

## Example
```yaml
# kubernetes/flux/meta/repos/echo.yaml
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: echo
```

## Use instead
```yaml
# kubernetes/apps/default/echo/app/helmrelease.yaml
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: echo
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: echo
spec:
  chartRef:
    kind: OCIRepository
    name: echo
```
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, HelmRelease, Repo, Severity
from homelab_kit_helm._support import chart_sources, resolve_chart_source

ID = "helm-chart-source-placement"
SEVERITY = Severity.WARNING
CATEGORY = "convention"
COST = 20  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Move the chart source next to the HelmRelease that uses it."

PLACEMENTS = ("helmrelease", "folder")


@attrs.frozen
class Options:
    """``placement``: ``helmrelease`` or ``folder``; ``file_names``: globs ``folder`` allows."""

    placement: str = attrs.field(default="helmrelease", validator=attrs.validators.in_(PLACEMENTS))
    file_names: tuple[str, ...] = (
        "ocirepository.yaml",
        "helmrepository.yaml",
        "gitrepository.yaml",
    )


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    placement = options.placement
    users: dict[tuple[str, int], list[HelmRelease]] = {}
    sources = {(s.doc.path, s.doc.index): s for s in chart_sources(repo)}
    for hr in repo.helm_releases:
        for source in resolve_chart_source(repo, hr) or ():
            users.setdefault((source.doc.path, source.doc.index), []).append(hr)
    kustomization_sources = {
        (ks.source_ref.kind, ks.source_ref.resolved_namespace, ks.source_ref.name)
        for ks in repo.kustomizations
        if ks.source_ref is not None
    }
    for key, releases in users.items():
        source = sources[key]
        if len(releases) != 1:
            continue
        if any((source.kind, ns, source.name) in kustomization_sources for ns in source.namespaces):
            continue
        hr = releases[0]
        path = source.doc.path
        if path == hr.doc.path:
            continue
        same_folder = posixpath.dirname(path) == posixpath.dirname(hr.doc.path)
        name = posixpath.basename(path)
        if (
            placement == "folder"
            and same_folder
            and any(fnmatch.fnmatchcase(name, pattern) for pattern in options.file_names)
        ):
            continue
        where = "its own file" if placement == "helmrelease" else "its folder"
        yield Diagnostic(
            source.doc.location(),
            ID,
            f"{source.kind} {source.name} is used only by HelmRelease {hr.name} "
            f"({hr.doc.path}) but is not in {where}",
            SEVERITY,
            REMEDIATION,
        )
