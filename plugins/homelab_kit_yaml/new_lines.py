r"""Files use Unix line endings and no byte-order mark.

## What it does
Reports YAML files with Windows (CRLF, `\r\n`) line endings, and files that begin with
a UTF byte-order mark (yamllint's `new-lines` rule with `type: unix`, plus the
BOM).

## Why is this bad?
Git repositories shared between machines should hold one line-ending style;
with CRLF every line of a file shows as changed once someone's editor converts
it, and tools that do not strip the carriage return read `true\r` as a string.
A byte-order mark is invisible, and not every YAML tool accepts it.

## Example
```yaml
---\r
apiVersion: v1\r
kind: Namespace\r
```

## Use instead
```yaml
---
apiVersion: v1
kind: Namespace
```
(Set `* text=auto eol=lf` in `.gitattributes` to keep it that way.)
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Location, Repo, Severity

ID = "yaml-new-lines"
SCOPE = "file"  # its findings about a file depend on that file alone
SEVERITY = Severity.WARNING
CATEGORY = "style"
REMEDIATION = "Convert the file to Unix line endings (LF) without a byte-order mark."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for path, yfile in sorted((p, f) for p, f in repo.files.items() if f.has_bom or f.crlf):
        if yfile.has_bom:
            message = "the file starts with a byte-order mark"
            yield Diagnostic(Location(path, 1, 1), ID, message, SEVERITY, REMEDIATION)
        if yfile.crlf:
            message = "the file uses Windows (CRLF) line endings"
            yield Diagnostic(Location(path, 1, 1), ID, message, SEVERITY, REMEDIATION)
