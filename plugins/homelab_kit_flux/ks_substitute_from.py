"""A Flux Kustomization's substituteFrom must name a ConfigMap or Secret the repository creates.

## What it does
Checks that every `spec.postBuild.substituteFrom` entry of a Flux `Kustomization`
names a ConfigMap or Secret created in the Kustomization's namespace by a file
of the same cluster (a repository with several clusters does not share them): a
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

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.secret_index import clusters_of
from homelab_kit_flux._common import find_producers

ID = "flux-ks-substitute-from"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
LIVE = True
REMEDIATION = "Fix the name, create the ConfigMap or Secret in this namespace, or mark it optional."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for ks in repo.kustomizations:
        for ref in ks.substitute_from:
            if ref.optional or ref.kind not in ("ConfigMap", "Secret") or not ref.name:
                continue
            found = [
                p
                for p in find_producers(repo, ref.kind, ks.namespace, ref.name)
                if _same_cluster(repo, ks.doc.path, p.path)
            ]
            where = f" in namespace {ks.namespace}" if ks.namespace else ""
            if not found:
                message = (
                    f"Kustomization {ks.name} substitutes from {ref.kind} {ref.name}, "
                    f"which nothing in the repository creates{where}"
                )
            elif all(p.hashed for p in found):
                message = (
                    f"Kustomization {ks.name} substitutes from {ref.kind} {ref.name}, which "
                    f"is generated with a name hash suffix, so Flux cannot find it by name"
                )
            else:
                continue
            yield Diagnostic(ref.source, ID, message, SEVERITY, REMEDIATION)


def _same_cluster(repo: Repo, reader: str, producer: str) -> bool:
    """Whether a cluster deploying ``reader`` deploys ``producer`` (or either is in none)."""
    theirs = clusters_of(repo, reader)
    mine = clusters_of(repo, producer) if producer else frozenset()
    return not theirs or not mine or bool(theirs & mine)
