"""Every corpus repository loads, and the library finds what an independent count finds."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

import homelab_kit
from tests.conftest import CORPORA, CORPUS_NAMES, corpus_path

_DOC_SPLIT = re.compile(r"^---\s*$", re.MULTILINE)


def _manifest() -> dict[str, dict[str, str]]:
    path = CORPORA / "MANIFEST.tsv"
    if not path.is_file():
        pytest.skip(f"{path} is absent (../shared/corpora is not available on this machine)")
    with path.open(encoding="utf-8") as handle:
        return {row["name"]: row for row in csv.DictReader(handle, delimiter="\t")}


def _raw_count(root: Path, api_prefix: str, kind: str) -> int:
    """Top-level ``kind:`` + ``apiVersion:`` pairs per document, by regular expression."""
    count = 0
    for folder in ("kubernetes", "talos", "bootstrap"):
        for path in (root / folder).rglob("*.y*ml"):
            if "templates" in path.parts or "patches" in path.parts:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for doc in _DOC_SPLIT.split(text):
                if re.search(rf"^kind:\s*{kind}\s*$", doc, re.MULTILINE) and re.search(
                    rf"^apiVersion:\s*{re.escape(api_prefix)}", doc, re.MULTILINE
                ):
                    count += 1
    return count


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_counts_match_an_independent_count(name: str) -> None:
    root = corpus_path(name)
    row = _manifest()[name]
    repo = homelab_kit.load(root)
    assert len(repo.helm_releases) == int(row["helmrelease_docs"])
    assert len(repo.oci_repositories) == int(row["ocirepository_docs"])
    assert len(repo.infisical_secrets) == int(row["infisicalsecret_docs"])
    assert len(repo.external_secrets) == int(row["externalsecret_docs"])
    assert len(repo.kustomizations) == _raw_count(
        root, "kustomize.toolkit.fluxcd.io/", "Kustomization"
    )


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_every_corpus_lints_without_internal_error(name: str) -> None:
    result = homelab_kit.lint(corpus_path(name))
    assert [d for d in result.diagnostics if d.check_id == "internal-error"] == []
    assert result.files > 100


def test_yamshy_apps_namespaces_and_values() -> None:
    repo = homelab_kit.load(corpus_path("yamshy__homelab"))
    sonarr = repo.app("media", "sonarr")
    assert sonarr is not None
    assert sonarr.ks_path == "kubernetes/apps/media/sonarr/ks.yaml"
    assert "kubernetes/apps/media/sonarr/app/helm/values.yaml" in sonarr.files
    ks = sonarr.kustomizations[0]
    assert (ks.namespace, ks.name, ks.prune, ks.interval) == ("media", "sonarr", True, "1h")
    assert ks.source.line == 3  # the mapping starts after '---' and a comment
    values = [v for v in repo.values if v.release == "sonarr"]
    assert [v.origin for v in values] == ["configmap"]
    images = list(values[0].images())
    assert [(i.repository, i.tag) for i in images] == [
        ("lscr.io/linuxserver/sonarr", "4.0.15.2941-ls293")
    ]
    assert images[0].source.path.endswith("helm/values.yaml")
    # The HelmRelease's namespace comes from its metadata; the ks.yaml's from the
    # namespace kustomization that lists it.
    assert repo.namespace_of_file("kubernetes/apps/media/sonarr/ks.yaml") == "media"
    assert repo.talos is not None
    assert repo.talos.kubernetes_version == "v1.33.4"
    assert repo.settings.kubernetes_version == "v1.33.4"


def test_vrozaksen_patch_files_are_not_objects() -> None:
    repo = homelab_kit.load(corpus_path("vrozaksen__home-ops"))
    names = {k.name for k in repo.kustomizations}
    assert "not-used" not in names
    assert any(d.name == "not-used" for d in repo.patch_documents)


def test_lukasparke_chart_templates_are_skipped_with_a_note() -> None:
    repo = homelab_kit.load(corpus_path("LukasParke__home-ops"))
    reasons = {s.reason for s in repo.skipped}
    assert any("Helm chart template" in r for r in reasons)
    assert not any("/templates/" in p for p in repo.files)
