"""``add-secret`` over the apps of every corpus repository, each time into a fresh copy.

For a sample of apps of each repository in ../shared/corpora (every corpus, every
secrets backend): the command finishes without an internal error (a one-line
refusal is fine), the folders it touched still render with kubectl, lint finds
nothing new, no Secret gets a second producer, and each new file sits where the
repository's other apps keep the same file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from homelab_kit import load
from homelab_kit.errors import ScaffoldError
from homelab_kit.lint import lint
from homelab_kit.scaffold import plan_add_secret, plan_new_app
from homelab_kit.secrets_map import build_secrets_map
from tests.conftest import CORPORA

PER_CORPUS = 3  # apps sampled per repository: spread over its namespaces


def _corpora() -> list[str]:
    if not CORPORA.is_dir():
        return []
    return sorted(p.name for p in CORPORA.iterdir() if p.is_dir())


def _sample(name: str) -> list[str]:
    repo = load(CORPORA / name)
    apps = sorted(f"{a.namespace}/{a.name}" for a in repo.apps if not a.is_secrets)
    if len(apps) <= PER_CORPUS:
        return apps
    step = len(apps) / PER_CORPUS
    return [apps[int(i * step)] for i in range(PER_CORPUS)]


CASES = [pytest.param(c, a, id=f"{c}:{a}") for c in _corpora() for a in _sample(c)]


def _findings(root: Path) -> Counter[tuple[str, str]]:
    """Each finding as (check, message); counts as N (a per-kind summary such as
    schema-missing names a count and the first file, both moved by a new file)."""
    result = lint(root)
    return Counter((d.check_id, re.sub(r"\d+", "N", d.message)) for d in result.diagnostics)


def _renders(folder: Path) -> bool:
    done = subprocess.run(
        ["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode == 0


def _kustomize_dir(root: Path, rel: str) -> Path | None:
    folder = (root / rel).parent
    while folder != root and folder.is_relative_to(root):
        if (folder / "kustomization.yaml").is_file():
            return folder
        folder = folder.parent
    return None


def _producers(root: Path) -> dict[tuple[str, str], int]:
    smap = build_secrets_map(load(root))
    return {(ns.namespace, s.name): len(s.producers) for ns in smap.namespaces for s in ns.secrets}


def _same_place_elsewhere(root: Path, app_dir: str, created: str) -> bool:
    """Another app keeps a file of the same name at the same place in its folder."""
    ns_dir, app = app_dir.rsplit("/", 1)
    if created.startswith(app_dir + "/"):
        inner = created[len(app_dir) + 1 :]
        return any(
            (other / inner).is_file()
            for other in (root / ns_dir).parent.glob("*/*")
            if other.name != app and other.is_dir()
        )
    # a namespace-level file: <ns>/secrets/<app>-secrets.yaml as in other namespaces
    rel = created[len(ns_dir) + 1 :].replace(app, "*")
    return any(p for p in (root / ns_dir).parent.glob(f"*/{rel}") if p.parent != root / created)


@pytest.mark.kubectl
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize(("corpus", "target"), CASES)
def test_add_secret_fits_every_corpus(corpus: str, target: str, tmp_path: Path) -> None:
    root = tmp_path / corpus
    shutil.copytree(CORPORA / corpus, root, symlinks=True)
    (root / ".git").mkdir()  # the repository root
    before = _findings(root)
    producers = _producers(root)
    try:
        plan = plan_add_secret(root, target)
    except ScaffoldError as exc:  # a refusal: one line, nothing written
        refusal = exc.message
    else:
        refusal = None
    if refusal is not None:
        assert "\n" not in refusal
        assert _findings(root) == before
        return
    renders_before = {}
    for change in (*plan.creates, *plan.edits):
        folder = _kustomize_dir(root, change.path)
        if folder is not None and folder not in renders_before:
            renders_before[folder] = _renders(folder)
    result = plan.apply()
    for folder, rendered in renders_before.items():
        if rendered:
            assert _renders(folder), f"{folder.relative_to(root)} no longer renders"
    after = _findings(root)
    new = after - before
    assert not new, f"new findings: {sorted(new)}"
    for key, count in _producers(root).items():
        assert count <= max(producers.get(key, 0), 1), f"second producer for {key}"
    repo = load(root)
    namespace, name = target.split("/")
    app = repo.app(namespace, name)
    assert app is not None
    for created in result.created:
        assert _same_place_elsewhere(root, app.directory, created), (
            f"{created}: no other app keeps this file there"
        )


def _usual_files(app_dirs: list[Path]) -> set[str]:
    """The files (relative to an app's folder) that most of ``app_dirs`` have."""
    counts = Counter(p.relative_to(d).as_posix() for d in app_dirs for p in d.rglob("*.yaml"))
    return {name for name, n in counts.items() if n * 2 > len(app_dirs)}


# Layouts new-app does not write yet (issue 18, open): say so rather than skip them.
NOT_YET = {
    "onedr0p__home-ops-2024": "two clusters: new-app writes under kubernetes/apps, not the "
    "cluster's own apps folder",
    "vrozaksen__home-ops": "flat apps (helmrelease.yaml beside ks.yaml, no app/ folder)",
}
NEW_APP = [
    pytest.param(c, id=c, marks=[pytest.mark.xfail(reason=NOT_YET[c], strict=True)])
    if c in NOT_YET
    else pytest.param(c, id=c)
    for c in _corpora()
]


@pytest.mark.kubectl
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("corpus", NEW_APP)
@pytest.mark.parametrize(
    "chart", ["oci://ghcr.io/bjw-s-labs/helm/app-template", "oci://ghcr.io/example/charts/demo"]
)
def test_new_app_fits_every_corpus(corpus: str, chart: str, tmp_path: Path) -> None:
    root = tmp_path / corpus
    shutil.copytree(CORPORA / corpus, root, symlinks=True)
    (root / ".git").mkdir()
    repo = load(root)
    # the namespace with the most apps, where the new app has the most neighbours
    counts = Counter(a.namespace for a in repo.apps if not a.is_secrets)
    namespace = counts.most_common(1)[0][0]
    siblings = [root / a.directory for a in repo.apps if a.namespace == namespace]
    before = _findings(root)
    try:
        plan = plan_new_app(
            root,
            f"{namespace}/scaffolded",
            chart=chart,
            version="4.4.0",
            image="ghcr.io/example/demo:1.0.0",
            port=8080,
        )
    except ScaffoldError as exc:  # a refusal: one line, nothing written
        refusal = exc.message
    else:
        refusal = None
    if refusal is not None:
        assert "\n" not in refusal
        assert _findings(root) == before
        return
    result = plan.apply()
    app_dir = next(root / p for p in result.created if p.endswith("/ks.yaml")).parent
    assert _renders(app_dir / "app"), "the new app does not render"
    for edited in result.changed:
        folder = _kustomize_dir(root, edited)
        assert folder is None or _renders(folder), f"{edited} no longer renders"
    # the new files have the names and places most of the namespace's other apps use
    usual = _usual_files(siblings)
    mine = {p.relative_to(app_dir).as_posix() for p in app_dir.rglob("*.yaml")}
    assert mine <= usual, f"{sorted(mine - usual)} are not where the other apps keep theirs"
    after = _findings(root)
    new = after - before
    assert not new, f"new findings: {sorted(new)}"
