"""Helpers shared by the structure checks."""

from __future__ import annotations

import posixpath

from homelab_kit import Repo
from homelab_kit.model.flux import FluxKustomization, HelmRelease, ValuesReference
from homelab_kit.model.kustomize import Generator, KustomizeFile


def loaded(repo: Repo, folder: str) -> bool:
    """Whether the loader read anything under ``folder`` (so its absence means something)."""
    prefix = f"{folder}/" if folder else ""
    return any(path.startswith(prefix) for path in repo.files)


def spec_path(ks: FluxKustomization) -> str | None:
    """``spec.path`` as a repository path (``""`` for the root), None when unset or outside."""
    if ks.path is None:
        return None
    path = posixpath.normpath(ks.path.lstrip("/")) if ks.path else "."
    if path == ".." or path.startswith("../"):
        return None
    return "" if path == "." else path


def values_generator(
    repo: Repo, release: HelmRelease, ref: ValuesReference
) -> tuple[KustomizeFile, Generator] | None:
    """The configMapGenerator that makes the ConfigMap a valuesFrom entry names.

    Looked up as kustomize builds it: in the kustomization of the HelmRelease's folder,
    else of the nearest folder above it that has one.
    """
    directory = posixpath.dirname(release.doc.path)
    while True:
        kfile = repo.kustomize_file(directory)
        if kfile is not None:
            for gen in kfile.generators:
                if gen.kind == ref.kind and gen.name == ref.name:
                    return kfile, gen
        if not directory:
            return None
        directory = posixpath.dirname(directory)


def including_kustomizations(repo: Repo, directory: str) -> list[KustomizeFile]:
    """kustomization.yaml files that include the folder ``directory``, directly or not."""
    return list(repo.kustomize_files_including(directory, any_entry=False))
