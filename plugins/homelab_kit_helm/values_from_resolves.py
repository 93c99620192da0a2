"""A HelmRelease's valuesFrom must name a ConfigMap or Secret the repository creates.

## What it does
Resolves each `spec.valuesFrom` entry of every HelmRelease, in the HelmRelease's
namespace, to something the repository creates:

- a ConfigMap: a `configMapGenerator` entry of a kustomization.yaml, or a
  `ConfigMap` manifest;
- a Secret: a `secretGenerator` entry, a `Secret` manifest (SOPS-encrypted or
  not), the managed Secret of an `InfisicalSecret`, or the target of an
  `ExternalSecret`.

Entries marked `optional: true` are skipped.  Names are compared after the
deploying Flux Kustomization's inline `postBuild.substitute` variables are
applied.  (Secrets read elsewhere are checked by `secrets-consumed-secret-exists`.)

## Why is this bad?
Flux cannot render the release without its values: the HelmRelease fails with
"could not find ConfigMap" and the app is not installed or upgraded.

## Example
```yaml
# app/kustomization.yaml
configMapGenerator:
  - name: echo-values
    files:
      - values.yaml=./helm/values.yaml
---
# app/helmrelease.yaml
spec:
  valuesFrom:
    - kind: ConfigMap
      name: echo-value   # typo: no such ConfigMap
```

## Use instead
```yaml
spec:
  valuesFrom:
    - kind: ConfigMap
      name: echo-values
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.secret_index import (
    Namespaces,
    config_map_producers,
    is_produced,
    namespaces_meet,
    object_namespaces,
    producer_index,
    secret_producers,
)
from homelab_kit.model.substitute import NameIndex

ID = "helm-values-from-resolves"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
LIVE = True
REMEDIATION = "Generate or declare the ConfigMap or Secret, or fix the valuesFrom name."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    config_maps = _config_maps(repo)
    secrets = producer_index(secret_producers(repo))
    for hr in repo.helm_releases:
        namespaces = object_namespaces(repo, hr.doc, hr.namespace)
        for ref in hr.values_from:
            if ref.optional or ref.kind not in ("ConfigMap", "Secret") or not ref.name:
                continue
            names = repo.expand(hr.doc.path, ref.name)
            if ref.kind == "Secret":
                if is_produced(secrets, names, namespaces, repo, hr.doc.path):
                    continue
            elif any(namespaces_meet(namespaces, where) for where in config_maps.matching(names)):
                continue
            yield Diagnostic(
                ref.source,
                ID,
                f"HelmRelease {hr.name} reads values from {ref.kind} {ref.name}, which nothing "
                "in the repository creates in its namespace",
                SEVERITY,
                REMEDIATION,
            )


def _config_maps(repo: Repo) -> NameIndex[Namespaces]:
    """ConfigMaps the repository creates: the namespaces of each, found by its names."""
    out: NameIndex[Namespaces] = NameIndex()
    live = repo.is_deployed  # what no cluster deploys creates nothing
    for kfile, gen in repo.generators():
        if gen.kind != "ConfigMap" or not live(kfile.path):
            continue
        where: Namespaces = (
            (gen.namespace,) if gen.namespace else repo.all_namespaces_of_file(kfile.path)
        ) or (None,)
        out.add(repo.expand(kfile.path, gen.name), where)
    for doc in repo.documents:
        if doc.group == "" and doc.kind == "ConfigMap" and doc.name and live(doc.path):
            out.add(repo.expand(doc.path, doc.name), object_namespaces(repo, doc, doc.namespace))
    for producer in config_map_producers(repo):  # an ObjectBucketClaim's, ...
        out.add(producer.names, producer.namespaces)
    return out
