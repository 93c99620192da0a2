"""An app's HelmRelease lives in helmrelease.yaml.

## What it does
Reports a HelmRelease of an app that is not in a file called `helmrelease.yaml`,
unless its folder has a `helmrelease.yaml` too (an app with several releases keeps
the extra ones in files of their own).

## Options
- `filename` (default `helmrelease.yaml`): the expected file name.

## Why is this bad?
The standard app keeps its release in `app/helmrelease.yaml`, so people and tools
(Renovate rules, scaffolds, reviews) find it without reading every file; a release
hidden in `deployment.yaml` or `app.yaml` is missed when upgrading charts.

## Example
```text
kubernetes/apps/default/echo/app/echo.yaml  # holds the HelmRelease
```

## Use instead
```text
kubernetes/apps/default/echo/app/helmrelease.yaml
```
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, Repo, Severity

ID = "structure-helmrelease-file"
SEVERITY = Severity.WARNING
CATEGORY = "convention"
REMEDIATION = "Move the HelmRelease into the app folder's helmrelease.yaml."


@attrs.frozen
class Options:
    filename: str = "helmrelease.yaml"


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    for release in repo.helm_releases:
        path = release.doc.path
        if posixpath.basename(path) == options.filename or repo.app_of_file(path) is None:
            continue
        if posixpath.join(posixpath.dirname(path), options.filename) in repo.files:
            continue
        yield Diagnostic(
            release.doc.location(),
            ID,
            f"HelmRelease {release.name} is in {posixpath.basename(path)}, not {options.filename}",
            SEVERITY,
            REMEDIATION,
        )
