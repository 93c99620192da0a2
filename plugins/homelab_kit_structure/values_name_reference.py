"""A generated values ConfigMap needs a nameReference so its hashed name reaches the HelmRelease.

## What it does
For every HelmRelease `valuesFrom` entry naming a ConfigMap or Secret that a kustomize
generator makes with a name hash suffix (the default), checks that a kustomize
`configurations` file of that kustomization (or one including it) holds a
`nameReference` for that kind covering `spec/valuesFrom/name` of `HelmRelease`
(a `kustomizeconfig.yaml`).

## Why is this bad?
Kustomize renames generated objects to `sonarr-values-7h2k9c` but only updates the
references it knows, and HelmRelease is not one of them.  The HelmRelease keeps
asking for `sonarr-values`, which does not exist: the release fails, or keeps
running with stale values after every change.

## Example
```yaml
# app/kustomization.yaml
configMapGenerator:
  - name: sonarr-values
    files:
      - values.yaml=./helm/values.yaml
```

## Use instead
```yaml
# app/kustomization.yaml
configMapGenerator:
  - name: sonarr-values
    files:
      - values.yaml=./helm/values.yaml
configurations:
  - ./helm/kustomizeconfig.yaml
---
# app/helm/kustomizeconfig.yaml
nameReference:
  - kind: ConfigMap
    version: v1
    fieldSpecs:
      - path: spec/valuesFrom/name
        kind: HelmRelease
```
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.base import as_list
from homelab_kit.model.kustomize import KustomizeFile
from homelab_kit_structure._common import including_kustomizations, values_generator

ID = "structure-values-name-reference"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 10  # CPU ms at 1,000 apps (Check.cost)
REMEDIATION = (
    "Add a kustomizeconfig.yaml with a nameReference for spec/valuesFrom/name of "
    "HelmRelease to the kustomization's configurations."
)

_FIELD = "spec/valuesFrom/name"


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for release in repo.helm_releases:
        for ref in release.values_from:
            if ref.kind not in ("ConfigMap", "Secret"):
                continue
            found = values_generator(repo, release, ref)
            if found is None or found[1].disable_name_suffix_hash:
                continue
            kfile = found[0]
            scope = [kfile, *including_kustomizations(repo, kfile.directory)]
            if any(_covers(repo, k, ref.kind) for k in scope):
                continue
            yield Diagnostic(
                ref.source,
                ID,
                f"HelmRelease {release.name} reads {ref.kind} {ref.name}, which {kfile.path} "
                f"generates with a hash suffix, and no nameReference updates {_FIELD}",
                SEVERITY,
                REMEDIATION,
            )


def _covers(repo: Repo, kfile: KustomizeFile, kind: str) -> bool:
    for entry in kfile.configurations:
        yfile = repo.files.get(entry.target or "")
        for document in yfile.documents if yfile else ():
            if isinstance(document.data, Mapping) and _has_reference(document.data, kind):
                return True
    return False


def _has_reference(config: Mapping[str, Any], kind: str) -> bool:
    for item in as_list(config.get("nameReference")):
        if not isinstance(item, Mapping) or item.get("kind") != kind:
            continue
        for spec in as_list(item.get("fieldSpecs")):
            if (
                isinstance(spec, Mapping)
                and spec.get("kind") in (None, "HelmRelease")
                and str(spec.get("path", "")).strip("/") == _FIELD
            ):
                return True
    return False
