"""The pure-Python renderer against ``kubectl kustomize`` on real repositories.

For every kustomization directory under ``../shared/corpora/*/kubernetes`` (all of
yamshy__homelab, a deterministic sample of up to 40 per other repository, to keep the
suite fast) and under the reference cluster's ``kubernetes/``, both renderers must
produce the same objects (compared as canonical JSON) in the same order.
Components, and directories using helmCharts or remote resources, are skipped: the
pure renderer does not inflate charts or fetch anything, by design.
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

PER_REPOSITORY = 25
ALWAYS_ALL = ("yamshy__homelab",)

# Differences we know of, with the reason; they fail loudly if they start to pass.
KNOWN_DIFFERENCES = {
    "onedr0p__home-ops/kubernetes/apps/o11y/grafana-operator/instance": (
        "go-yaml's emitter writes a folded scalar with a more-indented line so that it "
        "reads back with an extra newline; kubectl's text differs from the source value"
    ),
    "vrozaksen__home-ops/kubernetes/platform/observability/grafana/instance": (
        "go-yaml's folded-scalar emission (as above)"
    ),
}

_REMOTE = re.compile(r"^\s*-\s*['\"]?(?:[a-z]+://|github\.com/|git@)", re.MULTILINE)


def _kustomization(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_FILES:
        if (directory / name).is_file():
            return directory / name
    return None


def _supported(directory: Path) -> bool:
    path = _kustomization(directory)
    if path is None:
        return False
    text = path.read_text(encoding="utf-8", errors="replace")
    if re.search(r"^kind:\s*Component\b", text, re.MULTILINE):
        return False
    return "helmCharts" not in text and not _REMOTE.search(text)


def _kustomization_dirs(tree: Path) -> list[Path]:
    found = {p.parent for name in KUSTOMIZATION_FILES for p in tree.rglob(name)}
    return sorted(d for d in found if _supported(d))


def _sample(dirs: list[Path], limit: int) -> list[Path]:
    if len(dirs) <= limit:
        return dirs
    step = len(dirs) / limit
    return [dirs[int(i * step)] for i in range(limit)]


def _corpus_cases() -> list[object]:
    if not CORPORA.is_dir():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=f"{CORPORA} is absent"))]
    cases: list[object] = []
    for repo in sorted(p for p in CORPORA.iterdir() if (p / "kubernetes").is_dir()):
        dirs = _kustomization_dirs(repo / "kubernetes")
        if repo.name not in ALWAYS_ALL:
            dirs = _sample(dirs, PER_REPOSITORY)
        for directory in dirs:
            rel = directory.relative_to(CORPORA).as_posix()
            marks = []
            if rel in KNOWN_DIFFERENCES:
                marks.append(pytest.mark.xfail(reason=KNOWN_DIFFERENCES[rel], strict=True))
            cases.append(pytest.param(repo, directory, id=rel, marks=marks))
    return cases


def _reference_cases() -> list[object]:
    tree = PROJECT_ROOT / "kubernetes"
    dirs = _kustomization_dirs(tree) if tree.is_dir() else []
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
    _compare(directory, repo)


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.parametrize("directory", _reference_cases())
def test_reference_cluster_renders_like_kubectl(directory: Path) -> None:
    _compare(directory, PROJECT_ROOT)
