"""A file whose name is not UTF-8 (any bytes but ``/`` and NUL are a POSIX name)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NAME = b"kubernetes/bad\xfe.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "kubernetes").mkdir()
    try:
        (tmp_path / os.fsdecode(NAME)).write_bytes(b"a: [b\n")
    except (OSError, UnicodeError) as exc:  # pragma: no cover - a file system without it
        pytest.skip(f"this file system refuses the name: {exc}")
    return tmp_path


def _lint(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "HOMELAB_KIT_CACHE_DIR": str(repo / ".c")}
    return subprocess.run(
        [sys.executable, "-m", "homelab_kit", "lint", str(repo), *args],
        capture_output=True,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("fmt", ["text", "concise", "github"])
def test_text_formats_print_the_name_as_its_bytes(repo: Path, fmt: str) -> None:
    run = _lint(repo, "--no-cache", "--format", fmt)
    assert run.returncode == 1, run.stderr
    assert NAME + b":2:1" in run.stdout


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_formats_stay_utf_8_and_give_the_name_back(repo: Path, fmt: str) -> None:
    run = _lint(repo, "--format", fmt)  # with the cache: its keys hash the name too
    assert run.returncode == 1, run.stderr
    text = run.stdout.decode("utf-8")  # strict: valid UTF-8
    if fmt == "json":
        (found,) = json.loads(text)["diagnostics"]
        assert os.fsencode(found["path"]) == NAME
    else:
        (found,) = json.loads(text)["runs"][0]["results"]
        location = found["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location["uri"] == "kubernetes/bad%FE.yaml"


def test_a_report_file_holds_the_name_as_its_bytes(repo: Path) -> None:
    out = repo / "report.txt"
    run = _lint(repo, "--no-cache", "--format", "concise", "--output", str(out))
    assert run.returncode == 1, run.stderr
    assert NAME + b":2:1" in out.read_bytes()
