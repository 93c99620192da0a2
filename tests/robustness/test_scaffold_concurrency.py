"""Scaffolding under concurrent runs and kill -9 (issue 15, items 14 and 15).

Real processes only: 30 ``new-app`` runs started at once in one namespace must all
land, and a run killed with SIGKILL at every step of writing its plan must leave no
staging folder in the working tree and a repository the next run puts right.
Nothing is timed; every subprocess has a timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from homelab_kit.scaffold.state import JOURNAL, RepositoryLock, state_dir
from homelab_kit.testing import write_tree
from tests.scaffold.conftest import MINIMAL, snapshot

from .conftest import CLI_TIMEOUT, assert_no_crash, run_cli, run_main

NAMESPACE = "default"


def small_repo(root: Path) -> Path:
    """A small repository in the reference layout (quick to load, many times over)."""
    write_tree(root, MINIMAL)
    return root


def new_app(repo: Path, app: str) -> list[str]:
    return [
        "new-app",
        f"{NAMESPACE}/{app}",
        "--chart",
        "oci://ghcr.io/example/charts/app",
        "--version",
        "1.0.0",
        "--no-input",
        "--no-secrets",
        "--path",
        str(repo),
    ]


def stray(repo: Path) -> list[str]:
    """Staging or state folders in the working tree (``.git/`` apart)."""
    return [
        p
        for p in snapshot(repo)
        if (".homelab-kit-" in p or "staging-" in p) and not p.startswith(".git/")
    ]


def listed_apps(repo: Path) -> list[str]:
    text = (repo / "kubernetes/apps" / NAMESPACE / "kustomization.yaml").read_text()
    return [
        line.split("./", 1)[1].split("/")[0] for line in text.splitlines() if "/ks.yaml" in line
    ]


@pytest.mark.slow
def test_thirty_concurrent_new_app_runs_all_land(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    before = set(listed_apps(repo))
    apps = [f"app{i:02d}" for i in range(30)]
    env = {**os.environ, "NO_COLOR": "1", "HOMELAB_KIT_LOCK_TIMEOUT": str(CLI_TIMEOUT * 4)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "homelab_kit", *new_app(repo, app)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for app in apps
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=CLI_TIMEOUT * 5)
        results.append((proc.returncode, out + err))
    for code, output in results:
        assert code == 0, output
        assert "Traceback" not in output
    assert set(listed_apps(repo)) == before | set(apps)
    for app in apps:
        assert (repo / "kubernetes/apps" / NAMESPACE / app / "ks.yaml").is_file()
    assert not stray(repo)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]


def test_a_held_lock_makes_the_next_run_wait_then_give_up_in_one_line(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    before = snapshot(repo)
    with RepositoryLock(repo):
        run = run_cli(*new_app(repo, "late"), env={"HOMELAB_KIT_LOCK_TIMEOUT": "0.5"})
    assert_no_crash(run)
    assert run.returncode == 2
    error = [line for line in run.stderr.splitlines() if "error" in line]
    assert len(error) == 1, run.stderr
    assert f"another homelab-kit run (pid {os.getpid()}) is changing" in error[0]
    assert "HOMELAB_KIT_LOCK_TIMEOUT" in error[0]
    assert "waiting for another homelab-kit run" in run.stderr
    assert snapshot(repo) == before


def test_the_lock_and_staging_live_in_the_git_directory(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    (repo / ".git").mkdir()  # enough of a Git work tree for the state folder
    assert state_dir(repo) == repo / ".git" / "homelab-kit"
    with RepositoryLock(repo) as lock:
        assert Path(lock.path) == repo / ".git/homelab-kit/lock"
        assert Path(lock.path).read_text() == f"{os.getpid()}\n"
    run = run_main(*new_app(repo, "inside"))
    assert run.returncode == 0, run.output
    assert not stray(repo)
    # a finished run leaves no lock and no state folder behind, here or beside the repository
    assert not (repo / ".git/homelab-kit").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]


# A real SIGKILL at the N-th file-system step of applying the plan: the state and
# staging folders made, the journal's rename into place, each folder made, each
# file renamed into place, the journal's removal, the staging folder's removal.
KILLER = """
import os, signal, sys
from homelab_kit.scaffold import plan

kill_at, seen, active = int(os.environ["KILL_AT"]), [0], [False]

def step(name):
    real = getattr(os, name)
    def wrapped(*args, **kwargs):
        if active[0]:
            seen[0] += 1
            if seen[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    setattr(os, name, wrapped)

for name in ("mkdir", "replace", "unlink", "rmdir"):
    step(name)
real_apply = plan.apply_plan
def apply(*args, **kwargs):
    active[0] = True
    return real_apply(*args, **kwargs)
plan.apply_plan = apply

from homelab_kit.cli import main
main(sys.argv[1:])
"""


def _killed_run(repo: Path, step: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", KILLER, *new_app(repo, "victim")],
        env={**os.environ, "KILL_AT": str(step), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


@pytest.mark.slow
def test_kill_9_at_every_step_of_the_apply_is_rolled_back_by_the_next_run(
    tmp_path: Path,
) -> None:
    reference = small_repo(tmp_path / "reference")
    done = run_main(*new_app(reference, "victim"))
    assert done.returncode == 0, done.output
    wanted = snapshot(reference)
    killed_with_journal = 0
    step = 0
    while True:
        step += 1
        assert step < 200, "the apply never finished"
        repo = small_repo(tmp_path / f"step{step}" / "repo")
        killed = _killed_run(repo, step)
        if killed.returncode == 0:
            assert snapshot(repo) == wanted  # past the last step: a normal run
            break
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        # staging never lands in the working tree, whenever the kill comes
        assert not stray(repo), step
        journal = (state_dir(repo) / JOURNAL).exists()
        killed_with_journal += journal
        after = run_main(*new_app(repo, "victim"))
        if after.returncode == 0:
            assert ("rolled back" in after.stderr) == journal, after.stderr
        else:  # killed after the plan was complete: the app is there, whole
            assert "already exists" in after.stderr, after.output
            assert not journal
        assert snapshot(repo) == wanted, step
        assert not (state_dir(repo) / JOURNAL).exists()
        assert not list(state_dir(repo).glob("staging-*")), step
    assert step > 10
    assert killed_with_journal > 5
