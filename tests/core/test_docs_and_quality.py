"""Meta-tests that keep the project honest: generated docs current, every check and
hook documented, every check tested, and the code type-checked and formatted."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from homelab_kit.docs import hook_functions, render_hooks, render_rules
from homelab_kit.lint import DOC_SECTIONS, registered_checks
from homelab_kit.plugins import PluginManager
from tests.conftest import PROJECT_ROOT

CHECKS = registered_checks(PluginManager(autoload=False))


def test_generated_docs_are_current() -> None:
    hooks = (PROJECT_ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    rules = (PROJECT_ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    stale = "docs are stale: run `python -m homelab_kit.docs`"
    assert hooks == render_hooks(), stale
    assert rules == render_rules(CHECKS), stale


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_every_check_is_documented_with_all_headings(check: object) -> None:
    doc = check.doc  # type: ignore[attr-defined]
    assert doc.splitlines()[0].strip().endswith("."), "summary line must be a sentence"
    positions = [doc.find(f"## {section}") for section in DOC_SECTIONS]
    assert all(p > 0 for p in positions), f"missing sections in {check.id}"  # type: ignore[attr-defined]
    assert positions == sorted(positions), "sections out of order"
    assert check.remediation  # type: ignore[attr-defined]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_every_check_has_tests_naming_it(check: object) -> None:
    check_id = check.id  # type: ignore[attr-defined]
    found = [
        p
        for p in (PROJECT_ROOT / "tests").rglob("test_*.py")
        if f'"{check_id}"' in p.read_text(encoding="utf-8")
    ]
    assert found, f"no test names {check_id!r}"


@pytest.mark.parametrize(
    ("name", "fn"), hook_functions(), ids=lambda x: x if isinstance(x, str) else ""
)
def test_every_hook_is_documented(name: str, fn: object) -> None:
    doc = inspect.getdoc(fn) or ""
    assert name.startswith("homelab_kit_")
    assert "Example" in doc
    assert ":returns:" in doc
    params = list(inspect.signature(fn).parameters)  # type: ignore[arg-type]
    for param in params:
        assert f":param {param}:" in doc


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return found


def test_ruff_lint_and_format() -> None:
    ruff = _tool("ruff")
    check = subprocess.run([ruff, "check", "."], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = subprocess.run(
        [ruff, "format", "--check", "."], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict() -> None:
    mypy = _tool("mypy")
    result = subprocess.run([mypy], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
