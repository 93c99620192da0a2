"""The folder an app's Flux Kustomization deploys must have a kustomization.yaml.

## What it does
Reports a Flux Kustomization of an app whose `spec.path` is a folder of the app
without a kustomization.yaml.

## Why is this bad?
Without a kustomization.yaml, Flux generates one from every YAML file below the
folder: a `helm/values.yaml` or `kustomizeconfig.yaml` is applied as if it were a
Kubernetes object and the build fails, or a file meant to stay out (an example, a
disabled manifest) is quietly deployed.  An explicit list says what the app is.

## Example
```text
kubernetes/apps/default/echo/app/helmrelease.yaml
kubernetes/apps/default/echo/app/helm/values.yaml  # no app/kustomization.yaml
```

## Use instead
```yaml
# kubernetes/apps/default/echo/app/kustomization.yaml
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ./helmrelease.yaml
configMapGenerator:
  - name: echo-values
    files:
      - values.yaml=./helm/values.yaml
configurations:
  - ./helm/kustomizeconfig.yaml
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_structure._common import loaded, spec_path

ID = "structure-app-kustomization"
SEVERITY = Severity.WARNING
CATEGORY = "convention"
REMEDIATION = "Add a kustomization.yaml listing the folder's manifests."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for app in repo.apps:
        for ks in app.kustomizations:
            path = spec_path(ks)
            if path is None or not (path == app.directory or path.startswith(app.directory + "/")):
                continue
            if repo.kustomize_file(path) is not None or not loaded(repo, path):
                continue
            yield Diagnostic(
                ks.doc.location("spec", "path"),
                ID,
                f"Kustomization {ks.name} deploys {path}, which has no kustomization.yaml",
                SEVERITY,
                REMEDIATION,
            )
