"""Custom resources should match the bundled schema of their kind.

## What it does
Validates custom resources whose kind has no schema from the repository's own
CustomResourceDefinitions, `schema-locations` or the schema cache against the CRD
schemas homelab-kit bundles (cert-manager, Gateway API, Cilium, external-secrets,
the Prometheus operator, CloudNativePG, VolSync, Tailscale, Flux's notification and
image automation kinds, the Flux operator...; `homelab-kit` ships them from the public
CRDs catalog, see docs/schemas.md), and reports each violation at its field, exactly
as `schema-invalid` does.

A bundled schema is a snapshot of one release of its operator, which may not be the
release the cluster runs: a field added since (the Prometheus operator's
`pushoverConfigs.monospace`), or one renamed since (Cilium's `spec.cidrs`), would be
reported although the cluster accepts it. So these findings are warnings, never
errors. Commit the CRDs the cluster runs, or `homelab-kit schemas pull` them from the
live cluster: their schemas then win and `schema-invalid` reports with certainty.
Raise this check's severity (`severity: {schema-invalid-bundled: error}`) when the
bundled schemas match your operators.

## Why is this bad?
A typo in a custom resource (`dnsName:` for `dnsNames:` in a Certificate,
`parentRef:` in an HTTPRoute) is rejected by the API server, so the Flux
Kustomization that applies it fails, or it is silently dropped and the setting never
takes effect.

## Example
```yaml
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: wildcard
spec:
  secretName: wildcard-tls
  issuerRef: {name: letsencrypt, kind: ClusterIssuer}
  dnsName: ["*.example.com"]
```

## Use instead
```yaml
spec:
  secretName: wildcard-tls
  issuerRef: {name: letsencrypt, kind: ClusterIssuer}
  dnsNames: ["*.example.com"]
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_schema._validation import outcome

ID = "schema-invalid-bundled"
SEVERITY = Severity.WARNING
CATEGORY = "correctness"
REMEDIATION = (
    "Fix the field as the message says, or, if your operator's release accepts it, "
    "commit its CRD or run `homelab-kit schemas pull`."
)


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for finding in outcome(repo).findings:
        if finding.advisory and not finding.missing:
            yield Diagnostic(
                finding.location,
                ID,
                finding.message,
                SEVERITY,
                REMEDIATION,
                cluster=finding.cluster,
            )
