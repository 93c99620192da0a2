"""Every Secret an app reads must be created by something in the repository.

## What it does
Follows every place that reads a Secret by name (`envFrom`, `secretKeyRef`,
volumes, `imagePullSecrets`, chart values such as `existingSecret`, Flux
InfisicalSecret `credentialsRef`), in each object as
its cluster applies it (the namespace `targetNamespace` gives it, fields a
parent's patch injects, names after substitution), and checks that a Secret of
that name is created *in the reader's namespace* in the same cluster's desired
state (a Secret of another cluster does not count; the finding names the cluster
where several differ), by:

- an `InfisicalSecret` (its managed Secrets) or an `ExternalSecret` (its target);
- a `Secret` manifest (SOPS-encrypted or not) or a kustomize `secretGenerator`;
- an operator's object of the producer table (cert-manager `Certificate`,
  CloudNativePG `Cluster`, Strimzi `KafkaUser`, `ObjectBucketClaim`,
  `SealedSecret`, Talos `ServiceAccount`, the EMQX operator's `EMQX`,
  kanidm-provision's `kanidm_config` ConfigMaps (`kanidm-<client>-oidc` in their
  `targetNamespace`), a `ClusterExternalSecret` in the namespaces its
  `namespaces` and selectors name, unknown ones matching any, ...:
  `homelab_kit.model.secret_index.PRODUCERS`), of a plugin's
  `homelab_kit_register_secret_producers`, or listed in `generated`;
- bootstrap material (Secrets under `bootstrap/`, in `*.tmpl`, `*.j2` and
  helmfile templates, read as text) or the `bootstrap-secrets` configuration;
- or a name listed in `external`: created outside the repository.

Readers marked `optional: true` are skipped, `{{ .Release.Name }}` in chart values
is rendered, other Helm templates are not judged, what chart values name is read
in the HelmRelease's `spec.targetNamespace` when it sets one (where Helm installs
the chart), and a finding points at the line to edit (the `${APP}` reference, the
patch line).  A chart's Ingress-style `tls.secretName` is not a
read: the ingress controller or cert-manager's ingress-shim provides it, as for an
Ingress object's own `spec.tls`.  HelmRelease `valuesFrom` is checked by
`helm-values-from-resolves`, a Flux Kustomization's `postBuild.substituteFrom` by
`flux-ks-substitute-from` (each reference is reported once).

## Options
- `external` (default `[sops-age, universal-auth-credentials,
  infisical-credentials]`, which bootstrap creates before Flux runs): glob
  patterns of Secrets created outside the repository (by a bootstrap script, by
  hand, by an operator at run time).  Setting it replaces the defaults.
- `generated` (default none): more objects that create a Secret, besides the
  producer table, as `Kind[.group]: name-template` where `{name}` is the
  object's name and `{spec.field}` one of its fields.

## Why is this bad?
A missing Secret keeps the pod in `CreateContainerConfigError` until someone creates it by hand, and
a hand-made Secret is lost on the next cluster rebuild.  A Secret in another
namespace does not count: pods only read Secrets of their own namespace.

## Example
```yaml
# kubernetes/apps/media/sonarr/app/helm/values.yaml
controllers:
  sonarr:
    containers:
      app:
        envFrom:
          - secretRef:
              name: sonarr-secret   # nothing creates it in namespace media
```

## Use instead
```yaml
# kubernetes/apps/media/secrets/sonarr-secrets.yaml
apiVersion: secrets.infisical.com/v1alpha1
kind: InfisicalSecret
metadata:
  name: sonarr-secrets
  namespace: media
spec:
  ...
  managedSecretReference:
    secretName: sonarr-secret
```
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.secret_index import (
    Outcome,
    created_by_kind,
    is_produced,
    per_cluster,
    producer_index,
    secret_producers,
)
from homelab_kit.model.secret_readers import secret_readers

ID = "secrets-consumed-secret-exists"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 85  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
SHARED = (created_by_kind,)  # also read by other plugins' checks (Check.shared)
REMEDIATION = "Create the Secret in the reader's namespace (an InfisicalSecret), or fix the name."


# Created by bootstrap before anything in the repository runs: Flux's age key and
# the Infisical machine identity the InfisicalSecrets log in with.
EXTERNAL = ("sops-age", "universal-auth-credentials", "infisical-credentials")


# References another check judges, with its own message: reported once, not twice.
_OWNED_ELSEWHERE = frozenset({"valuesFrom", "substituteFrom"})


@attrs.frozen
class Options:
    """``external``: name globs created outside the repository; ``generated``: producers."""

    external: tuple[str, ...] = EXTERNAL
    generated: tuple[str, ...] = ()


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    produced = producer_index(secret_producers(repo, options.generated))
    outcomes: list[Outcome] = []
    for reader in secret_readers(repo):
        if reader.optional or reader.how in _OWNED_ELSEWHERE:
            continue
        if any(
            fnmatch.fnmatchcase(name, pattern)
            for name in reader.names
            for pattern in options.external
        ):
            continue
        ok = is_produced(produced, reader.names, reader.namespaces, reader.cluster)
        namespaces = sorted(ns for ns in reader.namespaces if ns)
        where = f" in namespace {namespaces[0]}" if len(namespaces) == 1 else ""
        detail = ""
        if ok:
            pass
        elif reader.cluster is not None and is_produced(produced, reader.names, reader.namespaces):
            detail = ", only in another cluster"
        elif is_produced(produced, reader.names, (None,), reader.cluster):
            detail = ", only in another namespace"
        message = (
            f"{reader.consumer} reads Secret {reader.names[0]} ({reader.how}), which nothing "
            f"in the repository creates{where}{detail}"
        )
        outcomes.append((reader.source, reader.cluster, None if ok else message))
    for source, message, cluster in per_cluster(outcomes):
        yield Diagnostic(source, ID, message, SEVERITY, REMEDIATION, cluster=cluster)
