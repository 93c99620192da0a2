"""Every app folder must be deployed from the cluster's entry point.

## What it does
Follows the cluster from its entry points (the Flux Kustomizations nothing else
deploys, such as `cluster-apps`) and reports every app whose `ks.yaml` is never
reached: usually because the namespace's kustomization.yaml does not list it, or the
namespace folder itself is not listed.  Also reports a folder of a namespace that
holds manifests but neither a `ks.yaml` nor anything that deploys it, and, once per
folder, manifests no cluster applies (left out of, or commented out of, every
kustomization.yaml). Other checks of live objects stay silent on such files: they
are not deployed.

## Why is this bad?
An app that is not reached is not deployed, however correct its manifests are:
a forgotten `- ./sonarr/ks.yaml` line means the app silently never appears, and a
disabled app left behind rots while looking live in the repository.

## Example
```yaml
# kubernetes/apps/media/kustomization.yaml (media/radarr/ks.yaml exists)
resources:
  - ./sonarr/ks.yaml
```

## Use instead
```yaml
resources:
  - ./sonarr/ks.yaml
  - ./radarr/ks.yaml
```
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from homelab_kit import Diagnostic, Location, Repo, Severity
from homelab_kit.model.kustomize import KustomizeFile
from homelab_kit.model.repo import App

ID = "structure-app-unreachable"
SEVERITY = Severity.WARNING
CATEGORY = "correctness"
COST = 25  # CPU ms at 1,000 apps (Check.cost)
REMEDIATION = "List the app's ks.yaml in its namespace's kustomization.yaml, or delete the app."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    if not repo.clusters:
        return  # no cluster entry point in the repository: nothing to follow
    reported_parents: set[str] = set()
    unreachable: list[str] = []
    for app in repo.apps:
        if repo.is_deployed(app.ks_path):
            continue
        unreachable.append(app.directory)
        parent = _listing_kustomization(repo, app)
        if parent is None:
            yield Diagnostic(
                app.source,
                ID,
                f"App {app.directory} is not deployed: no kustomization.yaml above it "
                f"lists its ks.yaml",
                SEVERITY,
                REMEDIATION,
            )
        elif not _lists(parent, app):
            yield Diagnostic(
                parent.doc.location("resources"),
                ID,
                f"App {app.directory} is not deployed: {parent.path} does not list "
                f"{posixpath.relpath(app.ks_path, parent.directory)}",
                SEVERITY,
                REMEDIATION,
            )
        elif parent.path not in reported_parents:
            reported_parents.add(parent.path)
            yield Diagnostic(
                parent.source,
                ID,
                f"{parent.path} is not deployed by any Flux Kustomization, so none of its apps are",
                SEVERITY,
                "List its folder in the kustomization.yaml above it.",
            )
    for folder, diagnostic in _stray_folders(repo):
        unreachable.append(folder)
        yield diagnostic
    yield from _left_out(repo, unreachable)


def _listing_kustomization(repo: Repo, app: App) -> KustomizeFile | None:
    """The nearest kustomization.yaml above the app folder (its namespace's)."""
    directory = posixpath.dirname(app.directory)
    while directory and directory != posixpath.dirname(repo.apps_root):
        kfile = repo.kustomize_file(directory)
        if kfile is not None:
            return kfile
        directory = posixpath.dirname(directory)
    return None


def _lists(kfile: KustomizeFile, app: App) -> bool:
    return any(e.target in (app.ks_path, app.directory) for e in kfile.resources)


def _stray_folders(repo: Repo) -> Iterator[tuple[str, Diagnostic]]:
    """Folders of a deployed namespace with manifests, no ks.yaml and nothing deploying them."""
    below: dict[str, list[str]] = {}  # namespace folder -> the files below it, in order
    directories = {namespace.directory for namespace in repo.namespaces}
    # The namespace folders at or above each folder, nearest first: worked out once
    # per folder, not once per file (files share their folders).
    above: dict[str, tuple[str, ...]] = {}

    def namespace_folders(folder: str) -> tuple[str, ...]:
        found = above.get(folder)
        if found is None:
            here = (folder,) if folder in directories else ()
            parent = namespace_folders(folder.rsplit("/", 1)[0]) if "/" in folder else ()
            found = above[folder] = here + parent
        return found

    for path in repo.files:
        if "/" in path:
            for folder in namespace_folders(path.rsplit("/", 1)[0]):
                below.setdefault(folder, []).append(path)
    for namespace in repo.namespaces:
        kfile = namespace.kustomization
        if kfile is None or not repo.deployed_by.get(kfile.path):
            continue
        prefix = namespace.directory + "/"
        folders: dict[str, list[str]] = {}
        for path in below.get(namespace.directory, ()):
            rest = path[len(prefix) :] if path.startswith(prefix) else ""
            if "/" in rest:
                folders.setdefault(prefix + rest.split("/", 1)[0], []).append(path)
        for folder, paths in sorted(folders.items()):
            if any(posixpath.basename(p) in ("ks.yaml", "ks.yml") for p in paths):
                continue
            if any(repo.deployed_by.get(p) for p in paths):
                continue
            yield (
                folder,
                Diagnostic(
                    Location(min(paths), 1, 1),
                    ID,
                    f"{folder} holds manifests but no ks.yaml, and nothing deploys it",
                    SEVERITY,
                    "Add a ks.yaml for the folder and list it, or delete the folder.",
                ),
            )


def _left_out(repo: Repo, unreachable: list[str]) -> Iterator[Diagnostic]:
    """Manifests no cluster deploys in deployed folders: once per folder."""
    by_folder: dict[str, list[str]] = {}
    manifests = {d.path for d in repo.documents if d.kind and d.api_version}
    for path in sorted(manifests):
        if repo.is_deployed(path) or posixpath.basename(path) in ("ks.yaml", "ks.yml"):
            continue
        if not _in_deployed_tree(repo, path):
            continue  # bootstrap files, a folder Flux never reads: not left out of anything
        if any(path.startswith(folder + "/") for folder in unreachable):
            continue  # its app or folder is reported as a whole
        by_folder.setdefault(posixpath.dirname(path), []).append(path)
    for folder, paths in by_folder.items():
        names = ", ".join(posixpath.basename(p) for p in paths)
        one = len(paths) == 1
        yield Diagnostic(
            Location(paths[0], 1, 1),
            ID,
            f"{folder}: {names} {'is' if one else 'are'} not deployed: "
            f"no cluster applies {'it' if one else 'them'} ({_why_left_out(repo, folder, paths)})",
            SEVERITY,
            "List the files in the folder's kustomization.yaml, or delete them.",
        )


def _why_left_out(repo: Repo, folder: str, paths: list[str]) -> str:
    """What keeps the files of ``folder`` out of every build, as far as the files say."""
    kfile = repo.kustomize_file(folder)
    if kfile is None:
        return "the folder has no kustomization.yaml"
    if not _built(repo, kfile.path, folder):
        # A component or an overlay no Flux Kustomization and no built
        # kustomization.yaml reaches: listing the files there does not deploy them.
        return f"no cluster builds {kfile.path}"
    listed = {e.target for e in kfile.resources}
    if not any(p in listed for p in paths):
        return f"{kfile.path} does not list {'it' if len(paths) == 1 else 'them'}"
    return f"{kfile.path} lists them, but its build leaves them out"


def _in_deployed_tree(repo: Repo, path: str) -> bool:
    """Whether a kustomization.yaml some cluster builds lies in a folder above ``path``."""
    folder = posixpath.dirname(path)
    while folder:
        kfile = repo.kustomize_file(folder)
        if kfile is not None and repo.deployed_by.get(kfile.path):
            return True
        folder = posixpath.dirname(folder)
    return False


def _built(repo: Repo, kfile: str, folder: str) -> bool:
    """Whether a cluster builds the kustomization.yaml ``kfile`` of ``folder``: a file
    beside it is applied, or a deployed Flux Kustomization reaches it."""
    if any(posixpath.dirname(p) == folder and repo.is_deployed(p) for p in repo.files):
        return True
    builders = (repo.kustomization(*key) for key in repo.deployed_by.get(kfile, ()))
    return any(ks is not None and repo.is_deployed(ks.doc.path) for ks in builders)
