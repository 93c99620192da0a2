"""The indexes that replaced scans answer exactly what the scans answered."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import homelab_kit
from homelab_kit.cache import Cache
from homelab_kit.model.kustomize import KustomizeFile
from homelab_kit.model.repo import App, Repo
from homelab_kit.model.substitute import NameIndex, any_match
from homelab_kit.yaml import YMap, YSeq, parse_bytes
from homelab_kit.yaml.reader import dumps_parsed, load_file
from tests.conftest import CORPORA

NAMES = st.sampled_from(
    ["a", "b", "app-secret", "${APP}-secret", "${APP}", "x-${A}-${B}", "x-y-z", "${OTHER:=b}", ""]
)


@given(
    items=st.lists(st.lists(NAMES, max_size=3), max_size=8),
    query=st.lists(NAMES, max_size=3),
)
def test_name_index_matches_what_a_scan_matches(items: list[list[str]], query: list[str]) -> None:
    index = NameIndex((names, number) for number, names in enumerate(items))
    expected = [number for number, names in enumerate(items) if any_match(query, names)]
    assert index.matching(query) == expected
    assert index.any_matching(query) == bool(expected)


def _repos(reference_root: Path) -> list[Repo]:
    roots = [reference_root, *(p for p in sorted(CORPORA.glob("*")) if p.is_dir())]
    return [homelab_kit.load(root) for root in roots]


def _including_by_scan(repo: Repo, path: str, any_entry: bool) -> set[str]:
    """The scan the flux and structure packs used before the index."""
    found: set[str] = set()
    wanted = [
        k
        for k in repo.kustomize_files
        if any(
            e.target == path
            for e in (k.all_entries() if any_entry else (*k.resources, *k.components))
        )
    ]
    while wanted:
        kfile = wanted.pop()
        if kfile.path in found:
            continue
        found.add(kfile.path)
        wanted += [
            k
            for k in repo.kustomize_files
            if any(e.target == kfile.directory for e in (*k.resources, *k.components))
        ]
    return found


def _app_of_file_by_scan(repo: Repo, path: str) -> App | None:
    best: App | None = None
    for app in repo.apps:
        if path.startswith(app.directory + "/") and (
            best is None or len(app.directory) > len(best.directory)
        ):
            best = app
    if best is None:
        for app in repo.apps:
            if path in app.files:
                return app
    return best


def test_repo_lookups_answer_as_scans_do(reference_root: Path) -> None:
    for repo in _repos(reference_root):
        targets = {e.target for k in repo.kustomize_files for e in k.all_entries() if e.target}
        for path in sorted(targets | set(repo.files)):
            for any_entry in (True, False):
                found = repo.kustomize_files_including(path, any_entry=any_entry)
                assert {k.path for k in found} == _including_by_scan(repo, path, any_entry)
                assert all(isinstance(k, KustomizeFile) for k in found)
        for path in repo.files:
            assert repo.app_of_file(path) is _app_of_file_by_scan(repo, path)
            assert list(repo.documents_in(path)) == [d for d in repo.documents if d.path == path]
            assert list(repo.patch_documents_in(path)) == [
                d for d in repo.patch_documents if d.path == path
            ]
            assert list(repo.kustomizations_in(path)) == [
                k for k in repo.kustomizations if k.doc.path == path
            ]
        for ks in repo.kustomizations:
            assert set(repo.files_deployed_by(ks.key)) == {
                p for p, keys in repo.deployed_by.items() if ks.key in keys
            }
            graph = repo.kustomization_graph
            assert graph.dependents(ks.key) == tuple(
                a for a, deps in graph.edges.items() if ks.key in deps
            )
        for app in repo.apps:
            assert repo.app(app.namespace, app.name) is next(
                a for a in repo.apps if (a.namespace, a.name) == (app.namespace, app.name)
            )


def test_repo_derived_builds_once_per_arguments(reference_root: Path) -> None:
    repo = homelab_kit.load(reference_root)
    calls: list[tuple[str, ...]] = []

    def build(r: Repo, *args: str) -> list[str]:
        calls.append(args)
        return [r.root.name, *args]

    assert repo.derived(build) is repo.derived(build)
    assert repo.derived(build, "x") == [reference_root.name, "x"]
    repo.derived(build, "x")
    assert calls == [(), ("x",)]


# ------------------------------------------------------------------ reading


def test_dumps_parsed_round_trips_positions() -> None:
    text = b"a: &x {b: [1, 2]}\nc: *x\nd:\n  - e: f\n"
    yfile = parse_bytes(text, "t.yaml")
    again = pickle.loads(dumps_parsed(yfile))
    assert again == yfile
    data, original = again.documents[0].data, yfile.documents[0].data
    assert isinstance(data, YMap)
    assert isinstance(data["d"], YSeq)
    assert data.marks == original.marks
    assert data["d"].item_marks == original["d"].item_marks
    assert (data["a"].line, data["a"].column) == (original["a"].line, original["a"].column)


@pytest.mark.parametrize(("limit", "too_large"), [(4, True), (5, False), (6, False)])
def test_max_file_size_is_exact(tmp_path: Path, limit: int, too_large: bool) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: 1\n")  # 5 bytes
    yfile = load_file(str(path), "f.yaml", max_size=limit)
    assert [p.code for p in yfile.problems] == (["too-large"] if too_large else [])
    assert len(yfile.documents) == (0 if too_large else 1)


def test_a_warm_run_does_not_read_the_parsed_files(
    reference_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    homelab_kit.lint(reference_root, cache=True)
    read: list[str] = []
    original = Cache._read

    def spy(self: Cache, path: Path) -> object:
        read.append(path.suffix)
        return original(self, path)

    monkeypatch.setattr(Cache, "_read", spy)
    homelab_kit.lint(reference_root, cache=True)
    assert read == [".result"]
