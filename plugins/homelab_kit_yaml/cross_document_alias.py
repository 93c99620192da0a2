"""Aliases must not refer to an anchor of another document.

## What it does
Reports an alias (`*name`) whose anchor (`&name`) is defined in an earlier
document of the same file, across a `---` separator.

## Why is this bad?
Anchors are scoped to one document: YAML parsers, kustomize and Flux all treat
an alias to another document's anchor as undefined, so the file fails to load.
Editors and some linters accept it silently, which makes the mistake easy to
commit.

## Example
```yaml
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: &app echo
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: *app
```

## Use instead
```yaml
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: echo
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: &app echo
spec:
  chartRef:
    kind: OCIRepository
    name: *app
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_yaml._problems import problems

ID = "yaml-cross-document-alias"
SCOPE = "file"  # its findings about a file depend on that file alone
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 15  # CPU ms at 1,000 apps (Check.cost)
REMEDIATION = "Define the anchor again in this document, or write the value out."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    yield from problems(repo, ("cross-document-alias",), ID, SEVERITY, REMEDIATION)
