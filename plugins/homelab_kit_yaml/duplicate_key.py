"""A mapping must not repeat a key.

## What it does
Reports a key written twice in the same mapping.

## Why is this bad?
YAML forbids duplicate keys, yet most parsers silently keep the last one: the
first value is ignored without a word. Kubernetes' own decoder rejects the object
in strict mode, so a file that "works" locally can fail in the cluster, and a
reviewer reading the first value is reading a value nobody uses.

## Example
```yaml
spec:
  interval: 1h
  prune: true
  interval: 10m
```

## Use instead
```yaml
spec:
  interval: 10m
  prune: true
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_yaml._problems import problems

ID = "yaml-duplicate-key"
SCOPE = "file"  # its findings about a file depend on that file alone
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
REMEDIATION = "Keep one of the keys and delete the other."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    yield from problems(repo, ("duplicate-key",), ID, SEVERITY, REMEDIATION)
