"""The cache: reused when nothing changed, invalidated by any change, never trusted blindly."""

from __future__ import annotations

import os
from pathlib import Path

import homelab_kit
from homelab_kit.cache import Cache, default_cache_dir
from homelab_kit.testing import findings, write_tree

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


def _repo(tmp_path: Path, prune: str) -> Path:
    root = tmp_path / "repo"
    strict = "checks:\n  flux-ks-prune: {allow-false: false}\n"  # report a written false
    files = {"kubernetes/apps/default/echo/ks.yaml": KS.format(prune=prune)}
    write_tree(root, {**files, ".homelab-kit.yaml": strict})
    return root


def test_warm_run_reuses_and_a_change_invalidates(tmp_path: Path) -> None:
    root = _repo(tmp_path, "false")
    cold = homelab_kit.lint(root, cache=True)
    warm = homelab_kit.lint(root, cache=True)
    assert findings(warm) == findings(cold)
    assert [f[2] for f in findings(cold)].count("flux-ks-prune") == 1
    ks = root / "kubernetes/apps/default/echo/ks.yaml"
    ks.write_text(KS.format(prune="true"))
    os.utime(ks, ns=(ks.stat().st_atime_ns, ks.stat().st_mtime_ns + 10_000_000))
    assert "flux-ks-prune" not in [f[2] for f in findings(homelab_kit.lint(root, cache=True))]


def test_corrupted_or_planted_cache_files_are_ignored(tmp_path: Path) -> None:
    root = _repo(tmp_path, "false")
    homelab_kit.lint(root, cache=True)
    cache_dir = default_cache_dir()
    planted = list(cache_dir.glob("*.result")) + list(cache_dir.glob("*.parse"))
    assert planted
    marker = tmp_path / "pwned"
    import pickle

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    for path in planted:
        path.write_bytes(b"\0" * 32 + pickle.dumps((1, "x", Evil())))
    again = homelab_kit.lint(root, cache=True)
    assert not marker.exists()
    assert [f[2] for f in findings(again)].count("flux-ks-prune") == 1


def test_parse_cache_reuses_unchanged_files(tmp_path: Path) -> None:
    root = _repo(tmp_path, "true")
    rel = "kubernetes/apps/default/echo/ks.yaml"
    store = Cache(tmp_path / "c", root, salt="t")
    first = homelab_kit.load(root, cache=store)
    second = homelab_kit.load(root, cache=Cache(tmp_path / "c", root, salt="t"))
    assert second.files[rel] == first.files[rel]
    other_salt = Cache(tmp_path / "c", root, salt="other")
    assert other_salt.get(rel, os.stat(root / rel)) is None
