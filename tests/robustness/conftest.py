"""Helpers for the robustness tests: a copy of the reference cluster, bounded CLI runs.

Nothing here measures speed.  A hang becomes a failure through the ``timeout=`` of
every subprocess, and a memory blow-up through an address-space limit set in the
child (:func:`run_cli` with ``memory_limit``), never through a timed assertion.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import attrs
import pytest

from homelab_kit.diagnostic import Diagnostic
from homelab_kit.lint import LintResult
from homelab_kit.lint.engine import INTERNAL_ERROR_ID
from homelab_kit.plugins import get_plugin_manager
from homelab_kit.report.base import ReportOptions

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_PARTS = ("kubernetes", "talos", "bootstrap", ".homelab-kit.yaml")
CLI_TIMEOUT = 120  # seconds: generous, a hang fails the test instead of stalling CI
MEMORY_LIMIT = 1536 * 1024 * 1024  # bytes of address space for the memory-bound runs


def copy_reference_cluster(destination: Path) -> Path:
    """Copy the reference cluster (kubernetes/, talos/, bootstrap/, its configuration)."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in REFERENCE_PARTS:
        source = PROJECT_ROOT / part
        if source.is_dir():
            shutil.copytree(source, destination / part, symlinks=True)
        elif source.is_file():
            shutil.copy2(source, destination / part)
    return destination


@pytest.fixture
def reference_copy(tmp_path: Path) -> Path:
    """A private copy of the reference cluster, free to damage."""
    return copy_reference_cluster(tmp_path / "repo")


@attrs.frozen
class CliRun:
    """What a ``homelab-kit`` subprocess did."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """Standard output and standard error together."""
        return self.stdout + self.stderr


def _limit_memory(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def run_cli(
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    memory_limit: int | None = None,
    stdin: str | None = None,
) -> CliRun:
    """Run ``python -m homelab_kit ARGS`` with a timeout (and optionally bounded memory)."""
    argv = [sys.executable, "-m", "homelab_kit", *(os.fspath(a) for a in args)]
    environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
    environment.pop("HOMELAB_KIT_DEBUG", None)
    environment.pop("GITHUB_ACTIONS", None)
    completed = subprocess.run(
        argv,
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=CLI_TIMEOUT,
        preexec_fn=_limit_memory(memory_limit) if memory_limit else None,
    )
    return CliRun(tuple(argv[3:]), completed.returncode, completed.stdout, completed.stderr)


def run_main(*args: str | os.PathLike[str], cwd: Path | None = None) -> CliRun:
    """Run the CLI's ``main`` in this process (what the console script runs), capturing it."""
    from homelab_kit.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    argv = [os.fspath(a) for a in args]
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        contextlib.chdir(cwd or Path.cwd()),
    ):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return CliRun(tuple(argv), code, out.getvalue(), err.getvalue())


def cli_commands() -> list[str]:
    """The command names ``homelab-kit --help`` lists (subcommand groups by their name)."""
    import re

    run = run_cli("--help")
    assert run.returncode == 0, run.output
    section = run.stdout.split("Commands:", 1)[1]
    return sorted(m.group(1) for m in re.finditer(r"^  ([a-z][a-z0-9-]*)\s", section, re.M))


def assert_no_crash(run: CliRun) -> None:
    """No traceback, no internal error, and an exit code the documentation promises."""
    assert "Traceback" not in run.output, run.output[-3000:]
    assert "internal error" not in run.output, run.output[-3000:]
    assert INTERNAL_ERROR_ID not in run.output, run.output[-3000:]
    assert run.returncode in (0, 1, 2), (run.returncode, run.output[-3000:])


def internal_errors(result: LintResult) -> list[Diagnostic]:
    """The diagnostics that report a crashed check."""
    return [d for d in result.diagnostics if d.check_id == INTERNAL_ERROR_ID]


def format_names() -> list[str]:
    """Every output format registered (the built-in ones and any plugin's)."""
    pm = get_plugin_manager()
    return sorted(cls.name for _, cls in pm.registered("homelab_kit_register_formats"))


def render_all(result: LintResult) -> dict[str, str]:
    """``{format: report}`` for every registered format, with and without source lines."""
    pm = get_plugin_manager()
    out: dict[str, str] = {}
    for _, cls in pm.registered("homelab_kit_register_formats"):
        out[cls.name] = cls().render(result, ReportOptions())
        if cls.name == "text":
            out["text-color"] = cls().render(result, ReportOptions(color=True, width=40))
    return out


def stable(result: LintResult) -> tuple[object, ...]:
    """What a user sees of a result, minus the run time."""
    return (
        tuple(
            (str(d.location), d.check_id, str(d.severity), d.message, d.remediation)
            for d in result.diagnostics
        ),
        result.files,
        result.apps,
        result.namespaces,
        result.suppressed,
    )


def without_timing(report: str) -> str:
    """A report with its run time and timestamps blanked, for comparing two runs."""
    import re

    report = re.sub(r"in \d+(\.\d+)?s", "in Xs", report)
    report = re.sub(r'"(duration|duration_seconds|time)": ?[0-9.e-]+', r'"\1": 0', report)
    report = re.sub(r'time="[0-9.]+"', 'time="0"', report)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?", "T", report)


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    """Write ``{relative path: content}`` under ``root`` exactly (no dedenting)."""
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")


def only_in(paths: Iterable[str], diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics located in one of ``paths``."""
    wanted = set(paths)
    return [d for d in diagnostics if d.location.path in wanted]
