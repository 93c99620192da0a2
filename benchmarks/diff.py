"""How long ``homelab-kit diff`` takes beside a cold lint, with one app changed.

    python benchmarks/diff.py --apps 1000 --runs 3

Generates a repository (benchmarks/generate.py) with ``--apps`` apps, commits it
in a fresh Git repository, changes one app's values in the working tree, then
times, alternately, ``homelab-kit lint --no-cache`` (cold: nothing cached) and
``homelab-kit diff`` (base: the commit, head: the working tree).  The goal
(issue 19): diff takes at most twice a cold lint.  Prints medians in seconds.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def prepare(workdir: Path, apps: int, seed: int) -> Path:
    """A committed repository of ``apps`` apps with one app's values changed since."""
    root = workdir / f"diff-{apps}"
    if root.exists():
        shutil.rmtree(root)
    per_namespace = 20
    namespaces = max(1, apps // per_namespace)
    subprocess.run(
        [
            sys.executable,
            str(PROJECT / "benchmarks" / "generate.py"),
            str(root),
            "--namespaces",
            str(namespaces),
            "--apps",
            str(per_namespace),
            "--seed",
            str(seed),
        ],
        check=True,
        capture_output=True,
    )
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "generated")
    values = sorted(root.glob("kubernetes/apps/*/*/app/helm/values.yaml"))[0]
    text = values.read_text()
    values.write_text(text.replace("replicas: 1", "replicas: 2", 1))
    return root


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command[:4])}: exit {done.returncode}: {done.stderr[-500:]}")
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/homelab-kit-bench"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    root = prepare(args.workdir, args.apps, args.seed)
    kit = [sys.executable, "-m", "homelab_kit"]
    lint_times: list[float] = []
    diff_times: list[float] = []
    for _ in range(args.runs):
        lint_times.append(timed([*kit, "lint", str(root), "--no-cache", "-f", "concise"]))
        diff_times.append(timed([*kit, "diff", str(root), "--base", "main", "-f", "json"]))
    lint_s, diff_s = statistics.median(lint_times), statistics.median(diff_times)
    print(f"apps: {args.apps}, runs: {args.runs} (medians)")
    print(f"cold lint: {lint_s:.2f} s   {', '.join(f'{t:.2f}' for t in lint_times)}")
    print(f"diff:      {diff_s:.2f} s   {', '.join(f'{t:.2f}' for t in diff_times)}")
    print(f"diff / cold lint: {diff_s / lint_s:.2f} (goal: at most 2.00)")


if __name__ == "__main__":
    main()
