"""``lint --fix`` and ``--diff``: fixes applied through round-trip editing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from homelab_kit.testing import write_tree

# Written `prune: false` is reported only where the owner asks for it.
STRICT = {".homelab-kit.yaml": "checks:\n  flux-ks-prune: {allow-false: false}\n"}

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
    write_tree(tmp_path, {**STRICT, REL: KS})
    result = _lint(tmp_path, "--diff", "--unsafe-fixes")
    assert result.returncode == 1
    assert (
        "-  prune: false # keep this comment\n+  prune: true # keep this comment\n" in result.stdout
    )
    assert "+  wait: true\n" in result.stdout
    assert (tmp_path / REL).read_text() == KS


def test_fix_writes_keeps_comments_and_leaves_other_lines_byte_identical(tmp_path: Path) -> None:
    write_tree(tmp_path, {**STRICT, REL: KS})
    result = _lint(tmp_path, "--fix", "--unsafe-fixes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Fixed 2 finding(s) in 1 file(s)." in result.stderr
    after = (tmp_path / REL).read_text()
    assert after == KS.replace("prune: false", "prune: true") + "  wait: true\n"
    assert _lint(tmp_path).returncode == 0


def test_fix_keeps_crlf_and_bom(tmp_path: Path) -> None:
    raw = b"\xef\xbb\xbf" + KS.replace("\n", "\r\n").encode()
    write_tree(tmp_path, {**STRICT, REL: raw})
    assert _lint(tmp_path, "--fix", "--unsafe-fixes").returncode == 0
    after = (tmp_path / REL).read_bytes()
    assert after.startswith(b"\xef\xbb\xbf")
    assert b"prune: true # keep this comment\r\n" in after
    assert b"\n" not in after.replace(b"\r\n", b"")


# --------------------------------------------------------------------------- safe and unsafe

CRD = (
    "---\n"
    "apiVersion: apiextensions.k8s.io/v1\n"
    "kind: CustomResourceDefinition\n"
    "metadata:\n"
    "  name: widgets.example.com\n"
)


def test_fix_applies_only_safe_fixes_and_says_what_it_left(tmp_path: Path) -> None:
    # A written prune: false and a missing wait are the owner's choices: unsafe.
    write_tree(tmp_path, {**STRICT, REL: KS})
    result = _lint(tmp_path, "--fix", "--show-fixes")
    assert result.returncode == 1
    assert (tmp_path / REL).read_text() == KS
    assert "2 unsafe fix(es) not applied" in result.stderr
    assert "2 fixable with `--fix --unsafe-fixes`." in result.stderr


def test_missing_prune_is_a_safe_fix_and_show_fixes_lists_it(tmp_path: Path) -> None:
    write_tree(tmp_path, {**STRICT, REL: KS.replace("  prune: false # keep this comment\n", "")})
    result = _lint(tmp_path, "--fix", "--show-fixes")
    assert "Fixed 1 finding(s) in 1 file(s)." in result.stderr
    assert "    1 x flux-ks-prune" in result.stderr
    assert "  prune: true\n" in (tmp_path / REL).read_text()
    assert "wait" not in (tmp_path / REL).read_text()  # flux-ks-wait's fix is unsafe


def test_prune_false_over_crds_is_never_flipped(tmp_path: Path) -> None:
    write_tree(tmp_path, {**STRICT, REL: KS, "kubernetes/apps/default/echo/app/crds.yaml": CRD})
    result = _lint(tmp_path, "--fix", "--unsafe-fixes")
    text = (tmp_path / REL).read_text()
    assert "prune: false # keep this comment" in text
    assert "wait: true" in text  # the unsafe wait fix was asked for and applied
    assert result.returncode == 1  # the prune finding remains


def test_dependency_wait_fix_is_safe_only_where_wait_is_missing(tmp_path: Path) -> None:
    base = KS.replace("prune: false # keep this comment", "prune: true")
    dependent = base.replace("name: echo", "name: web").replace(
        "  interval: 1h", "  dependsOn:\n    - name: echo\n  interval: 1h"
    )
    write_tree(
        tmp_path,
        {REL: base, "kubernetes/apps/default/web/ks.yaml": dependent + "  wait: true\n"},
    )
    cmd = ("--select", "flux-ks-dependency-wait", "--fix", "--fail-on", "warning")
    assert _run(tmp_path, *cmd).returncode == 0
    assert (tmp_path / REL).read_text() == base + "  wait: true\n"
    write_tree(tmp_path, {**STRICT, REL: base + "  wait: false\n"})
    assert _run(tmp_path, *cmd).returncode == 1
    assert (tmp_path / REL).read_text() == base + "  wait: false\n"


def _run(root: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homelab_kit", "lint", "--no-cache", *flags, str(root)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
