"""The renderer reusing the loader's parsed files renders exactly what it parses itself.

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
from homelab_kit.render import render_directory
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
