"""A Flux Kustomization must not substitute from an object only its own build creates.

## What it does
For every `spec.postBuild.substituteFrom` entry of a Flux `Kustomization` that is
not `optional: true`, finds what creates the named ConfigMap or Secret in the
Kustomization's namespace (a manifest, a generator, an InfisicalSecret or
ExternalSecret, an operator's object, bootstrap material).  When every such
producer is a file this same Kustomization deploys, it reports a bootstrap
deadlock.  A producer elsewhere (another Kustomization, bootstrap) clears it, and
so does a root Kustomization (one no other Kustomization deploys, the cluster's
entry point, even when it manages itself): bootstrap applies it, and the
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
from homelab_kit_flux._common import files_deployed_by, find_producers

ID = "flux-ks-substitute-deadlock"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
LIVE = True
REMEDIATION = (
    "Create the object in a separate Kustomization this one depends on (a secrets/ "
    "Kustomization), or mark the substituteFrom entry optional."
)


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for ks in repo.kustomizations:
        parents = [k for k in repo.deployed_by.get(ks.doc.path, ()) if k != ks.key]
        if not ks.substitute_from or not parents:
            continue  # a root: bootstrap applies it, and its variables, by hand
        own = set(files_deployed_by(repo, ks))
        for ref in ks.substitute_from:
            if ref.optional or ref.kind not in ("ConfigMap", "Secret") or not ref.name:
                continue
            found = find_producers(repo, ref.kind, ks.namespace, ref.name)
            if not found or any(p.path not in own for p in found):
                continue
            made_by = sorted({p.path for p in found})[0]
            yield Diagnostic(
                ref.source,
                ID,
                f"Kustomization {ks.name} substitutes from {ref.kind} {ref.name}, which only "
                f"its own build creates ({made_by}): on a fresh cluster Flux can never build "
                "it, so the object is never created (the guide keeps InfisicalSecrets in a "
                "separate secrets/ Kustomization for this reason)",
                SEVERITY,
                REMEDIATION,
            )
