"""An InfisicalSecret's Secret should be read by something.

## What it does
Reports every `InfisicalSecret` none of whose managed Secrets is read in their
namespace: not by a workload, chart values, `valuesFrom` or `substituteFrom`,
and not named anywhere else in the repository's manifests or Helm values (a
`secretName` in an Ingress, a database `Cluster`'s credentials, a Reloader
annotation, ...).  Each InfisicalSecret is read as its cluster applies it (names
after Flux substitution, the namespace `targetNamespace` gives it), and only
readers of the same cluster count; one a component copies into several apps is
judged per copy.

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
import posixpath
import re
from collections.abc import Iterator
from typing import Any

import attrs

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.applied import AppliedDocument, applied_documents
from homelab_kit.model.secret_index import (
    Outcome,
    namespaces_meet,
    per_cluster,
)
from homelab_kit.model.secret_readers import SecretReader, reader_namespaces, secret_readers
from homelab_kit.model.secrets import InfisicalSecret
from homelab_kit.model.substitute import NameIndex, has_variables, names_match
from homelab_kit_secrets._common import infisical_secrets

ID = "secrets-infisical-unused"
SEVERITY = Severity.WARNING
CATEGORY = "correctness"
COST = 10  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Delete the InfisicalSecret, or read its Secret where it is needed."


@attrs.frozen
class Options:
    """``read_implicitly``: name globs of Secrets operators read without a reference."""

    read_implicitly: tuple[str, ...] = ("rook-ceph-dashboard-password",)


_TOKEN = re.compile(r"[\s,;\"'`()\[\]]+")


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    readers = NameIndex((r.names, r) for r in secret_readers(repo))
    # First what workloads, values and operators read; then, for the InfisicalSecrets
    # left, whether their names are mentioned anywhere (one pass over every string).
    left: list[tuple[AppliedDocument, InfisicalSecret]] = []
    outcomes: list[Outcome] = []
    for doc, infisical in infisical_secrets(repo):
        if not infisical.managed_secrets:
            continue
        if _read(repo, doc, infisical, readers, options):
            outcomes.append((doc.location(), doc.cluster, None))
        else:
            left.append((doc, infisical))
    if left:
        asked = [
            (tuple(m.name for m in infisical.managed_secrets if m.name), (doc.path, doc.index))
            for doc, infisical in left
        ]
        mentions = _Mentions(repo, asked)
        for (doc, infisical), (names, own_key) in zip(left, asked, strict=True):
            if mentions.mentioned(names, own_key):
                outcomes.append((doc.location(), doc.cluster, None))
                continue
            message = (
                f"InfisicalSecret {infisical.name} creates {', '.join(names)}, which nothing reads"
            )
            outcomes.append((doc.location(), doc.cluster, message))
    for source, message, cluster in per_cluster(outcomes):
        yield Diagnostic(source, ID, message, SEVERITY, REMEDIATION, cluster=cluster)


def _read(
    repo: Repo,
    doc: AppliedDocument,
    infisical: InfisicalSecret,
    readers: NameIndex[SecretReader],
    options: Options,
) -> bool:
    """Whether a reader of the same cluster reads one of its Secrets, where it lands."""
    own = reader_namespaces(repo, doc)
    for managed in infisical.managed_secrets:
        names = (managed.name,)
        if any(fnmatch.fnmatchcase(managed.name, p) for p in options.read_implicitly):
            return True
        where = (managed.namespace,) if managed.namespace else own
        for reader in readers.matching(names):
            same = doc.cluster is None or reader.cluster in (None, doc.cluster)
            if same and namespaces_meet(where, reader.namespaces):
                return True
    return False


class _Mentions:
    """The words of the strings in the documents and values files, and where each is.

    Only the words ``asked`` about are kept (a string that holds none of them, and
    no ``${VAR}``, is not even split), unless one of them holds a variable and may
    match any word.  ``asked``: ``(names, (path, index))`` of each InfisicalSecret.
    """

    def __init__(self, repo: Repo, asked: list[tuple[tuple[str, ...], tuple[str, int]]]) -> None:
        self.documents_of: dict[str, set[tuple[str, int]]] = {}
        wanted = {n for names, _ in asked for n in names}
        keep: set[str] | None = wanted
        if any(has_variables(n) for n in wanted) or len(wanted) > 500:
            keep = None
        hint = re.compile("|".join(map(re.escape, sorted(keep)))) if keep else None
        # The objects as the clusters apply them (names substituted), the patches,
        # and the values files (their variables expanded below).
        docs = [*applied_documents(repo), *repo.patch_documents, *(v.doc for v in repo.values)]
        left: list[tuple[tuple[str, ...], tuple[str, int]]] | None = None
        if keep is not None:
            # A Secret is mostly read near it (the folder above its own first), and the
            # search ends once each is mentioned elsewhere: only what nothing mentions
            # is looked for everywhere.
            near = tuple({posixpath.dirname(posixpath.dirname(p)) + "/" for _, (p, _) in asked})
            docs.sort(key=lambda d: not d.path.startswith(near))
            left = list(asked)
        for doc in docs:
            key = (doc.path, doc.index)
            found = False
            for text in _strings(doc.data):
                if hint is not None and "${" not in text and not hint.search(text):
                    continue  # no wanted name in it: no word of it is one
                for word in _TOKEN.split(text):
                    if not word:
                        continue
                    for each in repo.expand(doc.path, word) if has_variables(word) else (word,):
                        if keep is None or each in keep:
                            self.documents_of.setdefault(each, set()).add(key)
                            found = True
            if found and left is not None:
                left = [a for a in left if not self.mentioned(*a)]
                if not left:
                    break

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
