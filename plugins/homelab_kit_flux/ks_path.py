"""A Flux Kustomization's path and components must exist in the repository.

## What it does
For every Flux `Kustomization` whose source is this repository (the `flux-system`
GitRepository that bootstrap or a FluxInstance creates), checks that `spec.path`
names a folder of the repository, and that each `spec.components` entry (relative to
`spec.path`) exists.  Paths are relative to the repository root, as Flux reads them.
Kustomizations of other sources are not checked: their files are elsewhere.

## Why is this bad?
Flux fails the build with "no such file or directory": the app never deploys, and
Kustomizations that depend on it wait forever.  A typo in a freshly renamed app
folder is the usual cause.

## Example
```yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: echo
spec:
  path: ./kubernetes/apps/default/echo/ap
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
```

## Use instead
```yaml
spec:
  path: ./kubernetes/apps/default/echo/app
```
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.flux import FluxKustomization

ID = "flux-ks-path"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 10  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Point the path at an existing folder, relative to the repository root."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    folders = _folders(repo)
    files = set(repo.files)
    tops = {f.split("/", 1)[0] for f in folders if f}
    for ks in repo.kustomizations:
        if not _from_this_repository(repo, ks) or ks.path is None:
            continue
        base = posixpath.normpath(ks.path.lstrip("/")) if ks.path else "."
        base = "" if base == "." else base
        problem = _problem(base, folders, files, tops)
        if problem:
            yield Diagnostic(
                ks.doc.location("spec", "path"),
                ID,
                f"Kustomization {ks.name} has spec.path {ks.path}, which {problem}",
                SEVERITY,
                REMEDIATION,
            )
            continue
        for i, component in enumerate(ks.components):
            target = posixpath.normpath(posixpath.join(base, component))
            problem = _problem("" if target == "." else target, folders, files, tops)
            if problem:
                yield Diagnostic(
                    ks.doc.location("spec", "components", i),
                    ID,
                    f"Kustomization {ks.name} has component {component}, which {problem}",
                    SEVERITY,
                    "Fix the component path; it is relative to spec.path.",
                )


def _from_this_repository(repo: Repo, ks: FluxKustomization) -> bool:
    ref = ks.source_ref
    if ref is None:
        return False
    return (ref.kind, ref.resolved_namespace, ref.name) in repo.implicit_sources


def _folders(repo: Repo) -> set[str]:
    """Every folder holding a file the loader read, with all its parents."""
    folders = {""}
    for path in (*repo.files, *(s.path for s in repo.skipped)):
        parent = posixpath.dirname(path)
        while parent not in folders:
            folders.add(parent)
            parent = posixpath.dirname(parent)
    return folders


def _problem(path: str, folders: set[str], files: set[str], tops: set[str]) -> str | None:
    if path == ".." or path.startswith("../"):
        return "leaves the repository"
    if path in folders:
        return None
    if path in files:
        return "is a file, not a folder"
    if path.split("/", 1)[0] not in tops:
        return None  # a folder the loader did not read: nothing to judge
    return "does not exist"
