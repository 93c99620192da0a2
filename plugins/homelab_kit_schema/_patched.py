"""Which objects a kustomize or Flux patch may complete before they reach the cluster.

A base that leaves a required field to an overlay (``spec.sourceRef`` added to every
child Kustomization by its parent's ``spec.patches``, a component's patch adding a
container field) is valid once built: its missing required fields are not errors.
Everything is indexed once per run.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from typing import Any

from homelab_kit import Repo
from homelab_kit.model.kustomize import KustomizeFile

# A patch target: a kind, or None for "any kind" (no target, or a target without kind).
Kinds = frozenset[str | None]


class PatchedKinds:
    """The kinds a patch targets, per file it can reach."""

    def __init__(self, repo: Repo) -> None:
        self._repo = repo
        self._patch_docs: dict[str, list[Mapping[str, Any]]] = {}
        for doc in repo.patch_documents:
            self._patch_docs.setdefault(doc.path, []).append(doc.data)
        self._kfile_kinds: dict[str, Kinds] = {}
        self._by_path: dict[str, set[str | None]] = {}
        for kfile in repo.kustomize_files:
            kinds = self._kinds_of(kfile, set())
            if kinds:
                for path in self._reach(kfile):
                    self._by_path.setdefault(path, set()).update(kinds)
        self._by_ks: dict[tuple[str | None, str], Kinds] = {}
        for ks in repo.kustomizations:
            found: set[str | None] = {_kind_of_target(item) for item in ks.patches}
            for name in ks.components:
                component = self._component(ks.path, name)
                if component is not None:
                    found |= self._kinds_of(component, set())
            if found:
                self._by_ks[ks.key] = frozenset(found)

    def may_complete(self, path: str, kind: Any) -> bool:
        """Whether some patch may add fields to a ``kind`` object of ``path``."""
        kinds: set[str | None] = set(self._by_path.get(path, ()))
        for key in self._repo.deployed_by.get(path, ()):
            kinds |= self._by_ks.get(key, frozenset())
        return None in kinds or (isinstance(kind, str) and kind in kinds)

    # ---------------------------------------------------------------- kustomize

    def _kinds_of(self, kfile: KustomizeFile, visiting: set[str]) -> Kinds:
        """Kinds the patches of ``kfile`` and of its components target."""
        if kfile.directory in self._kfile_kinds:
            return self._kfile_kinds[kfile.directory]
        if kfile.directory in visiting:
            return frozenset()
        visiting.add(kfile.directory)
        found: set[str | None] = {_kind_of_target(item) for item in kfile.inline_patches}
        selectors = {
            item["path"]: item.get("target")
            for item in kfile.doc.list_at("patches")
            if isinstance(item, Mapping) and isinstance(item.get("path"), str)
        }
        for entry in kfile.patch_files:
            target = selectors.get(entry.value)
            if isinstance(target, Mapping):
                found.add(_kind_of_target({"target": target}))
                continue
            documents = self._patch_docs.get(entry.target or "", [])
            found.update(_str_or_none(d.get("kind")) for d in documents)
            if not documents:
                found.add(None)  # a JSON 6902 list, or unreadable: any kind
        for entry in kfile.components:
            component = self._repo.kustomize_file(entry.target or "")
            if component is not None:
                found |= self._kinds_of(component, visiting)
        kinds = frozenset(found)
        self._kfile_kinds[kfile.directory] = kinds
        return kinds

    def _reach(self, kfile: KustomizeFile) -> Iterable[str]:
        """Every file ``kfile`` builds from (resources and components, recursively)."""
        seen: set[str] = set()
        stack = [kfile]
        files: list[str] = []
        while stack:
            current = stack.pop()
            if current.directory in seen:
                continue
            seen.add(current.directory)
            for entry in (*current.resources, *current.components):
                if entry.target is None:
                    continue
                if entry.status == "file":
                    files.append(entry.target)
                elif entry.status == "dir":
                    nested = self._repo.kustomize_file(entry.target)
                    if nested is not None:
                        stack.append(nested)
        return files

    def _component(self, ks_path: str | None, component: str) -> KustomizeFile | None:
        """The Component a Flux Kustomization's ``spec.components`` entry names."""
        if ks_path is None:
            return None
        base = posixpath.normpath(ks_path)
        return self._repo.kustomize_file(posixpath.normpath(posixpath.join(base, component)))


def _kind_of_target(item: Mapping[str, Any]) -> str | None:
    target = item.get("target")
    return _str_or_none(target.get("kind")) if isinstance(target, Mapping) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
