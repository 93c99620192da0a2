"""docs/graph.md: its python block runs, and its examples match what the commands print."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

from .test_cli import run

PROJECT = Path(__file__).resolve().parents[2]
DOC = PROJECT / "docs" / "graph.md"


def test_python_block_runs() -> None:
    text = DOC.read_text(encoding="utf-8")
    (block,) = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    out = io.StringIO()
    old = os.getcwd()
    os.chdir(PROJECT)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(DOC), "exec"), {})
    finally:
        os.chdir(old)
    assert "2 2 6 67%" in out.getvalue()


def test_mermaid_example_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    (example,) = re.findall(r"```mermaid\n(.*?)```", text, re.DOTALL)
    result = run("graph", str(PROJECT), "--focus", "media/sonarr")
    assert result.returncode == 0, result.stderr
    assert result.stdout == example


def test_secrets_example_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = text[text.index("$ homelab-kit secrets -n media\n") :]
    example = block[len("$ homelab-kit secrets -n media\n") : block.index("```")]
    result = run("secrets", str(PROJECT), "-n", "media")
    assert result.returncode == 0, result.stderr
    assert result.stdout == example
