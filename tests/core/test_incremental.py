"""Incremental lint: after a change, the cached run finds exactly what a cold run finds.

Each test lints a copy of a repository with the cache, changes it as a user would
(a values file, a parent's ``spec.patches``, a ``substituteFrom`` ConfigMap, a
deleted, renamed or added file, a symbolic link retargeted), lints again with the
cache and compares with ``--no-cache``: the findings, and every cluster's desired
state with its provenance.  Where the build cache should have reused builds, the
tests say how many it rebuilt (only the Kustomizations that read the change).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

import homelab_kit
from homelab_kit import build_cache
from homelab_kit.cache import Cache, code_fingerprint, default_cache_dir, tree_fingerprint
from homelab_kit.config import load_config
from homelab_kit.lint import load_options
from homelab_kit.model.loader import load
from homelab_kit.plugins import get_plugin_manager
from tests.conftest import PROJECT_ROOT, corpus_path

SONARR = "kubernetes/apps/media/sonarr"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the reference cluster."""
    root = tmp_path / "repo"
    for folder in ("kubernetes", "talos", "bootstrap"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    shutil.copy(PROJECT_ROOT / ".homelab-kit.yaml", root / ".homelab-kit.yaml")
    return root


def _write(path: Path, text: str) -> None:
    """Write ``text``, the modification time moved on (as an editor a second later)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    later = max(path.stat().st_mtime_ns, before + 1_000_000_000)
    os.utime(path, ns=(later, later))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    _write(path, text.replace(old, new, 1))


def _desired(root: Path, cached: bool) -> tuple[Any, tuple[int, int]]:
    """Every cluster's Kustomizations and objects (data and provenance), and (reused,
    built) builds, built through a build session on the lint cache or without one."""
    config = load_config(root)
    pm = get_plugin_manager()
    options = load_options(config, pm)
    session = None
    if cached:
        links: list[str] = []
        tree_fingerprint(root, (), ("kubernetes", "talos", "bootstrap"), links)
        store = Cache(default_cache_dir(), root, f"test:{code_fingerprint()}")
        session = build_cache.BuildSession(store, root, links)
    with build_cache.using(session):
        repo = load(root, options)
        clusters = repo.clusters
    if session is not None:
        session.save()
    state = [
        (
            cluster.name,
            [
                (ks.key, ks.path, ks.warnings, ks.errors, sorted(ks.unresolved))
                for ks in cluster.kustomizations
            ],
            [(o.data, o.provenance, o.applied_by) for o in cluster.objects],
        )
        for cluster in clusters
    ]
    counts = (session.reused, session.built) if session is not None else (0, 0)
    return state, counts


def _findings(root: Path, cache: bool) -> Any:
    result = homelab_kit.lint(root, cache=cache)
    return attrs.evolve(result, duration=0.0)


def _same_after(root: Path, change: Callable[[Path], None]) -> tuple[int, int]:
    """Lint and build with the cache, ``change`` the repository, and check that the
    cached results equal the uncached ones; returns the second build's counts."""
    _findings(root, cache=True)
    _desired(root, cached=True)
    change(root)
    uncached_state, _ = _desired(root, cached=False)
    state, counts = _desired(root, cached=True)
    assert state == uncached_state
    assert _findings(root, cache=True) == _findings(root, cache=False)
    return counts


def _kustomizations(root: Path) -> int:
    state, _ = _desired(root, cached=False)
    return sum(len(kss) for _, kss, _ in state)


def test_nothing_changed_rebuilds_nothing(repo: Path) -> None:
    reused, built = _same_after(repo, lambda root: None)
    assert built == 0
    assert reused == _kustomizations(repo)


def test_a_values_file_rebuilds_only_the_kustomization_that_reads_it(repo: Path) -> None:
    def change(root: Path) -> None:
        _edit(root / SONARR / "app/helm/values.yaml", "\n", "\n# a comment\n")

    reused, built = _same_after(repo, change)
    assert built == 1
    assert reused == _kustomizations(repo) - 1


def test_a_changed_value_reaches_the_desired_state(repo: Path) -> None:
    values = repo / SONARR / "app/helm/values.yaml"

    def change(root: Path) -> None:
        with values.open("a", encoding="utf-8") as handle:
            handle.write("extraValue: changed-by-the-test\n")
        os.utime(values, ns=(1, values.stat().st_mtime_ns + 1_000_000_000))

    _same_after(repo, change)
    state, _ = _desired(repo, cached=True)
    assert "changed-by-the-test" in repr(state)


def test_a_parent_patch_reaches_every_child(repo: Path) -> None:
    def change(root: Path) -> None:
        _edit(
            root / "kubernetes/flux/cluster/ks.yaml",
            "  timeout: 10m\n",
            "  timeout: 10m\n"
            "  patches:\n"
            "    - patch: |-\n"
            "        apiVersion: kustomize.toolkit.fluxcd.io/v1\n"
            "        kind: Kustomization\n"
            "        metadata:\n"
            "          name: not-used\n"
            "        spec:\n"
            "          retryInterval: 7m\n"
            "      target:\n"
            "        group: kustomize.toolkit.fluxcd.io\n"
            "        kind: Kustomization\n",
        )

    _same_after(repo, change)
    state, _ = _desired(repo, cached=True)
    assert "7m" in repr(state)


def test_a_substitution_configmap_reaches_every_reader(repo: Path) -> None:
    def change(root: Path) -> None:
        _edit(
            root / "kubernetes/components/common/cluster-settings.yaml",
            "CLUSTER_DOMAIN: example.com",
            "CLUSTER_DOMAIN: changed.example.org",
        )

    _, built = _same_after(repo, change)
    assert built > 1
    state, _ = _desired(repo, cached=True)
    assert "changed.example.org" in repr(state)


def test_a_deleted_file_still_listed_fails_the_build_as_without_cache(repo: Path) -> None:
    _same_after(repo, lambda root: (root / SONARR / "app/pvc.yaml").unlink())


def test_a_deleted_and_unlisted_file(repo: Path) -> None:
    def change(root: Path) -> None:
        (root / SONARR / "app/pvc.yaml").unlink()
        _edit(root / SONARR / "app/kustomization.yaml", "  - ./pvc.yaml\n", "")

    _same_after(repo, change)


def test_a_renamed_file(repo: Path) -> None:
    def change(root: Path) -> None:
        (root / SONARR / "app/pvc.yaml").rename(root / SONARR / "app/volume.yaml")
        _edit(root / SONARR / "app/kustomization.yaml", "./pvc.yaml", "./volume.yaml")

    _same_after(repo, change)


def test_a_deleted_kustomization_file_makes_flux_generate_one(repo: Path) -> None:
    """Then a manifest added to that folder is built too (Flux lists every manifest)."""
    (repo / SONARR / "app/kustomization.yaml").unlink()
    (repo / SONARR / "app/helm/kustomizeconfig.yaml").unlink()
    (repo / SONARR / "app/helm/values.yaml").unlink()

    def change(root: Path) -> None:
        _write(
            root / SONARR / "app/extra.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: b\n",
        )

    _same_after(repo, change)
    state, _ = _desired(repo, cached=True)
    assert "'extra'" in repr(state)


def test_a_file_added_where_a_kustomization_lists_its_folder(repo: Path) -> None:
    def change(root: Path) -> None:
        _write(root / SONARR / "app/unlisted.yaml", "apiVersion: v1\nkind: ConfigMap\n")

    _, built = _same_after(repo, change)
    assert built == 1  # the folder's entries changed; nothing it builds did


def test_a_retargeted_symbolic_link_rebuilds(repo: Path) -> None:
    app = repo / SONARR / "app"
    (app / "pvc-a.yaml").write_text((app / "pvc.yaml").read_text(), encoding="utf-8")
    (app / "pvc-b.yaml").write_text(
        (app / "pvc.yaml").read_text().replace("name: sonarr", "name: sonarr-b", 1),
        encoding="utf-8",
    )
    (app / "pvc.yaml").unlink()
    (app / "pvc.yaml").symlink_to("pvc-a.yaml")

    def change(root: Path) -> None:
        (app / "pvc.yaml").unlink()
        (app / "pvc.yaml").symlink_to("pvc-b.yaml")

    _same_after(repo, change)
    state, _ = _desired(repo, cached=True)
    assert "sonarr-b" in repr(state)


def test_lines_inserted_above_a_patch_move_its_provenance(repo: Path) -> None:
    """The same Kustomization and patch, written lower in the file: the patched
    field's provenance follows it."""
    _edit(
        repo / SONARR / "ks.yaml",
        "  prune: true\n",
        "  prune: true\n"
        "  patches:\n"
        "    - patch: |-\n"
        "        - op: add\n"
        "          path: /spec/storageClassName\n"
        "          value: fast\n"
        "      target:\n"
        "        kind: PersistentVolumeClaim\n",
    )

    def change(root: Path) -> None:
        _edit(root / SONARR / "ks.yaml", "---\n", "---\n# one\n# two\n")

    _same_after(repo, change)


def test_two_clusters_of_a_corpus(tmp_path: Path) -> None:
    corpus = corpus_path("onedr0p__home-ops-2024")
    root = tmp_path / "corpus"
    shutil.copytree(corpus, root, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    (root / ".homelab-kit.yaml").write_text("", encoding="utf-8")  # the root, pinned
    config = load_config(root)
    clusters = load(root, load_options(config, get_plugin_manager())).clusters
    deployed = sorted(
        o.provenance.source.path for c in clusters for o in c.objects if o.kind == "HelmRelease"
    )
    assert deployed  # a HelmRelease some cluster builds

    def change(root: Path) -> None:
        _edit(root / deployed[0], "\n", "\n# a comment\n")

    reused, built = _same_after(root, change)
    assert built >= 1
    assert reused > built


def test_the_code_is_part_of_the_cache_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo: Path
) -> None:
    """A cache written by other code (an upgrade, an edit of a plugin) is not used."""
    import sys

    from homelab_kit import cache as cache_module

    checkout = tmp_path / "checkout"
    (checkout / "homelab_kit").mkdir(parents=True)
    (checkout / "homelab_kit" / "__init__.py").write_text("", encoding="utf-8")
    plugin = checkout / "plugins" / "homelab_kit_probe" / "__init__.py"
    plugin.parent.mkdir(parents=True)
    plugin.write_text("X = 1\n", encoding="utf-8")
    before = code_fingerprint(str(checkout / "homelab_kit"))
    assert code_fingerprint(str(checkout / "homelab_kit")) == before
    _write(plugin, "X = 2\n")
    assert code_fingerprint(str(checkout / "homelab_kit")) != before

    lint_module = sys.modules["homelab_kit.lint"]
    loads: list[Path] = []
    real_load = sys.modules["homelab_kit.model.loader"].load

    def counting_load(root: Path, *args: Any, **kwargs: Any) -> Any:
        loads.append(root)
        return real_load(root, *args, **kwargs)

    monkeypatch.setattr(sys.modules["homelab_kit.model.loader"], "load", counting_load)
    homelab_kit.lint(repo, cache=True)
    homelab_kit.lint(repo, cache=True)
    assert len(loads) == 1  # the second run: the result cache answered
    monkeypatch.setattr(cache_module, "code_fingerprint", lambda: "other code")
    homelab_kit.lint(repo, cache=True)
    assert len(loads) == 2
    assert lint_module is sys.modules["homelab_kit.lint"]
