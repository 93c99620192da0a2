"""``homelab-kit diff`` on real Git histories: each kind of change, secrets, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import homelab_kit
from homelab_kit.diff import GitError, diff, load_revision
from homelab_kit.diff.compare import SECRET, SECRET_CHANGED, DiffResult
from homelab_kit.diff.report import render_json, render_markdown, render_text

from .conftest import (
    PLANTED,
    PLANTED_SUBST,
    PLANTED_VALUES,
    GitRepo,
    app_files,
    base_files,
)

Make = Callable[..., GitRepo]


def _run(repo: GitRepo, *args: str) -> tuple[int, str]:
    """The command as a user runs it: exit code, standard output and error together."""
    done = subprocess.run(
        [sys.executable, "-m", "homelab_kit", "diff", str(repo.root), *args],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")},
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def _changes(result: DiffResult) -> set[tuple[str, str, str, str]]:
    return {(c.kustomization, c.status, c.kind, c.name) for c in result.changes}


def _all_outputs(result: DiffResult) -> str:
    return render_text(result) + render_markdown(result) + render_json(result)


def test_no_change_exits_0(git_repo: Make) -> None:
    repo = git_repo()
    code, out = _run(repo, "--base", "main")
    assert code == 0, out
    assert "No changes" in out
    assert diff(repo.root, base="main").changes == ()


def test_default_base_is_the_merge_base_with_main(git_repo: Make) -> None:
    repo = git_repo()
    repo.git("checkout", "-q", "-b", "feature")
    repo.write(app_files("alpha", replicas=3))
    repo.commit("feature")
    result = diff(repo.root)  # base: merge-base(HEAD, main) = main's commit
    assert _changes(result) == {("flux-system/alpha", "changed", "HelmRelease", "alpha")}


def test_one_values_change(git_repo: Make) -> None:
    repo = git_repo()
    repo.write(app_files("alpha", replicas=2))
    result = diff(repo.root, base="main")
    assert _changes(result) == {("flux-system/alpha", "changed", "HelmRelease", "alpha")}
    (change,) = result.changes
    assert "-    replicas: 1" in change.diff
    assert "+    replicas: 2" in change.diff
    assert change.source.path == "kubernetes/apps/default/alpha/app/helmrelease.yaml"
    code, _ = _run(repo, "--base", "main")
    assert code == 1


def test_values_are_merged_as_helm_sees_them(git_repo: Make) -> None:
    """A change in a valuesFrom ConfigMap shows in the HelmRelease's merged values."""
    repo = git_repo()
    files = app_files("alpha")
    path = "kubernetes/apps/default/alpha/app/values.yaml"
    repo.write({path: files[path].replace("port: 80", "port: 8080")})
    result = diff(repo.root, base="main")
    assert _changes(result) == {
        ("flux-system/alpha", "changed", "ConfigMap", "alpha-values"),
        ("flux-system/alpha", "changed", "HelmRelease", "alpha"),
    }
    release = next(c for c in result.changes if c.kind == "HelmRelease")
    assert "-      port: 80" in release.diff
    assert "+      port: 8080" in release.diff


def test_inline_values_win_over_values_from(git_repo: Make) -> None:
    repo = git_repo()
    files = app_files("alpha")
    path = "kubernetes/apps/default/alpha/app/helmrelease.yaml"
    repo.write(
        {path: files[path].replace("  values:\n", "  values:\n    service:\n      port: 9\n")}
    )
    result = diff(repo.root, base="main")
    (change,) = result.changes
    assert "-      port: 80" in change.diff
    assert "+      port: 9" in change.diff


def test_chart_bump_is_called_out_on_one_line(git_repo: Make) -> None:
    repo = git_repo()
    repo.write(app_files("beta", chart="1.2.0"))
    result = diff(repo.root, base="main")
    (change,) = result.changes
    assert change.notes[0] == "chart beta: 1.0.0 -> 1.2.0"
    _code, out = _run(repo, "--base", "main")
    assert "chart beta: 1.0.0 -> 1.2.0" in out


def test_an_added_app(git_repo: Make) -> None:
    repo = git_repo()
    repo.write(base_files(("alpha", "beta", "gamma", "delta")))
    result = diff(repo.root, base="main")
    assert _changes(result) == {
        ("flux-system/cluster-apps", "added", "Kustomization", "delta"),
        ("flux-system/delta", "added", "HelmRelease", "delta"),
        ("flux-system/delta", "added", "ConfigMap", "delta-values"),
        ("flux-system/delta", "added", "Secret", "delta-secret"),
    }
    release = next(c for c in result.changes if c.kind == "HelmRelease")
    assert release.notes == ("chart: delta 1.0.0",)
    assert PLANTED_VALUES not in _all_outputs(result)


def test_a_removed_app(git_repo: Make) -> None:
    repo = git_repo()
    repo.write(base_files(("alpha", "beta")))
    repo.remove("kubernetes/apps/default/gamma")
    result = diff(repo.root, base="main")
    assert {(c.status, c.kind, c.name) for c in result.changes} == {
        ("removed", "Kustomization", "gamma"),
        ("removed", "HelmRelease", "gamma"),
        ("removed", "ConfigMap", "gamma-values"),
        ("removed", "Secret", "gamma-secret"),
    }
    removed = next(c for c in result.changes if c.kind == "HelmRelease")
    assert removed.source.path == "kubernetes/apps/default/gamma/app/helmrelease.yaml"


def test_a_shared_component_lists_every_affected_object(git_repo: Make) -> None:
    repo = git_repo()
    repo.write(
        {
            "kubernetes/components/common/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
commonLabels:
  team: platform
"""
        }
    )
    result = diff(repo.root, base="main")
    expected = {
        (f"flux-system/{app}", "changed", kind, name)
        for app in ("alpha", "beta", "gamma")
        for kind, name in (
            ("HelmRelease", app),
            ("ConfigMap", f"{app}-values"),
            ("Secret", f"{app}-secret"),
        )
    }
    assert _changes(result) == expected
    text = render_text(result)
    assert text.count("+    team: platform") == 9
    assert PLANTED_VALUES not in _all_outputs(result)


def test_a_secret_change_names_keys_never_values(git_repo: Make) -> None:
    repo = git_repo()
    path = "kubernetes/apps/default/alpha/app/secret.yaml"
    repo.write(
        {
            path: f"""\
apiVersion: v1
kind: Secret
metadata:
  name: alpha-secret
stringData:
  password: {PLANTED}
  token: {PLANTED}-token
"""
        }
    )
    result = diff(repo.root, base="main")
    secret = next(c for c in result.changes if c.kind == "Secret")
    assert secret.notes == ("keys added: token; keys changed: password",)
    assert f"+  password: {SECRET_CHANGED}" in secret.diff
    assert f"+  token: {SECRET}" in secret.diff
    # The HelmRelease reads password through valuesFrom targetPath: masked there too.
    release = next(c for c in result.changes if c.kind == "HelmRelease")
    assert f"+      password: {SECRET_CHANGED}" in release.diff
    for output in (_all_outputs(result), _run(repo, "--base", "main")[1]):
        for planted in (PLANTED, PLANTED_VALUES, PLANTED_SUBST):
            assert planted not in output
    for fmt in ("text", "markdown", "json"):
        out = _run(repo, "--base", "main", "--format", fmt)[1]
        assert PLANTED not in out
        assert PLANTED_VALUES not in out
        assert "password" in out


def test_secret_data_values_are_masked(git_repo: Make) -> None:
    """base64 ``data`` is masked as well (its encoded form never shows either)."""
    import base64

    encoded = base64.b64encode(PLANTED.encode()).decode()
    repo = git_repo()
    path = "kubernetes/apps/default/alpha/app/secret.yaml"
    repo.write(
        {
            path: f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: alpha-secret\n"
            f"data:\n  password: {encoded}\n"
        }
    )
    result = diff(repo.root, base="main")
    outputs = _all_outputs(result)
    assert encoded not in outputs
    assert PLANTED not in outputs
    assert "keys added: password" in outputs or "keys changed" in outputs


def test_values_from_a_secret_without_target_path_are_masked(git_repo: Make) -> None:
    repo = git_repo()
    files = app_files("alpha")
    hr = "kubernetes/apps/default/alpha/app/helmrelease.yaml"
    repo.write(
        {
            hr: files[hr].replace(
                "      valuesKey: password\n      targetPath: auth.password\n",
                "      valuesKey: values.yaml\n",
            ),
            "kubernetes/apps/default/alpha/app/secret.yaml": f"""\
apiVersion: v1
kind: Secret
metadata:
  name: alpha-secret
stringData:
  values.yaml: |
    database:
      password: {PLANTED}
""",
        }
    )
    result = diff(repo.root, base="main")
    release = next(c for c in result.changes if c.kind == "HelmRelease")
    assert "+    database:" in release.diff
    assert f"       password: {SECRET}" in release.diff
    assert PLANTED not in _all_outputs(result)


def test_sops_files_show_only_that_they_changed(git_repo: Make) -> None:
    sops = """\
apiVersion: v1
kind: Secret
metadata:
  name: alpha-secret
stringData:
  password: ENC[AES256_GCM,data:{cipher},type:str]
sops:
  mac: ENC[AES256_GCM,data:{mac},type:str]
  lastmodified: "2024-01-01T00:00:00Z"
  version: 3.8.1
"""
    path = "kubernetes/apps/default/alpha/app/secret.yaml"
    files = base_files()
    files[path] = sops.format(cipher="c1pher0ne", mac="m4c0ne")
    repo = git_repo(files)
    repo.write({path: sops.format(cipher="c1phertw0", mac="m4ctw0")})
    result = diff(repo.root, base="main")
    (change,) = [c for c in result.changes if c.kind == "Secret"]
    assert change.notes == ("SOPS-encrypted: changed (content not shown)",)
    assert change.diff == ()
    out = _all_outputs(result)
    assert "c1pher" not in out
    assert "m4c" not in out


def test_a_file_rename_is_no_change_and_an_object_rename_is_remove_plus_add(
    git_repo: Make,
) -> None:
    repo = git_repo()
    app = "kubernetes/apps/default/alpha/app"
    repo.git("mv", f"{app}/values.yaml", f"{app}/configmap.yaml")
    repo.write(
        {
            f"{app}/kustomization.yaml": "resources:\n  - helmrelease.yaml\n"
            "  - configmap.yaml\n  - secret.yaml\n"
        }
    )
    assert diff(repo.root, base="main").changes == ()
    repo.commit("move a file")
    files = app_files("alpha")
    values = files[f"{app}/values.yaml"].replace("alpha-values", "alpha-config")
    release = files[f"{app}/helmrelease.yaml"].replace("alpha-values", "alpha-config")
    repo.write({f"{app}/configmap.yaml": values, f"{app}/helmrelease.yaml": release})
    result = diff(repo.root, base="main")
    assert _changes(result) == {
        ("flux-system/alpha", "removed", "ConfigMap", "alpha-values"),
        ("flux-system/alpha", "added", "ConfigMap", "alpha-config"),
        ("flux-system/alpha", "changed", "HelmRelease", "alpha"),
    }


def test_several_clusters(git_repo: Make) -> None:
    files = base_files()
    staging = {
        path.replace("kubernetes/", "staging/", 1): text.replace("./kubernetes/", "./staging/")
        for path, text in files.items()
    }
    config = "clusters:\n  prod: kubernetes/flux/cluster\n  staging: staging/flux/cluster\n"
    config += "include:\n  - kubernetes\n  - staging\n"
    repo = git_repo({**files, **staging, ".homelab-kit.yaml": config})
    repo.write(
        {
            k.replace("kubernetes/", "staging/", 1): v.replace("./kubernetes/", "./staging/")
            for k, v in app_files("beta", replicas=5).items()
        }
    )
    result = diff(repo.root, base="main")
    assert result.clusters == ("prod", "staging")
    assert _changes(result) == {("flux-system/beta", "changed", "HelmRelease", "beta")}
    assert {c.cluster for c in result.changes} == {"staging"}
    assert diff(repo.root, base="main", clusters=("prod",)).changes == ()
    code, out = _run(repo, "--base", "main", "--cluster", "nope")
    assert code == 2
    assert "no cluster 'nope'" in out


def test_head_ref_and_json_shape(git_repo: Make) -> None:
    repo = git_repo()
    first = repo.git("rev-parse", "HEAD").strip()
    repo.write(app_files("gamma", replicas=4))
    second = repo.commit()
    repo.write(app_files("gamma", replicas=9))  # uncommitted: not part of --head
    code, out = _run(repo, "--base", first, "--head", second, "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["version"] == 1
    assert data["base"] == first[:12]
    assert data["head"] == second[:12]
    assert data["summary"] == {"added": 0, "removed": 0, "changed": 1}
    (change,) = data["changes"]
    assert {k: change[k] for k in ("cluster", "kustomization", "status", "kind", "name")} == {
        "cluster": "cluster",
        "kustomization": "flux-system/gamma",
        "status": "changed",
        "kind": "HelmRelease",
        "name": "gamma",
    }
    assert "+    replicas: 4" in change["diff"]
    assert "replicas: 9" not in change["diff"]


def test_the_working_tree_is_never_touched(git_repo: Make) -> None:
    repo = git_repo()
    repo.write(app_files("alpha", replicas=2))
    (repo.root / "untracked.txt").write_text("mine\n")
    before = repo.status()
    listing = sorted(p.relative_to(repo.root).as_posix() for p in repo.root.rglob("*"))
    git_files = sorted(p.as_posix() for p in (repo.root / ".git").rglob("*"))
    diff(repo.root, base="main")
    assert repo.status() == before
    assert sorted(p.relative_to(repo.root).as_posix() for p in repo.root.rglob("*")) == listing
    assert sorted(p.as_posix() for p in (repo.root / ".git").rglob("*")) == git_files


def test_a_revision_loads_into_the_same_model(git_repo: Make) -> None:
    repo = git_repo()
    with load_revision(repo.root, "main") as at_main:
        committed = {c.name: len(c.objects) for c in at_main.clusters}
        files = set(at_main.files)
    current = homelab_kit.load(repo.root)
    assert committed == {c.name: len(c.objects) for c in current.clusters}
    assert files == set(current.files)


def test_symbolic_links_in_git_never_leave_the_tree(git_repo: Make, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: {PLANTED}\n"
    )
    repo = git_repo()
    app = repo.root / "kubernetes/apps/default/alpha/app"
    os.symlink(str(outside), app / "escape.yaml")
    os.symlink("../../../../../../outside.yaml", app / "relative-escape.yaml")
    os.symlink("values.yaml", app / "inside.yaml")
    repo.commit("links")
    with load_revision(repo.root, "main") as at_main:
        problems = {
            path: [p.message for p in f.problems]
            for path, f in at_main.files.items()
            if path.endswith("escape.yaml")
        }
        inside = at_main.files["kubernetes/apps/default/alpha/app/inside.yaml"]
        assert inside.documents
        assert not inside.problems
    assert set(problems) == {
        "kubernetes/apps/default/alpha/app/escape.yaml",
        "kubernetes/apps/default/alpha/app/relative-escape.yaml",
    }
    for messages in problems.values():
        assert messages == ["symbolic link leaving the repository; not read"]


def test_bad_revisions_and_no_git_exit_2(git_repo: Make, tmp_path: Path) -> None:
    repo = git_repo()
    code, out = _run(repo, "--base", "no-such-branch")
    assert code == 2
    assert "unknown revision 'no-such-branch'" in out
    code, out = _run(repo, "--base", "--help-me")
    assert code == 2
    plain = tmp_path / "plain"
    (plain / "kubernetes").mkdir(parents=True)
    with pytest.raises(GitError, match="not inside a Git work tree"):
        diff(plain, base="main")


def test_a_kustomization_that_no_longer_builds_exits_2(git_repo: Make) -> None:
    repo = git_repo()
    repo.remove("kubernetes/apps/default/beta/app")
    code, out = _run(repo, "--base", "main")
    assert code == 2
    assert "flux-system/beta" in out
    # its objects are not reported as removed: they are unknown, not gone
    assert "- HelmRelease default/beta" not in out


def test_colour_follows_no_color_and_the_flag(git_repo: Make) -> None:
    repo = git_repo()
    repo.write(app_files("alpha", replicas=2))
    _, plain = _run(repo, "--base", "main")
    assert "\x1b[" not in plain
    _, coloured = _run(repo, "--base", "main", "--color")
    assert "\x1b[" not in _run(repo, "--base", "main", "-f", "markdown", "--color")[1]
    assert "\x1b[32m" in coloured
    assert "\x1b[31m" in coloured


def test_a_generated_name_changing_by_its_hash_is_one_change(git_repo: Make) -> None:
    files = base_files()
    kustomization = "kubernetes/apps/default/alpha/app/kustomization.yaml"
    generator = "configMapGenerator:\n  - name: settings\n    literals:\n      - LEVEL={level}\n"
    files[kustomization] += generator.format(level="info")
    repo = git_repo(files)
    repo.write({kustomization: files[kustomization].replace("LEVEL=info", "LEVEL=debug")})
    result = diff(repo.root, base="main")
    (change,) = result.changes
    assert (change.status, change.kind) == ("changed", "ConfigMap")
    assert change.name.startswith("settings-")
    assert change.notes[0].startswith("name: settings-")
    assert "(a generated name, its content hash)" in change.notes[0]
    assert "-  LEVEL: info" in change.diff
    assert "+  LEVEL: debug" in change.diff
