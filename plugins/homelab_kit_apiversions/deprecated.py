"""Objects should not use a deprecated apiVersion.

## What it does
Reports every object, kustomize patch and Flux Kustomization health check whose
`apiVersion` (for its `kind`) is deprecated, but still served, in the Kubernetes
version the repository targets or in the Flux release it runs, with the
replacement in the message. Versions already removed are `api-removed`'s.

Objects and Flux Kustomizations are read as each cluster applies them: an
apiVersion a patch or `postBuild` substitution sets is reported at the patch or
the `${VAR}` reference, a health check a parent Kustomization's patch injects at
that patch, and the finding names the cluster when the repository's clusters
apply the object differently. Files no cluster deploys are not checked.

The target versions are found as `api-removed` finds them (`kubernetes-version`
in `.homelab-kit.yaml`, else `talos/talenv.yaml`; the `flux-version` option,
else the oldest Flux release the repository pins (a FluxInstance, the
`flux-manifests` OCIRepository, the `flux2` install kustomization or the
`gotk-components.yaml` header); else the newest releases the table knows). Where the replacement
takes the same fields the finding carries a fix that changes the apiVersion.

## Options
- `flux-version` (default `""`: the oldest release pinned, else the newest): the Flux
  release to judge Flux apiVersions against, such as `"2.6"`.

## Why is this bad?
A deprecated version is removed in a later release: the upgrade that removes it
fails the Flux Kustomization applying the object. Migrating while both versions
are served is a one-line change; after the upgrade it is an outage.

## Example
```yaml
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
```

## Use instead
```yaml
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
```
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_apiversions._table import diagnostic, findings

ID = "api-deprecated"
SEVERITY = Severity.WARNING
CATEGORY = "correctness"
COST = 80  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Change the apiVersion to the replacement before upgrading."
FIXABLE = True


@attrs.frozen
class Options:
    flux_version: str = ""


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    for use, change, target, cluster in findings(repo, options.flux_version, removed=False):
        yield diagnostic(ID, SEVERITY, REMEDIATION, use, change, target, "deprecated", cluster)
