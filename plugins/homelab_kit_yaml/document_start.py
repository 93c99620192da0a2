"""Files start their first document with `---` (configurable).

## What it does
Checks that the first document of every YAML file begins with the explicit
document start marker `---`, as yamllint's `document-start` rule does. Comments
such as a `# yaml-language-server: $schema=...` line may come before it.

With `present: false` the check reverses: the first document must *not* start
with `---` (later documents of a multi-document file always need it).

Files whose layout a tool owns are left alone: SOPS-encrypted files (sops
rewrites them on every edit) and the files of a local Helm chart (a folder with
a `Chart.yaml`).

## Options
- `present` (default `true`): `false` forbids `---` before the first document instead.

## Why is this bad?
Mixed styles make files harder to concatenate and to diff, and a missing `---`
is easy to get wrong when a second document is appended. Most homelab
repositories (and the project's own templates) start every file with `---`.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: media
```

## Use instead
```yaml
---
apiVersion: v1
kind: Namespace
metadata:
  name: media
```
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, Location, Repo, Severity

ID = "yaml-document-start"
SCOPE = ("files", "sops_files")  # what it reads
SEVERITY = Severity.WARNING
CATEGORY = "convention"
COST = 20  # CPU ms at 1,000 apps (Check.cost)
REMEDIATION = "Start the file's first document with `---`, or configure present: false."


@attrs.frozen
class Options:
    present: bool = True


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    encrypted = {s.path for s in repo.sops_files if s.encrypted}
    charts = tuple(
        (posixpath.dirname(p) + "/").lstrip("/")
        for p in repo.files
        # endswith first: a basename for each of thousands of paths cost more than the rest
        if p.endswith(("Chart.yaml", "Chart.yml"))
        and posixpath.basename(p) in ("Chart.yaml", "Chart.yml")
    )
    for path, yfile in repo.files.items():  # the findings are sorted with every other
        if not yfile.documents or path in encrypted or path.startswith(charts):
            continue
        first = yfile.documents[0]
        if first.explicit_start == options.present:
            continue
        where = Location(path, first.start_line, 1)
        if options.present:
            message = "the first document does not start with `---`"
            remediation = "Add `---` on the line before the first document."
        else:
            message = "the first document starts with `---`"
            remediation = "Remove the `---` before the first document."
        yield Diagnostic(where, ID, message, SEVERITY, remediation)
