"""A release's values delivered by a generated ConfigMap live in helm/values.yaml.

## What it does
For every HelmRelease whose main values (`valuesKey: values.yaml`, the default) come
from a ConfigMap that a kustomize `configMapGenerator` makes from a file, checks that
the file is `helm/values.yaml` next to that kustomization.yaml.  Releases with inline
`spec.values`, and extra values files under other keys, are not concerned: this is
a layout for repositories that keep values in files.

## Options
- `values-file` (default `helm/values.yaml`): where the values file lives, relative
  to the kustomization.yaml that generates the ConfigMap.

## Why is this bad?
One fixed place for values lets people, Renovate rules and scaffolds find and
update them; values scattered across `values.yaml`, `app/values.yml` and
`config/helm.yaml` get missed on upgrades and reviewed as if they were manifests.

## Example
```yaml
# kubernetes/apps/media/sonarr/app/kustomization.yaml
configMapGenerator:
  - name: sonarr-values
    files:
      - values.yaml=./values.yaml
```

## Use instead
```yaml
configMapGenerator:
  - name: sonarr-values
    files:
      - values.yaml=./helm/values.yaml
```
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_structure._common import values_generator

ID = "structure-values-file"
SEVERITY = Severity.WARNING
CATEGORY = "convention"
COST = 5  # CPU ms at 1,000 apps (Check.cost)
REMEDIATION = "Move the values file to helm/values.yaml and update the configMapGenerator."


@attrs.frozen
class Options:
    values_file: str = "helm/values.yaml"


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    for release in repo.helm_releases:
        for ref in release.values_from:
            if ref.kind != "ConfigMap" or ref.values_key != "values.yaml":
                continue
            found = values_generator(repo, release, ref)
            if found is None:
                continue
            kfile, gen = found
            expected = posixpath.normpath(posixpath.join(kfile.directory, options.values_file))
            for key, entry in zip(gen.file_keys, gen.files, strict=False):
                if key != ref.values_key or entry.target is None or entry.target == expected:
                    continue
                yield Diagnostic(
                    entry.source,
                    ID,
                    f"HelmRelease {release.name} takes its values from {entry.target}, "
                    f"not {expected}",
                    SEVERITY,
                    REMEDIATION.replace("helm/values.yaml", options.values_file),
                )
