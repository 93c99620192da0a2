"""The bundled CRD schemas: a compressed subset of the public CRDs catalog; writes ``catalog.zip``.

Source: https://github.com/datreeio/CRDs-catalog (MIT, ``CATALOG-LICENSE.txt`` beside this
module), at the commit in :data:`SOURCE_COMMIT`: JSON schemas generated from each upstream
project's CRDs, laid out ``{group}/{kind}_{version}.json``.  Only the API groups that
homelab repositories deploy are bundled (:data:`GROUPS`, chosen by what the repositories
in ``../shared/corpora`` use: ``python -m homelab_kit.schema.crds.bundle --survey DIR``
lists them), every kind and version of each group.

Each schema is stored as the catalog has it, minus ``description`` texts (most of the
bytes, never used in a message), minified, one LZMA-compressed member per file so a lookup
decompresses only the kind it needs.  The registry hardens them with
:func:`~homelab_kit.schema.crd.strict_schema` when it reads them, like any schema file.

A bundled schema is a snapshot of one release of its operator, which may not be the
release a cluster runs: some groups of the catalog lag upstream by months (Cilium,
Longhorn; the Prometheus operator's ``pushoverConfigs.monospace`` is missing), so a
field added since would be reported as unknown.  The registry therefore marks the
validators it builds from the bundle ``advisory``, and the lint reports what they find
as ``schema-invalid-bundled`` (a warning), never as the error ``schema-invalid``.

Regenerate (from a checkout of the catalog at :data:`SOURCE_COMMIT`)::

    python -m homelab_kit.schema.crds.bundle CATALOG_DIR

``--check`` only compares; ``tests/schema`` does it when ``../shared`` is present.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from homelab_kit.schema.crds import BUNDLE_NAME

SOURCE_REPOSITORY = "https://github.com/datreeio/CRDs-catalog"
SOURCE_COMMIT = "7b1e26ef9deea49293714d204c1a2270aab1178f"
SOURCE_LICENSE = "MIT"
MANIFEST_NAME = "SOURCE.json"

# API groups bundled: those the surveyed homelab repositories deploy (and are in the catalog).
GROUPS = (
    "acme.cert-manager.io",
    "cert-manager.io",
    "cilium.io",
    "external-secrets.io",
    "fluxcd.controlplane.io",
    "gateway.networking.k8s.io",
    "helm.toolkit.fluxcd.io",
    "image.toolkit.fluxcd.io",
    "k8s.cni.cncf.io",
    "kustomize.toolkit.fluxcd.io",
    "monitoring.coreos.com",
    "notification.toolkit.fluxcd.io",
    "postgresql.cnpg.io",
    "secrets.infisical.com",
    "snapshot.storage.k8s.io",
    "source.toolkit.fluxcd.io",
    "tailscale.com",
    "upgrade.cattle.io",
    "volsync.backube",
)

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = ("additionalProperties", "not", "if", "then", "else", "contains", "items")
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def without_descriptions(node: Any) -> Any:
    """A copy of the schema ``node`` without ``description`` annotations.

    Only schema nodes lose them: a property that happens to be called ``description``
    (``properties: {description: {...}}``) is kept.
    """
    if isinstance(node, list):
        return [without_descriptions(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "description":
            continue
        if key in _SCHEMA_MAPS and isinstance(value, Mapping):
            out[key] = {name: without_descriptions(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS or key in _SCHEMA_ONE:
            out[key] = without_descriptions(value)
        else:
            out[key] = value
    return out


def catalog_files(catalog: Path) -> Iterator[tuple[str, Path]]:
    """``(member name, file)`` for every schema of the bundled groups, sorted."""
    for group in GROUPS:
        folder = catalog / group
        for path in sorted(folder.glob("*.json")):
            yield f"{group}/{path.name}", path


def build(catalog: Path) -> bytes:
    """The bytes of ``catalog.zip``: deterministic for the same catalog."""
    buffer = io.BytesIO()
    members: list[str] = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_LZMA) as archive:
        for name, path in catalog_files(catalog):
            schema = without_descriptions(json.loads(path.read_text(encoding="utf-8")))
            text = json.dumps(schema, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
            archive.writestr(_member(name), text)
            members.append(name)
        manifest = {
            "source": SOURCE_REPOSITORY,
            "commit": SOURCE_COMMIT,
            "license": SOURCE_LICENSE,
            "license_file": "CATALOG-LICENSE.txt",
            "groups": list(GROUPS),
            "schemas": len(members),
        }
        archive.writestr(_member(MANIFEST_NAME), json.dumps(manifest, indent=1) + "\n")
    return buffer.getvalue()


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, _FIXED_TIME)
    info.compress_type = zipfile.ZIP_LZMA
    return info


def survey(corpora: Path) -> dict[str, int]:
    """API group -> objects, for every group the YAML files under ``corpora`` use."""
    import re

    found: dict[str, int] = {}
    pattern = re.compile(r"^apiVersion:\s*['\"]?([a-z0-9.-]+\.[a-z]+)/", re.MULTILINE)
    for path in corpora.rglob("*.y*ml"):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for match in pattern.finditer(text):
            found[match.group(1)] = found.get(match.group(1), 0) + 1
    return dict(sorted(found.items()))


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) ``catalog.zip`` and the licence text."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--survey"] and len(args) == 2:
        catalog_groups = set(GROUPS)
        for group, count in survey(Path(args[1])).items():
            print(f"{count:6d} {group}{'  (bundled)' if group in catalog_groups else ''}")
        return 0
    check = "--check" in args
    paths = [a for a in args if a != "--check"]
    if len(paths) != 1:
        print("usage: python -m homelab_kit.schema.crds.bundle [--check] CATALOG_DIR")
        return 2
    catalog = Path(paths[0])
    folder = Path(__file__).parent
    wanted = {
        folder / BUNDLE_NAME: build(catalog),
        folder / "CATALOG-LICENSE.txt": (catalog / "LICENSE").read_bytes(),
    }
    stale = [p for p, data in wanted.items() if not p.is_file() or p.read_bytes() != data]
    for path in stale:
        if not check:
            path.write_bytes(wanted[path])
        print(("stale: " if check else "wrote: ") + path.name)
    return 1 if stale and check else 0


if __name__ == "__main__":
    raise SystemExit(main())
