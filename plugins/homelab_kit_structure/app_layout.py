"""A Flux Kustomization must deploy its app's app/ folder, not the folder holding ks.yaml.

## What it does
Reports a Flux Kustomization of an app whose `spec.path` is the app folder itself
(the folder that holds its `ks.yaml`) instead of a subfolder such as `app/`.  The
namespace's `secrets/` folder is exempt: its documented layout is flat.

## Why is this bad?
The standard app is `ks.yaml` next to an `app/` folder with the manifests.  Pointing
Flux at the folder holding `ks.yaml` mixes the Flux object with what it deploys: one
missing kustomization.yaml and Flux applies the ks.yaml itself, values files and
everything else in the folder, and app tooling (scaffolds, renames, reviews) can no
longer tell the two apart.

## Example
```yaml
# kubernetes/apps/media/pvc/ks.yaml
spec:
  path: ./kubernetes/apps/media/pvc
```

## Use instead
```yaml
# kubernetes/apps/media/pvc/ks.yaml, manifests in kubernetes/apps/media/pvc/app/
spec:
  path: ./kubernetes/apps/media/pvc/app
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_structure._common import spec_path

ID = "structure-app-layout"
SEVERITY = Severity.WARNING
CATEGORY = "convention"
REMEDIATION = "Move the app's manifests into an app/ folder and point spec.path at it."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for app in repo.apps:
        if app.is_secrets:
            continue
        for ks in app.kustomizations:
            if spec_path(ks) != app.directory:
                continue
            yield Diagnostic(
                ks.doc.location("spec", "path"),
                ID,
                f"Kustomization {ks.name} deploys the folder holding its ks.yaml, "
                f"{app.directory}, instead of {app.directory}/app",
                SEVERITY,
                REMEDIATION,
            )
