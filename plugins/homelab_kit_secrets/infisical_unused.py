"""An InfisicalSecret's Secret should be read by something.

## What it does
Reports every `InfisicalSecret` none of whose managed Secrets is read in their
namespace: not by a workload, chart values, `valuesFrom` or `substituteFrom`,
and not named anywhere else in the repository's manifests or Helm values (a
`secretName` in an Ingress, a database `Cluster`'s credentials, a Reloader
annotation, ...).  Names are compared after Flux substitution.

## Options
- `read-implicitly` (default `[rook-ceph-dashboard-password]`): glob patterns of
  Secrets an operator reads by a fixed name, with no reference in the repository.

## Why is this bad?
An unused InfisicalSecret still copies secrets into the cluster: more exposure
for nothing, usually left behind when an app was removed or renamed, or a sign
that the app reads a Secret under another name and fails.

## Example
```yaml
# kubernetes/apps/media/secrets/lidarr-secrets.yaml: lidarr was removed
apiVersion: secrets.infisical.com/v1alpha1
kind: InfisicalSecret
metadata:
  name: lidarr-secrets
spec:
  managedSecretReference:
    secretName: lidarr-secret
```

## Use instead
Delete the InfisicalSecret (and its folder in Infisical), or read its Secret:

```yaml
envFrom:
  - secretRef:
      name: lidarr-secret
```
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any

import attrs

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.secret_index import namespaces_meet, object_namespaces, secret_readers
from homelab_kit.model.secrets import InfisicalSecret
from homelab_kit.model.substitute import NameIndex, has_variables, names_match

ID = "secrets-infisical-unused"
SEVERITY = Severity.WARNING
CATEGORY = "correctness"
LIVE = True
REMEDIATION = "Delete the InfisicalSecret, or read its Secret where it is needed."


@attrs.frozen
class Options:
    """``read_implicitly``: name globs of Secrets operators read without a reference."""

    read_implicitly: tuple[str, ...] = ("rook-ceph-dashboard-password",)


_TOKEN = re.compile(r"[\s,;\"'`()\[\]]+")


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    consumers = NameIndex((c.names, c) for c in secret_readers(repo))
    # First what workloads, values and operators read; then, for the InfisicalSecrets
    # left, whether their names are mentioned anywhere (one pass over every string).
    left: list[tuple[InfisicalSecret, list[tuple[str, ...]]]] = []
    for infisical in repo.infisical_secrets:
        path = infisical.doc.path
        own = object_namespaces(repo, infisical.doc, infisical.namespace)
        names_of: list[tuple[str, ...]] = []
        used = False
        for managed in infisical.managed_secrets:
            names = repo.expand(path, managed.name)
            implicit = options.read_implicitly
            if any(fnmatch.fnmatchcase(n, p) for n in names for p in implicit):
                used = True
                break
            where = (
                repo.expand(path, managed.namespace)
                if managed.namespace and managed.namespace != infisical.namespace
                else own
            )
            if any(namespaces_meet(where, c.namespaces) for c in consumers.matching(names)):
                used = True
                break
            names_of.append(names)
        if not used and infisical.managed_secrets:
            left.append((infisical, names_of))
    if not left:
        return
    wanted = {n for _, names_of in left for names in names_of for n in names}
    mentions = _Mentions(repo, wanted)
    for infisical, names_of in left:
        own_key = (infisical.doc.path, infisical.doc.index)
        if any(mentions.mentioned(names, own_key) for names in names_of):
            continue
        secret_names = ", ".join(m.name for m in infisical.managed_secrets)
        yield Diagnostic(
            infisical.doc.location(),
            ID,
            f"InfisicalSecret {infisical.name} creates {secret_names}, which nothing reads",
            SEVERITY,
            REMEDIATION,
        )


class _Mentions:
    """The words of the strings in the documents and values files, and where each is.

    Only ``wanted`` words are kept (a string that holds none of them, and no
    ``${VAR}``, is not even split), unless one of them holds a variable and may
    match any word.
    """

    def __init__(self, repo: Repo, wanted: set[str]) -> None:
        self.documents_of: dict[str, set[tuple[str, int]]] = {}
        keep: set[str] | None = wanted
        if any(has_variables(n) for n in wanted) or len(wanted) > 500:
            keep = None
        hint = re.compile("|".join(map(re.escape, sorted(keep)))) if keep else None
        docs = [*repo.documents, *repo.patch_documents, *(v.doc for v in repo.values)]
        for doc in docs:
            key = (doc.path, doc.index)
            for text in _strings(doc.data):
                if hint is not None and "${" not in text and not hint.search(text):
                    continue  # no wanted name in it: no word of it is one
                for word in _TOKEN.split(text):
                    if not word:
                        continue
                    for found in repo.expand(doc.path, word) if has_variables(word) else (word,):
                        if keep is None or found in keep:
                            self.documents_of.setdefault(found, set()).add(key)

    def mentioned(self, names: tuple[str, ...], own: tuple[str, int]) -> bool:
        """Whether a name appears as a word in a string of a document other than ``own``."""

        def elsewhere(keys: set[tuple[str, int]] | None) -> bool:
            if not keys:
                return False
            return len(keys) > 1 or own not in keys

        if any(elsewhere(self.documents_of.get(n)) for n in names):
            return True
        if not any(has_variables(n) for n in names):
            return False
        return any(
            elsewhere(keys) and any(names_match(n, word) for n in names)
            for word, keys in self.documents_of.items()
        )


def _strings(node: Any) -> Iterator[str]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            yield current
        elif isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
