"""Strict JSON schemas for the native Kubernetes kinds, per Kubernetes version.

They come from the ``kubernetes-validate`` package, which ships, for every minor
version it supports, one ``_definitions.json`` (draft 2020-12, ``$id``
``https://kubernetes.io/api/_definitions.json``) in a ``-local-strict`` flavour: every
object has ``additionalProperties: false``.  Each definition of a top-level kind is
tagged with ``x-kubernetes-group-version-kind``; :class:`NativeCatalog` indexes those
tags so ``(apiVersion, kind)`` finds its definition without reading the per-kind files.

The package's files are read, never imported: the package itself is not needed at
run time beyond its data.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from homelab_kit.errors import HomelabKitError

DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_DIR_NAME = re.compile(r"v(\d+)\.(\d+)\.\d+-local-strict\Z")
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?\Z")


def _schema_root() -> Path | None:
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"
    return root if root.is_dir() else None


@functools.cache
def available_versions() -> tuple[str, ...]:
    """The Kubernetes minor versions with strict schemas, oldest first (``("1.25", ...)``)."""
    root = _schema_root()
    if root is None:
        return ()
    found: list[tuple[int, int]] = []
    for entry in root.iterdir():
        match = _DIR_NAME.match(entry.name)
        if match and (entry / "_definitions.json").is_file():
            found.append((int(match.group(1)), int(match.group(2))))
    return tuple(f"{major}.{minor}" for major, minor in sorted(found))


def normalize_version(version: str) -> str:
    """``"v1.33.4"`` -> ``"1.33"``: the schema directory a Kubernetes version uses.

    Raises :class:`HomelabKitError` naming the available versions when there are no
    schemas for ``version`` (or when kubernetes-validate is not installed).
    """
    available = available_versions()
    if not available:
        raise HomelabKitError(
            "no Kubernetes schemas found: install the 'kubernetes-validate' package, "
            "which ships them"
        )
    match = _VERSION.match(version.strip())
    if match is None:
        raise HomelabKitError(
            f"cannot read Kubernetes version {version!r}; expected something like 'v1.33.4' "
            f"(schemas are available for {_span(available)})"
        )
    minor = f"{int(match.group(1))}.{int(match.group(2))}"
    if minor not in available:
        raise HomelabKitError(
            f"no Kubernetes schemas for version {version} (minor {minor}); "
            f"available: {', '.join(available)}"
        )
    return minor


def _span(versions: tuple[str, ...]) -> str:
    return f"{versions[0]} to {versions[-1]}" if len(versions) > 1 else versions[0]


def split_api_version(api_version: str) -> tuple[str, str]:
    """``"apps/v1"`` -> ``("apps", "v1")``; ``"v1"`` -> ``("", "v1")``."""
    group, _, version = api_version.rpartition("/")
    return group, version


class NativeCatalog:
    """The native kinds of one Kubernetes minor version, indexed by group/version/kind."""

    def __init__(self, minor: str) -> None:
        self.minor = minor
        root = _schema_root()
        assert root is not None, "normalize_version() checks the package is installed"
        path = root / f"v{minor}.0-local-strict" / "_definitions.json"
        with path.open(encoding="utf-8") as handle:
            self.document: dict[str, Any] = json.load(handle)
        self.definitions: Mapping[str, Any] = self.document.get("$defs", {})
        self._index: dict[tuple[str, str, str], str] = {}
        for name, definition in self.definitions.items():
            for gvk in definition.get("x-kubernetes-group-version-kind") or ():
                key = (gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))
                current = self._index.get(key)
                # Several definitions claim shared GVKs (DeleteOptions, WatchEvent); the
                # one named after the kind is the kind itself.
                if current is None or (
                    name.endswith("." + key[2]) and not current.endswith("." + key[2])
                ):
                    self._index[key] = name

    def definition_name(self, api_version: str, kind: str) -> str | None:
        """The ``$defs`` name of a native kind, e.g. ``io.k8s.api.apps.v1.Deployment``."""
        group, version = split_api_version(api_version)
        name = self._index.get((group, version, kind))
        if name is None or (name.endswith("List") and not kind.endswith("List")):
            return None
        return name

    def uri(self, definition: str) -> str:
        """The ``$ref`` URI of a definition."""
        return f"{DEFINITIONS_URI}#/$defs/{definition}"

    def groups(self) -> frozenset[str]:
        """Every API group with native kinds (``""`` is the core group)."""
        return frozenset(group for group, _, _ in self._index)


@functools.cache
def native_catalog(minor: str) -> NativeCatalog:
    """The (process-wide, shared) catalog of a normalised minor version."""
    return NativeCatalog(minor)
