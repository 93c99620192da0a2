"""Anchors must be used.

## What it does
Reports an anchor (`&name`) that no alias (`*name`) in its document refers to.
Anchors exist to repeat a value within one document; an anchor nothing aliases
marks a single-use value.

## Why is this bad?
An unused anchor is noise that suggests a link that is not there: readers look
for the alias, and a later edit may add an alias in another document expecting
it to work (it does not; anchors end at `---`). It is often left over after the
alias was removed or moved.

## Example
```yaml
metadata:
  name: &app echo
spec:
  chart:
    spec:
      chart: echo
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

from homelab_kit import Diagnostic, Location, Repo, Severity

ID = "yaml-unused-anchor"
SCOPE = "file"  # its findings about a file depend on that file alone
SEVERITY = Severity.WARNING
CATEGORY = "style"
COST = 15  # CPU ms at 1,000 apps (Check.cost)
REMEDIATION = "Remove the anchor, or use it through an alias in the same document."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for path, yfile in sorted(repo.files.items()):
        for document in yfile.documents:
            for anchor in document.anchors:
                if anchor.uses == 0:
                    yield Diagnostic(
                        Location(path, anchor.line, anchor.column),
                        ID,
                        f"anchor &{anchor.name} is never used by an alias in its document",
                        SEVERITY,
                        REMEDIATION,
                    )
