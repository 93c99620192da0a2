"""``lint --fix`` and ``--diff``: fixes applied through round-trip editing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from homelab_kit.testing import write_tree

KS = (
    "---\n"
    "# the echo app\n"
    "apiVersion: kustomize.toolkit.fluxcd.io/v1\n"
    "kind: Kustomization\n"
    "metadata:\n"
    "  name: echo\n"
    "spec:\n"
    "  interval: 1h  # hourly\n"
    "  path: ./kubernetes/apps/default/echo/app\n"
    "  prune: false # keep this comment\n"
)
REL = "kubernetes/apps/default/echo/ks.yaml"


def _lint(root: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "homelab_kit",
            "lint",
            "--no-cache",
            "--select",
            "flux-ks-prune,flux-ks-wait",
            *flags,
            str(root),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_diff_shows_the_fix_and_writes_nothing(tmp_path: Path) -> None:
    write_tree(tmp_path, {REL: KS})
    result = _lint(tmp_path, "--diff")
    assert result.returncode == 1
    assert (
        "-  prune: false # keep this comment\n+  prune: true # keep this comment\n" in result.stdout
    )
    assert "+  wait: true\n" in result.stdout
    assert (tmp_path / REL).read_text() == KS


def test_fix_writes_keeps_comments_and_leaves_other_lines_byte_identical(tmp_path: Path) -> None:
    write_tree(tmp_path, {REL: KS})
    result = _lint(tmp_path, "--fix")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Fixed 2 finding(s) in 1 file(s)." in result.stderr
    after = (tmp_path / REL).read_text()
    assert after == KS.replace("prune: false", "prune: true") + "  wait: true\n"
    assert _lint(tmp_path).returncode == 0


def test_fix_keeps_crlf_and_bom(tmp_path: Path) -> None:
    raw = b"\xef\xbb\xbf" + KS.replace("\n", "\r\n").encode()
    write_tree(tmp_path, {REL: raw})
    assert _lint(tmp_path, "--fix").returncode == 0
    after = (tmp_path / REL).read_bytes()
    assert after.startswith(b"\xef\xbb\xbf")
    assert b"prune: true # keep this comment\r\n" in after
    assert b"\n" not in after.replace(b"\r\n", b"")
