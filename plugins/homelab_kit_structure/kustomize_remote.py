"""Remote kustomize references are fetched at build time and not checked.

## What it does
Reports `resources` and `components` of a kustomization.yaml that are URLs or Git
references (`https://...`, `github.com/...`), which homelab-kit never fetches.

## Why is this bad?
A remote reference is code from elsewhere applied to the cluster on every
reconcile: it can change under you unless pinned to a commit or tag, it fails when
the remote is unreachable, and no local check sees what it contains.

## Example
```yaml
resources:
  - https://github.com/kubernetes-sigs/gateway-api/releases/latest/download/standard-install.yaml
```

## Use instead
```yaml
resources:
  # pinned to a release; or vendor the file, or deploy it with a HelmRelease
  - https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.3.0/standard-install.yaml
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity

ID = "structure-kustomize-remote"
SEVERITY = Severity.INFO
CATEGORY = "security"
REMEDIATION = "Pin the reference to a tag or commit, or vendor what it names."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for kfile in repo.kustomize_files:
        for entry in kfile.all_entries():
            if entry.status == "remote":
                yield Diagnostic(
                    entry.source,
                    ID,
                    f"{kfile.path} names remote {entry.field} {entry.value}, which is not checked",
                    SEVERITY,
                    REMEDIATION,
                )
