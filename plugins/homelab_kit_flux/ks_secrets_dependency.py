"""Apps that use their namespace's secrets must depend on the secrets Kustomization.

## What it does
For every namespace folder with a `secrets/` folder (the namespace-level
InfisicalSecrets, ExternalSecrets or Secrets), finds the Flux `Kustomization`s whose
manifests, values or `substituteFrom` read a Secret that folder creates (in a
cluster applying the reader: another cluster's Secret is not the one it reads), and checks
that each of them depends on the Kustomization deploying `secrets/`, directly or
through another dependency.

## Why is this bad?
Without the dependency, Flux may deploy the app before its Secret exists: pods fail
with "secret not found", a `substituteFrom` build fails, and a fresh cluster only
converges after retries, if at all.

## Example
```yaml
# kubernetes/apps/media/sonarr/ks.yaml (its HelmRelease reads media-env)
spec:
  dependsOn:
    - name: longhorn
      namespace: storage
```

## Use instead
```yaml
spec:
  dependsOn:
    - name: longhorn
      namespace: storage
    - name: secrets
      namespace: media
```
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.repo import App, KsKey
from homelab_kit.model.secret_index import SecretProducer, created_by_kind, secret_producers
from homelab_kit.model.secrets import SecretConsumer
from homelab_kit_flux._common import find_producers, ks_label

ID = "flux-ks-secrets-dependency"
SEVERITY = Severity.WARNING
CATEGORY = "convention"
COST = 30  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
SHARED = (created_by_kind,)  # also read by other plugins' checks (Check.shared)
REMEDIATION = "Add the namespace's secrets Kustomization to spec.dependsOn."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    made = secret_producers(repo)
    graph = repo.kustomization_graph
    reported: set[tuple[KsKey, KsKey]] = set()
    made_below = _by_folder(made)  # folder -> the producers in files below it
    app_at: dict[str, App] = {}
    for a in repo.apps:
        app_at.setdefault(a.directory, a)
    readers: dict[str, list[int]] | None = None  # folder -> consumers reading from below it
    for namespace in repo.namespaces:
        app = app_at.get(namespace.secrets_directory)
        ours = made_below.get(namespace.secrets_directory, [])
        if app is None or not ours:
            continue  # no secrets Kustomization of its own: nothing to depend on
        if readers is None:
            readers = _readers(repo)
        secrets_keys = {ks.key for ks in app.kustomizations}
        for number in readers.get(namespace.secrets_directory, ()):
            consumer = repo.secret_consumers[number]
            for key in _consumer_kustomizations(repo, consumer):
                if key in secrets_keys or _reaches(graph.edges, key, secrets_keys):
                    continue
                target = sorted(secrets_keys, key=str)[0]
                if (key, target) in reported:
                    continue
                reported.add((key, target))
                ks = repo.kustomization(*key)
                if ks is None:
                    continue
                where = (
                    ks.doc.location("spec", "dependsOn")
                    if ks.depends_on
                    else ks.doc.location("spec")
                )
                secrets_ks = repo.kustomization(*target)
                label = ks_label(secrets_ks) if secrets_ks else target[1]
                yield Diagnostic(
                    where,
                    ID,
                    f"Kustomization {ks.name} uses Secret {consumer.secret_name} from "
                    f"{namespace.secrets_directory} but does not depend on Kustomization {label}",
                    SEVERITY,
                    REMEDIATION,
                )


def _folders(path: str) -> Iterator[str]:
    """The folders ``path`` lies below, nearest first."""
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        yield path


def _by_folder(made: list[SecretProducer]) -> dict[str, list[SecretProducer]]:
    out: dict[str, list[SecretProducer]] = {}
    for p in made:
        for folder in _folders(p.path):
            out.setdefault(folder, []).append(p)
    return out


def _readers(repo: Repo) -> dict[str, list[int]]:
    """For each folder, the (required) consumers reading a Secret made below it, in order.

    A Secret counts only in the clusters applying the consumer's file.
    """
    out: dict[str, list[int]] = {}
    clusters = repo.clusters
    for number, consumer in enumerate(repo.secret_consumers):
        if consumer.optional:
            continue
        path = consumer.source.path
        names = [c.name for c in clusters if c.reaches(path)] or [None]
        where = (consumer.namespace,)
        found = [
            p
            for cluster in names
            for p in find_producers(repo, "Secret", where, consumer.secret_name, cluster)
        ]
        for folder in dict.fromkeys(f for p in found for f in _folders(p.path)):
            out.setdefault(folder, []).append(number)
    return out


def _deployers(repo: Repo, path: str) -> tuple[KsKey, ...]:
    return tuple(repo.deployed_by.get(path, ()))


def _consumer_kustomizations(repo: Repo, consumer: SecretConsumer) -> tuple[KsKey, ...]:
    """The Flux Kustomizations whose build or objects read the Secret."""
    path = consumer.source.path
    if consumer.how == "substituteFrom":
        return tuple(
            ks.key
            for ks in repo.kustomizations_in(path)
            if consumer.consumer == f"Kustomization {ks.name}"
        )
    return _deployers(repo, path)


def _reaches(edges: Mapping[KsKey, tuple[KsKey, ...]], start: KsKey, goals: set[KsKey]) -> bool:
    """Whether ``start`` depends on one of ``goals``, directly or transitively."""
    seen = {start}
    stack = [start]
    while stack:
        for dep in edges.get(stack.pop(), ()):
            if dep in goals:
                return True
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return False
