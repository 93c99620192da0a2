"""Objects must not use an apiVersion the target Kubernetes or Flux no longer serves.

## What it does
Reports every object, kustomize patch and Flux Kustomization health check whose
`apiVersion` (for its `kind`) was removed in the Kubernetes version the
repository targets, or in the Flux release it runs, with the replacement in the
message (like Pluto and kubent, from a built-in table).

Objects and Flux Kustomizations are read as each cluster applies them: an
apiVersion a patch or `postBuild` substitution sets is reported at the patch or
the `${VAR}` reference, a health check a parent Kustomization's patch injects at
that patch, and the finding names the cluster when the repository's clusters
apply the object differently. Files no cluster deploys are not checked.

The Kubernetes version is `kubernetes-version` from `.homelab-kit.yaml`, else
`kubernetesVersion` from `talos/talenv.yaml`; without either, the newest release
the table knows. The Flux version is the `flux-version` option, else the oldest
release the repository pins: a flux-operator FluxInstance's `spec.distribution.version` (as a
manifest or in the `flux-instance` chart's values), the `ref.tag` or `ref.semver`
of an OCIRepository of `oci://ghcr.io/fluxcd/flux-manifests`, a kustomization.yaml
resource `github.com/fluxcd/flux2/manifests/install?ref=v2.3.0` (or a release's
`install.yaml`), or the `# Flux Version:` header of `gotk-components.yaml`
(`2.x` pins nothing). A repository that pins none is judged against the newest
Flux release the table knows, and a Flux removal found that way is a warning
that says so: the clusters may run a release that still serves the API.

Where the replacement takes the same fields (for example
`helm.toolkit.fluxcd.io/v2beta2` to `v2`, `batch/v1beta1` CronJob to `batch/v1`)
the finding carries a fix that changes the apiVersion.

## Options
- `flux-version` (default `""`: the oldest release pinned, else the newest): the Flux
  release to judge Flux apiVersions against, such as `"2.6"`.

## Why is this bad?
The API server (or Flux, for its own kinds) rejects objects of a removed
version: the Flux Kustomization that applies them fails, and everything else in
it stops reconciling too. A health check on a removed version never succeeds.

## Example
```yaml
apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
```

## Use instead
```yaml
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
```
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_apiversions._table import diagnostic, findings, unpinned_flux

ID = "api-removed"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
LIVE = True
REMEDIATION = "Change the apiVersion to the replacement and migrate any renamed fields."
FIXABLE = True


@attrs.frozen
class Options:
    flux_version: str = ""


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    for use, change, target, cluster in findings(repo, options.flux_version, removed=True):
        # a Flux removal is a fact only for a Flux release the repository pins
        severity = Severity.WARNING if unpinned_flux(change, target) else SEVERITY
        yield diagnostic(ID, severity, REMEDIATION, use, change, target, "removed", cluster)
