"""Every path a kustomization.yaml names must exist.

## What it does
Checks every local path of every kustomization.yaml: `resources`, `components`,
generator `files` and `envs`, `patches` and `configurations`.  Each must exist, and
a folder named under `resources` or `components` must hold a kustomization.yaml.

## Why is this bad?
`kustomize build` stops at the first missing path, so the Flux Kustomization fails
and nothing in it deploys; a stale entry left behind by a rename or a deleted app
breaks the whole namespace.

## Example
```yaml
# kubernetes/apps/media/kustomization.yaml
resources:
  - ./sonarr/ks.yaml
  - ./radar/ks.yaml  # the folder is radarr
```

## Use instead
```yaml
resources:
  - ./sonarr/ks.yaml
  - ./radarr/ks.yaml
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_structure._common import loaded

ID = "structure-kustomize-missing"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
REMEDIATION = "Fix the path, restore the file, or remove the entry."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for kfile in repo.kustomize_files:
        for entry in kfile.all_entries():
            if entry.status == "missing":
                message = f"{kfile.path} names {entry.value} in {entry.field}, which does not exist"
            elif (
                entry.status == "dir"
                and entry.field in ("resources", "components")
                and entry.target is not None
                and repo.kustomize_file(entry.target) is None
                and loaded(repo, entry.target)
            ):
                message = (
                    f"{kfile.path} names folder {entry.value} in {entry.field}, "
                    f"which has no kustomization.yaml"
                )
            else:
                continue
            yield Diagnostic(entry.source, ID, message, SEVERITY, REMEDIATION)
