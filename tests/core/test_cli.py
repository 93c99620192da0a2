"""The command line as a user meets it: exit codes, help, one-line errors, formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from homelab_kit.cli import cli
from homelab_kit.testing import write_tree

# Written `prune: false` is reported only where the owner asks for it.
STRICT = {".homelab-kit.yaml": "checks:\n  flux-ks-prune: {allow-false: false}\n"}

KS = """\
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: echo
spec:
  interval: 1h
  path: ./kubernetes/apps/default/echo/app
  prune: {prune}
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        [sys.executable, "-m", "homelab_kit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def test_version_and_help() -> None:
    from homelab_kit import __version__

    assert run("--version").stdout.strip() == f"homelab-kit, version {__version__}"
    top = run("--help")
    assert top.returncode == 0
    for command in cli.list_commands(None):  # type: ignore[arg-type]
        result = run(command, "--help")
        assert result.returncode == 0, (command, result.stderr)
        assert "Usage: homelab-kit" in result.stdout


def test_exit_codes_clean_findings_usage(tmp_path: Path) -> None:
    write_tree(
        tmp_path, {**STRICT, "kubernetes/apps/default/echo/ks.yaml": KS.format(prune="true")}
    )
    clean = run("lint", "--select", "flux-ks-prune", str(tmp_path))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (tmp_path / "kubernetes/apps/default/echo/ks.yaml").write_text(KS.format(prune="false"))
    dirty = run("lint", "--select", "flux-ks-prune", str(tmp_path))
    assert dirty.returncode == 1
    assert "kubernetes/apps/default/echo/ks.yaml:9:10: error[flux-ks-prune]" in dirty.stdout
    # Findings below --fail-on do not fail the run.
    (tmp_path / ".homelab-kit.yaml").write_text(
        STRICT[".homelab-kit.yaml"] + "severity: {flux-ks-prune: warning}\n"
    )
    assert run("lint", "--select", "flux-ks-prune", str(tmp_path)).returncode == 0
    assert (
        run("lint", "--fail-on", "warning", "--select", "flux-ks-prune", str(tmp_path)).returncode
        == 1
    )
    assert run("lint", "--format", "nope", str(tmp_path)).returncode == 2


def test_broken_config_is_one_line_without_traceback(tmp_path: Path) -> None:
    write_tree(
        tmp_path, {**STRICT, "kubernetes/x.yaml": "---\na: 1\n", ".homelab-kit.yaml": "bogus: 1\n"}
    )
    result = run("lint", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "homelab-kit: error: .homelab-kit.yaml:1:1: unknown configuration key 'bogus'"
    ]
    assert "Traceback" not in result.stderr


def test_not_a_repository(tmp_path: Path) -> None:
    result = run("lint", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "no such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("fmt", ["text", "concise", "json", "sarif", "github", "junit"])
def test_every_format_renders_and_output_file(tmp_path: Path, fmt: str) -> None:
    write_tree(
        tmp_path, {**STRICT, "kubernetes/apps/default/echo/ks.yaml": KS.format(prune="false")}
    )
    out = tmp_path / f"report.{fmt}"
    result = run("lint", "--format", fmt, "--output", str(out), str(tmp_path))
    assert result.returncode == 1
    text = out.read_text(encoding="utf-8")
    assert "flux-ks-prune" in text
    if fmt in ("json", "sarif"):
        json.loads(text)


def test_github_format_is_default_inside_actions(tmp_path: Path) -> None:
    write_tree(
        tmp_path, {**STRICT, "kubernetes/apps/default/echo/ks.yaml": KS.format(prune="false")}
    )
    env = {**os.environ, "GITHUB_ACTIONS": "true"}
    result = subprocess.run(
        [sys.executable, "-m", "homelab_kit", "lint", "--select", "flux-ks-prune", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.stdout.startswith("::error file=kubernetes/apps/default/echo/ks.yaml,line=9")


def test_rules_explain_and_plugins() -> None:
    rules = run("rules")
    assert rules.returncode == 0
    assert "flux-ks-prune" in rules.stdout
    listed = json.loads(run("rules", "--format", "json").stdout)
    assert {"id", "severity", "plugin", "fixable", "summary"} <= set(listed[0])
    explained = run("explain", "flux-ks-prune")
    assert "## Why is this bad?" in explained.stdout
    unknown = run("explain", "flux-ks-prun")
    assert unknown.returncode == 2
    assert "did you mean flux-ks-prune?" in unknown.stderr
    plugins = run("plugins")
    assert "homelab_kit_flux  (built-in)" in plugins.stdout
    assert "    homelab_kit_register_checks" in plugins.stdout


def test_trace_and_disable_autoload_environment_variables() -> None:
    env = {
        **os.environ,
        "HOMELAB_KIT_TRACE_PLUGINS": "1",
        "HOMELAB_KIT_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "homelab_kit", "plugins"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert "third-party plugins not loaded" in result.stdout
    traced = subprocess.run(
        [sys.executable, "-m", "homelab_kit", "lint", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert traced.returncode == 0


def test_python_m_from_inside_a_repository_loads_nothing_planted_there(tmp_path: Path) -> None:
    """A distribution planted in the linted checkout must not be loaded as a plugin."""
    marker = tmp_path / "PLANTED-PLUGIN-RAN"
    write_tree(
        tmp_path,
        {
            "kubernetes/x.yaml": "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
            "evil_plugin.py": f"open({str(marker)!r}, 'w').write('ran')\n",
            "evil-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: evil\nVersion: 0.1\n",
            "evil-0.1.dist-info/entry_points.txt": "[homelab_kit]\nevil = evil_plugin\n",
        },
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-m", "homelab_kit", "plugins"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "evil" not in result.stdout
    assert not marker.exists()
