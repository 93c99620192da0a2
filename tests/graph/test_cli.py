"""The graph, secrets and report commands as a user runs them: output, files, exit codes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``homelab-kit ARGS`` in a fresh interpreter, colour off, outside GitHub Actions."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        [sys.executable, "-m", "homelab_kit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
        check=False,
    )


def test_graph_defaults_to_mermaid_of_the_current_folder(reference_root: Path) -> None:
    result = run("graph", cwd=reference_root / "kubernetes" / "apps")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("flowchart LR\n")
    assert result.stderr == ""


def test_graph_formats_and_output_file(cyclic_repo: Path, tmp_path: Path) -> None:
    for fmt, start in (
        ("dot", "digraph flux {"),
        ("json", "{"),
        ("svg", "<svg "),
        ("html", "<!DOCTYPE html>"),
    ):
        target = tmp_path / "nested" / f"graph.{fmt}"
        result = run("graph", str(cyclic_repo), "--format", fmt, "--output", str(target))
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        assert result.stderr.strip() == f"wrote {target}"
        assert target.read_text(encoding="utf-8").startswith(start)
        assert stat.S_IMODE(target.stat().st_mode) & 0o044  # readable, not mkstemp's 0600
    # no temporary file is left behind
    assert sorted(p.name for p in (tmp_path / "nested").iterdir()) == [
        "graph.dot",
        "graph.html",
        "graph.json",
        "graph.svg",
    ]
    # an existing file is replaced and keeps its mode
    target = tmp_path / "nested" / "graph.json"
    target.chmod(0o640)
    assert run("graph", str(cyclic_repo), "-f", "json", "-o", str(target)).returncode == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["cycles"] == [["ks:apps/a", "ks:apps/b", "ks:apps/c", "ks:apps/a"]]


def test_graph_helm_and_focus(cyclic_repo: Path) -> None:
    result = run("graph", str(cyclic_repo), "--helm", "--focus", "apps/e", "-f", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["focus"] == "apps/e"
    ids = {n["id"] for n in data["nodes"]}
    assert "hr:apps/e" in ids
    assert "ks:apps/a" not in ids


def test_unknown_focus_is_one_line_and_exit_2(reference_root: Path) -> None:
    result = run("graph", str(reference_root), "--focus", "sonar")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("homelab-kit: error: --focus: no app or Kustomization named 'sonar'")
    assert "sonarr" in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_input_exit_2(tmp_path: Path, cyclic_repo: Path) -> None:
    outside = run("graph", str(tmp_path / "nowhere"))
    assert outside.returncode == 2
    assert "no such file or directory" in outside.stderr
    bad_format = run("graph", str(cyclic_repo), "-f", "png")
    assert bad_format.returncode == 2
    unwritable = run("graph", str(cyclic_repo), "-o", "/proc/nope/graph.md")
    assert unwritable.returncode == 2
    assert unwritable.stderr.startswith("homelab-kit: error: cannot write /proc/nope/graph.md")
    missing_ns = run("secrets", str(cyclic_repo), "--namespace", "nope")
    assert missing_ns.returncode == 2
    assert "--namespace: no Secrets in nope" in missing_ns.stderr


def test_secrets_command(secrets_repo: Path) -> None:
    text = run("secrets", str(secrets_repo))
    assert text.returncode == 0, text.stderr
    assert "media  (3 apps, 4 secrets;" in text.stdout
    assert "[over-broad-scope]" in text.stdout
    data = json.loads(run("secrets", str(secrets_repo), "-f", "json", "-n", "media").stdout)
    assert [ns["namespace"] for ns in data["namespaces"]] == ["media"]
    assert data["totals"]["exposure"] == 4


def test_secrets_uses_the_configured_external_names(secrets_repo: Path) -> None:
    (secrets_repo / ".homelab-kit.yaml").write_text(
        "checks:\n  secrets-consumed-secret-exists:\n    external: [missing-*]\n",
        encoding="utf-8",
    )
    data = json.loads(run("secrets", str(secrets_repo), "-f", "json").stdout)
    assert "missing-producer" not in {f["kind"] for f in data["findings"]}
