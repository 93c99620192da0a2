"""A Flux Kustomization's sourceRef must name a declared source.

## What it does
Checks that `spec.sourceRef` of every Flux `Kustomization` names a
`GitRepository` or `OCIRepository` declared in the repository (in the namespace the
reference resolves to: the written one, else the Kustomization's own).  The
`flux-system` GitRepository that bootstrap (or a FluxInstance) creates counts as
declared.  Other source kinds (`Bucket`, `ExternalArtifact`) are not checked.

## Why is this bad?
A Kustomization whose source does not exist never reconciles: it stays not ready
with "source not found", and everything that depends on it waits forever.

## Example
```yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: echo
  namespace: default
spec:
  sourceRef:
    kind: GitRepository
    name: flux-system  # resolves in namespace default, where no such source exists
```

## Use instead
```yaml
spec:
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.flux import NamespacedRef

ID = "flux-ks-source"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
LIVE = True
REMEDIATION = "Point spec.sourceRef at a declared source, with its namespace."

_CHECKED_KINDS = ("GitRepository", "OCIRepository")


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for ks in repo.kustomizations:
        ref = ks.source_ref
        if ref is None:
            continue  # a missing sourceRef is a schema error, reported as such
        if ref.kind not in _CHECKED_KINDS or _declared(repo, ref):
            continue
        where = f"{ref.resolved_namespace}/{ref.name}" if ref.resolved_namespace else ref.name
        yield Diagnostic(
            ref.source,
            ID,
            f"Kustomization {ks.name} uses {ref.kind} {where}, which is not declared",
            SEVERITY,
            REMEDIATION,
        )


def _declared(repo: Repo, ref: NamespacedRef) -> bool:
    if ref.resolved_namespace is not None:
        return repo.source_exists(ref.kind, ref.resolved_namespace, ref.name)
    # The Kustomization's namespace is unknown: any source of that name will do.
    pool = repo.git_repositories if ref.kind == "GitRepository" else repo.oci_repositories
    return any(s.name == ref.name for s in pool) or any(
        kind == ref.kind and name == ref.name for kind, _ns, name in repo.implicit_sources
    )
