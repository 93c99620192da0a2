"""Applying a plan is one transaction: all of it, or none of it, never out of the repository."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from homelab_kit.errors import ScaffoldError
from homelab_kit.scaffold import Plan, plan_add_secret, plan_new_app
from homelab_kit.scaffold.plan import FileCreate, FileEdit, apply_plan
from tests.scaffold.conftest import snapshot


def _big_plan(repo: Path) -> Plan:
    """A new app with secrets in a new namespace: many files, and existing ones changed."""
    plan = plan_new_app(
        repo,
        "tools/podinfo",
        chart="oci://ghcr.io/stefanprodan/charts/podinfo",
        version="6.7.1",
        image="ghcr.io/stefanprodan/podinfo:6.7.1",
        port=9898,
        secrets=True,
    )
    assert len(plan.creates) >= 8
    assert plan.edits
    return plan


def _fail_on(monkeypatch: pytest.MonkeyPatch, name: str, call: int) -> list[int]:
    real = getattr(os, name)
    calls = [0]

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == call:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, failing)
    return calls


@pytest.mark.parametrize("call", [1, 2, 3, 5, 8, -1])
def test_a_failed_replace_leaves_the_repository_byte_identical(
    repo: Path, monkeypatch: pytest.MonkeyPatch, call: int
) -> None:
    """The 3rd rename failing (or any other: -1 is the last one, an existing file)."""
    plan = _big_plan(repo)
    if call == -1:
        call = len(plan.creates) + len(plan.edits)
    before = snapshot(repo)
    calls = _fail_on(monkeypatch, "replace", call)
    with pytest.raises(ScaffoldError, match="rolled back"):
        plan.apply()
    assert calls[0] >= call
    monkeypatch.undo()
    assert snapshot(repo) == before


def test_a_failed_replace_of_every_later_call_still_rolls_back(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when rollback's own renames fail, the old content is written back."""
    plan = _big_plan(repo)
    before = snapshot(repo)
    real = os.replace
    count = [0]

    def broken_after(src: Any, dst: Any) -> None:
        count[0] += 1
        if count[0] >= len(plan.creates) + len(plan.edits):
            raise OSError(5, "I/O error")
        real(src, dst)

    monkeypatch.setattr(os, "replace", broken_after)
    with pytest.raises(ScaffoldError):
        plan.apply()
    monkeypatch.undo()
    assert snapshot(repo) == before


@pytest.mark.parametrize(("name", "call"), [("mkdir", 1), ("mkdir", 2), ("fsync", 1), ("fsync", 7)])
def test_other_failures_leave_the_repository_byte_identical(
    repo: Path, monkeypatch: pytest.MonkeyPatch, name: str, call: int
) -> None:
    plan = _big_plan(repo)
    before = snapshot(repo)
    _fail_on(monkeypatch, name, call)
    with pytest.raises(ScaffoldError):
        plan.apply()
    monkeypatch.undo()
    assert snapshot(repo) == before


def test_success_leaves_no_staging_folder(repo: Path) -> None:
    before = set(snapshot(repo))
    result = _big_plan(repo).apply()
    after = set(snapshot(repo))
    new_files = {p for p in after - before if (repo / p).is_file()}
    assert new_files == set(result.created)
    assert not [p for p in after if ".homelab-kit-" in p]


def test_a_file_changed_since_the_plan_is_not_overwritten(repo: Path) -> None:
    plan = _big_plan(repo)
    edited = repo / plan.edits[0].path
    edited.write_text(edited.read_text() + "# a concurrent change\n")
    before = snapshot(repo)
    with pytest.raises(ScaffoldError, match="changed since the plan"):
        plan.apply()
    assert snapshot(repo) == before


def test_a_file_that_appeared_is_not_overwritten(repo: Path) -> None:
    plan = _big_plan(repo)
    target = repo / plan.creates[-1].path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("mine\n")
    before = snapshot(repo)
    with pytest.raises(ScaffoldError, match="already exists"):
        plan.apply()
    assert snapshot(repo) == before


def test_never_writes_through_a_symlinked_folder_out_of_the_repository(
    repo: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text(
        "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources:\n  - ./x/ks.yaml\n"
    )
    (repo / "kubernetes/apps/evil").symlink_to(outside, target_is_directory=True)
    before, outside_before = snapshot(repo), snapshot(outside)
    with pytest.raises(ScaffoldError, match="out of the repository"):
        plan_new_app(repo, "evil/app", chart="oci://ghcr.io/a/b", version="1.0.0").apply()
    assert snapshot(repo) == before
    assert snapshot(outside) == outside_before


def test_never_edits_a_symlinked_file_out_of_the_repository(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "victim.yaml"
    kfile = repo / "kubernetes/apps/default/kustomization.yaml"
    outside.write_bytes(kfile.read_bytes())
    kfile.unlink()
    kfile.symlink_to(outside)
    before, victim = snapshot(repo), outside.read_bytes()
    with pytest.raises(ScaffoldError, match="out of the repository"):
        plan_new_app(repo, "default/app", chart="oci://ghcr.io/a/b", version="1.0.0").apply()
    assert snapshot(repo) == before
    assert outside.read_bytes() == victim


def test_apply_refuses_hand_made_plans_that_escape(repo: Path, tmp_path: Path) -> None:
    (repo / "link").symlink_to(tmp_path, target_is_directory=True)
    for bad in ("../escape.yaml", "/etc/passwd", "link/x.yaml", "a/../../x.yaml", "a//b.yaml"):
        plan = Plan(repo, "bad", creates=(FileCreate(bad, "x\n"),))
        with pytest.raises(ScaffoldError):
            apply_plan(plan)
    with pytest.raises(ScaffoldError, match="no longer exists"):
        apply_plan(Plan(repo, "bad", edits=(FileEdit("missing.yaml", "", "x"),)))
    assert not (tmp_path / "x.yaml").exists()


def test_edits_keep_the_file_mode(repo: Path) -> None:
    kfile = repo / "kubernetes/apps/default/kustomization.yaml"
    kfile.chmod(0o600)
    plan_new_app(repo, "default/app", chart="oci://ghcr.io/a/b", version="1.0.0").apply()
    assert kfile.stat().st_mode & 0o777 == 0o600


def test_add_secret_is_idempotent(repo: Path) -> None:
    plan_new_app(
        repo, "default/app", chart="oci://ghcr.io/a/b", version="1.0.0", image="ghcr.io/a/b:1.0.0"
    ).apply()
    first = plan_add_secret(repo, "default/app")
    assert {c.path for c in first.creates} == {"kubernetes/apps/default/secrets/app-secrets.yaml"}
    assert {e.path for e in first.edits} == {
        "kubernetes/apps/default/secrets/kustomization.yaml",
        "kubernetes/apps/default/app/ks.yaml",
        "kubernetes/apps/default/app/app/helm/values.yaml",
    }
    first.apply()
    assert plan_add_secret(repo, "default/app").empty
