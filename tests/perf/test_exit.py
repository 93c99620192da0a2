"""The console script ends without the interpreter's teardown, and nobody can tell.

``homelab-kit`` and ``python -m homelab_kit`` run ``cli.console_main``: once the
command is done, the process ends at once (``os._exit``) instead of freeing every
object of the run, when that is safe.  These tests run the same command through
that entry and through ``cli.main`` (the ordinary exit) in fresh interpreters and
compare what a user sees: the exit code, standard output and error, the report
file, the cache the run leaves.  The time saved is measured by benchmarks/run.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from homelab_kit.testing import write_tree
from tests.core.test_cli import KS, STRICT

PROJECT = Path(__file__).resolve().parents[2]

# The ordinary exit: what tests and programs calling the library get.
ORDINARY = "import sys\nfrom homelab_kit.cli import main\nmain(sys.argv[1:])\n"
# The console script's entry, as the generated script calls it.
FAST = "import sys\nfrom homelab_kit.cli import console_main\nsys.exit(console_main())\n"

# A teardown probe: an object whose finalizer runs only if the interpreter tears down.
PROBE = textwrap.dedent(
    """
    import os, sys
    from homelab_kit.cli import console_main

    class Probe:
        def __del__(self):
            os.write(2, b"TEARDOWN\\n")

    probe = Probe()
    {setup}
    sys.argv[1:] = {args!r}
    console_main()
    """
)


def _env(cache: Path) -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", "HOMELAB_KIT_CACHE_DIR": str(cache)}
    env.pop("GITHUB_ACTIONS", None)
    return env


def _run(
    entry: str, *args: str, cache: Path, stdout: int | object = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", entry, *args],
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        text=True,
        env=_env(cache),
        cwd=cache.parent,
        timeout=120,
        check=False,
    )


def _same(text: str) -> str:
    """The output without the run's duration."""
    return re.sub(r"\d+\.\d+s\b|\"duration\": [0-9.e-]+", "<duration>", text)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with findings (exit 1): `prune: false` where the owner forbids it."""
    root = tmp_path / "repo"
    write_tree(
        root,
        {
            **STRICT,
            "kubernetes/apps/default/echo/ks.yaml": KS.format(prune="false"),
            "kubernetes/apps/default/echo/app/kustomization.yaml": (
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                "resources: [./cm.yaml]\n"
            ),
            "kubernetes/apps/default/echo/app/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: echo\ndata:\n  a: b\n"
            ),
        },
    )
    return root


def test_the_console_script_and_python_m_use_the_fast_exit():
    scripts = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["homelab-kit"] == "homelab_kit.cli:console_main"
    assert "console_main()" in (PROJECT / "homelab_kit/__main__.py").read_text()


@pytest.mark.parametrize(
    "args",
    [
        ("--version",),
        ("lint", "{repo}", "--no-cache"),  # findings: exit 1
        ("lint", "{repo}", "--no-cache", "--format", "json"),
        ("lint", "{repo}", "--no-cache", "--format", "concise", "--exit-zero"),
        ("lint", "{repo}", "--no-cache", "--statistics"),
        ("lint", "{repo}", "--format", "nope"),  # usage error: exit 2
        ("lint", "{repo}/not-there"),  # exit 2
        ("lint", "--no-such-option"),  # click's usage error
        ("explain", "no-such-check"),
    ],
)
def test_exit_code_and_output_are_those_of_the_ordinary_exit(
    tmp_path: Path, repo: Path, args: tuple[str, ...]
):
    argv = [a.format(repo=repo) for a in args]
    ordinary = _run(ORDINARY, *argv, cache=tmp_path / "c1")
    fast = _run(FAST, *argv, cache=tmp_path / "c2")
    assert ordinary.returncode in (0, 1, 2), ordinary.stderr
    assert fast.returncode == ordinary.returncode
    assert _same(fast.stdout) == _same(ordinary.stdout)
    assert _same(fast.stderr) == _same(ordinary.stderr)
    assert "Traceback" not in fast.stderr


def test_output_to_a_file_and_the_report_file_are_complete(tmp_path: Path, repo: Path):
    outputs = {}
    for name, entry in (("ordinary", ORDINARY), ("fast", FAST)):
        report = tmp_path / f"{name}.sarif"
        with open(tmp_path / f"{name}.out", "w") as handle:
            done = _run(
                entry,
                *("lint", str(repo), "--no-cache", "--format", "sarif", "-o", str(report)),
                cache=tmp_path / name,
                stdout=handle,
            )
        assert done.returncode == 1, done.stderr
        with open(tmp_path / f"{name}.txt", "w") as handle:
            text = _run(entry, "lint", str(repo), "--no-cache", cache=tmp_path, stdout=handle)
        assert text.returncode == 1, text.stderr
        outputs[name] = (
            _same(report.read_text()),
            (tmp_path / f"{name}.out").read_text(),
            _same((tmp_path / f"{name}.txt").read_text()),
        )
    assert "flux-ks-prune" in outputs["fast"][0]
    assert "flux-ks-prune" in outputs["fast"][2]
    assert outputs["fast"] == outputs["ordinary"]


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "args",
    [
        ("--fix", "--unsafe-fixes", "--show-fixes"),
        ("--add-noqa",),
        ("--baseline", "{copy}/baseline.json"),
    ],
    ids=["fix", "add-noqa", "baseline"],
)
def test_files_a_lint_writes_are_the_same(tmp_path: Path, repo: Path, args: tuple[str, ...]):
    """What --fix, --add-noqa and a new --baseline write is whole when the process ends."""
    seen = {}
    copy = tmp_path / "copy"  # the same path for both: messages name it
    for name, entry in (("ordinary", ORDINARY), ("fast", FAST)):
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(repo, copy)
        argv = [a.format(copy=copy) for a in args]
        done = _run(entry, "lint", str(copy), "--no-cache", *argv, cache=tmp_path / name)
        seen[name] = (done.returncode, _same(done.stdout), _same(done.stderr), _tree(copy))
    assert seen["fast"] == seen["ordinary"]
    assert seen["fast"][3] != _tree(repo)  # something was written
    if "--baseline" in args:
        assert "flux-ks-prune" in seen["fast"][3]["baseline.json"]


def test_a_closed_pipe_behaves_as_before(tmp_path: Path, repo: Path):
    """The reader went away (`homelab-kit lint | head -0`): the same exit, no traceback."""
    seen = []
    for entry in (ORDINARY, FAST):
        read, write = os.pipe()
        os.close(read)  # nobody reads: the first write fails with EPIPE
        try:
            done = _run(entry, "lint", str(repo), "--no-cache", cache=tmp_path, stdout=write)
        finally:
            os.close(write)
        seen.append((done.returncode, done.stderr))
    assert seen[1] == seen[0]
    assert "Traceback" not in seen[1][1]


def _probe(
    tmp_path: Path, args: list[str], setup: str = "", cache: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``console_main`` with ``args`` after ``setup``, beside a teardown probe."""
    script = PROBE.format(setup=textwrap.dedent(setup), args=args)
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=_env(cache or tmp_path / "cache"),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_the_teardown_is_skipped_after_a_lint_and_after_an_error(tmp_path: Path, repo: Path):
    for args, code in (
        (["lint", str(repo), "--no-cache"], 1),
        (["lint", str(repo)], 1),
        (["lint", str(repo / "not-there")], 2),
        (["--version"], 0),
    ):
        done = _probe(tmp_path, args)
        assert done.returncode == code, done.stderr
        assert "TEARDOWN" not in done.stderr, args


def test_atexit_functions_still_run(tmp_path: Path, repo: Path):
    """A plugin's (or logging's) exit function runs, and what it prints is flushed."""
    mark = tmp_path / "mark"
    setup = f"""
    import atexit
    atexit.register(lambda: (open({str(mark)!r}, "w").write("done"), print("bye")))
    """
    done = _probe(tmp_path, ["lint", str(repo), "--no-cache", "--format", "concise"], setup)
    assert done.returncode == 1, done.stderr
    assert mark.read_text() == "done"
    assert done.stdout.endswith("bye\n")
    assert "TEARDOWN" not in done.stderr


@pytest.mark.parametrize(
    "setup",
    [
        # A file left open with unflushed data: its finalizer must still write it.
        "leaked = open(sys.argv[0] + '.leaked', 'w'); leaked.write('kept')",
        # A thread still running, which writes once the main thread is done.
        "import threading\n"
        "threading.Thread(target=lambda: (threading.main_thread().join(),"
        " open(sys.argv[0] + '.leaked', 'w').write('kept'))).start()",
    ],
    ids=["open-file", "thread"],
)
def test_the_ordinary_exit_when_something_is_unfinished(tmp_path: Path, repo: Path, setup: str):
    setup = "sys.argv[0] = " + repr(str(tmp_path / "probe")) + "\n" + setup
    done = _probe(tmp_path, ["lint", str(repo), "--no-cache", "--format", "concise"], setup)
    assert done.returncode == 1, done.stderr
    assert (tmp_path / "probe.leaked").read_text() == "kept"
    assert "TEARDOWN" in done.stderr


def test_main_returns_control_to_its_caller(repo: Path, capsys: pytest.CaptureFixture[str]):
    from homelab_kit.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["lint", str(repo), "--no-cache", "--format", "concise"])
    assert exc.value.code == 1
    assert "flux-ks-prune" in capsys.readouterr().out


def _cache_files(folder: Path) -> set[str]:
    """The names of the cache files, after checking each is whole (signed, or JSON)."""
    key = (folder / "hmac.key").read_bytes()
    names = set()
    for path in folder.rglob("*"):
        if not path.is_file() or path.name == "hmac.key":
            continue
        names.add(str(path.relative_to(folder)))
        data = path.read_bytes()
        if path.suffix == ".json":  # the plugin listing
            json.loads(data)
            continue
        digest, payload = data[:32], data[32:]
        assert hmac.compare_digest(digest, hmac.new(key, payload, hashlib.sha256).digest()), path
    return names


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_cache_is_complete_after_a_fast_exit(tmp_path: Path, jobs: str):
    """Every cache file is written before the process ends: the next run is warm."""
    repo = tmp_path / "reference"
    for folder in ("kubernetes", "talos", "bootstrap"):
        if (PROJECT / folder).is_dir():
            shutil.copytree(PROJECT / folder, repo / folder, symlinks=True)
    shutil.copy2(PROJECT / ".homelab-kit.yaml", repo / ".homelab-kit.yaml")
    args = ["lint", str(repo), "--format", "json", "--jobs", jobs]
    ordinary = _run(ORDINARY, *args, cache=tmp_path / "ordinary")
    first = _run(FAST, *args, cache=tmp_path / "fast")
    assert first.returncode == ordinary.returncode, first.stderr
    assert _same(first.stdout) == _same(ordinary.stdout)
    # The same files, each whole (its signature holds).
    written = _cache_files(tmp_path / "fast")
    assert written == _cache_files(tmp_path / "ordinary")
    assert {name.rsplit(".", 1)[-1] for name in written} >= {"parse", "build", "result", "json"}

    # The next run is answered from the result cache, before any plugin loads.
    dump = tmp_path / "modules"
    setup = f"""
    import atexit
    atexit.register(lambda: open({str(dump)!r}, "w").write("\\n".join(sys.modules)))
    """
    warm = _probe(tmp_path, args, setup, cache=tmp_path / "fast")
    assert warm.returncode == ordinary.returncode, warm.stderr
    assert _same(warm.stdout) == _same(ordinary.stdout)
    modules = dump.read_text().split()
    assert "homelab_kit.cli" in modules
    assert not [m for m in modules if m.startswith(("homelab_kit_", "homelab_kit.lint.engine"))]


def test_the_collector_rests_during_a_lint_and_is_back_after(tmp_path: Path, repo: Path):
    """Importing the plugins, reading the configuration and reporting run no collection."""
    script = textwrap.dedent(
        """
        import gc, sys
        from homelab_kit.cli import main

        runs = []
        gc.callbacks.append(lambda phase, info: runs.append(phase) if phase == "start" else None)
        try:
            main(sys.argv[1:])
        except SystemExit as exc:
            print(len(runs) < 3, gc.isenabled(), exc.code)  # ~75 unpaused; click parses first
        """
    )
    for args in (["--no-cache"], []):  # imports everything; then answered by the cache
        done = subprocess.run(
            [sys.executable, "-c", script, "lint", str(repo), "--format", "concise", *args],
            capture_output=True,
            text=True,
            env=_env(tmp_path / "cache"),
            timeout=120,
            check=False,
        )
        assert done.stdout.splitlines()[-1] == "True True 1", done.stderr


def test_a_profiler_still_gets_its_report(tmp_path: Path):
    """`python -m cProfile -m homelab_kit` writes its profile: the ordinary exit then."""
    profile = tmp_path / "run.prof"
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "homelab_kit", "--version"],
        capture_output=True,
        text=True,
        env=_env(tmp_path / "cache"),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "homelab-kit, version" in done.stdout
    assert profile.stat().st_size > 0


@pytest.mark.skipif(not hasattr(sys, "monitoring"), reason="sys.monitoring is Python 3.12+")
def test_a_sys_monitoring_tool_keeps_the_ordinary_exit() -> None:
    # From 3.12 cProfile and coverage register through sys.monitoring, which
    # sys.getprofile() does not show; they write their report in the ordinary exit.
    from homelab_kit.cli import _monitored

    monitoring = sys.monitoring  # type: ignore[attr-defined]
    tool = next(t for t in range(6) if monitoring.get_tool(t) is None)
    monitoring.use_tool_id(tool, "homelab-kit test")
    try:
        assert _monitored()
    finally:
        monitoring.free_tool_id(tool)
