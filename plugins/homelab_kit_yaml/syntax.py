"""YAML files must parse.

## What it does
Reports every file that is not valid YAML, or that cannot be read safely: syntax
errors, tab characters used for indentation, text that is not UTF-8 (or UTF-16/32
with a byte-order mark), binary files, files larger than `max-file-size`,
unreadable files, nesting deeper than 256 levels, an alias inside the node its
anchor names (a node that contains itself, which kubectl refuses too), and aliases
that expand too far (a "billion laughs" alias bomb): a document past a million
nodes, a file where more comes from aliases than Go's YAML reader allows, or a
run past its budget of nodes from aliases.

Duplicate keys and undefined or cross-document aliases have checks of their own
(`yaml-duplicate-key`, `yaml-undefined-alias`, `yaml-cross-document-alias`).

## Why is this bad?
Flux's kustomize-controller refuses the whole Kustomization when one file in it
fails to parse, so one stray tab stops every app in that Kustomization from
reconciling. A file the linter cannot read is a file no other check looked at.

## Example
```yaml
spec:
        interval: 1h   # indented with a tab
```

## Use instead
```yaml
spec:
  interval: 1h
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_yaml._problems import problems

ID = "yaml-syntax"
SCOPE = "file"  # its findings about a file depend on that file alone
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
REMEDIATION = "Fix the YAML so it parses (spaces for indentation, UTF-8 text)."

CODES = frozenset(
    (
        "syntax",
        "tab",
        "encoding",
        "binary",
        "too-large",
        "unreadable",
        "too-deep",
        "alias-bomb",
        "recursive-alias",
    )
)


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    yield from problems(repo, CODES, ID, SEVERITY, REMEDIATION)
