"""The stat walk that keys a whole lint result (homelab_kit/lint/warm.py).

A run with the cache on walks the repository's files once: the look for a stored
result (before any plugin loads) hands its walk to the run that follows when it
finds none.  The walk itself (``tree_fingerprint``) hashes what ``os.walk`` meets.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from homelab_kit import cache, cli
from homelab_kit.config import load_config
from homelab_kit.lint import warm

PROJECT = Path(__file__).resolve().parents[2]


def _reference(root: Path, parts: tuple[str, ...], folders: tuple[str, ...]) -> tuple[str, list]:
    """The walk as ``os.walk`` and a hash update per file make it (the first version)."""
    h = hashlib.sha256()
    links: list[str] = []
    for part in parts:
        h.update(part.encode() + b"\0")

    def one(dirpath: str, name: str) -> None:
        path = os.path.join(dirpath, name)
        try:
            st = os.lstat(path)
        except OSError:
            return
        h.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        if stat.S_ISLNK(st.st_mode):
            links.append(f"{path} -> {os.readlink(path)}")
            try:
                target = os.stat(path)
            except OSError:
                h.update(b"-\0")
            else:
                h.update(f"{target.st_size}\0{target.st_mtime_ns}\0{target.st_ino}\0".encode())

    for folder in folders:
        top = root / folder
        if not top.exists():
            continue
        if top.is_file():
            one(str(top.parent), top.name)
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d != ".git")
            h.update(dirpath.encode())
            for name in dirnames:
                path = os.path.join(dirpath, name)
                if os.path.islink(path):
                    target = os.readlink(path)
                    h.update(f"{name}\0->{target}\0".encode())
                    links.append(f"{path} -> {target}")
            for name in sorted(filenames):
                one(dirpath, name)
    return h.hexdigest(), links


def _tree(root: Path) -> None:
    apps = root / "kubernetes" / "apps"
    (apps / "a" / "deep" / "deeper").mkdir(parents=True)
    (apps / "b" / ".git").mkdir(parents=True)
    (apps / "b" / ".git" / "HEAD").write_text("ref\n")  # left out
    (apps / "a" / "ks.yaml").write_text("kind: Kustomization\n")
    (apps / "a" / "deep" / "deeper" / "values.yaml").write_text("x: 1\n")
    (apps / "c.yaml").write_text("y: 2\n")
    (apps / ".git").write_text("gitdir: elsewhere\n")  # a worktree's .git file: counted
    (apps / "link.yaml").symlink_to("c.yaml")
    (apps / "broken.yaml").symlink_to("missing.yaml")
    (apps / "dirlink").symlink_to("a")
    (apps / "brokendir").symlink_to("nowhere")
    (root / "talos").mkdir()
    (root / "talos" / "talconfig.yaml").write_text("clusterName: x\n")
    (root / ".homelab-kit.yaml").write_text("fail-on: error\n")


FOLDERS = [
    ("kubernetes", "talos", "bootstrap", ".homelab-kit.yaml"),
    (".",),
    ("kubernetes/apps/c.yaml", "kubernetes/apps/link.yaml"),
]


@pytest.mark.parametrize("folders", FOLDERS)
def test_the_walk_hashes_what_os_walk_meets(tmp_path: Path, folders: tuple[str, ...]):
    _tree(tmp_path)
    links: list[str] = []
    digest = cache.tree_fingerprint(tmp_path, ("v1", "config"), folders, links)
    assert (digest, links) == _reference(tmp_path, ("v1", "config"), folders)
    assert any(link.endswith("link.yaml -> c.yaml") for link in links)


def test_the_walk_changes_with_any_file(tmp_path: Path):
    _tree(tmp_path)
    folders = FOLDERS[0]
    seen = {cache.tree_fingerprint(tmp_path, (), folders)}
    deep = tmp_path / "kubernetes/apps/a/deep/deeper/values.yaml"
    deep.write_text("x: 10\n")  # another size
    seen.add(cache.tree_fingerprint(tmp_path, (), folders))
    os.utime(tmp_path / "kubernetes/apps/c.yaml", ns=(1, 1))  # the target of link.yaml
    seen.add(cache.tree_fingerprint(tmp_path, (), folders))
    (tmp_path / "kubernetes/apps/b/new.yaml").write_text("")
    seen.add(cache.tree_fingerprint(tmp_path, (), folders))
    before = cache.tree_fingerprint(tmp_path, (), folders)
    (tmp_path / "kubernetes/apps/b/.git/HEAD").write_text("other\n")  # .git: not counted
    assert cache.tree_fingerprint(tmp_path, (), folders) == before
    assert len(seen) == 4


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for folder in ("kubernetes", "talos"):
        shutil.copytree(PROJECT / folder, repo / folder)
    shutil.copy2(PROJECT / ".homelab-kit.yaml", repo / ".homelab-kit.yaml")
    return repo


def test_a_run_after_a_change_walks_the_files_once(tmp_path: Path, monkeypatch):
    repo = _repo(tmp_path)
    monkeypatch.setenv("HOMELAB_KIT_CACHE_DIR", str(tmp_path / "cache"))
    walks: list[Path] = []
    real = cache.tree_fingerprint

    def counted(root, *args, **kwargs):  # type: ignore[no-untyped-def]
        walks.append(root)
        return real(root, *args, **kwargs)

    monkeypatch.setattr(cache, "tree_fingerprint", counted)
    looked: list[object] = []
    look = warm.cached_result

    def recorded(*args, **kwargs):  # type: ignore[no-untyped-def]
        looked.append(look(*args, **kwargs))
        return looked[-1]

    monkeypatch.setattr(warm, "cached_result", recorded)
    args = ["lint", str(repo), "--format", "concise", "--quiet"]
    runner = CliRunner()
    first = runner.invoke(cli.cli, args)
    assert first.exit_code == 0, first.output
    ks = repo / "kubernetes/apps/flux-system/flux-instance/ks.yaml"
    ks.write_text(ks.read_text().replace("prune: true", "prune: false"))
    walks.clear()
    looked.clear()
    changed = runner.invoke(cli.cli, args)
    assert changed.exit_code == 1, changed.output
    assert "flux-ks-prune" in changed.output
    # The look for a stored result found none, and its walk keyed the run too.
    assert [type(found) for found in looked] == [warm.Walk]
    assert walks == [repo]
    walks.clear()
    looked.clear()
    again = runner.invoke(cli.cli, args)  # and the result was stored under that key
    assert (again.exit_code, again.output) == (1, changed.output)
    assert [type(found).__name__ for found in looked] == ["LintResult"]
    assert walks == [repo]


def test_a_walk_made_with_another_configuration_is_not_reused(tmp_path: Path):
    repo = _repo(tmp_path)
    config = load_config(repo)
    walked = warm.walk(repo, config, warm.salt(config))
    assert warm.made_for(walked, repo, config)
    assert warm.made_for(walked, repo, load_config(repo))  # equal, not the same object
    assert not warm.made_for(walked, repo, attrs.evolve(config, max_file_size=1))
    assert not warm.made_for(walked, tmp_path, config)
    assert not warm.made_for(None, repo, config)
