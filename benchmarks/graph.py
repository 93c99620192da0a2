"""Time and memory of ``homelab-kit graph --format svg`` on densely dependent graphs.

    .venv/bin/python benchmarks/graph.py [--sizes 400,1600] [--shapes complete,bipartite]
        [--cli 400] [--source DIR] [--timeout 600] [--memory-mb 8192]

Each case runs in a fresh process and reports wall seconds and peak resident memory
of laying the graph out (:func:`homelab_kit.graph.graph_layout`) and drawing it
(:func:`homelab_kit.graph.to_svg`), with the SVG size and ``Layout.work`` (the
layout's own operation count) where the code has it:

- ``complete``: every Kustomization depends on every earlier one (``n (n-1) / 2``
  edges): the shape of the report in issue 15 (400 of them took 48 s and 3.1 GB);
- ``bipartite``: ``n/3`` Kustomizations each depended on by ``n/3`` others spread
  along a chain of ``n/3``: no edge is implied by others, and they cross ``n/6``
  layers on average (the worst case for the dummy-node budget).

``--cli N`` also writes a repository of N ``complete`` Kustomizations and times the
``homelab-kit graph -f svg`` command on it, end to end.  ``--source DIR`` measures
another checkout of homelab-kit (its ``homelab_kit`` package is imported from DIR),
for a before/after comparison; a case past ``--timeout`` or ``--memory-mb`` is
reported as such.  Timings are wall-clock: run on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

# Every case reports its own peak resident memory (KiB on Linux) on standard error.
PEAK = (
    "import atexit, resource, sys; atexit.register(lambda: sys.stderr.write("
    "f'\\nPEAK {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n'))\n"
)
CLI = PEAK + (
    "import runpy; sys.argv = ['homelab-kit', *sys.argv[1:]]; "
    "runpy.run_module('homelab_kit', run_name='__main__')"
)
CASE = (
    PEAK
    + r"""
import sys, time
from homelab_kit.graph import graph_layout, to_svg
from homelab_kit.graph.model import GraphEdge, GraphNode, _finish

shape, n = sys.argv[1], int(sys.argv[2])


def node(label):
    ns, name = label.split("/")
    return GraphNode(f"ks:{label}", "Kustomization", name, ns)


if shape == "complete":
    names = [f"{'apps' if i % 2 else 'infra'}/n{i}" for i in range(n)]
    edges = [(names[j], names[i]) for i in range(n) for j in range(i)]
else:
    k = max(2, n // 3)
    chain = [f"chain/c{i}" for i in range(k)]
    sources = [f"src/a{i}" for i in range(k)]
    targets = [f"dst/b{i}" for i in range(k)]
    names = chain + sources + targets
    edges = list(zip(chain, chain[1:]))
    edges += [(chain[i], targets[i]) for i in range(k)]
    edges += [(a, b) for a in sources for b in targets]
nodes = {f"ks:{x}": node(x) for x in names}
graph = _finish(nodes, [GraphEdge(f"ks:{a}", f"ks:{b}") for a, b in edges])
started = time.perf_counter()
layout = graph_layout(graph)
laid = time.perf_counter()
svg = to_svg(graph, layout)
drawn = time.perf_counter()
print(len(graph.nodes), len(graph.edges), f"{laid - started:.2f}", f"{drawn - laid:.2f}",
      len(svg), getattr(layout, "work", "-"))
"""
)


def _limit(memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run(
    argv: list[str], env: dict[str, str], cwd: Path, timeout: float, memory_mb: int
) -> dict[str, str]:
    """One case in a fresh process: its output line, wall seconds and peak RSS (MiB).

    ``cwd`` is the checkout measured: ``python -c`` imports from the current folder first.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: _limit(memory_mb),
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return {"status": f"killed after {timeout:.0f} s"}
    wall = time.perf_counter() - started
    peaks = [line.split()[1] for line in err.splitlines() if line.startswith("PEAK ")]
    peak = str(int(peaks[-1]) // 1024) if peaks else "?"
    if process.returncode != 0:
        last = (err.strip().splitlines() or ["?"])[-1]
        return {"status": f"failed ({last[:80]})", "wall": f"{wall:.1f}"}
    return {"status": "ok", "wall": f"{wall:.1f}", "peak": peak, "out": out.strip()}


def write_repository(root: Path, n: int) -> None:
    """N Flux Kustomizations in one namespace, each depending on every earlier one."""
    for i in range(n):
        folder = root / "kubernetes" / "apps" / "dense" / f"n{i}"
        folder.mkdir(parents=True, exist_ok=True)
        deps = "".join(f"    - name: n{j}\n" for j in range(i))
        (folder / "ks.yaml").write_text(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
            f"metadata:\n  name: n{i}\n  namespace: dense\nspec:\n  interval: 1h\n"
            f"  path: ./kubernetes/apps/dense/n{i}/app\n  prune: true\n"
            "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
            + (f"  dependsOn:\n{deps}" if deps else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="400,1600", help="node counts (comma-separated)")
    parser.add_argument("--shapes", default="complete,bipartite", help="complete, bipartite")
    parser.add_argument("--cli", type=int, default=0, help="also time the CLI on N nodes")
    parser.add_argument("--source", type=Path, default=PROJECT, help="the checkout to measure")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per case")
    parser.add_argument("--memory-mb", type=int, default=8192, help="address space per case")
    args = parser.parse_args()
    source = args.source.resolve()
    env = {**os.environ, "PYTHONPATH": str(source)}
    print(
        f"source: {args.source.resolve()}; {platform.python_implementation()} "
        f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print("| shape | nodes | edges | layout s | svg s | wall s | peak MiB | SVG MB | work |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape in args.shapes.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            argv = [sys.executable, "-c", CASE, shape, str(size)]
            result = run(argv, env, source, args.timeout, args.memory_mb)
            if result["status"] != "ok":
                print(
                    f"| {shape} | {size} | | | | {result.get('wall', '')} | | | "
                    f"{result['status']} |"
                )
                continue
            nodes, edges, lay, draw, svg, work = result["out"].split()
            print(
                f"| {shape} | {nodes} | {edges} | {lay} | {draw} | {result['wall']} | "
                f"{result['peak']} | {int(svg) / 1e6:.1f} | {work} |"
            )
    if args.cli:
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp) / "repo"
            write_repository(repo, args.cli)
            argv = [
                sys.executable,
                "-c",
                CLI,
                "graph",
                str(repo),
                "-f",
                "svg",
                "-o",
                str(Path(tmp) / "graph.svg"),
            ]
            result = run(argv, env, source, args.timeout, args.memory_mb)
            size = (Path(tmp) / "graph.svg").stat().st_size if result["status"] == "ok" else 0
            print(
                f"\n`homelab-kit graph -f svg` on {args.cli} complete Kustomizations: "
                f"{result['status']}, {result.get('wall', '?')} s, peak "
                f"{result.get('peak', '?')} MiB, SVG {size / 1e6:.1f} MB"
            )


if __name__ == "__main__":
    main()
