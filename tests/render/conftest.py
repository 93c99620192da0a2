"""Helpers for the render tests: build with kubectl, compare with the pure renderer."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from homelab_kit.render import canonical_json, render_directory
from homelab_kit.render._docs import parse_documents

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _shared() -> Path:
    """``../shared`` beside the checkout (beside the main checkout, from a git worktree)."""
    beside = PROJECT_ROOT.parent / "shared"
    marker = PROJECT_ROOT / ".git"
    if beside.is_dir() or not marker.is_file():
        return beside
    gitdir = marker.read_text(encoding="utf-8").partition("gitdir:")[2].strip()
    # <main>/.git/worktrees/<name> -> <main>/../shared
    main = Path(gitdir).parents[2] if gitdir else PROJECT_ROOT
    candidate = main.parent / "shared"
    return candidate if candidate.is_dir() else beside


SHARED = _shared()
CORPORA = SHARED / "corpora"
HAVE_KUBECTL = shutil.which("kubectl") is not None

needs_kubectl = pytest.mark.skipif(not HAVE_KUBECTL, reason="kubectl is not on PATH")


def kubectl_build(directory: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize`` with the load restrictor off (as Flux), parsed."""
    proc = subprocess.run(
        ["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"kubectl kustomize failed: {proc.stderr.strip()[:500]}")
    documents, problems = parse_documents(proc.stdout, "<kubectl>")
    assert not problems, problems
    return [d for d in documents if isinstance(d, dict) and d]


def canonical(objects: Any) -> list[str]:
    """Objects as canonical JSON strings, in order."""
    return [canonical_json(o) for o in objects]


def assert_same_as_kubectl(directory: Path, root: Path) -> list[dict[str, Any]]:
    """The pure renderer and kubectl give the same objects in the same order."""
    ours = list(render_directory(directory, root=root).objects)
    if HAVE_KUBECTL:
        theirs = kubectl_build(directory)
        assert sorted(canonical(ours)) == sorted(canonical(theirs))
        assert canonical(ours) == canonical(theirs)
    return ours
