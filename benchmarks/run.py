"""Time ``homelab-kit lint`` against yamllint and kubernetes-validate on generated repositories.

    .venv/bin/python benchmarks/run.py [--sizes 100,1000,5000] [--runs 5] [--tool-runs 3]

For each size (number of apps, 20 per namespace) it generates a repository with
benchmarks/generate.py (the same seed, so the same files every time) and measures,
as the median wall time of several runs:

- ``homelab-kit lint`` cold (``--no-cache``), warm (nothing changed since the last
  run) and after one file changed (a values file gains a comment line each run);
- yamllint (its default configuration: the YAML checks) and kubernetes-validate
  (``--strict``: the schema checks) on the same files, installed into this
  folder's own environment (benchmarks/.venv, created on first use with pip);

and the peak resident memory of the largest homelab-kit process.  It prints a
Markdown table, the ratios, how the time grows with size and the machine it ran on.
Timings are wall-clock: run it on an otherwise idle machine (``--max-load`` waits
for one) and say under which conditions it ran.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (benchmarks/generate.py, beside this file)

BENCH_VENV = HERE / ".venv"
TOOLS = ("yamllint", "kubernetes-validate")
APPS_PER_NAMESPACE = 20
FOLDERS = ("kubernetes", "talos", "bootstrap")


# ------------------------------------------------------------------ environment


def ensure_tools(venv: Path = BENCH_VENV) -> dict[str, Path]:
    """yamllint and kubernetes-validate in the benchmark's own environment."""
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    found = {tool: bin_dir / tool for tool in TOOLS}
    if all(path.exists() for path in found.values()):
        return found
    if not (bin_dir / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", *TOOLS],
        check=True,
    )
    return found


def tool_versions(tools: dict[str, Path]) -> dict[str, str]:
    python = tools["yamllint"].parent / "python"
    out = {}
    for tool in TOOLS:
        result = subprocess.run(
            [str(python), "-m", "pip", "show", tool], capture_output=True, text=True
        )
        version = next(
            (
                line.split(":", 1)[1].strip()
                for line in result.stdout.splitlines()
                if line.startswith("Version:")
            ),
            "?",
        )
        out[tool] = version
    return out


def homelab_kit_command() -> list[str]:
    script = Path(sys.executable).parent / "homelab-kit"
    return [str(script)] if script.exists() else [sys.executable, "-m", "homelab_kit"]


# ------------------------------------------------------------------ measuring


def run(
    command: Sequence[str], cwd: Path, env: dict[str, str], findings_exit: bool = True
) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB, the largest process of the tree) of one run.

    homelab-kit exits 0 or 1 (findings); the other tools exit non-zero on findings
    too (``findings_exit=False`` accepts any exit but a crash).
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    crashed = "Traceback (most recent call last)" in stderr
    if crashed or (findings_exit and process.returncode not in (0, 1)):
        raise SystemExit(f"{' '.join(command[:3])} ... failed ({process.returncode}):\n{stderr}")
    return elapsed, usage.ru_maxrss


def wait_for_quiet(max_load: float, patience: float) -> float:
    """Wait (up to ``patience`` seconds) for the 1-minute load average to drop."""
    deadline = time.monotonic() + patience
    load = os.getloadavg()[0]
    while load > max_load and time.monotonic() < deadline:
        time.sleep(10)
        load = os.getloadavg()[0]
    return load


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def measure_size(
    apps: int, args: argparse.Namespace, tools: dict[str, Path] | None
) -> dict[str, float | int | str]:
    out = args.workdir / f"apps{apps}"
    namespaces = max(1, apps // APPS_PER_NAMESPACE)
    per_namespace = apps // namespaces
    marker = out / ".generated"
    wanted = f"{namespaces}x{per_namespace} seed {args.seed}"
    if args.fresh or not marker.exists() or marker.read_text() != wanted:
        generate.generate(out, namespaces, per_namespace, args.seed)
        marker.write_text(wanted)
    tool_runs = args.tool_runs if apps <= args.tool_runs_up_to else 1
    return measure_repo(out, f"{namespaces * per_namespace} apps", args, tools, tool_runs)


def measure_repo(
    root: Path,
    label: str,
    args: argparse.Namespace,
    tools: dict[str, Path] | None,
    tool_runs: int | None = None,
) -> dict[str, float | int | str]:
    files = sorted(
        str(p.relative_to(root))
        for folder in FOLDERS
        for p in (root / folder).rglob("*")
        if p.suffix in (".yaml", ".yml") and p.is_file()
    )
    cache_home = args.workdir / "cache" / root.name
    shutil.rmtree(cache_home, ignore_errors=True)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "NO_COLOR": "1"}
    env.pop("GITHUB_ACTIONS", None)
    hk = [*homelab_kit_command(), "lint", str(root), "--format", "concise"]
    if args.jobs is not None:
        hk += ["--jobs", str(args.jobs)]
    load = wait_for_quiet(args.max_load, args.patience)
    row: dict[str, float | int | str] = {"label": label, "files": len(files), "load": load}
    peak = 0

    cold = []
    for _ in range(args.runs):
        seconds, rss = run([*hk, "--no-cache"], root, env)
        cold.append(seconds)
        peak = max(peak, rss)
    row["cold"] = median(cold)

    run(hk, root, env)  # fills the cache
    warm = []
    for _ in range(args.runs):
        seconds, rss = run(hk, root, env)
        warm.append(seconds)
        peak = max(peak, rss)
    row["warm"] = median(warm)

    target = root / next(f for f in files if f.endswith("values.yaml"))
    original = target.read_bytes()
    changed = []
    try:
        for i in range(args.runs):
            target.write_bytes(original + f"# benchmark edit {i}\n".encode())
            seconds, rss = run(hk, root, env)
            changed.append(seconds)
            peak = max(peak, rss)
    finally:
        target.write_bytes(original)
    row["changed"] = median(changed)
    row["peak_mib"] = peak / 1024

    tool_runs = tool_runs or args.tool_runs
    if tools is not None:
        version = kubernetes_version(root)
        row["yamllint"] = median(
            [
                run([str(tools["yamllint"]), "-f", "parsable", *FOLDERS], root, env, False)[0]
                for _ in range(tool_runs)
            ]
        )
        validate = [str(tools["kubernetes-validate"]), "--strict", "--quiet", "-k", version]
        row["kubernetes-validate"] = median(
            [
                sum(run([*validate, *batch], root, env, False)[0] for batch in batches(files))
                for _ in range(tool_runs)
            ]
        )
    row["load_after"] = os.getloadavg()[0]
    return row


def batches(files: Sequence[str], limit: int = 512 * 1024) -> list[list[str]]:
    """``files`` in command lines of at most ``limit`` bytes (as xargs splits them)."""
    out: list[list[str]] = [[]]
    size = 0
    for name in files:
        if out[-1] and size + len(name) + 1 > limit:
            out.append([])
            size = 0
        out[-1].append(name)
        size += len(name) + 1
    return out


def kubernetes_version(root: Path) -> str:
    """The repository's Kubernetes minor version (talenv.yaml), as kubernetes-validate takes it."""
    env = root / "talos" / "talenv.yaml"
    for line in env.read_text().splitlines() if env.exists() else ():
        if line.strip().startswith("kubernetesVersion:"):
            value = line.split(":", 1)[1].strip().strip("'\"").lstrip("v")
            major, minor = value.split(".")[:2]
            return f"{major}.{minor}.0"
    return "1.33.0"


# ------------------------------------------------------------------ reporting


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cpu}, {cpus} CPUs{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def table(rows: list[dict[str, float | int | str]], tools: bool) -> str:
    head = ["repository", "YAML files", "cold", "warm", "one file changed", "peak RSS"]
    if tools:
        head += ["yamllint", "kubernetes-validate", "(yamllint + k-v) / cold"]
    head += ["load avg"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [
            str(row["label"]),
            f"{row['files']:,}",
            f"{row['cold']:.2f} s",
            f"{row['warm']:.2f} s",
            f"{row['changed']:.2f} s",
            f"{row['peak_mib']:.0f} MiB",
        ]
        if tools:
            both = float(row["yamllint"]) + float(row["kubernetes-validate"])
            cells += [
                f"{row['yamllint']:.2f} s",
                f"{row['kubernetes-validate']:.2f} s",
                f"{both / float(row['cold']):.1f}x",
            ]
        cells.append(f"{row['load']:.2f} / {row['load_after']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def growth(rows: list[dict[str, float | int | str]]) -> list[str]:
    """How cold time grows from one size to the next, against the number of files."""
    out = []
    sized = [r for r in rows if str(r["label"]).endswith(" apps")]
    for small, large in itertools.pairwise(sized):
        time_ratio = float(large["cold"]) / float(small["cold"])
        file_ratio = int(large["files"]) / int(small["files"])
        out.append(
            f"{small['label']} -> {large['label']}: {file_ratio:.2f}x the files, "
            f"{time_ratio:.2f}x the cold time"
        )
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000", help="app counts, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="runs of homelab-kit per figure")
    parser.add_argument("--tool-runs", type=int, default=3, help="runs of yamllint and k-v")
    parser.add_argument(
        "--tool-runs-up-to",
        type=int,
        default=1000,
        help="apps up to which the tools run --tool-runs times (once above: minutes a run)",
    )
    parser.add_argument("--no-tools", action="store_true", help="skip yamllint and k-v")
    parser.add_argument("--jobs", type=int, default=None, help="pass --jobs N to homelab-kit")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/homelab-kit-bench"))
    parser.add_argument("--fresh", action="store_true", help="regenerate the repositories")
    parser.add_argument(
        "--max-load", type=float, default=1.5, help="wait for a 1-minute load average below this"
    )
    parser.add_argument("--patience", type=float, default=600, help="seconds to wait for it")
    parser.add_argument(
        "--reference", action="store_true", help="also time the reference cluster (this project)"
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    tools = None if args.no_tools else ensure_tools()
    print(f"machine: {machine()}")
    if tools is not None:
        print("tools: " + ", ".join(f"{k} {v}" for k, v in tool_versions(tools).items()))
    rows = []
    if args.reference:
        reference = args.workdir / "reference"
        if reference.exists():
            shutil.rmtree(reference)
        for folder in FOLDERS:
            shutil.copytree(PROJECT / folder, reference / folder)
        shutil.copy2(PROJECT / ".homelab-kit.yaml", reference / ".homelab-kit.yaml")
        rows.append(measure_repo(reference, "reference cluster", args, tools))
        print(table(rows, tools is not None), flush=True)
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        rows.append(measure_size(size, args, tools))
        print(table(rows[-1:], tools is not None), flush=True)
    print()
    print(table(rows, tools is not None))
    for line in growth(rows):
        print(line)


if __name__ == "__main__":
    main()
