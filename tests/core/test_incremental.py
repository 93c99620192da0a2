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
import sys
import time
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


def _dump(value: Any) -> Any:
    """Every field of a model, positions and documents included (equality leaves
    them out), as nested tuples to compare."""
    if attrs.has(type(value)):
        return (
            type(value).__name__,
            tuple((f.name, _dump(getattr(value, f.name))) for f in attrs.fields(type(value))),
        )
    if isinstance(value, dict):
        items = tuple((_dump(k), _dump(v)) for k, v in value.items())
        positions = getattr(value, "marks", None)
        return ("dict", items, None if positions is None else tuple(positions.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_dump(v) for v in value))
    if isinstance(value, frozenset | set):
        return ("set", tuple(sorted(repr(v) for v in value)))
    if isinstance(value, type):
        return ("type", value.__qualname__)
    return value if isinstance(value, str | int | float | bool | None) else repr(value)


def _model(root: Path, cached: bool) -> tuple[Any, set[str]]:
    """The whole model (every field of the Repo), loaded with the lint cache or without,
    and the files whose models were built anew (none without the cache)."""
    from homelab_kit.cache import open_cache
    from homelab_kit.lint import warm

    config = load_config(root)
    options = load_options(config, get_plugin_manager())
    store = open_cache(config.cache_dir, root, salt=warm.salt(config)) if cached else None
    repo = load(root, options, cache=store)
    fields = tuple(
        (f.name, _dump(getattr(repo, f.name))) for f in attrs.fields(type(repo)) if f.init
    )
    return fields, set(store.models_rebuilt) if store is not None else set()


def _findings(root: Path, cache: bool) -> Any:
    result = homelab_kit.lint(root, cache=cache)
    return attrs.evolve(result, duration=0.0)


def _same_after(root: Path, change: Callable[[Path], None]) -> tuple[int, int]:
    """Lint and build with the cache, ``change`` the repository, and check that the
    cached results equal the uncached ones; returns the second build's counts."""
    _findings(root, cache=True)
    _desired(root, cached=True)
    change(root)
    model, _ = _model(root, cached=True)  # the files' models reused from the lint cache
    assert model == _model(root, cached=False)[0]
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
    assert _model(repo, cached=True)[1] == set()  # no file's models either


def test_a_values_file_rebuilds_the_models_of_that_file_only(repo: Path) -> None:
    values = f"{SONARR}/app/helm/values.yaml"
    _model(repo, cached=True)
    _edit(repo / values, "\n", "\n# a comment\n")
    model, rebuilt = _model(repo, cached=True)
    assert rebuilt == {values}
    assert model == _model(repo, cached=False)[0]


def test_a_moved_namespace_rebuilds_the_models_that_read_it(repo: Path) -> None:
    """A file's models depend on the namespace it lands in, which another file sets:
    a Flux Kustomization given a targetNamespace rebuilds the objects it deploys."""
    _model(repo, cached=True)
    _edit(repo / SONARR / "ks.yaml", "targetNamespace: *namespace", "targetNamespace: elsewhere")
    model, rebuilt = _model(repo, cached=True)
    assert model == _model(repo, cached=False)[0]
    assert f"{SONARR}/ks.yaml" in rebuilt
    assert f"{SONARR}/app/helmrelease.yaml" in rebuilt  # its HelmRelease lands elsewhere
    assert f"{SONARR}/app/helm/values.yaml" in rebuilt  # and so do its values
    assert "elsewhere" in repr(model)


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


def test_a_touched_file_and_folder_rebuild_nothing(repo: Path) -> None:
    """A file rewritten with the same bytes (a newer modification time), and a folder
    whose entries came back as they were (a file created and removed: a newer time),
    are what they were: every build is reused."""
    app = repo / SONARR / "app"

    def change(root: Path) -> None:
        _write(app / "pvc.yaml", (app / "pvc.yaml").read_text(encoding="utf-8"))
        (app / "scratch.yaml").write_text("a: b\n", encoding="utf-8")
        (app / "scratch.yaml").unlink()
        later = app.stat().st_mtime_ns + 1_000_000_000
        os.utime(app, ns=(later, later))

    reused, built = _same_after(repo, change)
    assert built == 0
    assert reused == _kustomizations(repo)


def test_a_folder_whose_entries_changed_and_time_went_back_rebuilds(repo: Path) -> None:
    """A folder's time answers only when it is the one recorded: set back (as a copy
    that keeps times sets it), its entries are compared, and a new one rebuilds."""
    app = repo / SONARR / "app"
    before = app.stat().st_mtime_ns

    def change(root: Path) -> None:
        _write(app / "unlisted.yaml", "apiVersion: v1\nkind: ConfigMap\n")
        os.utime(app, ns=(before - 1_000_000_000, before - 1_000_000_000))

    _, built = _same_after(repo, change)
    assert built == 1


def test_a_folder_whose_entries_changed_in_the_recorded_tick_rebuilds(repo: Path) -> None:
    """A folder's time recorded within two seconds of its last change is not trusted
    (a coarse clock, a change in the same tick): a file added with the time put back
    exactly as it was recorded is still seen."""
    app = repo / SONARR / "app"
    recorded = time.time_ns() + 60_000_000_000  # still within the last 2 s when recorded
    os.utime(app, ns=(recorded, recorded))

    def change(root: Path) -> None:
        (app / "unlisted.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n", encoding="utf-8")
        os.utime(app, ns=(recorded, recorded))

    _, built = _same_after(repo, change)
    assert built == 1


def test_a_file_name_not_in_utf_8_is_hashed(repo: Path) -> None:
    """A file whose name is not UTF-8 (bytes a POSIX file system allows) is walked
    and keyed like any other: the cached run equals the uncached one."""
    try:
        (repo / os.fsdecode(b"kubernetes/bad\xff.txt")).write_text("x\n", encoding="utf-8")
        (repo / os.fsdecode(b"kubernetes/bad\xfe.yaml")).write_text("a: b\n", encoding="utf-8")
    except (OSError, UnicodeError) as exc:  # pragma: no cover - a file system without it
        pytest.skip(f"this file system refuses the name: {exc}")
    pvc = repo / SONARR / "app/pvc.yaml"
    _, built = _same_after(repo, lambda root: _edit(pvc, "\n", "\n# edit\n"))
    assert built == 1


def test_a_new_pattern_in_the_root_gitignore_is_a_change(repo: Path) -> None:
    """The root's .gitignore decides which files are read: a pattern added there
    makes the stored result stale."""
    (repo / ".gitignore").write_text("*.bak\n", encoding="utf-8")
    before = _findings(repo, cache=True)
    _write(repo / ".gitignore", f"*.bak\n{SONARR}/app/pvc.yaml\n")
    after = _findings(repo, cache=True)
    assert after == _findings(repo, cache=False)
    assert after.files == before.files - 1


def test_a_key_from_the_digest_kept_with_a_build_is_the_key_of_its_object(repo: Path) -> None:
    """A Flux Kustomization a build gave is keyed by the digest kept with that build
    (not hashed again): the very key a session that never saw the build gives it."""
    config = load_config(repo)
    store = Cache(default_cache_dir(), repo, f"test:{code_fingerprint()}")
    session = build_cache.BuildSession(store, repo)
    with build_cache.using(session):
        clusters = load(repo, load_options(config, get_plugin_manager())).clusters
    assert session._digests
    fresh = build_cache.BuildSession(store, repo)
    compared = 0
    for cluster in clusters:
        for obj in cluster.objects:
            known = session._digests.get(id(obj.data))
            if known is None or known[0] is not obj.data:
                continue
            compared += 1
            key = session._key(obj.data, [], obj.namespace, False)
            assert key == fresh._key(obj.data, [], obj.namespace, False)
            assert key != fresh._key(obj.data, [], "elsewhere", False)
    flux_kss = [
        o for c in clusters for o in c.objects if o.kind == "Kustomization" and o.applied_by
    ]
    assert compared == len(flux_kss) > 10


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


# ------------------------------------------------------------------ check results kept


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every check-result reuse a lint makes (its counts say what was reused)."""
    from homelab_kit.lint import reuse

    made: list[Any] = []
    real = reuse.Reuse.__init__

    def recording(self: Any, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(reuse.Reuse, "__init__", recording)
    return made


def _with_findings(root: Path) -> None:
    """Findings of file-scoped, field-scoped and unscoped checks to keep or drop."""
    text = (root / SONARR / "app/pvc.yaml").read_text(encoding="utf-8")
    _write(root / SONARR / "app/pvc.yaml", text.rstrip("\n"))  # yaml-final-newline
    _edit(root / SONARR / "app/helmrelease.yaml", "      retries: 3\n", "      retries: -1\n")


def _checks_same_after(root: Path, change: Callable[[Path], None], runs: list[Any]) -> Any:
    """Lint with the cache, ``change``, lint again with and without it: the same
    findings.  Returns the reuse of the run after the change."""
    homelab_kit.lint(root, cache=True)
    change(root)
    runs.clear()
    cached = _findings(root, cache=True)
    assert len(runs) == 1
    assert cached == _findings(root, cache=False)
    return runs[0]


def test_check_results_kept_when_a_values_file_changes(repo: Path, runs: list[Any]) -> None:
    _with_findings(repo)
    homelab_kit.lint(repo, cache=True)
    before = _findings(repo, cache=False)
    assert {d.check_id for d in before.diagnostics} >= {"yaml-final-newline"}

    def change(root: Path) -> None:
        _edit(root / SONARR / "app/helm/values.yaml", "\n", "\n# a comment\n")

    reuse = _checks_same_after(repo, change, runs)
    assert reuse.reused > 0  # the Talos checks; the YAML checks but for one file
    assert "talos-node-duplicate" in reuse.kept  # kept again for the next run
    assert _findings(repo, cache=True).diagnostics == before.diagnostics


def test_check_results_follow_a_changed_helmrelease(repo: Path, runs: list[Any]) -> None:
    _with_findings(repo)

    def change(root: Path) -> None:
        _edit(root / SONARR / "app/helmrelease.yaml", "  interval: 1h\n", "")

    reuse = _checks_same_after(repo, change, runs)
    found = _findings(repo, cache=True)
    assert any(
        d.check_id == "helm-interval-set" and d.location.path.startswith(SONARR)
        for d in found.diagnostics
    )
    assert reuse.reused > 0  # the Talos and YAML checks of other files


def test_check_results_follow_a_removed_secret_producer(repo: Path, runs: list[Any]) -> None:
    producer = repo / "kubernetes/apps/media/secrets/sonarr-secrets.yaml"

    def change(root: Path) -> None:
        producer.unlink()
        listing = root / "kubernetes/apps/media/secrets/kustomization.yaml"
        _edit(listing, "./sonarr-secrets.yaml", "")

    _checks_same_after(repo, change, runs)


def test_a_changed_configuration_reruns_every_check(repo: Path, runs: list[Any]) -> None:
    _with_findings(repo)

    def change(root: Path) -> None:
        config = root / ".homelab-kit.yaml"
        _write(config, config.read_text(encoding="utf-8") + "\nignore: [yaml-new-lines]\n")

    reuse = _checks_same_after(repo, change, runs)
    assert reuse.reused == 0


def test_a_changed_plugin_set_reruns_every_check(repo: Path, runs: list[Any]) -> None:
    from homelab_kit.plugins import PluginManager

    _with_findings(repo)
    homelab_kit.lint(repo, cache=True, pm=PluginManager(autoload=False))
    _edit(repo / SONARR / "app/helm/values.yaml", "\n", "\n# a comment\n")
    runs.clear()
    extra = PluginManager(autoload=False, extra=[_ProbePlugin()])
    cached = attrs.evolve(homelab_kit.lint(repo, cache=True, pm=extra), duration=0.0)
    assert runs[0].reused == 0
    assert cached == attrs.evolve(homelab_kit.lint(repo, pm=extra), duration=0.0)


class _ProbePlugin:
    """A plugin that registers nothing: the plugin set changes, no check does."""

    __name__ = "probe_plugin"

    @homelab_kit.hookimpl
    def homelab_kit_register_checks(self) -> list[Any]:
        return []


def _reads_kustomizations(repo: Any, options: Any) -> Any:
    from homelab_kit import Diagnostic, Severity

    for ks in repo.kustomizations:
        yield Diagnostic(ks.source, "probe-too-narrow", f"Kustomization {ks.name}", Severity.INFO)


class _TooNarrowPlugin:
    """A check that declares it reads HelmReleases and reads Kustomizations."""

    __name__ = "too_narrow_plugin"

    @homelab_kit.hookimpl
    def homelab_kit_register_checks(self) -> list[Any]:
        from homelab_kit.diagnostic import Severity
        from homelab_kit.lint.check import Check

        return [
            Check(
                id="probe-too-narrow",
                severity=Severity.INFO,
                doc="Probe.",
                remediation="",
                function=_reads_kustomizations,
                scope=("helm_releases",),
            )
        ]


def test_a_check_reading_beyond_its_scope_runs_whole_and_is_not_kept(
    repo: Path, runs: list[Any]
) -> None:
    from homelab_kit.config import load_config
    from homelab_kit.plugins import PluginManager

    pm = PluginManager(autoload=False, extra=[_TooNarrowPlugin()])
    config = attrs.evolve(load_config(repo), extend_select=("probe-too-narrow",))
    first = homelab_kit.lint(repo, cache=True, pm=pm, config=config)
    assert any(d.check_id == "probe-too-narrow" for d in first.diagnostics)
    assert "probe-too-narrow" not in runs[-1].kept
    _edit(repo / SONARR / "ks.yaml", "  prune: true\n", "  prune: true\n  suspend: false\n")
    runs.clear()
    cached = homelab_kit.lint(repo, cache=True, pm=pm, config=config)
    assert attrs.evolve(cached, duration=0.0) == attrs.evolve(
        homelab_kit.lint(repo, pm=pm, config=config), duration=0.0
    )
    assert "probe-too-narrow" not in runs[0].kept


@pytest.mark.parametrize("scope", ["files", ("no-such-field",), ["helm_releases", 3]])
def test_an_invalid_scope_is_a_plugin_error(scope: Any) -> None:
    import types

    from homelab_kit.errors import PluginError
    from homelab_kit.lint.check import Check

    module = types.ModuleType("probe_scope")
    module.ID = "probe-scope"  # type: ignore[attr-defined]
    module.SCOPE = scope  # type: ignore[attr-defined]
    module.check = _reads_kustomizations  # type: ignore[attr-defined]
    with pytest.raises(PluginError, match="SCOPE"):
        Check.from_module(module, plugin="probe").validate()


@pytest.mark.parametrize("corpus", [None, "onedr0p__home-ops", "bjw-s-labs__home-ops"])
def test_first_party_scopes_hold(corpus: str | None) -> None:
    """Every first-party check that declares a scope finds, within it, what it finds
    over the whole repository: its results are kept, not rerun (a check that reached
    beyond its scope would still be right, only never kept)."""
    from homelab_kit.lint import registered_checks
    from homelab_kit.lint.reuse import FILE, Reuse

    root = PROJECT_ROOT if corpus is None else corpus_path(corpus)
    pm = get_plugin_manager()
    config = load_config(root)
    pm.hook.homelab_kit_configure(config=config)
    kinds = [k for _, k in pm.registered("homelab_kit_register_kinds")]
    repo = load(root, load_options(config, pm), kinds=kinds)
    reuse = Reuse(repo, {}, "")
    scoped = [c for c in registered_checks(pm) if c.scope is not None]
    assert len(scoped) > 15
    for check in scoped:
        options = check.default_options()
        whole = sorted(set(check.function(repo, options)))
        if check.scope == FILE:  # file by file: two halves find what the whole does
            paths = sorted(repo.files)
            halves = (set(paths[::2]), set(paths[1::2]))
            found = [d for h in halves for d in check.function(reuse._files_only(h), options)]
        else:
            found = list(check.function(reuse._restricted(check.scope), options))  # type: ignore[arg-type]
        assert sorted(set(found)) == whole, check.id


# ------------------------------------------------------------------ results kept per object

RADARR = "kubernetes/apps/media/radarr"
_TYPO = "  storageClassName: longhorn\n  volumeMod: Filesystem\n"  # an unknown field


def _tables(reuse: Any) -> tuple[int, int]:
    """(values reused, values worked out) of every per-object table of one lint, in
    this process and in the check processes."""
    return reuse.object_counts()  # type: ignore[no-any-return]


def _schema_lines(result: Any, path: str) -> list[int]:
    return sorted(
        d.location.line
        for d in result.diagnostics
        if d.check_id == "schema-invalid" and d.location.path == path
    )


def test_schema_violations_kept_for_objects_a_change_did_not_reach(
    repo: Path, runs: list[Any]
) -> None:
    _edit(repo / RADARR / "app/pvc.yaml", "  storageClassName: longhorn\n", _TYPO)
    before = _findings(repo, cache=False)
    assert _schema_lines(before, f"{RADARR}/app/pvc.yaml")

    def change(root: Path) -> None:
        _edit(root / SONARR / "app/helm/values.yaml", "\n", "\n# a comment\n")

    reuse = _checks_same_after(repo, change, runs)
    reused, computed = _tables(reuse)
    # Only the objects of sonarr's build were validated again; radarr's finding was kept.
    assert reused > 10 * computed > 0
    assert _findings(repo, cache=True).diagnostics == before.diagnostics


def test_a_kept_finding_moves_with_lines_inserted_above_it(repo: Path, runs: list[Any]) -> None:
    pvc = repo / RADARR / "app/pvc.yaml"
    _edit(pvc, "  storageClassName: longhorn\n", _TYPO)
    homelab_kit.lint(repo, cache=True)
    lines = _schema_lines(_findings(repo, cache=True), f"{RADARR}/app/pvc.yaml")
    _checks_same_after(repo, lambda root: _edit(pvc, "---\n", "---\n# one\n# two\n"), runs)
    moved = _schema_lines(_findings(repo, cache=True), f"{RADARR}/app/pvc.yaml")
    assert moved == [line + 2 for line in lines]


def test_a_finding_follows_its_object_fixed_and_broken(repo: Path, runs: list[Any]) -> None:
    radarr, sonarr = repo / RADARR / "app/pvc.yaml", repo / SONARR / "app/pvc.yaml"
    _edit(radarr, "  storageClassName: longhorn\n", _TYPO)

    def fix_one_break_another(root: Path) -> None:
        _edit(radarr, _TYPO, "  storageClassName: longhorn\n")
        _edit(sonarr, "  storageClassName: longhorn\n", _TYPO)

    _checks_same_after(repo, fix_one_break_another, runs)
    found = _findings(repo, cache=True)
    assert not _schema_lines(found, f"{RADARR}/app/pvc.yaml")
    assert _schema_lines(found, f"{SONARR}/app/pvc.yaml")


def test_a_changed_kubernetes_version_validates_every_object_again(
    repo: Path, runs: list[Any]
) -> None:
    _edit(repo / RADARR / "app/pvc.yaml", "  storageClassName: longhorn\n", _TYPO)

    def change(root: Path) -> None:
        config = root / ".homelab-kit.yaml"
        _write(config, config.read_text(encoding="utf-8") + '\nkubernetes-version: "1.31.0"\n')

    reuse = _checks_same_after(repo, change, runs)
    reused, computed = _tables(reuse)
    assert reused == 0
    assert computed > 0


_JUDGED: list[str] = []  # what the probe check worked out, object by object


def _judge(data: Any) -> Any:
    from homelab_kit import Severity

    _JUDGED.append(str(data.get("kind")))
    if data.get("kind") != "PersistentVolumeClaim":
        return None
    return (Severity.INFO, f"{data.get('kind')} judged")


def _per_object_check(repo: Any, options: Any) -> Any:
    from homelab_kit import Diagnostic
    from homelab_kit.lint.reuse import per_object
    from homelab_kit.model.applied import applied_documents

    table = per_object(repo, "probe-per-object", context="v1")
    for doc in applied_documents(repo):
        verdict = table.get(doc, lambda doc=doc: _judge(doc.data))
        if verdict is not None:
            severity, message = verdict
            yield Diagnostic(doc.location(), "probe-per-object", message, severity)


class _PerObjectPlugin:
    """A third-party check keeping what it works out per object."""

    __name__ = "per_object_plugin"

    @homelab_kit.hookimpl
    def homelab_kit_register_checks(self) -> list[Any]:
        from homelab_kit.diagnostic import Severity
        from homelab_kit.lint.check import Check

        return [
            Check(
                id="probe-per-object",
                severity=Severity.INFO,
                doc="Probe.",
                remediation="",
                function=_per_object_check,
            )
        ]


def test_a_plugin_check_keeps_its_results_per_object(repo: Path, runs: list[Any]) -> None:
    from homelab_kit.config import load_config
    from homelab_kit.plugins import PluginManager

    pm = PluginManager(autoload=False, extra=[_PerObjectPlugin()])
    config = attrs.evolve(load_config(repo), extend_select=("probe-per-object",))

    def lint(cache: bool, manager: Any = pm) -> Any:
        return attrs.evolve(
            homelab_kit.lint(repo, cache=cache, pm=manager, config=config), duration=0.0
        )

    _JUDGED.clear()
    first = lint(cache=True)
    everything = len(_JUDGED)
    assert any(d.check_id == "probe-per-object" for d in first.diagnostics)
    _edit(repo / SONARR / "app/helm/values.yaml", "\n", "\n# a comment\n")
    _JUDGED.clear()
    cached = lint(cache=True)
    assert 0 < len(_JUDGED) < everything / 10  # sonarr's objects only
    assert cached == lint(cache=False)
    # Another plugin set: nothing kept is used.
    other = PluginManager(autoload=False, extra=[_PerObjectPlugin(), _ProbePlugin()])
    _JUDGED.clear()
    assert lint(cache=True, manager=other) == lint(cache=False, manager=other)
    assert len(_JUDGED) == 2 * everything


class _Verdict:
    """A value of a class the cache's unpickler refuses (not homelab-kit's)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind


def test_values_the_cache_cannot_read_back_are_worked_out_again(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homelab_kit.config import load_config
    from homelab_kit.plugins import PluginManager

    def refused(data: Any) -> Any:
        _JUDGED.append(str(data.get("kind")))
        return _Verdict(str(data.get("kind")))

    monkeypatch.setattr(sys.modules[__name__], "_judge", refused)
    pm = PluginManager(autoload=False, extra=[_PerObjectPlugin()])
    config = attrs.evolve(load_config(repo), extend_select=("probe-per-object",))
    _JUDGED.clear()
    homelab_kit.lint(repo, cache=True, pm=pm, config=config)
    everything = len(_JUDGED)
    _JUDGED.clear()
    homelab_kit.lint(repo / "kubernetes", cache=True, pm=pm, config=config)  # nothing changed
    assert len(_JUDGED) == 0  # nothing changed: the whole result is reused
    _edit(repo / SONARR / "app/helm/values.yaml", "\n", "\n# a comment\n")
    _JUDGED.clear()
    homelab_kit.lint(repo, cache=True, pm=pm, config=config)
    assert len(_JUDGED) == everything


def test_an_unused_chart_source_follows_the_reference_that_changed(
    repo: Path, runs: list[Any]
) -> None:
    release = repo / RADARR / "app/helmrelease.yaml"

    def change(root: Path) -> None:  # radarr now uses sonarr's OCIRepository
        _edit(release, "    name: *app\n", "    name: sonarr\n")

    reuse = _checks_same_after(repo, change, runs)
    found = _findings(repo, cache=True)
    assert any(
        d.check_id == "helm-chart-source-unused"
        and d.location.path == f"{RADARR}/app/helmrelease.yaml"
        for d in found.diagnostics
    )
    reused, computed = _tables(reuse)
    assert reused > 10 * computed > 0
    _checks_same_after(
        repo, lambda root: _edit(release, "    name: sonarr\n", "    name: *app\n"), runs
    )
    assert not any(
        d.check_id == "helm-chart-source-unused" for d in _findings(repo, cache=True).diagnostics
    )


# ------------------------------------------------------- per object, in check processes


@pytest.fixture
def worker_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """In ``--jobs 2`` check phases, this process claims no group before the check
    process has claimed the first one (which of them claims first is otherwise a race:
    a check process slow to start leaves every group to this one)."""
    import time

    from homelab_kit.claims import Claims
    from homelab_kit.lint import engine

    class WorkerFirst(Claims):
        def take(self, front: bool) -> int | None:
            deadline = time.monotonic() + 60  # a worker that died: go on without it
            while not front and not self.taken_from_front() and time.monotonic() < deadline:
                time.sleep(0.002)
            return super().take(front)

    monkeypatch.setattr(engine, "Claims", WorkerFirst)


def test_check_processes_keep_per_object_what_one_process_keeps(
    repo: Path, runs: list[Any], worker_first: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checks run in two processes with the cache: the tables a worker's checks used
    come back, and the next run reuses exactly what a one-process sequence does."""
    from homelab_kit.cache import loads_models
    from homelab_kit.lint.reuse import OBJECTS

    original = tmp_path / "original"
    shutil.copytree(repo, original)
    _edit(repo / RADARR / "app/pvc.yaml", "  storageClassName: longhorn\n", _TYPO)

    def sequence(jobs: int) -> tuple[Any, Any, tuple[int, int], dict[str, Any]]:
        monkeypatch.setenv("HOMELAB_KIT_CACHE_DIR", str(tmp_path / f"cache-{jobs}"))
        shutil.rmtree(repo)
        shutil.copytree(original, repo)
        _edit(repo / RADARR / "app/pvc.yaml", "  storageClassName: longhorn\n", _TYPO)
        homelab_kit.lint(repo, cache=True, jobs=jobs)
        _edit(repo / SONARR / "app/helm/values.yaml", "\n", "\n# a comment\n")
        runs.clear()
        result = attrs.evolve(homelab_kit.lint(repo, cache=True, jobs=jobs), duration=0.0)
        (reuse,) = runs
        tables = {k: loads_models(v) for k, v in reuse.kept[OBJECTS].items()}
        return result, reuse, _tables(reuse), tables

    one, one_reuse, one_counts, one_tables = sequence(1)
    two, two_reuse, two_counts, two_tables = sequence(2)
    assert not one_reuse.returned
    assert two_reuse.returned  # tables a check process used came back
    assert two == one == _findings(repo, cache=False)
    assert _schema_lines(two, f"{RADARR}/app/pvc.yaml")  # a kept finding
    # The model's own tables (who creates each Secret) are read by the checks of
    # several plugins, so in each process that runs one: counted once per process.
    assert two_counts[0] >= one_counts[0]
    assert two_counts[1] >= one_counts[1]
    assert one_counts[0] > 10 * one_counts[1] > 0  # only sonarr's objects worked out
    assert two_counts[0] > 10 * two_counts[1]
    # The same values kept for the next run.  (A rebuilt object's name covers the
    # stamps of the files its build read, which differ between the two copies: the
    # values are compared by name where the names agree, else as a whole.)
    assert set(two_tables) == set(one_tables)
    for name, values in one_tables.items():
        other = two_tables[name]
        assert len(other) == len(values)
        assert all(other[k] == values[k] for k in set(other) & set(values))
        assert sorted(map(repr, other.values())) == sorted(map(repr, values.values()))


class _Unpicklable:
    """A verdict that cannot be pickled (it holds a lock)."""

    def __init__(self, verdict: Any) -> None:
        import threading

        self.verdict = verdict
        self.lock = threading.Lock()


def _unpicklable_check(repo: Any, options: Any) -> Any:
    from homelab_kit import Diagnostic
    from homelab_kit.lint.reuse import per_object
    from homelab_kit.model.applied import applied_documents

    table = per_object(repo, "probe-unpicklable", context="v1")
    for doc in applied_documents(repo):
        found = table.get(doc, lambda doc=doc: _Unpicklable(_judge(doc.data))).verdict
        if found is not None:
            yield Diagnostic(doc.location(), "a-probe-unpicklable", found[1], found[0])


class _UnpicklablePlugin:
    """A check whose values per object cannot be pickled; its ID sorts first, so
    its group is the first a check process takes."""

    __name__ = "unpicklable_plugin"

    @homelab_kit.hookimpl
    def homelab_kit_register_checks(self) -> list[Any]:
        from homelab_kit.diagnostic import Severity
        from homelab_kit.lint.check import Check

        return [
            Check(
                id="a-probe-unpicklable",
                severity=Severity.INFO,
                doc="Probe.",
                remediation="",
                function=_unpicklable_check,
            )
        ]


def test_a_table_a_check_process_cannot_pickle_is_worked_out_again(
    repo: Path, runs: list[Any], worker_first: None
) -> None:
    from homelab_kit.config import load_config
    from homelab_kit.plugins import PluginManager

    pm = PluginManager(autoload=False, extra=[_UnpicklablePlugin()])
    config = attrs.evolve(load_config(repo), extend_select=("a-probe-unpicklable",))

    def lint(cache: bool, jobs: int) -> Any:
        return attrs.evolve(
            homelab_kit.lint(repo, cache=cache, pm=pm, config=config, jobs=jobs), duration=0.0
        )

    def unpickled(reuse: Any) -> tuple[int, int]:
        """(reused, worked out) of the table that came back without its values."""
        (parts,) = [p for p in reuse.returned.values() if any(v is None for v, _, _ in p)]
        return sum(r for _, r, _ in parts), sum(c for _, _, c in parts)

    first = lint(cache=True, jobs=2)
    assert any(d.check_id == "a-probe-unpicklable" for d in first.diagnostics)
    _, everything = unpickled(runs[-1])
    assert everything > 0
    _edit(repo / SONARR / "app/helm/values.yaml", "\n", "\n# a comment\n")
    runs.clear()
    cached = lint(cache=True, jobs=2)
    assert unpickled(runs[0]) == (0, everything)  # nothing was kept: all worked out again
    assert _tables(runs[0])[0] > 0  # the other tables were kept
    assert cached == lint(cache=False, jobs=1)


def _shared_table_check(check_id: str, kinds: tuple[str, ...]) -> Any:
    """A check keeping, in a table another check shares, its verdicts on ``kinds``."""

    def check(repo: Any, options: Any) -> Any:
        from homelab_kit import Diagnostic
        from homelab_kit.lint.reuse import per_object
        from homelab_kit.model.applied import applied_documents

        table = per_object(repo, "probe-shared", context="v1")
        for doc in applied_documents(repo):
            if doc.data.get("kind") in kinds:
                verdict = table.get(doc, lambda doc=doc: _judge(doc.data), check_id)
                if verdict is not None:
                    yield Diagnostic(doc.location(), check_id, verdict[1], verdict[0])

    return check


class _SharedTablePlugins:
    """Two plugins' checks sharing one table: the first sorts first (a check process
    takes its group), the other last (this process takes it, from the back)."""

    def __init__(self, name: str, check_id: str) -> None:
        self.__name__ = name
        self.check_id = check_id

    @homelab_kit.hookimpl
    def homelab_kit_register_checks(self) -> list[Any]:
        from homelab_kit.diagnostic import Severity
        from homelab_kit.lint.check import Check

        function = _shared_table_check(self.check_id, ("PersistentVolumeClaim", "Deployment"))
        return [Check(self.check_id, Severity.INFO, "Probe.", "", function)]


def test_a_table_two_processes_share_keeps_what_each_asked_about(
    repo: Path, runs: list[Any], worker_first: None
) -> None:
    from homelab_kit.config import load_config
    from homelab_kit.plugins import PluginManager

    pm = PluginManager(
        autoload=False,
        extra=[
            _SharedTablePlugins("first_probe", "a-probe"),
            _SharedTablePlugins("last_probe", "zz-probe"),
        ],
    )
    config = attrs.evolve(load_config(repo), extend_select=("a-probe", "zz-probe"))

    def lint(cache: bool, jobs: int) -> Any:
        return attrs.evolve(
            homelab_kit.lint(repo, cache=cache, pm=pm, config=config, jobs=jobs), duration=0.0
        )

    first = lint(cache=True, jobs=2)
    assert {"a-probe", "zz-probe"} <= {d.check_id for d in first.diagnostics}
    everything = _tables(runs[-1])[1]
    _edit(repo / SONARR / "app/helm/values.yaml", "\n", "\n# a comment\n")
    runs.clear()
    assert lint(cache=True, jobs=2) == lint(cache=False, jobs=1)
    reused, computed = _tables(runs[0])
    assert reused > 10 * computed > 0  # both checks' values kept, wherever they ran
    assert reused + computed == everything


# ------------------------------------------------------- per object, by provenance too

# A patch of the parent (cluster-apps) that gives every app's Kustomization a patch of
# its own: each HelmRelease's spec.maxHistory is then placed in the parent's file,
# inside the nested patch text (applied_fields.flux_patch_location).
_PARENT = "kubernetes/flux/cluster/ks.yaml"
_NESTED_PATCH = (
    "  timeout: 10m\n"
    "  patches:\n"
    "    - patch: |-\n"
    "        apiVersion: kustomize.toolkit.fluxcd.io/v1\n"
    "        kind: Kustomization\n"
    "        metadata:\n"
    "          name: not-used\n"
    "        spec:\n"
    "          patches:\n"
    "            - patch: |-\n"
    "                apiVersion: helm.toolkit.fluxcd.io/v2\n"
    "                kind: HelmRelease\n"
    "                metadata:\n"
    "                  name: not-used\n"
    "                spec:\n"
    "                  maxHistory: 2\n"
    "              target:\n"
    "                kind: HelmRelease\n"
    "      target:\n"
    "        group: kustomize.toolkit.fluxcd.io\n"
    "        kind: Kustomization\n"
)


def _placing_check(provenance: bool) -> Any:
    """A check keeping, per applied HelmRelease, where its ``spec.maxHistory`` is edited
    (a location: a value that depends on the object's provenance)."""

    def check(repo: Any, options: Any) -> Any:
        from homelab_kit import Diagnostic, Severity
        from homelab_kit.lint.reuse import per_object
        from homelab_kit.model.applied import documents_by_place
        from homelab_kit.model.applied_fields import AppliedFields

        table = per_object(repo, "probe-placed", context="v1", provenance=provenance)
        docs = documents_by_place(repo)
        for cluster in repo.clusters:
            for obj in cluster.objects:
                doc = docs.get((obj.source.path, obj.source.line))
                if obj.kind != "HelmRelease" or doc is None:
                    continue
                at = AppliedFields(repo, cluster.name, obj, doc)
                where = table.get(obj, lambda at=at: at.location("spec", "maxHistory"))
                yield Diagnostic(where, "probe-placed", f"HelmRelease {obj.name}", Severity.INFO)

    return check


class _PlacingPlugin:
    """A third-party check whose values per object are locations."""

    def __init__(self, provenance: bool) -> None:
        self.__name__ = f"placing_plugin_{provenance}"
        self.provenance = provenance

    @homelab_kit.hookimpl
    def homelab_kit_register_checks(self) -> list[Any]:
        from homelab_kit.diagnostic import Severity
        from homelab_kit.lint.check import Check

        function = _placing_check(self.provenance)
        return [Check("probe-placed", Severity.INFO, "Probe.", "", function)]


def _placing_lint(root: Path, provenance: bool = True) -> Callable[[bool], Any]:
    from homelab_kit.config import load_config
    from homelab_kit.plugins import PluginManager

    pm = PluginManager(autoload=False, extra=[_PlacingPlugin(provenance)])
    config = attrs.evolve(load_config(root), extend_select=("probe-placed",))

    def lint(cache: bool) -> Any:
        return attrs.evolve(homelab_kit.lint(root, cache=cache, pm=pm, config=config), duration=0.0)

    return lint


def _in_parent(repo: Path) -> None:
    _edit(repo / _PARENT, "  timeout: 10m\n", _NESTED_PATCH)


def _lines_above_the_parent(root: Path) -> None:
    _edit(root / _PARENT, "---\n", "---\n# one\n# two\n")


_CHANGES: dict[str, Callable[[Path], None]] = {
    "a values file": lambda root: _edit(
        root / SONARR / "app/helm/values.yaml", "\n", "\nextraValue: 1\n"
    ),
    "the parent's patch": lambda root: _edit(
        root / _PARENT, "                  maxHistory: 2\n", "                  maxHistory: 3\n"
    ),
    "lines above the parent's patch": _lines_above_the_parent,
    "an app's Flux Kustomization file, lines moved": lambda root: _edit(
        root / SONARR / "ks.yaml", "---\n", "---\n# one\n# two\n"
    ),
    "a substituteFrom ConfigMap's value": lambda root: _edit(
        root / "kubernetes/components/common/cluster-settings.yaml",
        "CLUSTER_DOMAIN: example.com",
        "CLUSTER_DOMAIN: changed.example.org",
    ),
    "a substituteFrom ConfigMap's lines moved": lambda root: _edit(
        root / "kubernetes/components/common/cluster-settings.yaml",
        "\ndata:\n",
        "\ndata:\n  A: b\n",
    ),
}


@pytest.mark.parametrize("change", sorted(_CHANGES))
def test_values_kept_by_provenance_follow_every_change(
    repo: Path, runs: list[Any], change: str
) -> None:
    """A value that holds a location is kept by the object's provenance too: after each
    kind of change, the cached run finds what a run without the cache finds (the
    first-party checks and the model's own tables included), and works out again
    only what the change may have moved."""
    _in_parent(repo)
    lint = _placing_lint(repo)
    first = lint(cache=True)
    placed = [d for d in first.diagnostics if d.check_id == "probe-placed"]
    assert placed
    assert all(d.location.path == _PARENT for d in placed)
    _CHANGES[change](repo)
    runs.clear()
    assert lint(cache=True) == lint(cache=False)
    reused, computed = _tables(runs[0])
    assert computed > 0
    if change == "a values file":
        assert reused > 10 * computed  # sonarr's build only


def test_a_name_without_provenance_misses_a_moved_parent(repo: Path) -> None:
    """Why the names cover provenance: lines inserted above the parent's patch move
    where every app's HelmRelease field is edited, while every app's build stays the
    same.  Kept by its build alone (``provenance=False``), the value is stale."""
    _in_parent(repo)
    lint = _placing_lint(repo, provenance=False)
    lint(cache=True)
    _lines_above_the_parent(repo)
    stale, fresh = lint(cache=True), lint(cache=False)
    assert stale != fresh
    moved = {d.location.line for d in fresh.diagnostics if d.check_id == "probe-placed"}
    kept = {d.location.line for d in stale.diagnostics if d.check_id == "probe-placed"}
    assert moved == {line + 2 for line in kept}


def test_secret_readers_follow_a_substituted_secret_name(repo: Path, runs: list[Any]) -> None:
    """A Secret name a values file writes with ``${VAR}``: the reader kept per object
    reads the name the ConfigMap now gives, and reports the Secret no one creates."""
    settings = repo / "kubernetes/components/common/cluster-settings.yaml"
    _edit(settings, "\ndata:\n", "\ndata:\n  SECRET_SUFFIX: secret\n")
    _edit(
        repo / SONARR / "app/helm/values.yaml",
        "name: sonarr-secret",
        "name: sonarr-${SECRET_SUFFIX}",
    )
    homelab_kit.lint(repo, cache=True)
    before = _findings(repo, cache=False)
    assert not any("sonarr-" in d.message for d in before.diagnostics if "secret" in d.check_id)
    _checks_same_after(
        repo, lambda root: _edit(settings, "SECRET_SUFFIX: secret", "SECRET_SUFFIX: other"), runs
    )
    after = _findings(repo, cache=True)
    assert any(
        d.check_id == "secrets-consumed-secret-exists" and "sonarr-other" in d.message
        for d in after.diagnostics
    )


def test_kept_images_of_values_follow_their_file(repo: Path, runs: list[Any]) -> None:
    """The images a release's values name are kept per release (with their places):
    lines inserted above one in its values file move its finding; a tag changed there
    is judged again."""
    values = repo / SONARR / "app/helm/values.yaml"
    _edit(
        values,
        "controllers:\n",
        "sidecarImage:\n  repository: ghcr.io/x/y\n  tag: latest\ncontrollers:\n",
    )

    def lines(found: Any) -> list[int]:
        return [
            d.location.line
            for d in found.diagnostics
            if d.check_id == "workload-image-tag" and "ghcr.io/x/y" in d.message
        ]

    homelab_kit.lint(repo, cache=True)
    before = lines(_findings(repo, cache=False))
    assert before
    _checks_same_after(repo, lambda root: _edit(values, "---\n", "---\n# one\n# two\n"), runs)
    assert lines(_findings(repo, cache=True)) == [line + 2 for line in before]
    _checks_same_after(repo, lambda root: _edit(values, "tag: latest", "tag: 1.2.3"), runs)
    assert not lines(_findings(repo, cache=True))


def test_a_document_standing_in_as_written_has_no_name_by_provenance(repo: Path) -> None:
    """A Flux Kustomization whose build failed stands in with its files' documents,
    named by their files alone: where its parents place them (a ``targetNamespace``)
    is not in that name, so a table by provenance works them out every run."""
    from homelab_kit.lint import reuse
    from homelab_kit.model.applied import applied_documents

    _edit(
        repo / RADARR / "app/kustomization.yaml",
        "  - ./pvc.yaml\n",
        "  - ./pvc.yaml\n  - ./missing.yaml\n",
    )
    model = load(repo, load_options(load_config(repo), get_plugin_manager()))
    (release,) = (
        d
        for d in applied_documents(model)
        if d.as_written and d.kind == "HelmRelease" and d.path.startswith(RADARR)
    )
    placed = reuse.ObjectResults(model, reuse.placed_names(model, {}), {}, placed=True)
    assert placed.name(release) is None
    assert reuse.ObjectResults(model, {}, {}).name(
        release
    )  # by its file, where placing is not asked
