"""The state folder, the repository lock and rolling back an interrupted plan."""

from __future__ import annotations

from pathlib import Path

from homelab_kit.scaffold import plan_new_app
from homelab_kit.scaffold.state import (
    JOURNAL,
    Journal,
    RepositoryLock,
    digest,
    recover,
    state_dir,
)
from tests.scaffold.conftest import snapshot


def test_the_state_folder_is_outside_the_working_tree(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert state_dir(plain) == tmp_path / ".plain.homelab-kit"
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sub").mkdir()
    assert state_dir(repo) == repo / ".git" / "homelab-kit"
    assert state_dir(repo / "sub") == repo / ".git" / "homelab-kit"
    # a linked worktree: .git is a file naming its own Git directory
    linked = tmp_path / "linked"
    linked.mkdir()
    gitdir = repo / ".git" / "worktrees" / "linked"
    gitdir.mkdir(parents=True)
    (linked / ".git").write_text(f"gitdir: {gitdir}\n")
    assert state_dir(linked) == gitdir / "homelab-kit"


def test_the_lock_is_reentrant_in_one_process(repo: Path) -> None:
    with RepositoryLock(repo, timeout=0), RepositoryLock(repo, timeout=0):
        plan_new_app(repo, "default/app", chart="oci://ghcr.io/a/b", version="1.0.0").apply()
    assert (repo / "kubernetes/apps/default/app/ks.yaml").is_file()


def _journal(state: Path, title: str, **fields: object) -> None:
    state.mkdir(exist_ok=True)
    (state / "staging-x").mkdir()
    Journal(title=title, staging="staging-x", **fields).write(state)  # type: ignore[arg-type]


def test_recover_undoes_only_what_the_plan_wrote(repo: Path, tmp_path: Path) -> None:
    state = state_dir(repo)
    kfile = repo / "kubernetes/apps/default/kustomization.yaml"
    old = kfile.read_bytes()
    new = old + b"  - ./mine/ks.yaml\n"
    kfile.write_bytes(new)
    (repo / "kubernetes/apps/default/mine").mkdir()
    (repo / "kubernetes/apps/default/mine/ks.yaml").write_bytes(b"planned\n")
    (repo / "kubernetes/apps/default/mine/notes.txt").write_bytes(b"edited by hand since\n")
    _journal(
        state,
        "new app default/mine",
        dirs=("kubernetes/apps/default/mine",),
        creates=(
            ("kubernetes/apps/default/mine/ks.yaml", digest(b"planned\n")),
            ("kubernetes/apps/default/mine/notes.txt", digest(b"planned\n")),
        ),
        edits=(
            ("kubernetes/apps/default/kustomization.yaml", "backup-0", digest(old), digest(new)),
        ),
    )
    (state / "staging-x" / "backup-0").write_bytes(old)
    note = recover(repo, state)
    assert note is not None
    assert "rolled back `new app default/mine`" in note
    assert "removed 1 new file(s), restored 1 changed one(s)" in note
    assert "1 file(s) changed since were left as they are" in note
    assert kfile.read_bytes() == old
    assert not (repo / "kubernetes/apps/default/mine/ks.yaml").exists()
    assert (
        repo / "kubernetes/apps/default/mine/notes.txt"
    ).read_bytes() == b"edited by hand since\n"
    assert not (state / JOURNAL).exists()
    assert not (state / "staging-x").exists()
    assert recover(repo, state) is None


def test_recover_never_leaves_the_repository(repo: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"planned\n")
    state = state_dir(repo)
    _journal(
        state,
        "tampered",
        creates=(("../victim.txt", digest(b"planned\n")), (str(victim), digest(b"planned\n"))),
    )
    before = snapshot(repo)
    assert "rolled back" in (recover(repo, state) or "")
    assert victim.read_bytes() == b"planned\n"
    assert snapshot(repo) == before


def test_an_unreadable_journal_is_removed_with_a_note(repo: Path) -> None:
    state = state_dir(repo)
    state.mkdir()
    (state / JOURNAL).write_text("{not json")
    note = recover(repo, state) or ""
    assert note.startswith("removed an unreadable scaffolding journal")
    assert not (state / JOURNAL).exists()
