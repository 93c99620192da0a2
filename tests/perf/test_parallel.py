"""Parallel parsing and checking (--jobs) give exactly the findings of one process.

No test here asserts a time: benchmarks/run.py measures those.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner

from homelab_kit.cli import cli
from homelab_kit.config import load_config
from homelab_kit.diagnostic import Diagnostic, Edit, Fix, Severity
from homelab_kit.lint import Check, lint, registered_checks, run_checks
from homelab_kit.lint.engine import INTERNAL_ERROR_ID, claim_order, shared_indexes
from homelab_kit.location import Location
from homelab_kit.model import loader as loader_module
from homelab_kit.model.loader import (
    PARALLEL_THRESHOLD,
    LoadOptions,
    check_jobs,
    load,
    parse_jobs,
    spare_cpus,
)
from homelab_kit.plugins import PluginManager
from tests.conftest import PROJECT_ROOT


def _generate_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "bench_generate", PROJECT_ROOT / "benchmarks" / "generate.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated 60-app repository (3 namespaces x 20 apps) with findings planted."""
    root = tmp_path_factory.mktemp("bench") / "repo"
    _generate_module().generate(root, 3, 20, seed=7)
    apps = root / "kubernetes" / "apps"
    for n, values in enumerate(sorted(apps.glob("bench*/app*/app/helm/values.yaml"))):
        if n % 7 == 0:  # yaml-unused-anchor
            values.write_text(values.read_text() + "extra: &unused 1\n")
        if n % 11 == 0:  # secrets-consumed-secret-exists
            text = values.read_text().replace("-secret\n", "-secrett\n", 1)
            values.write_text(text)
    for n, ks in enumerate(sorted(apps.glob("bench*/app*/ks.yaml"))):
        if n % 9 == 0:  # flux-ks-wait
            ks.write_text(ks.read_text().replace("wait: true", "wait: false"))
    return root


def _lint_json(root: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli, ["lint", str(root), "--no-cache", "--format", "json", *args], catch_exceptions=False
    )
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    data["summary"].pop("duration", None)
    return data


def _cached_json(root: Path) -> dict[str, Any]:
    """``lint --format json --jobs 2`` with the cache (the environment says where)."""
    result = CliRunner().invoke(
        cli, ["lint", str(root), "--format", "json", "--jobs", "2"], catch_exceptions=False
    )
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    data["summary"].pop("duration", None)
    return data


def test_generated_repository_has_findings_of_several_checks(generated: Path) -> None:
    by_check = _lint_json(generated, "--jobs", "1")["summary"]["by_check"]
    assert {"yaml-unused-anchor", "flux-ks-wait", "secrets-consumed-secret-exists"} <= set(by_check)


@pytest.mark.parametrize("jobs", ["2", "3", "0"])
def test_jobs_give_the_findings_of_one_process_on_a_generated_repository(
    generated: Path, jobs: str
) -> None:
    assert _lint_json(generated, "--jobs", jobs) == _lint_json(generated, "--jobs", "1")


@pytest.mark.parametrize("jobs", ["2", "0"])
def test_jobs_give_the_findings_of_one_process_on_the_reference_cluster(
    reference_root: Path, jobs: str
) -> None:
    assert _lint_json(reference_root, "--jobs", jobs) == _lint_json(reference_root, "--jobs", "1")


def test_parallel_parse_reads_every_file_the_same(generated: Path) -> None:
    one = load(generated)
    two = load(generated, LoadOptions(jobs=2))
    assert list(one.files) == list(two.files)
    assert one.files == two.files
    assert len(one.documents) == len(two.documents)


def test_spare_cpus_leave_out_what_others_keep_busy() -> None:
    # This process's own share of the load (the previous lint's) is not counted.
    assert spare_cpus(2, 0.1) == 2
    assert spare_cpus(2, 1.0) == 2
    assert spare_cpus(2, 1.3) == 2  # the previous lint, and a little else
    assert spare_cpus(2, 1.5) == 1
    assert spare_cpus(2, 7.9) == 1  # never none
    assert spare_cpus(16, 4.0) == 13
    assert spare_cpus(1, 0.0) == 1
    # Two CPUs of a 32-CPU host: the host's load average taken in proportion.
    assert spare_cpus(2, 12.0, host_cpus=32) == 2
    assert spare_cpus(2, 40.0, host_cpus=32) == 1


def _load_average(monkeypatch: pytest.MonkeyPatch, load: float, cpus: int = 2) -> None:
    monkeypatch.setattr(loader_module.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(loader_module.os, "cpu_count", lambda: cpus)
    monkeypatch.setattr(loader_module, "available_cpus", lambda: cpus)


def test_auto_jobs_use_spare_cpus_only_for_a_large_repository(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _load_average(monkeypatch, 0.2)
    assert parse_jobs(0, PARALLEL_THRESHOLD - 1) == 1
    assert parse_jobs(0, PARALLEL_THRESHOLD) == 2
    assert check_jobs(0, PARALLEL_THRESHOLD - 1) == 1
    assert check_jobs(0, PARALLEL_THRESHOLD) == 2
    _load_average(monkeypatch, 0.2, cpus=8)
    assert parse_jobs(0, PARALLEL_THRESHOLD) == 8
    assert check_jobs(0, PARALLEL_THRESHOLD) == 2  # more check processes copy more
    _load_average(monkeypatch, 6.0)  # other work keeps both CPUs busy
    assert parse_jobs(0, PARALLEL_THRESHOLD) == 1
    assert check_jobs(0, PARALLEL_THRESHOLD) == 1
    # What is asked for is taken as it is.
    assert parse_jobs(3, 1) == 3
    assert check_jobs(3, 1) == 3


def test_auto_checks_run_in_processes_with_and_without_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine = importlib.import_module("homelab_kit.lint.engine")
    _load_average(monkeypatch, 0.0)
    monkeypatch.setattr(loader_module, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setenv("HOMELAB_KIT_CACHE_DIR", str(tmp_path / "cache"))
    asked: list[int] = []
    real = engine.run_checks

    def spy(*args: Any, **kw: Any) -> Any:
        asked.append(kw["jobs"])
        return real(*args, **kw)

    monkeypatch.setattr(engine, "run_checks", spy)
    root = tmp_path / "repo"
    (root / "kubernetes").mkdir(parents=True)
    (root / "kubernetes" / "ns.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: media}\n"
    )
    lint(root, jobs=0)
    # With the cache too: what checks keep per object comes back from their processes.
    lint(root, jobs=0, cache=True)
    lint(root, jobs=1)
    assert asked == [2, 2, 1]


# ------------------------------------------------------------------ run_checks


def _findings_of(**kw: Any) -> Iterator[Diagnostic]:
    yield Diagnostic(Location("kubernetes/flux/cluster/ks.yaml", 1, 1), "x", "found", **kw)


def _crashes(repo: Any, options: Any) -> Iterator[Diagnostic]:
    raise RuntimeError("boom")


def _unpicklable(repo: Any, options: Any) -> Iterator[Diagnostic]:
    edit = Edit("kubernetes/flux/cluster/ks.yaml", 0, ("spec",), lambda: None)
    yield from _findings_of(fix=Fix("set it", (edit,)))


def _plain(repo: Any, options: Any) -> Iterator[Diagnostic]:
    yield from _findings_of()


def _check(check_id: str, function: Any, plugin: str) -> Check:
    return Check(check_id, Severity.ERROR, "Doc.", "Fix it.", function, plugin=plugin)


def test_parallel_checks_keep_crashes_and_unpicklable_findings(reference_root: Path) -> None:
    repo = load(reference_root)
    config = load_config(reference_root)
    checks = [
        _check("a-crash", _crashes, "one"),
        _check("b-plain", _plain, "two"),
        _check("c-unpicklable", _unpicklable, "three"),
        _check("d-plain", _plain, "four"),
    ]
    serial = run_checks(repo, checks, config, jobs=1).diagnostics
    parallel = run_checks(repo, checks, config, jobs=2).diagnostics
    assert serial == parallel
    assert [d.check_id for d in serial].count(INTERNAL_ERROR_ID) == 1
    assert {d.check_id for d in serial} == {
        INTERNAL_ERROR_ID,
        "b-plain",
        "c-unpicklable",
        "d-plain",
    }
    assert [d.fix is not None for d in parallel if d.check_id == "c-unpicklable"] == [True]


def test_progress_reports_parsing_and_checking(reference_root: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    result = lint(reference_root, progress=lambda *event: seen.append(event))
    parse = [e for e in seen if e[0] == "parse"]
    check = [e for e in seen if e[0] == "check"]
    assert parse[-1] == ("parse", result.files, result.files)
    assert check[0] == ("check", 0, len(result.checks))
    assert check[-1] == ("check", len(result.checks), len(result.checks))
    assert [e[1] for e in check] == sorted(e[1] for e in check)


# ------------------------------------------------------- what the processes share


def test_parallel_checks_build_the_desired_state_once(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built before the check processes are forked, which inherit it, not in each."""
    import os

    from homelab_kit.model import clusters

    builds = tmp_path / "builds"  # a file: what forked processes count is seen here
    build = clusters.build_clusters

    def counted(*args: Any, **kw: Any) -> Any:
        with builds.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return build(*args, **kw)

    monkeypatch.setattr(clusters, "build_clusters", counted)
    result = lint(generated, jobs=2)
    assert builds.read_text().splitlines() == [str(os.getpid())]
    assert result.diagnostics == lint(generated, jobs=1).diagnostics


def test_cached_parallel_run_gives_the_findings_of_a_fresh_single_process(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMELAB_KIT_CACHE_DIR", str(tmp_path / "cache"))
    fresh = _lint_json(generated, "--jobs", "1")

    assert _cached_json(generated) == fresh  # the first run fills the cache
    assert _cached_json(generated) == fresh  # the second answers from it
    assert any((tmp_path / "cache").iterdir())


def test_cached_parallel_runs_follow_a_change_as_a_fresh_single_process(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checks in two processes with the cache, a values file changed between runs:
    the findings of a fresh single process, before and after."""
    import shutil

    monkeypatch.setenv("HOMELAB_KIT_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "repo"
    shutil.copytree(generated, root)

    assert _cached_json(root) == _lint_json(root, "--jobs", "1")
    values = sorted(root.glob("kubernetes/apps/bench*/app*/app/helm/values.yaml"))[1]
    values.write_text(values.read_text() + "planted: &planted 1\n")  # yaml-unused-anchor
    stat = values.stat()
    os.utime(values, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    after = _cached_json(root)
    assert after == _lint_json(root, "--jobs", "1")
    assert after != _lint_json(generated, "--jobs", "1")


# ------------------------------------------------ how groups go to the processes


def _counting(
    check_id: str, plugin: str, runs: Path, *, sleep: float = 0.0, wait: str | None = None
) -> Check:
    """A check that appends ``check_id pid`` to ``runs`` each time it runs (a file:
    forked processes' runs are seen here) and finds one thing.  With ``wait``, run
    in this process it first waits (30 s at most) until a worker wrote a line
    starting with ``wait`` ("" for any), so that a worker works however busy the
    machine (callers leave ``wait`` out of their ``--jobs 1`` run)."""
    main = os.getpid()

    def function(repo: Any, options: Any) -> Iterator[Diagnostic]:
        import time

        time.sleep(sleep)
        deadline = time.monotonic() + 30
        while wait is not None and os.getpid() == main and time.monotonic() < deadline:
            if runs.exists() and any(p != main and c.startswith(wait) for c, p in _runs(runs)):
                break
            time.sleep(0.01)
        with runs.open("a") as out:
            out.write(f"{check_id} {os.getpid()}\n")
        yield Diagnostic(Location("kubernetes/flux/cluster/ks.yaml", 1, 1), "x", check_id)

    return _check(check_id, function, plugin)


def _runs(runs: Path) -> list[tuple[str, int]]:
    return [(c, int(p)) for c, p in (line.split() for line in runs.read_text().splitlines())]


def _assert_no_children() -> None:
    """Every worker forked was reaped: this process has no child left."""
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@pytest.mark.parametrize("jobs", [2, 3])
def test_every_group_runs_exactly_once_and_both_processes_work(
    reference_root: Path, tmp_path: Path, jobs: int
) -> None:
    repo = load(reference_root)
    config = load_config(reference_root)
    runs = tmp_path / "runs"

    def make(wait: str | None) -> list[Check]:  # eight plugins of two checks
        return [
            _counting(f"{p}-{n}", f"plugin{p}", runs, sleep=0.02, wait=wait)
            for p in "abcdefgh"
            for n in (1, 2)
        ]

    serial = run_checks(repo, make(None), config, jobs=1).diagnostics
    runs.unlink()
    checks = make("")
    parallel = run_checks(repo, checks, config, jobs=jobs).diagnostics
    assert parallel == serial
    seen = _runs(runs)
    assert sorted(c for c, _ in seen) == sorted(c.id for c in checks)  # each once
    by_plugin = {c[0]: {p for cc, p in seen if cc[0] == c[0]} for c, _ in seen}
    assert all(len(pids) == 1 for pids in by_plugin.values())  # a group stays together
    assert os.getpid() in {p for _, p in seen}  # this process took its share
    assert len({p for _, p in seen}) > 1  # and a worker took its own
    _assert_no_children()


def test_a_killed_worker_leaves_its_groups_to_this_process(
    reference_root: Path, tmp_path: Path
) -> None:
    """A worker killed mid-run: what it did not deliver runs here, same findings."""
    import signal

    repo = load(reference_root)
    config = load_config(reference_root)
    runs = tmp_path / "runs"
    main = os.getpid()

    def killer(repo: Any, options: Any) -> Iterator[Diagnostic]:
        """In a worker that delivered a group already: mark it, and die mid-group."""
        me = os.getpid()
        if me != main and runs.exists() and any(p == me for _, p in _runs(runs)):
            with runs.open("a") as out:
                out.write(f"killed {me}\n")
            os.kill(me, signal.SIGKILL)
        yield from _findings_of()

    def make(wait: str | None) -> list[Check]:
        # Here, each group waits until a worker delivered one and died in its next.
        return [
            check
            for p in "abcde"
            for check in (
                _check(f"{p}-0-killer", killer, f"p{p}"),
                _counting(f"{p}-1", f"p{p}", runs, wait=wait),
            )
        ]

    serial = run_checks(repo, make(None), config, jobs=1).diagnostics
    runs.unlink()
    checks = make("killed")
    parallel = run_checks(repo, checks, config, jobs=2).diagnostics
    assert parallel == serial
    seen = _runs(runs)
    worker = [c for c, p in seen if p != main]
    assert len(worker) == 2  # one group delivered, then killed in the next
    assert worker[1] == "killed"
    assert sorted(c for c, _ in seen if c != "killed") == [f"{p}-1" for p in "abcde"]
    _assert_no_children()


def test_an_outcome_that_does_not_unpickle_runs_here(
    reference_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = load(reference_root)
    config = load_config(reference_root)
    runs = tmp_path / "runs"
    serial = run_checks(
        repo, [_counting(f"{p}-1", f"p{p}", runs) for p in "abcd"], config, jobs=1
    ).diagnostics
    runs.unlink()
    checks = [_counting(f"{p}-1", f"p{p}", runs, wait="") for p in "abcd"]
    engine = importlib.import_module("homelab_kit.lint.engine")
    real = engine._run_group

    def broken(numbers: Any) -> bytes | None:
        blob = real(numbers)
        return None if blob is None else b"\x80not a pickle"

    monkeypatch.setattr(engine, "_run_group", broken)  # inherited by the forked worker
    parallel = run_checks(repo, checks, config, jobs=2).diagnostics
    assert parallel == serial
    seen = _runs(runs)
    # What the worker ran came back unreadable and ran again here; all else once.
    assert [c for c, p in seen if p != os.getpid()]
    assert sorted(c for c, p in seen if p == os.getpid()) == sorted(c.id for c in checks)
    _assert_no_children()


def test_no_fork_runs_every_group_here(
    reference_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = load(reference_root)
    config = load_config(reference_root)
    runs = tmp_path / "runs"
    checks = [_counting(f"{p}-1", f"p{p}", runs) for p in "abcd"]
    serial = run_checks(repo, checks, config, jobs=1).diagnostics
    runs.unlink()

    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert run_checks(repo, checks, config, jobs=2).diagnostics == serial
    assert sorted(_runs(runs)) == sorted((c.id, os.getpid()) for c in checks)


def test_an_interrupt_here_ends_the_worker(reference_root: Path) -> None:
    """KeyboardInterrupt in this process mid-run: the worker is killed and reaped."""
    repo = load(reference_root)
    config = load_config(reference_root)
    main = os.getpid()

    def interrupt(repo: Any, options: Any) -> Iterator[Diagnostic]:
        if os.getpid() == main:
            raise KeyboardInterrupt
        yield from _findings_of()

    def slow(repo: Any, options: Any) -> Iterator[Diagnostic]:
        import time

        time.sleep(30)  # a worker is still busy when this process stops
        yield from _findings_of()

    checks = [
        check
        for p in "abc"
        for check in (_check(f"{p}-1", interrupt, f"p{p}"), _check(f"{p}-2", slow, f"p{p}"))
    ]
    with pytest.raises(KeyboardInterrupt):
        run_checks(repo, checks, config, jobs=2)
    _assert_no_children()


# ------------------------------------------------ indexes checks of several plugins read


def _sharing(check_id: str, plugin: str, index: Any, runs: Path) -> Check:
    """A check declaring ``index`` shared (``SHARED``): it appends ``check_id pid`` to
    ``runs``, as :func:`_counting` does, and reports the process that built the index
    (``index(repo)`` answers that process's id)."""

    def function(repo: Any, options: Any) -> Iterator[Diagnostic]:
        with runs.open("a") as out:
            out.write(f"{check_id} {os.getpid()}\n")
        message = f"built by {index(repo)}"
        yield Diagnostic(Location("kubernetes/flux/cluster/ks.yaml", 1, 1), "x", message)

    return attrs.evolve(_check(check_id, function, plugin), shared=(index,))


def _recorded_index(builds: Path) -> Any:
    """A shared index (through ``Repo.derived``) whose every build appends the id of
    the process building it to ``builds`` (a file: forked processes' builds are seen
    here), and that answers that id."""

    def build(repo: Any) -> int:
        with builds.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return os.getpid()

    def index(repo: Any) -> int:
        return int(repo.derived(build))

    return index


def test_an_index_two_plugins_share_is_built_once_before_the_fork(
    reference_root: Path, tmp_path: Path
) -> None:
    repo = load(reference_root)
    config = load_config(reference_root)
    builds, runs = tmp_path / "builds", tmp_path / "runs"
    index = _recorded_index(builds)
    checks = [
        _sharing("a-reads", "one", index, runs),  # the worker's first group
        _counting("b-waits", "two", runs, wait="a-"),  # here: until the worker ran a-
        _sharing("c-reads", "three", index, runs),
    ]
    found = run_checks(repo, checks, config, jobs=2).diagnostics
    here = str(os.getpid())
    assert builds.read_text().splitlines() == [here]  # once, here, not again in the worker
    assert [d.message for d in found if d.check_id != "b-waits"] == [f"built by {here}"] * 2
    assert {c: p != os.getpid() for c, p in _runs(runs) if c != "b-waits"} == {
        "a-reads": True,  # ran in the worker
        "c-reads": False,
    }
    _assert_no_children()


def test_an_index_one_plugin_reads_is_left_to_the_process_running_it(
    reference_root: Path, tmp_path: Path
) -> None:
    repo = load(reference_root)
    config = load_config(reference_root)
    builds, runs = tmp_path / "builds", tmp_path / "runs"
    index = _recorded_index(builds)
    checks = [
        _sharing("a-reads", "one", index, runs),
        _sharing("a-reads-too", "one", index, runs),
        _counting("b-waits", "two", runs, wait="a-reads-too"),
    ]
    found = run_checks(repo, checks, config, jobs=2).diagnostics
    (worker,) = {p for c, p in _runs(runs) if c.startswith("a-")}
    assert worker != os.getpid()
    assert builds.read_text().splitlines() == [str(worker)]  # in the worker, once
    assert [d.message for d in found if d.check_id != "b-waits"] == [f"built by {worker}"] * 2
    _assert_no_children()


def test_shared_indexes_are_those_of_more_than_one_plugin() -> None:
    def first(repo: Any) -> None: ...

    def second(repo: Any) -> None: ...

    checks = [
        attrs.evolve(_check("a-1", _plain, "one"), shared=(first, second)),
        attrs.evolve(_check("a-2", _plain, "one"), shared=(second,)),
        attrs.evolve(_check("b-1", _plain, "two"), shared=(first,)),
    ]
    assert shared_indexes(checks) == [first]
    assert shared_indexes(checks[:2]) == []


def test_the_secret_producers_are_built_before_the_fork_for_the_bundled_plugins() -> None:
    """The Flux, secret and Helm checks all read what the clusters create."""
    from homelab_kit.model.secret_index import created_by_kind

    checks = registered_checks(PluginManager())
    assert created_by_kind in shared_indexes(checks)
    assert {c.plugin for c in checks if created_by_kind in c.shared} >= {
        "homelab_kit_flux",
        "homelab_kit_secrets",
        "homelab_kit_helm",
    }


def test_a_check_module_declares_its_shared_indexes() -> None:
    from homelab_kit.errors import PluginError

    def index(repo: Any) -> None: ...

    module = types.ModuleType("sharing")
    module.ID, module.check, module.SHARED = "x-sharing", _plain, [index]  # type: ignore[attr-defined]
    assert Check.from_module(module).shared == (index,)
    module.SHARED = index  # type: ignore[attr-defined]
    assert Check.from_module(module).shared == (index,)
    module.SHARED = ("not a function",)  # type: ignore[attr-defined]
    with pytest.raises(PluginError, match="SHARED"):
        Check.from_module(module).validate()


# ------------------------------------------------------------- which groups go first


def test_claim_order_starts_both_ends_on_the_largest_groups() -> None:
    # Longest processing time first, dealt to the end whose process is free first:
    # the front takes 5 then 1, the back 5 then 1; they meet on the smallest.
    assert claim_order([1, 1, 5, 5]) == [2, 0, 1, 3]
    assert claim_order([80, 245, 100, 190, 100, 40, 0, 0, 190, 50]) == [
        1,  # front: 245, 100, 100, 50
        2,
        4,
        9,
        5,  # back, from the end: 190, 190, 80, 40
        0,
        6,  # no cost: kept in place
        7,
        8,
        3,
    ]
    assert claim_order([0, 0, 0]) == [0, 1, 2]  # no costs: check-ID order
    assert claim_order([]) == []


def test_each_process_starts_on_the_largest_group_of_its_end(
    reference_root: Path, tmp_path: Path
) -> None:
    repo = load(reference_root)
    config = load_config(reference_root)
    runs = tmp_path / "runs"

    def make(wait: str | None) -> list[Check]:
        costs = {"a": 1, "b": 1, "c": 5, "d": 5}
        return [
            attrs.evolve(
                _counting(f"{p}-1", f"plugin{p}", runs, wait=wait if p == "d" else None),
                cost=cost,
            )
            for p, cost in costs.items()
        ]

    serial = run_checks(repo, make(None), config, jobs=1).diagnostics
    runs.unlink()
    assert run_checks(repo, make("c-"), config, jobs=2).diagnostics == serial
    seen = _runs(runs)
    firsts = {}
    for check_id, pid in seen:
        firsts.setdefault(pid == os.getpid(), check_id)
    assert firsts == {False: "c-1", True: "d-1"}  # the worker c, this process d
    _assert_no_children()


def test_a_check_module_declares_its_cost() -> None:
    from homelab_kit.errors import PluginError

    module = types.ModuleType("costly")
    module.ID, module.check = "x-costly", _plain  # type: ignore[attr-defined]
    assert Check.from_module(module).cost == 0
    module.COST = 25  # type: ignore[attr-defined]
    assert Check.from_module(module).cost == 25
    for wrong in (-1, "25", True):
        module.COST = wrong  # type: ignore[attr-defined]
        with pytest.raises(PluginError, match="COST"):
            Check.from_module(module).validate()
