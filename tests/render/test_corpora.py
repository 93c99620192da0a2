"""The pure-Python renderer against ``kubectl kustomize`` on real repositories.

Every kustomization folder of every repository under ``../shared/corpora`` (anywhere
in it, Components included) and under the reference cluster's ``kubernetes/`` must
render to the same objects (compared as canonical JSON), in the same order, as
``kubectl kustomize --load-restrictor LoadRestrictionsNone`` -- or both must fail.

The one kind of folder that cannot be compared is a folder that includes a remote
resource: kubectl fetches it (and fails here, without network); the renderer never
fetches and says so in a warning.  Those folders are listed in ``NEEDS_NETWORK``
and checked for that warning.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/render/test_corpora.py
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from homelab_kit.errors import HomelabKitError
from homelab_kit.render import KUSTOMIZATION_FILES, render_directory
from tests.render.conftest import (
    CORPORA,
    HAVE_KUBECTL,
    PROJECT_ROOT,
    canonical,
    kubectl_build,
)

# Folders that include a remote resource (kubectl needs the network for them).
NEEDS_NETWORK = frozenset(
    {
        "onedr0p__home-ops-2024/kubernetes/main/apps/database/dragonfly/app",
        "onedr0p__home-ops-2024/kubernetes/main/bootstrap/flux",
        "onedr0p__home-ops-2024/kubernetes/storage/bootstrap/flux",
    }
)
# Folders whose folded scalars hold more-indented lines: go-yaml's emitter bug gives
# them an extra line break in kubectl's output, which the renderer reproduces.
FOLDED_MORE_INDENTED = (
    "onedr0p__home-ops/kubernetes/apps/o11y/grafana-operator/instance",
    "vrozaksen__home-ops/kubernetes/platform/observability/grafana/instance",
)

_REMOTE = re.compile(r"^\s*-\s*['\"]?(?:[a-z]+://|github\.com/|git@)", re.MULTILINE)


def _kustomization(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_FILES:
        if (directory / name).is_file():
            return directory / name
    return None


def _is_remote(directory: Path) -> bool:
    path = _kustomization(directory)
    text = path.read_text(encoding="utf-8", errors="replace") if path else ""
    return bool(_REMOTE.search(text))


def kustomization_dirs(tree: Path) -> list[Path]:
    """Every folder below ``tree`` holding a kustomization file."""
    found = {p.parent for name in KUSTOMIZATION_FILES for p in tree.rglob(name)}
    return sorted(d for d in found if ".git" not in d.parts)


def _corpus_cases() -> list[object]:
    if not CORPORA.is_dir():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=f"{CORPORA} is absent"))]
    cases: list[object] = []
    for repo in sorted(p for p in CORPORA.iterdir() if p.is_dir()):
        for directory in kustomization_dirs(repo):
            rel = directory.relative_to(CORPORA).as_posix()
            cases.append(pytest.param(repo, directory, id=rel))
    return cases


def _reference_cases() -> list[object]:
    tree = PROJECT_ROOT / "kubernetes"
    dirs = kustomization_dirs(tree) if tree.is_dir() else []
    if not dirs:
        reason = f"no kustomization directories under {tree} yet"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason))]
    return [pytest.param(d, id=d.relative_to(PROJECT_ROOT).as_posix()) for d in dirs]


def _compare(directory: Path, root: Path) -> None:
    try:
        theirs = kubectl_build(directory)
    except AssertionError as exc:
        with pytest.raises(HomelabKitError):
            render_directory(directory, root=root)
        pytest.skip(f"kubectl fails here too: {str(exc)[:200]}")
    ours = list(render_directory(directory, root=root).objects)
    assert sorted(canonical(ours)) == sorted(canonical(theirs)), "different objects"
    assert canonical(ours) == canonical(theirs), "same objects, different order"


needs_kubectl = pytest.mark.skipif(not HAVE_KUBECTL, reason="kubectl is not on PATH")


@needs_kubectl
@pytest.mark.corpora
@pytest.mark.kubectl
@pytest.mark.parametrize(("repo", "directory"), _corpus_cases())
def test_corpus_directory_renders_like_kubectl(repo: Path, directory: Path) -> None:
    if directory.relative_to(CORPORA).as_posix() in NEEDS_NETWORK:
        warnings = render_directory(directory, root=repo).warnings
        assert any("remote resource" in w and "nothing is fetched" in w for w in warnings)
        pytest.skip("includes a remote resource: kubectl needs the network to build it")
    _compare(directory, repo)


@pytest.mark.corpora
@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"{CORPORA} is absent")
def test_only_the_listed_folders_need_the_network() -> None:
    remote = {
        d.relative_to(CORPORA).as_posix()
        for repo in CORPORA.iterdir()
        if repo.is_dir()
        for d in kustomization_dirs(repo)
        if _is_remote(d)
    }
    assert remote == NEEDS_NETWORK


@pytest.mark.corpora
@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"{CORPORA} is absent")
@pytest.mark.parametrize("rel", FOLDED_MORE_INDENTED)
def test_folded_scalars_come_out_as_kubectl_writes_them(rel: str) -> None:
    directory = CORPORA / rel
    repo = CORPORA / rel.split("/")[0]
    texts = [
        v
        for obj in render_directory(directory, root=repo).objects
        for v in _strings(obj)
        if "exists(c," in v or v.startswith("[")
    ]
    # the line before a more-indented line gains an empty line, as in kubectl's output
    assert any("\n\n  " in v for v in texts)


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.parametrize("directory", _reference_cases())
def test_reference_cluster_renders_like_kubectl(directory: Path) -> None:
    _compare(directory, PROJECT_ROOT)


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []
