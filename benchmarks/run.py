"""Time ``homelab-kit lint`` against yamllint and kubernetes-validate on generated repositories.

    .venv/bin/python benchmarks/run.py [--sizes 100,1000,5000] [--runs 5] [--tool-runs 3]
    .venv/bin/python benchmarks/run.py --quick     # 1,000 apps, 3 runs, no tools

For each size (number of apps, 20 per namespace) it generates a repository with
benchmarks/generate.py (the same seed, so the same files every time) and measures,
as the median wall time of several runs:

- ``homelab-kit lint`` cold (``--no-cache``), warm (nothing changed since the last
  run) and after one file changed (a values file gains a new top-level value each run,
  so the HelmRelease's values, and what Flux would apply, change);
- yamllint (its default configuration: the YAML checks) and kubernetes-validate
  (``--strict``: the schema checks) on the same files, installed into this
  folder's own environment (benchmarks/.venv, created on first use with pip);

and the peak resident memory of the largest homelab-kit process; the reference
cluster (this project's kubernetes/ and talos/) the same way; and the start-up
commands ``homelab-kit --version``, ``rules`` and ``--help``.  It prints a Markdown
table per repository, the ratios, how the time grows with size, the machine it ran
on, and the rows of issue 22's table (medians, with the load average and the CPU
seconds, which a busy machine disturbs less than the wall time).
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


CPU: dict[str, float] = {}  # the CPU seconds (user + system) of the last run, under "last"


def run(
    command: Sequence[str], cwd: Path, env: dict[str, str], findings_exit: bool = True
) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB, the largest process of the tree) of one run.

    The run's CPU seconds (its own and its children's) are left in ``CPU["last"]``.

    homelab-kit exits 0 or 1 (findings); the other tools exit non-zero on findings
    too (``findings_exit=False`` accepts any exit but a crash).
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    CPU["last"] = usage.ru_utime + usage.ru_stime
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

    cold, cold_cpu = [], []
    for _ in range(args.runs):
        seconds, rss = run([*hk, "--no-cache"], root, env)
        cold.append(seconds)
        cold_cpu.append(CPU["last"])
        peak = max(peak, rss)
    row["cold"] = median(cold)
    row["cold_cpu"] = median(cold_cpu)

    run(hk, root, env)  # fills the cache
    warm, warm_cpu = [], []
    for _ in range(args.runs):
        seconds, rss = run(hk, root, env)
        warm.append(seconds)
        warm_cpu.append(CPU["last"])
        peak = max(peak, rss)
    row["warm"] = median(warm)
    row["warm_cpu"] = median(warm_cpu)

    target = root / next(f for f in files if f.endswith("values.yaml"))
    original = target.read_bytes()
    changed, changed_cpu = [], []
    try:
        for i in range(args.runs):
            target.write_bytes(original + f"benchmarkEdit: {i}\n".encode())
            seconds, rss = run(hk, root, env)
            changed.append(seconds)
            changed_cpu.append(CPU["last"])
            peak = max(peak, rss)
    finally:
        target.write_bytes(original)
    row["changed"] = median(changed)
    row["changed_cpu"] = median(changed_cpu)
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


STARTUP_COMMANDS = (("--version",), ("rules",), ("--help",))


def measure_startup(args: argparse.Namespace) -> list[dict[str, float | str]]:
    """``homelab-kit --version``, ``rules`` and ``--help``: median wall and CPU seconds.

    ``rules`` runs once first, as any later run finds what it remembers of the
    plugins (homelab_kit/plugin_cache.py) in the cache folder.
    """
    cache_home = args.workdir / "cache" / "startup"
    shutil.rmtree(cache_home, ignore_errors=True)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "NO_COLOR": "1"}
    load = wait_for_quiet(args.max_load, args.patience)
    rows: list[dict[str, float | str]] = []
    for command in STARTUP_COMMANDS:
        full = [*homelab_kit_command(), *command]
        run(full, args.workdir, env)
        wall, cpu = [], []
        for _ in range(max(args.runs, 9)):
            wall.append(run(full, args.workdir, env)[0])
            cpu.append(CPU["last"])
        rows.append(
            {
                "label": f"homelab-kit {' '.join(command)}",
                "wall": median(wall),
                "cpu": median(cpu),
                "load": load,
                "load_after": os.getloadavg()[0],
            }
        )
    return rows


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


def issue_table(
    rows: list[dict[str, float | int | str]], startup: list[dict[str, float | str]]
) -> list[str]:
    """The rows of issue 22's table that this run measured: figure, CPU, load average."""
    by_label = {str(r["label"]): r for r in rows}
    out = ["| issue 22 row | median | CPU (median) | load avg |", "|---|---|---|---|"]

    def load(row: dict[str, float | int | str] | dict[str, float | str]) -> str:
        return f"{float(row['load']):.2f} / {float(row['load_after']):.2f}"

    size = by_label.get("1000 apps")
    if size is not None:
        for key, name in (
            ("cold", "1,000 apps: full lint cold"),
            ("warm", "1,000 apps: warm (nothing changed)"),
            ("changed", "1,000 apps: one values file changed"),
        ):
            cpu = f"{float(size[key + '_cpu']):.2f} s"
            out.append(f"| {name} | {float(size[key]):.2f} s | {cpu} | {load(size)} |")
        if "yamllint" in size:
            both = float(size["yamllint"]) + float(size["kubernetes-validate"])
            ratio = f"{both / float(size['cold']):.1f}x"
            out.append(
                f"| 1,000 apps: against yamllint + kubernetes-validate | {ratio} | | {load(size)} |"
            )
        out.append(
            f"| 1,000 apps: peak memory | {float(size['peak_mib']):.0f} MiB | | {load(size)} |"
        )
        large = by_label.get("5000 apps")
        if large is not None:
            ratio = float(large["cold"]) / float(size["cold"])
            cpu_ratio = float(large["cold_cpu"]) / float(size["cold_cpu"])
            out.append(
                f"| 5,000 apps: cold time / 1,000 apps' | {ratio:.2f}x | "
                f"{cpu_ratio:.2f}x | {load(large)} |"
            )
    for row in startup:
        out.append(
            f"| `{row['label']}` | {float(row['wall']):.3f} s | "
            f"{float(row['cpu']):.3f} s | {load(row)} |"
        )
    reference = by_label.get("reference cluster")
    if reference is not None:
        out.append(
            f"| reference cluster, cold / warm | {float(reference['cold']):.2f} s / "
            f"{float(reference['warm']):.2f} s | {float(reference['cold_cpu']):.2f} s / "
            f"{float(reference['warm_cpu']):.2f} s | {load(reference)} |"
        )
    return out


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
        "--reference",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time the reference cluster (this project) too (default; --no-reference skips it)",
    )
    parser.add_argument(
        "--startup",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time homelab-kit --version, rules and --help (default)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1,000 apps only, 3 runs, no yamllint or kubernetes-validate",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.runs, args.no_tools = "1000", 3, True
    args.workdir.mkdir(parents=True, exist_ok=True)
    tools = None if args.no_tools else ensure_tools()
    print(f"machine: {machine()}")
    if tools is not None:
        print("tools: " + ", ".join(f"{k} {v}" for k, v in tool_versions(tools).items()))
    rows = []
    startup = measure_startup(args) if args.startup else []
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
    print()
    for line in issue_table(rows, startup):
        print(line)


if __name__ == "__main__":
    main()
