"""A kustomization.yaml must not reach outside the repository.

## What it does
Reports `resources`, `components`, generator files, patches and configurations of a
kustomization.yaml whose path is absolute or climbs above the repository root.

## Why is this bad?
Flux builds from the repository alone: a path outside it does not exist in the
cluster's checkout, so the build fails there even when it works on the laptop that
happens to have the other folder.  Absolute paths tie the repository to one machine.

## Example
```yaml
resources:
  - ../../../../shared/common.yaml
```

## Use instead
```yaml
resources:
  - ../../components/common
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity

ID = "structure-kustomize-outside"
SEVERITY = Severity.ERROR
CATEGORY = "security"
REMEDIATION = "Move what it names into the repository and use a relative path."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for kfile in repo.kustomize_files:
        for entry in kfile.all_entries():
            if entry.status == "outside":
                yield Diagnostic(
                    entry.source,
                    ID,
                    f"{kfile.path} names {entry.value} in {entry.field}, outside the repository",
                    SEVERITY,
                    REMEDIATION,
                )
