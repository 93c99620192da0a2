"""Parsing in forked workers (homelab_kit.yaml.batch) and starting it early.

Every file is parsed exactly once, by a worker or by this process, and whatever
happens to the workers (no fork, a worker dying mid-run, a start for other
options) the files come out as one process parses them.  No test here asserts a
time: benchmarks/run.py measures those.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from homelab_kit.lint import lint, start_parsing
from homelab_kit.model import loader
from homelab_kit.model.loader import LoadOptions, load
from homelab_kit.yaml import batch as batch_module
from homelab_kit.yaml.batch import ParseBatch
from tests.perf.test_parallel import _generate_module, _lint_json


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated 30-app repository (about 270 YAML files)."""
    root = tmp_path_factory.mktemp("batch") / "repo"
    _generate_module().generate(root, 2, 15, seed=3)
    return root


@pytest.fixture
def paths(repo: Path) -> list[str]:
    return list(loader._discover(repo, LoadOptions()).yaml_files)


@pytest.fixture(autouse=True)
def _nothing_left_started() -> Any:
    yield
    loader.cancel_started()


def _one_process(repo: Path, paths: list[str]) -> dict[str, Any]:
    return ParseBatch.start(str(repo), paths, LoadOptions().max_file_size, 1, 10).result()


def _logged_parses(monkeypatch: pytest.MonkeyPatch, log: Path, wait_here: bool = False) -> None:
    """Every parse appends ``pid path`` to ``log`` (forked workers inherit the spy);
    with ``wait_here`` this process parses nothing before a worker has parsed a file
    (up to a minute), so that a worker surely gets chunks however busy the machine."""
    real = batch_module.load_file
    here = os.getpid()

    def spy(abspath: str, rel: str, **kw: Any) -> Any:
        if wait_here and os.getpid() == here:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not any(
                not line.startswith(f"{here} ") for line in log.read_text().splitlines()
            ):
                time.sleep(0.005)
        with log.open("a") as out:  # O_APPEND: a short line is written whole
            out.write(f"{os.getpid()} {rel}\n")
        return real(abspath, rel, **kw)

    monkeypatch.setattr(batch_module, "load_file", spy)


@pytest.mark.parametrize("processes", [2, 3])
def test_workers_and_this_process_parse_each_file_once(
    repo: Path, paths: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    expected = _one_process(repo, paths)
    log = tmp_path / "parses"
    log.write_text("")
    _logged_parses(monkeypatch, log, wait_here=True)
    batch = ParseBatch.start(str(repo), paths, LoadOptions().max_file_size, processes, 10)
    assert len(batch.workers) == processes - 1
    found = batch.result()
    assert found == expected
    assert list(found) != []
    parses = [line.split(" ", 1) for line in log.read_text().splitlines()]
    assert sorted(rel for _, rel in parses) == sorted(paths)  # each exactly once
    by = {pid for pid, _ in parses}
    assert str(os.getpid()) in by
    assert len(by) > 1  # a worker parsed some
    assert batch.workers == []  # reaped


def test_progress_counts_every_file_once(repo: Path, paths: list[str]) -> None:
    seen: list[tuple[int, int]] = []
    ParseBatch.start(str(repo), paths, LoadOptions().max_file_size, 2, 10).result(
        lambda done, total: seen.append((done, total))
    )
    assert seen[-1] == (len(paths), len(paths))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_no_fork_parses_here(repo: Path, paths: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _one_process(repo, paths)

    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(batch_module.os, "fork", no_fork)
    batch = ParseBatch.start(str(repo), paths, LoadOptions().max_file_size, 2, 10)
    assert batch.workers == []
    assert batch.result() == expected


def test_a_worker_that_dies_costs_no_file(
    repo: Path, paths: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker dies on its first file: every chunk it claimed is parsed here."""
    expected = _one_process(repo, paths)
    real = batch_module.load_file
    here = os.getpid()

    def dies_in_a_worker(abspath: str, rel: str, **kw: Any) -> Any:
        if os.getpid() != here:
            os._exit(3)
        return real(abspath, rel, **kw)

    monkeypatch.setattr(batch_module, "load_file", dies_in_a_worker)
    batch = ParseBatch.start(str(repo), paths, LoadOptions().max_file_size, 2, 10)
    assert batch.result() == expected


def test_a_worker_parses_on_while_its_pipe_is_full(tmp_path: Path) -> None:
    """Nothing is read for a while (this process imports plugins, models what came):
    the worker keeps what its pipe has no room for and parses on, and every chunk
    arrives whole in the end, in whatever sizes the pipe took it."""
    rows = "".join(f"  - key{i}: value {i} of a long enough line\n" for i in range(6000))
    paths = []
    for n in range(24):  # pickled, several times the pipe's 1 MiB
        (tmp_path / f"f{n:02}.yaml").write_text(f"items:\n{rows}")
        paths.append(f"f{n:02}.yaml")
    expected = _one_process(tmp_path, paths)
    batch = ParseBatch.start(str(tmp_path), paths, LoadOptions().max_file_size, 2, 1)
    try:
        assert batch._claims is not None
        deadline = time.monotonic() + 60
        while batch._claims.taken_from_front() < len(paths) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert batch._claims.taken_from_front() == len(paths)  # the worker claimed them all
        assert batch.result() == expected
    finally:
        batch.cancel()


def test_a_batch_never_collected_ends_its_workers(repo: Path, paths: list[str]) -> None:
    batch = ParseBatch.start(str(repo), paths, LoadOptions().max_file_size, 2, 10)
    pids = [pid for pid, _ in batch.workers]
    assert pids
    batch.cancel()
    for pid in pids:
        with pytest.raises(ChildProcessError):  # killed and reaped
            os.waitpid(pid, os.WNOHANG)


# ------------------------------------------------------------- started early


def test_a_started_parse_is_taken_over_by_the_load(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = load(repo, LoadOptions(jobs=1))
    discovered: list[Path] = []
    real = loader._discover

    def counted(root: Path, options: LoadOptions) -> Any:
        discovered.append(root)
        return real(root, options)

    monkeypatch.setattr(loader, "_discover", counted)
    loader.start_parsing(repo, LoadOptions(jobs=2))
    started = loader._started[0][2]
    assert started is not None
    assert started.workers
    repo_loaded = load(repo, LoadOptions(jobs=2))
    assert discovered == [repo]  # the load took over the discovery and the parse
    assert loader._started == []
    assert started.workers == []
    assert repo_loaded.files == expected.files
    assert repo_loaded.documents == expected.documents


def test_a_parse_started_for_other_options_is_not_taken_over(repo: Path) -> None:
    expected = load(repo, LoadOptions(jobs=1))
    loader.start_parsing(repo, LoadOptions(jobs=2, exclude=("kubernetes/apps/",)))
    started = loader._started[0][2]
    assert started is not None
    pids = [pid for pid, _ in started.workers]
    found = load(repo, LoadOptions(jobs=2))
    assert found.files == expected.files  # discovered and parsed again, all of it
    assert loader._started == []
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_cached_load_does_not_take_a_started_parse(repo: Path, tmp_path: Path) -> None:
    """With the cache, only files the cache lacks are parsed: never a started batch."""
    from homelab_kit.cache import open_cache

    expected = load(repo, LoadOptions(jobs=1))
    loader.start_parsing(repo, LoadOptions(jobs=2))
    store = open_cache(tmp_path / "cache", repo, salt="test")
    assert store is not None
    assert load(repo, LoadOptions(jobs=2), cache=store).files == expected.files
    assert loader._started == []


def test_the_command_line_starts_the_parse_before_the_plugins(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``lint --no-cache`` starts parsing before the plugin manager is made, and the
    findings are those of one process."""
    import homelab_kit.plugins as plugins

    order: list[str] = []
    real_start, real_pm = loader.start_parsing, plugins.get_plugin_manager

    def start(*args: Any, **kw: Any) -> Any:
        order.append("parse")
        return real_start(*args, **kw)

    def pm(*args: Any, **kw: Any) -> Any:
        order.append("plugins")
        return real_pm(*args, **kw)

    monkeypatch.setattr(loader, "start_parsing", start)
    monkeypatch.setattr(plugins, "get_plugin_manager", pm)
    two = _lint_json(repo, "--jobs", "2")
    assert order[:2] == ["parse", "plugins"]
    assert loader._started == []
    order.clear()
    assert two == _lint_json(repo, "--jobs", "1")


def test_start_parsing_ignores_what_the_run_reports(tmp_path: Path) -> None:
    """No repository, or a configuration that cannot be read: nothing starts, and the
    run itself says why."""
    start_parsing(tmp_path / "nowhere", jobs=2)
    assert loader._started == []
    root = tmp_path / "repo"
    (root / "kubernetes").mkdir(parents=True)
    (root / ".homelab-kit.yaml").write_text("include: [\n")
    start_parsing(root, jobs=2)
    assert loader._started == []


def test_lint_gives_the_same_findings_with_a_started_parse(repo: Path) -> None:
    one = lint(repo, jobs=1)
    start_parsing(repo, jobs=2)
    assert lint(repo, jobs=2).diagnostics == one.diagnostics
    assert loader._started == []


def test_start_parsing_leaves_the_configuration_warnings_to_the_run(tmp_path: Path) -> None:
    import warnings

    from homelab_kit.errors import HomelabKitWarning

    root = tmp_path / "repo"
    (root / "kubernetes").mkdir(parents=True)
    (root / ".homelab-kit.yaml").write_text("cache-dir: /tmp/elsewhere\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start_parsing(root, jobs=2)
    assert [w for w in caught if issubclass(w.category, HomelabKitWarning)] == []
    assert loader._started != []  # the configuration was read, discovery done


def test_a_lint_that_fails_before_loading_leaves_nothing_started(tmp_path: Path) -> None:
    """Files discovered for a run that never loaded them would be stale for the next."""
    from homelab_kit.errors import ConfigError

    root = tmp_path / "repo"
    (root / "kubernetes").mkdir(parents=True)
    (root / ".homelab-kit.yaml").write_text("include: [kubernetes, nowhere]\n")
    with pytest.raises(ConfigError):
        lint(root, jobs=2)
    assert loader._started == []


def test_a_command_that_fails_before_loading_leaves_nothing_started(repo: Path) -> None:
    from click.testing import CliRunner

    from homelab_kit.cli import cli

    result = CliRunner().invoke(cli, ["lint", str(repo), "--no-cache", "--format", "nope"])
    assert result.exit_code != 0
    assert "unknown format" in result.output
    assert loader._started == []
