"""A HelmRelease's valuesFrom must name a ConfigMap or Secret the repository creates.

## What it does
Resolves each `spec.valuesFrom` entry of every HelmRelease, in the HelmRelease's
namespace, to something the repository creates:

- a ConfigMap: a `configMapGenerator` entry of a kustomization.yaml, or a
  `ConfigMap` manifest;
- a Secret: a `secretGenerator` entry, a `Secret` manifest (SOPS-encrypted or
  not), the managed Secret of an `InfisicalSecret`, or the target of an
  `ExternalSecret`.

Each HelmRelease is read as its cluster applies it: in the namespace Flux puts it
in (`targetNamespace`, a kustomization's `namespace`), with the fields patches
set, after `postBuild` substitution and kustomize's name references.  Only what
the same cluster creates counts, and only in the release's namespace; a
repository with several clusters names the cluster where a reference fails in
one and holds in another.  The finding points at the line to edit: the
`valuesFrom` name, its `${VAR}` reference or the patch that set it.  A
generator's name hash suffix must reach the reference (kustomize rewrites it
through a `configurations:` nameReference for `spec/valuesFrom/name`), or the
generator must set `disableNameSuffixHash`.  Entries marked `optional: true` are
skipped.  (Secrets read elsewhere are checked by `secrets-consumed-secret-exists`.)

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
from homelab_kit.model.flux import HELM_GROUP, ValuesReference
from homelab_kit.model.secret_index import (
    Outcome,
    applied_of_kinds,
    created_by_kind,
    per_cluster,
    reference_problem,
)
from homelab_kit.model.secret_readers import reader_namespaces

ID = "helm-values-from-resolves"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
LIVE = True
REMEDIATION = (
    "Generate or declare the ConfigMap or Secret, or fix the valuesFrom name (a generated "
    "one needs disableNameSuffixHash or a nameReference configuration)."
)


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    index = created_by_kind(repo)
    outcomes: list[Outcome] = []
    for doc in applied_of_kinds(repo, ("HelmRelease",)):
        if doc.group != HELM_GROUP or not doc.list_at("spec", "valuesFrom"):
            continue
        name = doc.name
        namespaces = reader_namespaces(repo, doc)
        named = sorted(ns for ns in namespaces if ns)
        where = f" in namespace {named[0]}" if len(named) == 1 else ""
        for ref in ValuesReference.of_release(doc):
            if ref.optional or ref.kind not in ("ConfigMap", "Secret") or not ref.name:
                continue
            problem = reference_problem(index[ref.kind], ref.name, namespaces, doc.cluster)
            message: str | None = None
            if problem == "missing":
                message = (
                    f"HelmRelease {name} reads values from {ref.kind} {ref.name}, which "
                    f"nothing in the repository creates{where}"
                )
            elif problem == "hashed":
                message = (
                    f"HelmRelease {name} reads values from {ref.kind} {ref.name}, which is "
                    "generated with a name hash suffix that nothing rewrites this reference to"
                )
            outcomes.append((ref.source, doc.cluster, message))
    for source, message, cluster in per_cluster(outcomes):
        yield Diagnostic(source, ID, message, SEVERITY, REMEDIATION, cluster=cluster)
