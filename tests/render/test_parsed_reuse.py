"""The renderer reusing the loader's parsed files renders exactly what it parses itself.

The same goes for one :class:`~homelab_kit.render.sources.Sources` shared by every
build of a repository (as ``build_clusters`` shares it): paths resolved, files read
and parsed once, the same objects, provenance and warnings as builds on their own.

:func:`~homelab_kit.render.render_directory` takes the files the loader already
parsed (``parsed=``) so that building a cluster's desired state does not parse every
manifest twice.  For every kustomization folder of every repository under
``../shared/corpora`` (and the reference cluster) the objects, their provenance and
the warnings -- or the error -- must be the same with and without them.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/render/test_parsed_reuse.py
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from homelab_kit.errors import HomelabKitError
from homelab_kit.graph_cli import load_repo
from homelab_kit.render import build_flux_kustomization, render_directory
from homelab_kit.render.sources import Sources
from homelab_kit.yaml import YamlFile
from tests.render.conftest import CORPORA, PROJECT_ROOT, canonical
from tests.render.test_corpora import kustomization_dirs


class _Counting(dict[str, YamlFile]):
    """The loader's files, counting the ones the renderer found among them."""

    hits = 0

    def get(self, key: str, default: Any = None) -> Any:
        found = super().get(key, default)
        self.hits += found is not None
        return found


def _outcome(directory: Path, root: Path, parsed: Mapping[str, YamlFile] | None) -> Any:
    try:
        rendered = render_directory(directory, root=root, parsed=parsed)
    except HomelabKitError as exc:
        return ("error", str(exc), exc.location)
    return (canonical(list(rendered.objects)), rendered.provenance, rendered.warnings)


def _roots() -> list[object]:
    roots: list[object] = [pytest.param(PROJECT_ROOT, id="reference")]
    if not CORPORA.is_dir():
        reason = f"{CORPORA} is absent"
        return [*roots, pytest.param(None, marks=pytest.mark.skip(reason=reason))]
    corpora = sorted(p for p in CORPORA.iterdir() if p.is_dir())
    return roots + [pytest.param(p, id=p.name) for p in corpora]


@pytest.mark.parametrize("root", _roots())
def test_reusing_parsed_files_changes_nothing(root: Path) -> None:
    repo, _, _ = load_repo(str(root), None, cache=False)
    files = _Counting(repo.files)
    tree = root / "kubernetes" if root == PROJECT_ROOT else root
    for directory in kustomization_dirs(tree):
        alone = _outcome(directory, repo.root, None)
        reused = _outcome(directory, repo.root, files)
        assert reused == alone, directory.relative_to(root).as_posix()
    assert files.hits, "no manifest was taken from the loader's files"


def _flux_outcome(ks: Mapping[str, Any], namespace: str, root: Path, **kwargs: Any) -> Any:
    try:
        built = build_flux_kustomization(
            ks, root=root, backend="python", namespace=namespace, **kwargs
        )
    except HomelabKitError as exc:
        return ("error", str(exc), exc.location)
    return (canonical(list(built.objects)), built.provenance, built.warnings, built.unresolved)


def _loaded_data(files: Mapping[str, YamlFile]) -> dict[str, list[str]]:
    return {rel: canonical([d.data for d in f.documents]) for rel, f in files.items()}


@pytest.mark.parametrize("root", _roots())
def test_one_sources_shared_by_every_build_changes_nothing(root: Path) -> None:
    """A :class:`Sources` shared by every build of a tree gives what a fresh one gives.

    Every kustomization folder is rendered, then every Flux Kustomization of every
    cluster built, with one ``Sources`` holding the loader's files; each outcome must
    be the one a build on its own gives, and the loaded documents the builds read
    must come out unchanged (they are shared, never copied).
    """
    repo, _, _ = load_repo(str(root), None, cache=False)
    before = _loaded_data(repo.files)
    shared = Sources(repo.root, repo.files)
    tree = root / "kubernetes" if root == PROJECT_ROOT else root
    for directory in kustomization_dirs(tree):
        alone = _outcome(directory, repo.root, None)
        try:
            rendered = render_directory(directory, root=repo.root, sources=shared)
            reused: Any = (
                canonical(list(rendered.objects)),
                rendered.provenance,
                rendered.warnings,
            )
        except HomelabKitError as exc:
            reused = ("error", str(exc), exc.location)
        assert reused == alone, directory.relative_to(root).as_posix()
    built = 0
    for cluster in repo.clusters:
        for ks in cluster.kustomizations:
            if ks.path is None:
                continue
            shared_outcome = _flux_outcome(ks.object.data, ks.namespace, repo.root, sources=shared)
            alone = _flux_outcome(ks.object.data, ks.namespace, repo.root)
            assert shared_outcome == alone, f"{cluster.name}: {ks.key}"
            built += 1
    assert built or root != PROJECT_ROOT, "the reference cluster built no Kustomization"
    assert _loaded_data(repo.files) == before, "a build changed the loader's documents"
