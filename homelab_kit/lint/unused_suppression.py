"""Suppression comments must suppress something.

## What it does
Reports `# homelab-kit: ignore[...]` comments (line, `ignore-document` and
`ignore-file` forms) that no finding of a check that ran matched, and every check
ID a suppression names that no installed plugin registers (with the closest
known ID).

## Why is this bad?
A stale suppression hides nothing today but will silently hide a real problem
tomorrow, and a misspelt check ID looks like a suppression while doing nothing.

## Example
```yaml
spec:
  prune: true  # homelab-kit: ignore[flux-ks-prune]
```

## Use instead
```yaml
spec:
  prune: true
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit.diagnostic import Diagnostic, Severity
from homelab_kit.model.repo import Repo

ID = "unused-suppression"
SEVERITY = Severity.WARNING
CATEGORY = "style"
REMEDIATION = "Remove the comment, or fix its check ID or placement."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    # The engine reports these after every other check ran (it alone knows which
    # suppressions were used); registering the check makes it selectable,
    # documented and configurable like any other.
    return iter(())
