"""Every kind in the repository should have a schema to validate it against.

## What it does
Reports each kind (with its apiVersion) that no schema source knows: not a native
kind of the target Kubernetes version, not one of homelab-kit's own (Flux,
Infisical, kustomize), not defined by a CustomResourceDefinition in the repository,
not found in `schema-locations` or the schema cache, and not among the CRD schemas
homelab-kit bundles (cert-manager, Gateway API, Cilium, external-secrets, the
Prometheus operator... see docs/schemas.md). Objects of such a kind
were not validated at all, so `schema-invalid` cannot vouch for them. Each kind is
reported once, at its first object, with the number of objects.

Its severity follows the `missing-schema` setting of `.homelab-kit.yaml`: `info`
(the default), `warning`, `error`, or `ignore` to report nothing. (A `severity:`
entry for `schema-missing` overrides it.)

An unknown apiVersion in a built-in API group (`apps/v2`, a removed version) is not
a missing schema but an object the API server rejects: `schema-invalid` reports it.
It also reports here, once, a target Kubernetes version newer than the schemas
homelab-kit ships (the newest available are used meanwhile).

## Why is this bad?
A typo in a custom resource (`spec.dnsNames` as `spec.dnsName` in a cert-manager
Certificate) goes unnoticed until Flux fails to apply it, or forever where the
operator ignores unknown fields. Schemas turn those into lint errors.

## Example
```yaml
# .homelab-kit.yaml: no schema source for cert-manager's kinds
missing-schema: warning
```

## Use instead
```yaml
# .homelab-kit.yaml: a local copy of the CRDs catalog
# (github.com/datreeio/CRDs-catalog), laid out {group}/{kind}_{version}.json
schema-locations:
  - schemas/
```
or commit the CRDs the cluster uses, or run `homelab-kit schemas pull` against the
live cluster to fill the schema cache.
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_schema._validation import Finding, outcome

ID = "schema-missing"
SEVERITY = Severity.INFO
CATEGORY = "correctness"
LIVE = True
REMEDIATION = (
    "Commit the kind's CRD, add a schema location that has it, or run `homelab-kit schemas pull`."
)

_SEVERITIES = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO}


def severity_for(policy: str) -> Severity:
    """The severity the ``missing-schema`` setting asks for (``ignore`` reports nothing)."""
    return _SEVERITIES.get(policy, SEVERITY)


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    policy = repo.settings.missing_schema
    if policy == "ignore":
        return
    severity = severity_for(policy)
    by_kind: dict[str, list[Finding]] = {}
    for finding in outcome(repo).findings:
        # One finding stands for every object of its kind: count only live ones, so
        # a first object in a file no cluster deploys does not hide the others.
        if finding.missing and repo.is_deployed(finding.location.path):
            by_kind.setdefault(finding.kind or finding.message, []).append(finding)
    for kind, found in by_kind.items():
        first = min(found, key=lambda f: f.location)
        if not first.kind or len(found) == 1:
            yield Diagnostic(first.location, ID, first.message, severity, REMEDIATION)
            continue
        others = len({f.location.path for f in found})
        message = (
            f"no schema for {kind}: {len(found)} objects in {others} file(s) were not "
            "validated (no CRD or schema location provides it)"
        )
        yield Diagnostic(first.location, ID, message, severity, REMEDIATION)
