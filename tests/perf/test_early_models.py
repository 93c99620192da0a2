"""The model built while the parse goes on (loader.EarlyModels) is the serial one.

Whatever order the parsed files arrive in, and whatever the early build could not
know (a Flux Kustomization in a file not named for one, a file the alias budget
empties afterwards), :func:`build_repo` returns the very repository the serial
build returns: the same objects, in the same order, at the same positions.  No
test here asserts a time: benchmarks/run.py measures those.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

from homelab_kit.model import loader
from homelab_kit.model.base import DocumentRef
from homelab_kit.model.loader import EarlyModels, LoadOptions, build_repo, load
from homelab_kit.model.repo import Repo
from homelab_kit.yaml import YamlFile
from tests.conftest import PROJECT_ROOT, corpus_path
from tests.perf.test_parallel import _generate_module, _lint_json


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated 30-app repository (about 270 YAML files)."""
    root = tmp_path_factory.mktemp("early") / "repo"
    _generate_module().generate(root, 2, 15, seed=11)
    return root


@pytest.fixture(autouse=True)
def _nothing_left_started() -> Any:
    yield
    loader.cancel_started()


def assert_same(a: Any, b: Any, where: str = "repo") -> None:
    """``a`` and ``b`` alike in every field, those equality leaves out included
    (``source`` Locations, the documents models were built from)."""
    assert type(a) is type(b), where
    if isinstance(a, DocumentRef):
        assert (a.path, a.index, a.start_line) == (b.path, b.index, b.start_line), where
        assert a.data == b.data, where
    elif attrs.has(type(a)):
        for field in attrs.fields(type(a)):
            if not field.name.startswith("_"):
                assert_same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def _parsed(root: Path) -> tuple[loader._Tree, dict[str, YamlFile], list[str]]:
    options = LoadOptions()
    tree = loader._discover(root, options)
    paths = loader.parse_order([r for r in tree.yaml_files if r not in tree.unreadable])
    found = loader._parse_all(root, paths, options)
    files = loader.spend_alias_budget({r: found[r] for r in tree.yaml_files}, options)
    return tree, files, paths


def _early(
    root: Path, tree: loader._Tree, files: dict[str, YamlFile], chunks: Sequence[Sequence[str]]
) -> EarlyModels:
    early = EarlyModels(root, tree, [rel for chunk in chunks for rel in chunk])
    for chunk in chunks:
        early.add([files[rel] for rel in chunk])
    early.finish()  # as build_repo does first
    return early


def _chunks(paths: Sequence[str], size: int, order: str, seed: int = 0) -> list[list[str]]:
    """``paths`` cut into chunks, handed over as a worker and this process deliver
    them (``both-ends``), from the back only (this process alone), from the front only
    (the worker parses all: the walk comes last), or shuffled."""
    chunks = [list(paths[i : i + size]) for i in range(0, len(paths), size)]
    if order == "back":
        return chunks[::-1]
    if order == "front":
        return chunks
    if order == "shuffled":
        random.Random(seed).shuffle(chunks)
        return chunks
    out, low, high = [], 0, len(chunks) - 1
    while low <= high:
        out.append(chunks[low])
        low += 1
        if low <= high:
            out.append(chunks[high])
            high -= 1
    return out


def _serial(root: Path, tree: loader._Tree, files: dict[str, YamlFile]) -> Repo:
    return build_repo(root, tree, files, LoadOptions())


def _counting_models(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths of the documents whose object models are built from now on."""
    built: list[str] = []
    real = loader._model

    def spy(doc: DocumentRef, ns: str | None) -> Any:
        built.append(doc.path)
        return real(doc, ns)

    monkeypatch.setattr(loader, "_model", spy)
    return built


@pytest.mark.parametrize(
    ("order", "size", "seed"),
    [
        ("both-ends", 10, 0),
        ("back", 7, 0),
        ("front", 9, 0),
        ("shuffled", 5, 1),
        ("shuffled", 13, 2),
    ],
)
def test_any_arrival_order_builds_the_serial_repository(
    generated: Path, monkeypatch: pytest.MonkeyPatch, order: str, size: int, seed: int
) -> None:
    tree, files, paths = _parsed(generated)
    expected = _serial(generated, tree, files)
    early = _early(generated, tree, files, _chunks(paths, size, order, seed))
    assert early.walk is not None
    assert not early.stale
    built = _counting_models(monkeypatch)
    repo = build_repo(generated, tree, files, LoadOptions(), early=early)
    assert built == []  # every object's model came from the early build
    assert_same(repo, expected)


def test_reference_cluster_and_a_corpus_build_the_same_early(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for root in (PROJECT_ROOT, corpus_path("vrozaksen__home-ops")):
        tree, files, paths = _parsed(root)
        expected = _serial(root, tree, files)
        early = _early(root, tree, files, _chunks(paths, 20, "both-ends"))
        built = _counting_models(monkeypatch)
        repo = build_repo(root, tree, files, LoadOptions(), early=early)
        assert built == [], root
        assert repo.kustomizations
        assert repo.helm_releases
        assert repo.values
        assert_same(repo, expected, str(root))
        monkeypatch.undo()


def test_a_flux_kustomization_the_walk_did_not_see_is_walked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Flux Kustomization in a file not named for one, parsed after the walk: the
    early walk is dropped, and the objects it placed are modelled again where their
    namespace changed."""
    root = tmp_path / "repo"
    app = root / "kubernetes/apps/media/app"
    app.mkdir(parents=True)
    (root / "kubernetes/entry").mkdir(parents=True)
    (root / "kubernetes/entry/cluster.yaml").write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        "metadata: {name: media, namespace: flux-system}\n"
        "spec: {path: ./kubernetes/apps/media/app, targetNamespace: media,"
        " sourceRef: {kind: GitRepository, name: flux-system}}\n"
    )
    (app / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [helmrelease.yaml, secret.yaml]\n"
    )
    (app / "helmrelease.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: app}\n"
        "spec:\n  chart: {spec: {chart: app}}\n  values:\n    existingSecret: app-secret\n"
    )
    (app / "secret.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: app-secret}\n")
    tree, files, paths = _parsed(root)
    expected = _serial(root, tree, files)
    assert expected.helm_releases[0].namespace == "media"
    assert expected.secret_consumers[0].namespace == "media"
    # The kustomization file first (the walk runs then), the Flux Kustomization last.
    order = sorted(paths, key=lambda rel: rel == "kubernetes/entry/cluster.yaml")
    early = _early(root, tree, files, [[rel] for rel in order])
    assert early.walk is not None
    assert early.stale
    walks: list[int] = []
    real = loader._walk_deployments
    monkeypatch.setattr(loader, "_walk_deployments", lambda *a: walks.append(1) or real(*a))
    assert_same(build_repo(root, tree, files, LoadOptions(), early=early), expected)
    assert walks == [1]


def test_a_file_the_alias_budget_empties_is_modelled_again(generated: Path) -> None:
    tree, files, paths = _parsed(generated)
    early = _early(generated, tree, files, _chunks(paths, 10, "both-ends"))
    rel = next(r for r in paths if r.endswith("helmrelease.yaml"))
    emptied = dict(files)
    emptied[rel] = attrs.evolve(files[rel], documents=())  # as spend_alias_budget empties
    expected = _serial(generated, tree, emptied)
    repo = build_repo(generated, tree, emptied, LoadOptions(), early=early)
    assert all(hr.doc.path != rel for hr in repo.helm_releases)
    assert_same(repo, expected)


def test_values_files_before_and_after_their_release(generated: Path) -> None:
    tree, files, paths = _parsed(generated)
    expected = _serial(generated, tree, files)
    assert any(v.origin == "configmap" for v in expected.values)
    first = [r for r in paths if loader._parsed_first(r)]
    rest = [r for r in paths if not loader._parsed_first(r)]
    values = [r for r in rest if r.endswith("values.yaml")]
    others = [r for r in rest if r not in values]
    assert values
    for order in ([first, values, others], [first, others, values]):
        early = _early(generated, tree, files, order)
        assert early.values_wanted == {}  # every release found its values file
        assert_same(build_repo(generated, tree, files, LoadOptions(), early=early), expected)


def test_load_with_workers_is_the_serial_load(generated: Path) -> None:
    assert_same(load(generated, LoadOptions(jobs=2)), load(generated, LoadOptions(jobs=1)))


def test_a_parse_error_is_reported_while_the_other_files_are_modelled(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _generate_module().generate(root, 2, 10, seed=5)
    broken = next(p for p in sorted(root.rglob("helmrelease.yaml")))
    broken.write_text(broken.read_text() + "  bad: [unclosed\n")
    rel = broken.relative_to(root).as_posix()
    serial, parallel = load(root, LoadOptions(jobs=1)), load(root, LoadOptions(jobs=2))
    assert_same(parallel, serial)
    assert parallel.files[rel].problems
    assert len(parallel.helm_releases) == len({hr.doc.path for hr in serial.helm_releases})
    report = _lint_json(root, "--jobs", "2")
    assert report == _lint_json(root, "--jobs", "1")
    found = [
        d for d in report["diagnostics"] if d["path"] == rel and d["check_id"] == "yaml-syntax"
    ]
    assert found
    assert found[0]["line"] > 1
    assert found[0]["column"] >= 1
