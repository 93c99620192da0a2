"""A Flux Kustomization must not substitute from an object only its own build creates.

## What it does
For every `spec.postBuild.substituteFrom` entry of a Flux `Kustomization` that is
not `optional: true`, finds what creates the named ConfigMap or Secret in the
Kustomization's namespace, in the cluster that applies it (a manifest, a generator,
an InfisicalSecret or ExternalSecret, an operator's object, bootstrap material; one
written without a namespace counts where its Kustomization's `targetNamespace` puts
it).  When every such producer is built by this same Kustomization, it reports a
bootstrap deadlock.  A producer elsewhere in the same cluster (another
Kustomization, bootstrap) clears it; one only another cluster applies does not.
A root Kustomization (one no other Kustomization deploys, the cluster's entry
point, even when it manages itself) is not judged: bootstrap applies it, and the
cluster-template layouts apply its `flux/vars` objects by hand just before.

## Why is this bad?
Flux substitutes variables *before* it applies anything: the build needs the
object first, and the object is only created by applying that build.  On a
fresh cluster the Kustomization fails with "substitute from 'Secret/...' error:
secrets not found" forever.  It works today only because the object was created
once by hand or by an older layout.  This is why the guide keeps InfisicalSecrets
in a separate `secrets/` Kustomization the apps depend on.

## Example
```yaml
# kubernetes/apps/media/sonarr/ks.yaml; app/ holds the InfisicalSecret
# that creates sonarr-vars
spec:
  path: ./kubernetes/apps/media/sonarr/app
  postBuild:
    substituteFrom:
      - kind: Secret
        name: sonarr-vars
```

## Use instead
```yaml
# the InfisicalSecret moves to kubernetes/apps/media/secrets/ (its own
# Kustomization), and sonarr depends on it
spec:
  dependsOn:
    - name: secrets
  path: ./kubernetes/apps/media/sonarr/app
  postBuild:
    substituteFrom:
      - kind: Secret
        name: sonarr-vars
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.flux import FluxKustomization
from homelab_kit.model.secret_index import (
    Namespaces,
    Outcome,
    SecretProducer,
    created_by_kind,
    per_cluster,
)
from homelab_kit_flux._common import files_deployed_by, find_producers, kustomization_copies

ID = "flux-ks-substitute-deadlock"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 15  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
SHARED = (created_by_kind,)  # also read by other plugins' checks (Check.shared)
REMEDIATION = (
    "Create the object in a separate Kustomization this one depends on (a secrets/ "
    "Kustomization), or mark the substituteFrom entry optional."
)


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    outcomes: list[Outcome] = []
    for ks in repo.kustomizations:
        parents = [k for k in repo.deployed_by.get(ks.doc.path, ()) if k != ks.key]
        if not ks.substitute_from or not parents:
            continue  # a root: bootstrap applies it, and its variables, by hand
        own = set(files_deployed_by(repo, ks))
        for cluster, namespaces in kustomization_copies(repo, ks):
            for ref in ks.substitute_from:
                if ref.optional or ref.kind not in ("ConfigMap", "Secret") or not ref.name:
                    continue
                found = find_producers(repo, ref.kind, namespaces, ref.name, cluster)
                if not found:
                    continue  # nothing creates it: flux-ks-substitute-from says so
                mine = [p for p in found if _built_by(p, ks, own)]
                message = None
                if len(mine) == len(found):
                    message = _message(repo, ks, ref.kind, ref.name, mine, namespaces, cluster)
                outcomes.append((ref.source, cluster, message))
    for source, message, cluster in per_cluster(outcomes):
        yield Diagnostic(source, ID, message, SEVERITY, REMEDIATION, cluster=cluster)


def _built_by(producer: SecretProducer, ks: FluxKustomization, own: set[str]) -> bool:
    """Whether ``ks``'s own build creates ``producer`` (by its build; else by its files)."""
    if producer.applied_by is not None:
        return producer.applied_by == ks.key
    return bool(producer.path) and producer.path in own


def _message(
    repo: Repo,
    ks: FluxKustomization,
    kind: str,
    name: str,
    mine: list[SecretProducer],
    namespaces: Namespaces,
    cluster: str | None,
) -> str:
    made_by = sorted({p.path for p in mine})[0]
    elsewhere = ""
    if cluster is not None:
        others = find_producers(repo, kind, namespaces, name, None)
        if any(p.cluster not in (None, cluster) for p in others):
            elsewhere = " (another cluster's does not count)"
    return (
        f"Kustomization {ks.name} substitutes from {kind} {name}, which only "
        f"its own build creates ({made_by}){elsewhere}: on a fresh cluster Flux can never "
        "build it, so the object is never created (the guide keeps InfisicalSecrets in a "
        "separate secrets/ Kustomization for this reason)"
    )
