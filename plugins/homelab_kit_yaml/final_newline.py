"""Files end with a newline.

## What it does
Reports a non-empty YAML file whose last line does not end with a newline
character (yamllint's `new-line-at-end-of-file`).

## Why is this bad?
POSIX tools treat a last line without a newline as incomplete: `cat`-ing files
together glues the last line of one to the first of the next (a broken `---`),
and every later append shows up in diffs as a change to the old last line.

## Example
```yaml
---
apiVersion: v1
kind: Namespace
metadata:
  name: media⏎ missing
```

## Use instead
```yaml
---
apiVersion: v1
kind: Namespace
metadata:
  name: media
```
(with a newline after `media`).
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Location, Repo, Severity

ID = "yaml-final-newline"
SCOPE = "file"  # its findings about a file depend on that file alone
SEVERITY = Severity.WARNING
CATEGORY = "style"
REMEDIATION = "End the file with a newline."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    missing = ((p, f) for p, f in repo.files.items() if not f.ends_with_newline and f.size)
    for path, yfile in sorted(missing):
        yield Diagnostic(
            Location(path, max(yfile.line_count, 1), 1),
            ID,
            "the file does not end with a newline",
            SEVERITY,
            REMEDIATION,
        )
