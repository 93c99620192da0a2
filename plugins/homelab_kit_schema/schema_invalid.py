"""Kubernetes objects and kustomization.yaml files must match their schemas strictly.

## What it does
Validates every Kubernetes object in the repository (every document with both
`apiVersion` and `kind`) against the strict schema of its kind, as
`kubeconform -strict` does in CI, and reports each violation at the line and column
of the offending field:

- an unknown field (a typo, usually), at its key, with the closest known name;
- a value of the wrong type, a value outside an enum, a string that breaks the
  schema's pattern or length, a number out of bounds;
- a missing required field, at the mapping that should hold it;
- a kind the target Kubernetes version does not serve in a built-in API group
  (`policy/v1beta1` PodSecurityPolicy on 1.25+, `apps/v1` `Deploymnet`).

Schemas: native kinds of the target Kubernetes version (`kubernetes-version`, else
`kubernetesVersion` in `talos/talenv.yaml`, else the newest known), homelab-kit's own
schemas for Flux, Infisical and kustomize, the CustomResourceDefinitions in the
repository, then `schema-locations` and the schema cache (`homelab-kit schemas pull`).
Kinds without any schema are `schema-missing`'s business; what the bundled schemas
of custom resources find (cert-manager, Gateway API, Cilium... a snapshot of one
release of each operator) is `schema-invalid-bundled`'s. A target version that
cannot be read, or is older than any schemas (1.25), is reported once here and
nothing is validated.

An object a cluster deploys is validated as Flux applies it: after its
kustomization's `patches`, `replacements`, `namePrefix` and components, the Flux
Kustomization's spec (`targetNamespace`, `patches`, a parent's patches) and
`postBuild` substitution with that cluster's variables (`substitute`, and
`substituteFrom` ConfigMaps the cluster deploys). So a field that only a patch sets
is not missing, and a value a patch or a `${VAR}` sets is judged: a bad value a
patch sets is reported at the patch's line, one a variable sets at the placeholder.
Each distinct applied copy is validated once; a finding the same in every copy is
reported once. When the repository has several clusters and a finding holds in only
some of them, it names the cluster (`[cluster storage]`, the `cluster` field of the
JSON output). A placeholder whose value is not known (a Secret's, say) is never an
error.

Files no cluster deploys (and every file of a repository without a Flux entry
point) are validated as written, each `${VAR}` with the variables of the Flux
Kustomizations that list the file; there a missing required field is not reported
on an object that a patch targeting its kind may complete.

`kustomization.yaml` files are validated against kustomize's own schema (kustomize
rejects unknown fields there too). Kustomize patch files are validated as partial
objects: missing fields, `null` (delete) and `$patch` directives are fine there; a
violation found in a patch file is reported there once, not again on the objects
it patches. SOPS metadata is ignored and ciphertext never judged. Secret values
never appear in a message.

Not Kubernetes objects, so not validated: documents without both `apiVersion` and
`kind` (Helm values, talconfig.yaml, helmfile.yaml), Talos machine config documents
(`apiVersion: v1alpha1`), kustomize transformer configurations (`apiVersion:
builtin`) and kubeconfig files (`v1` `Config`). Duplicate keys are
`yaml-duplicate-key`'s.

## Why is this bad?
The API server rejects unknown fields and wrong types, so the Flux Kustomization
that applies the object fails and everything else in it stops reconciling. Worse,
where a field is silently pruned (client-side apply, some CRDs) a typo such as
`spec.prunee` or `resource:` in a kustomization.yaml just does nothing, and the
setting you meant never takes effect.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  replicas: "two"
  selector:
    matchLabels: {app: echo}
  template:
    metadata:
      labels: {app: echo}
    spec:
      containers:
        - name: echo
          image: ghcr.io/mendhak/http-https-echo:37
          imagePullPolicy: Sometimes
          port: 8080
```

## Use instead
```yaml
spec:
  replicas: 2
  ...
      containers:
        - name: echo
          image: ghcr.io/mendhak/http-https-echo:37
          imagePullPolicy: IfNotPresent
          ports:
            - containerPort: 8080
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_schema._validation import outcome

ID = "schema-invalid"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 190  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Fix the field as the message says: its name, its type or its value."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    for finding in outcome(repo).findings:
        if not finding.missing and not finding.advisory:
            yield Diagnostic(
                finding.location,
                ID,
                finding.message,
                SEVERITY,
                REMEDIATION,
                cluster=finding.cluster,
            )
