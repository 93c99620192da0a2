"""Aliases must refer to a defined anchor.

## What it does
Reports an alias (`*name`) for which no anchor (`&name`) is defined earlier in
the same document.

## Why is this bad?
An undefined alias is a parse error for every YAML loader Flux and kubectl use:
the whole file is rejected. It usually means a renamed or deleted anchor, or an
alias written before its anchor.

## Example
```yaml
metadata:
  name: echo
spec:
  chart:
    spec:
      chart: *app
```

## Use instead
```yaml
metadata:
  name: &app echo
spec:
  chart:
    spec:
      chart: *app
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_yaml._problems import problems

ID = "yaml-undefined-alias"
SCOPE = "file"  # its findings about a file depend on that file alone
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
REMEDIATION = "Define the anchor before the alias in the same document, or fix its name."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    yield from problems(repo, ("undefined-alias",), ID, SEVERITY, REMEDIATION)
