"""Every Kubernetes object in the real-world corpora validates without internal errors.

The counts per repository are printed (``pytest -s``) and the violations that remain are
pinned: each was reviewed and is either a true finding or a known limit of a source
(see EXPECTED).  A new violation here is most likely a false positive to fix.
"""

from __future__ import annotations

import collections
import time
from pathlib import Path
from typing import Any

import pytest

from homelab_kit.schema import SchemaRegistry, validate
from homelab_kit.yaml import load_file

from .conftest import CATALOG_TEMPLATE, CORPORA, shared_path

REPOSITORIES = (
    "yamshy__homelab",
    "onedr0p__home-ops",
    "bjw-s-labs__home-ops",
    "vrozaksen__home-ops",
    "LukasParke__home-ops",
)

# (file, line, code) of every violation left, per repository, after review.
EXPECTED: dict[str, set[tuple[str, int, str]]] = {
    "yamshy__homelab": set(),
    # The CRDs catalog's AlertmanagerConfig predates prometheus-operator's
    # pushoverConfigs[].monospace (upstream has it): a stale schema, not a validator bug.
    "onedr0p__home-ops": {
        (
            "kubernetes/apps/o11y/kube-prometheus-stack/app/alertmanagerconfig.yaml",
            83,
            "unknown-field",
        )
    },
    "bjw-s-labs__home-ops": {
        (
            "kubernetes/apps/observability/kube-prometheus-stack/app/alertmanagerconfig.yaml",
            80,
            "unknown-field",
        )
    },
    "vrozaksen__home-ops": {
        (
            "kubernetes/platform/observability/kube-prometheus-stack/alertmanagerconfig.yaml",
            121,
            "unknown-field",
        ),
        (
            "kubernetes/platform/observability/kube-prometheus-stack/alertmanagerconfig.yaml",
            162,
            "unknown-field",
        ),
    },
    "LukasParke__home-ops": set(),
}


def _patch_files(documents: dict[Path, list[Any]]) -> set[Path]:
    """Files kustomization.yaml files use as patches: partial objects by design."""
    patches: set[Path] = set()
    for path, datas in documents.items():
        if path.name not in ("kustomization.yaml", "kustomization.yml"):
            continue
        for data in datas:
            entries = list(data.get("patches") or []) + list(
                data.get("patchesStrategicMerge") or []
            )
            for entry in entries:
                target = entry.get("path") if isinstance(entry, dict) else entry
                if isinstance(target, str) and "\n" not in target:
                    patches.add((path.parent / target).resolve())
    return patches


@pytest.mark.corpora
@pytest.mark.parametrize("name", REPOSITORIES)
def test_corpus_objects_validate(name: str, catalog: Path) -> None:
    root = shared_path(CORPORA / name)
    registry = SchemaRegistry("1.34", locations=[f"{catalog}/{CATALOG_TEMPLATE}"])
    documents: dict[Path, list[Any]] = {}
    for path in sorted((root / "kubernetes").rglob("*.yaml")):
        if "templates" in path.relative_to(root).parts:
            continue  # Helm chart templates are Go templates, not YAML
        datas = [d.data for d in load_file(str(path), str(path)).documents]
        documents[path.resolve()] = [d for d in datas if isinstance(d, dict)]
    patches = _patch_files(documents)

    counts: collections.Counter[str] = collections.Counter()
    left: set[tuple[str, int, str]] = set()
    objects = not_objects = 0
    started = time.perf_counter()
    for path, datas in documents.items():
        for data in datas:
            if "apiVersion" not in data or "kind" not in data:
                not_objects += 1  # Helm values, kustomizeconfig, app configs
                continue
            objects += 1
            for violation in validate(data, registry, partial=path in patches):
                counts[violation.code] += 1
                if violation.code != "no-schema":
                    line = (violation.position(data) or (0, 0))[0]
                    left.add((str(path.relative_to(root.resolve())), line, violation.code))
    elapsed = time.perf_counter() - started
    print(
        f"\n{name}: {objects} objects ({not_objects} non-object documents skipped, "
        f"{len(patches)} patch files validated partially) in {elapsed:.2f}s: {dict(counts)}"
    )
    missing = sorted(
        {
            (d["apiVersion"], d["kind"])
            for datas in documents.values()
            for d in datas
            if isinstance(d.get("apiVersion"), str)
            and isinstance(d.get("kind"), str)
            and registry.validator_for(d["apiVersion"], d["kind"]) is None
        }
    )
    print(f"  kinds without a schema: {', '.join(f'{k} ({a})' for a, k in missing) or 'none'}")
    assert left == EXPECTED[name]
