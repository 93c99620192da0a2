"""``add-secret`` over the apps of every corpus repository, each time into a fresh copy.

For a sample of apps of each repository in ../shared/corpora (every corpus, every
secrets backend): the command finishes without an internal error (a one-line
refusal is fine), the folders it touched still render with kubectl, lint finds
nothing new, no Secret gets a second producer, and each new file sits where the
repository's other apps keep the same file.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from homelab_kit import load
from homelab_kit.errors import ScaffoldError
from homelab_kit.lint import lint
from homelab_kit.scaffold import plan_add_secret, plan_new_app, plan_new_namespace
from homelab_kit.scaffold.layout import ClusterChoiceError
from homelab_kit.secrets_map import build_secrets_map
from homelab_kit.yaml import parse_text
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


def _new_findings(
    root: Path, before: Counter[tuple[str, str]], created: tuple[str, ...] | list[str]
) -> Counter[tuple[str, str]]:
    """The findings lint has now and had not ``before``, less the one finding each
    SOPS placeholder must have (it is not encrypted yet: reported until it is)."""
    new = _findings(root) - before
    stubs = [p for p in created if p.endswith((".sops.yaml", ".sops.yml"))]
    if stubs:
        keys = [k for k in new if k[0] == "secrets-sops-encrypted"]
        assert keys, "lint does not report the unencrypted SOPS placeholder"
        assert sum(new.pop(k) for k in keys) == len(stubs)
    return new


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
        try:
            plan = plan_add_secret(root, target)
        except ClusterChoiceError as exc:  # one app so named in each of several clusters
            plan = plan_add_secret(root, target, cluster=exc.choices[-1])
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
    new = _new_findings(root, before, result.created)
    assert not new, f"new findings: {sorted(new)}"
    for key, count in _producers(root).items():
        assert count <= max(producers.get(key, 0), 1), f"second producer for {key}"
    repo = load(root)
    namespace, name = target.split("/")
    touched = (*result.created, *result.changed)
    named = [a for a in repo.apps if (a.namespace, a.name) == (namespace, name)]
    app = next((a for a in named if any(c.startswith(a.directory + "/") for c in touched)), None)
    app = app or named[0]
    for created in result.created:
        assert _same_place_elsewhere(root, app.directory, created), (
            f"{created}: no other app keeps this file there"
        )


def _usual_files(app_dirs: list[Path]) -> set[str]:
    """The files (relative to an app's folder) that most of ``app_dirs`` have."""
    counts = Counter(p.relative_to(d).as_posix() for d in app_dirs for p in d.rglob("*.yaml"))
    return {name for name, n in counts.items() if n * 2 > len(app_dirs)}


def _majority(votes: list[bool]) -> bool | None:
    """What most votes say; None on a tie or no votes (either is right)."""
    yes, no = votes.count(True), votes.count(False)
    return None if yes == no else yes > no


@cache
def _clusters(corpus: str) -> tuple[str, ...]:
    """The names of the corpus's clusters when it has several, else ``("",)``."""
    names = sorted(c.name for c in load(CORPORA / corpus).clusters)
    return tuple(names) if len(names) > 1 else ("",)


NEW_APP = [pytest.param(c, k, id=f"{c}:{k}" if k else c) for c in _corpora() for k in _clusters(c)]
CHARTS = [
    pytest.param("oci://ghcr.io/bjw-s-labs/helm/app-template", True, id="app-template+secrets"),
    pytest.param("oci://ghcr.io/example/charts/demo", False, id="demo"),
]


@pytest.mark.kubectl
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize(("corpus", "cluster"), NEW_APP)
@pytest.mark.parametrize(("chart", "secrets"), CHARTS)
def test_new_app_fits_every_corpus(
    corpus: str, cluster: str, chart: str, secrets: bool, tmp_path: Path
) -> None:
    root = tmp_path / corpus
    shutil.copytree(CORPORA / corpus, root, symlinks=True)
    (root / ".git").mkdir()
    repo = load(root)
    mine_cluster = repo.cluster(cluster) if cluster else None
    pool = mine_cluster.apps if mine_cluster is not None else repo.apps
    # the namespace folder with the most apps, where the new app has the most neighbours
    counts = Counter(posixpath.dirname(a.directory) for a in pool if not a.is_secrets)
    ns_dir = counts.most_common(1)[0][0]
    namespace = posixpath.basename(ns_dir)
    siblings = [a for a in repo.apps if posixpath.dirname(a.directory) == ns_dir]
    before = _findings(root)
    try:
        plan = plan_new_app(
            root,
            f"{namespace}/scaffolded",
            chart=chart,
            version="4.4.0",
            image="ghcr.io/example/demo:1.0.0",
            port=8080,
            secrets=secrets,
            cluster=cluster or None,
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
    app_dir = f"{ns_dir}/scaffolded"
    assert f"{app_dir}/ks.yaml" in result.created, "not in the namespace's own folder"
    docs, _ = parse_text((root / app_dir / "ks.yaml").read_text(), "ks.yaml")
    ks = next(d.data for d in docs if isinstance(d.data, dict))
    deployed = posixpath.normpath(ks["spec"]["path"].removeprefix("./"))
    assert _renders(root / deployed), "the new app does not render"
    for edited in result.changed:
        folder = _kustomize_dir(root, edited)
        assert folder is None or _renders(folder), f"{edited} no longer renders"
    # wired into the cluster: its desired state now holds the new app
    after_repo = load(root)
    holding = [c.name for c in after_repo.clusters if any(a.directory == app_dir for a in c.apps)]
    if cluster:
        assert holding == [cluster], f"deployed by {holding}, not {cluster}"
    elif repo.clusters:
        assert holding, "no cluster deploys the new app"
    # ks.yaml as the namespace's other apps write theirs
    own = [next(k for k in a.kustomizations if k.doc.path == a.ks_path) for a in siblings]
    for what, votes, mine in (
        (
            "metadata.namespace",
            [bool(k.doc.get("metadata", "namespace")) for k in own],
            "namespace" in ks["metadata"],
        ),
        (
            "spec.commonMetadata",
            [bool(k.doc.get("spec", "commonMetadata")) for k in own],
            "commonMetadata" in ks["spec"],
        ),
        (
            "its own folder as spec.path",
            [
                posixpath.normpath((k.path or "").removeprefix("./")) == a.directory
                for k, a in zip(own, siblings, strict=True)
            ],
            deployed == app_dir,
        ),
    ):
        expected = _majority(votes)
        assert expected is None or mine == expected, f"ks.yaml: {what} is {mine}, not {expected}"
    # the new files have the names and places most of the namespace's other apps use;
    # a secret's file, where at least one other app keeps one
    usual = _usual_files([root / a.directory for a in siblings])
    for created in result.created:
        if created.startswith(app_dir + "/"):
            inner = created[len(app_dir) + 1 :]
            if inner in usual:
                continue
        assert secrets, f"{created}: not where the other apps keep theirs"
        assert _same_place_elsewhere(root, app_dir, created), f"{created}: no other app has one"
    new = _new_findings(root, before, result.created)
    assert not new, f"new findings: {sorted(new)}"


def test_new_app_asks_for_the_cluster_when_the_namespace_does_not_tell(tmp_path: Path) -> None:
    corpus = "onedr0p__home-ops-2024"
    if not (CORPORA / corpus).is_dir():
        pytest.skip(f"{corpus} is not in ../shared/corpora")
    root = tmp_path / corpus
    shutil.copytree(CORPORA / corpus, root, symlinks=True)
    (root / ".git").mkdir()
    chart = {"chart": "oci://ghcr.io/example/charts/demo", "version": "1.0.0"}
    with pytest.raises(ClusterChoiceError) as info:
        plan_new_app(root, "default/scaffolded", **chart)
    assert info.value.choices == ("main", "storage")
    assert "main (kubernetes/main/apps), storage (kubernetes/storage/apps)" in info.value.message
    with pytest.raises(ScaffoldError, match="no cluster 'nope'"):
        plan_new_app(root, "default/scaffolded", cluster="nope", **chart)
    # a namespace only one cluster has tells which: said in a note
    plan = plan_new_app(root, "database/scaffolded", **chart)
    assert any(c.path == "kubernetes/main/apps/database/scaffolded/ks.yaml" for c in plan.creates)
    assert any("Cluster main" in n for n in plan.notes)
    # a new namespace in a cluster whose apps folder has no kustomization.yaml
    plan = plan_new_app(root, "games/scaffolded", cluster="storage", **chart)
    created = {c.path for c in plan.creates}
    assert "kubernetes/storage/apps/games/kustomization.yaml" in created
    assert any("deploys every folder in it" in n for n in plan.notes)


def test_new_namespace_follows_namespaces_without_a_secrets_folder(tmp_path: Path) -> None:
    corpus = "vrozaksen__home-ops"  # InfisicalSecrets beside their apps, namespace.yaml each
    if not (CORPORA / corpus).is_dir():
        pytest.skip(f"{corpus} is not in ../shared/corpora")
    root = tmp_path / corpus
    shutil.copytree(CORPORA / corpus, root, symlinks=True)
    (root / ".git").mkdir()
    result = plan_new_namespace(root, "tools").apply()
    assert sorted(result.created) == [
        "kubernetes/apps/tools/kustomization.yaml",
        "kubernetes/apps/tools/namespace.yaml",
    ]
    text = (root / "kubernetes/apps/tools/namespace.yaml").read_text()
    assert text.startswith("---\napiVersion: v1\nkind: Namespace\n")
    kfile = (root / "kubernetes/apps/tools/kustomization.yaml").read_text()
    assert kfile.endswith("resources:\n  - ./namespace.yaml\n")
    assert _renders(root / "kubernetes/apps/tools")


def _beside_a_release_elsewhere(root: Path, created: str) -> bool:
    """``created`` sits beside its HelmRelease (an app of several releases keeps one per
    release folder), and another app keeps a file so named beside its own HelmRelease."""
    here = (root / created).parent
    if not (here / "helmrelease.yaml").is_file():
        return False
    name = posixpath.basename(created)
    return any(
        (p.parent / "helmrelease.yaml").is_file()
        for p in root.glob(f"kubernetes/**/{name}")
        if p.parent != here
    )


EVERY_APP = os.environ.get("HOMELAB_KIT_SCAFFOLD_EVERY_APP") == "1"


@pytest.mark.kubectl
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.skipif(
    not EVERY_APP,
    reason="every app of every corpus: set HOMELAB_KIT_SCAFFOLD_EVERY_APP=1 (minutes)",
)
@pytest.mark.parametrize("corpus", _corpora())
def test_add_secret_into_every_app_of_the_corpus(corpus: str, tmp_path: Path) -> None:
    """``add-secret`` into every app of one copy, one after the other: no internal
    error, a refusal is one line, every folder that rendered still renders, each new
    file sits where another app keeps the same file, no Secret gets a second
    producer, and lint finds nothing new at the end (but the SOPS placeholders)."""
    root = tmp_path / corpus
    shutil.copytree(CORPORA / corpus, root, symlinks=True)
    (root / ".git").mkdir()
    before = _findings(root)
    producers = _producers(root)
    apps = sorted({(a.namespace, a.name) for a in load(root).apps if not a.is_secrets})
    created: list[str] = []
    refused = 0
    for namespace, name in apps:
        target = f"{namespace}/{name}"
        try:
            try:
                plan = plan_add_secret(root, target)
            except ClusterChoiceError as exc:
                plan = plan_add_secret(root, target, cluster=exc.choices[-1])
        except ScaffoldError as exc:
            refusal = exc.message
        else:
            refusal = None
        if refusal is not None:
            assert "\n" not in refusal, target
            refused += 1
            continue
        rendered = {}
        for change in (*plan.creates, *plan.edits):
            folder = _kustomize_dir(root, change.path)
            if folder is not None and folder not in rendered:
                rendered[folder] = _renders(folder)
        result = plan.apply()
        for folder, ok in rendered.items():
            assert not ok or _renders(folder), f"{target}: {folder.relative_to(root)} broke"
        app_dirs = [
            a.directory for a in load(root).apps if (a.namespace, a.name) == (namespace, name)
        ]
        for path in result.created:
            assert any(_same_place_elsewhere(root, d, path) for d in app_dirs) or (
                _beside_a_release_elsewhere(root, path)
            ), f"{target}: {path}: no other app keeps this file there"
        created.extend(result.created)
    new = _new_findings(root, before, created)
    assert not new, f"new findings: {sorted(new)}"
    for key, count in _producers(root).items():
        assert count <= max(producers.get(key, 0), 1), f"second producer for {key}"
    print(f"{corpus}: {len(apps)} apps, {len(apps) - refused} wired, {refused} refused")
