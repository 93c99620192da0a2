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
from homelab_kit.model.substitute import NameIndex, any_match
from homelab_kit_helm._support import object_namespaces

ID = "helm-values-from-resolves"
SEVERITY = Severity.ERROR
REMEDIATION = "Generate or declare the ConfigMap or Secret, or fix the valuesFrom name."

# kind -> the namespaces of each ConfigMap or Secret created, found by its names
_Produced = dict[str, NameIndex[tuple[str | None, ...]]]


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    produced = _produced(repo)
    for hr in repo.helm_releases:
        namespaces = object_namespaces(repo, hr.doc, hr.namespace)
        for ref in hr.values_from:
            if ref.optional or ref.kind not in ("ConfigMap", "Secret") or not ref.name:
                continue
            names = repo.expand(hr.doc.path, ref.name)
            if any(_meet(namespaces, where) for where in produced[ref.kind].matching(names)):
                continue
            yield Diagnostic(
                ref.source,
                ID,
                f"HelmRelease {hr.name} reads values from {ref.kind} {ref.name}, which nothing "
                "in the repository creates in its namespace",
                SEVERITY,
                REMEDIATION,
            )


def _meet(a: tuple[str | None, ...], b: tuple[str | None, ...]) -> bool:
    if None in a or None in b:
        return True
    return any_match((x for x in a if x), (y for y in b if y))


def _produced(repo: Repo) -> _Produced:
    """ConfigMaps and Secrets the repository creates: names and namespaces."""
    out: _Produced = {"ConfigMap": NameIndex(), "Secret": NameIndex()}
    for kfile, gen in repo.generators():
        where: tuple[str | None, ...] = (
            (gen.namespace,) if gen.namespace else repo.all_namespaces_of_file(kfile.path)
        ) or (None,)
        out[gen.kind].add(repo.expand(kfile.path, gen.name), where)
    for doc in repo.documents:
        if doc.group == "" and doc.kind == "ConfigMap" and doc.name:
            out["ConfigMap"].add(
                repo.expand(doc.path, doc.name), object_namespaces(repo, doc, doc.namespace)
            )
    for secret in repo.secrets:
        out["Secret"].add(
            repo.expand(secret.doc.path, secret.name),
            object_namespaces(repo, secret.doc, secret.namespace),
        )
    for infisical in repo.infisical_secrets:
        for managed in infisical.managed_secrets:
            path = infisical.doc.path
            where = (
                repo.expand(path, managed.namespace)
                if managed.namespace and managed.namespace != infisical.namespace
                else object_namespaces(repo, infisical.doc, infisical.namespace)
            )
            out["Secret"].add(repo.expand(path, managed.name), where)
    for external in repo.external_secrets:
        out["Secret"].add(
            repo.expand(external.doc.path, external.target_name),
            object_namespaces(repo, external.doc, external.namespace),
        )
    return out
