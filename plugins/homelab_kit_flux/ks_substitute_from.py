"""A Flux Kustomization's substituteFrom must name a ConfigMap or Secret the repository creates.

## What it does
Checks that every `spec.postBuild.substituteFrom` entry of a Flux `Kustomization`,
as its cluster applies it (a parent's patch may add entries, substitution fill
names), names a ConfigMap or Secret created in the Kustomization's namespace in
the same cluster's desired state (a repository with several clusters does not
share them; the finding names the cluster where they differ): a
manifest (a SOPS-encrypted Secret counts), a kustomize generator, the Secret an
InfisicalSecret or ExternalSecret manages, an operator's object, or bootstrap.  Entries
marked `optional: true` may be missing.  A generated ConfigMap or Secret must not
carry kustomize's name hash suffix, since Flux looks it up by its exact name.

## Why is this bad?
Flux cannot build a Kustomization whose substituteFrom source is missing: the app
never deploys ("substitute from 'Secret/cluster-secrets' error: secrets not found").

## Example
```yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: sonarr
  namespace: media
spec:
  postBuild:
    substituteFrom:
      - kind: Secret
        name: cluster-secret  # the InfisicalSecret creates cluster-secrets
```

## Use instead
```yaml
spec:
  postBuild:
    substituteFrom:
      - kind: Secret
        name: cluster-secrets
```
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.flux import KUSTOMIZE_GROUP
from homelab_kit.model.secret_index import (
    Namespaces,
    Pending,
    SecretProducer,
    applied_of_kinds,
    created_by_kind,
    is_produced,
    per_cluster_at,
    reference_problem,
)
from homelab_kit.model.secret_readers import reader_namespaces
from homelab_kit.model.substitute import NameIndex

ID = "flux-ks-substitute-from"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 10  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
SHARED = (created_by_kind,)  # also read by other plugins' checks (Check.shared)
REMEDIATION = "Fix the name, create the ConfigMap or Secret in this namespace, or mark it optional."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    index = created_by_kind(repo)
    outcomes: list[Pending] = []
    for doc in applied_of_kinds(repo, ("Kustomization",)):
        if doc.group != KUSTOMIZE_GROUP:
            continue
        # The entries FluxKustomization.substitute_from holds, read without the rest.
        path = ("spec", "postBuild", "substituteFrom")
        namespaces: Namespaces | None = None
        where = ""
        for i, item in enumerate(doc.list_at(*path)):
            if not isinstance(item, Mapping) or item.get("optional") is True:
                continue
            kind, name = str(item.get("kind", "")), str(item.get("name", ""))
            if kind not in ("ConfigMap", "Secret") or not name:
                continue
            if namespaces is None:
                namespaces = reader_namespaces(repo, doc)
                named = sorted(ns for ns in namespaces if ns)
                where = f" in namespace {named[0]}" if len(named) == 1 else ""
            problem = reference_problem(index[kind], name, namespaces, doc.cluster)
            message: str | None = None
            if problem == "missing":
                message = (
                    f"Kustomization {doc.name} substitutes from {kind} {name}, "
                    f"which nothing in the repository creates{where}"
                    f"{_elsewhere(index[kind], name, namespaces, doc.cluster)}"
                )
            elif problem == "hashed":
                message = (
                    f"Kustomization {doc.name} substitutes from {kind} {name}, which "
                    f"is generated with a name hash suffix, so Flux cannot find it by name"
                )
            outcomes.append((doc, (*path, i), doc.cluster, message))
    for source, message, cluster in per_cluster_at(outcomes):
        yield Diagnostic(source, ID, message, SEVERITY, REMEDIATION, cluster=cluster)


def _elsewhere(
    made: NameIndex[SecretProducer], name: str, namespaces: Namespaces, cluster: str | None
) -> str:
    """Where a missing object is created instead, if anywhere: what the user mistook."""
    if cluster is not None and is_produced(made, (name,), namespaces):
        return ", only in another cluster"
    if is_produced(made, (name,), (None,), cluster):
        return ", only in another namespace"
    return ""
