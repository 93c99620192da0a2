"""Helpers the Talos checks share."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from typing import Any

from homelab_kit import Location, Repo
from homelab_kit.model.talos import TalosConfig

VERSION_FIELDS = (("talosVersion", "talos"), ("kubernetesVersion", "kubernetes"))


def normalize(version: str) -> str:
    """``v1.33.4`` and ``1.33.4`` compare equal."""
    return version.strip().removeprefix("v")


def env_location(repo: Repo, talos: TalosConfig, key: str) -> Location | None:
    """Where talenv.yaml defines ``key``, if it does."""
    if talos.env_path is None:
        return None
    for doc in repo.documents_in(talos.env_path):
        if key in doc.data:
            return doc.location(key)
    return None


def env_file_keys(repo: Repo, talos: TalosConfig) -> frozenset[str]:
    """Variable names every talenv file next to talconfig.yaml defines.

    talenv.yaml's values are in the model; an encrypted ``talenv.sops.yaml`` keeps
    its keys in clear text, so its names count as defined too.
    """
    folder = posixpath.dirname(talos.doc.path)
    names: set[str] = set(talos.variables)
    for path, yfile in repo.files.items():
        base = posixpath.basename(path)
        if posixpath.dirname(path) != folder or not base.startswith("talenv"):
            continue
        for document in yfile.documents:
            if isinstance(document.data, Mapping):
                names.update(str(k) for k in document.data if k != "sops")
    return frozenset(names)


def strings(
    data: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string value of a document with its path, in document order."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from strings(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from strings(value, (*path, i))
    elif isinstance(data, str):
        yield path, data
