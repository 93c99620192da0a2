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

from collections.abc import Iterator, Mapping

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.flux import HELM_GROUP
from homelab_kit.model.secret_index import (
    Pending,
    applied_of_kinds,
    created_by_kind,
    per_cluster_at,
    reference_problem,
)
from homelab_kit.model.secret_readers import reader_namespaces

ID = "helm-values-from-resolves"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 15  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
SHARED = (created_by_kind,)  # also read by other plugins' checks (Check.shared)
REMEDIATION = (
    "Generate or declare the ConfigMap or Secret, or fix the valuesFrom name (a generated "
    "one needs disableNameSuffixHash or a nameReference configuration)."
)


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    index = created_by_kind(repo)
    outcomes: list[Pending] = []
    for doc in applied_of_kinds(repo, ("HelmRelease",)):
        entries = doc.list_at("spec", "valuesFrom")
        if doc.group != HELM_GROUP or not entries:
            continue
        name = doc.name
        namespaces = reader_namespaces(repo, doc)
        named = sorted(ns for ns in namespaces if ns)
        where = f" in namespace {named[0]}" if len(named) == 1 else ""
        # The entries ValuesReference.of_release reads, located only when one fails.
        for i, item in enumerate(entries):
            if not isinstance(item, Mapping) or item.get("optional") is True:
                continue
            kind, ref = str(item.get("kind", "")), str(item.get("name", ""))
            if kind not in ("ConfigMap", "Secret") or not ref:
                continue
            problem = reference_problem(index[kind], ref, namespaces, doc.cluster)
            message: str | None = None
            if problem == "missing":
                message = (
                    f"HelmRelease {name} reads values from {kind} {ref}, which "
                    f"nothing in the repository creates{where}"
                )
            elif problem == "hashed":
                message = (
                    f"HelmRelease {name} reads values from {kind} {ref}, which is "
                    "generated with a name hash suffix that nothing rewrites this reference to"
                )
            outcomes.append((doc, ("spec", "valuesFrom", i), doc.cluster, message))
    for source, message, cluster in per_cluster_at(outcomes):
        yield Diagnostic(source, ID, message, SEVERITY, REMEDIATION, cluster=cluster)
