"""``homelab-kit lint --diff-base REF``: only findings on changed lines and changed objects."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

from homelab_kit.diagnostic import Diagnostic, Severity
from homelab_kit.diff.changed import ChangedSince
from homelab_kit.location import Location

from .conftest import PLANTED, GitRepo, app_files

Make = Callable[..., GitRepo]


def _lint(repo: GitRepo, *args: str) -> tuple[int, set[tuple[str, int, str]]]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "homelab_kit",
            "lint",
            str(repo.root),
            "-f",
            "json",
            "--no-cache",
            *list(args),
        ],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"},
        check=False,
    )
    import json

    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    found = {(d["path"], d["line"], d["check_id"]) for d in data["diagnostics"]}
    return done.returncode, found


def _checks(found: set[tuple[str, int, str]], path: str) -> set[str]:
    return {check for p, _, check in found if p == path}


def test_nothing_changed_reports_nothing(git_repo: Make) -> None:
    repo = git_repo()
    code, everything = _lint(repo)
    assert code == 1
    assert everything  # the fixture has old findings
    code, found = _lint(repo, "--diff-base", "main")
    assert (code, found) == (0, set())


def test_a_changed_line_and_its_object_keep_their_findings(git_repo: Make) -> None:
    repo = git_repo()
    secret = "kubernetes/apps/default/alpha/app/secret.yaml"
    text = app_files("alpha")[secret]
    repo.write(
        {
            secret: text.replace(
                "  name: alpha-secret\n", "  name: alpha-secret\n  annotations:\n    a: b\n"
            )
        }
    )
    code, found = _lint(repo, "--diff-base", "main")
    assert code == 1
    # lines 5-6 were added; the finding on line 8, in the same object, counts
    assert found == {(secret, 8, "secrets-plaintext-secret")}


def test_a_shared_component_gates_every_object_it_reaches(git_repo: Make) -> None:
    repo = git_repo()
    repo.write(
        {
            "kubernetes/components/common/kustomization.yaml": (
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                "commonLabels:\n  team: platform\n"
            )
        }
    )
    _, found = _lint(repo, "--diff-base", "main")
    for app in ("alpha", "beta", "gamma"):
        release = f"kubernetes/apps/default/{app}/app/helmrelease.yaml"
        assert "helm-chart-source-resolves" in _checks(found, release)
        # ks.yaml did not change, nor did what it applies as an object
        assert _checks(found, f"kubernetes/apps/default/{app}/ks.yaml") == set()


def test_an_untracked_file_counts_whole(git_repo: Make) -> None:
    repo = git_repo()
    repo.write(
        {
            "kubernetes/apps/default/alpha/app/extra.yaml": (
                f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: extra\n"
                f"stringData:\n  token: {PLANTED}\n"
            ),
            "kubernetes/apps/default/alpha/app/kustomization.yaml": (
                "resources:\n  - helmrelease.yaml\n  - values.yaml\n  - secret.yaml\n"
                "  - extra.yaml\n"
            ),
        }
    )
    _, found = _lint(repo, "--diff-base", "main")
    assert ("kubernetes/apps/default/alpha/app/extra.yaml", 6, "secrets-plaintext-secret") in found


def test_an_unknown_base_exits_2(git_repo: Make) -> None:
    repo = git_repo()
    done = subprocess.run(
        [sys.executable, "-m", "homelab_kit", "lint", str(repo.root), "--diff-base", "nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown revision 'nope'" in done.stderr


def _at(path: str, line: int) -> Diagnostic:
    return Diagnostic(Location(path, line, 1), "x", "m", Severity.ERROR)


def test_the_filter_rules() -> None:
    changed = ChangedSince(
        lines={"a.yaml": frozenset({5}), "new.yaml": None},
        objects={"b.yaml": frozenset({10})},
    )
    documents = [(1, 8), (9, 20)]
    assert changed.keeps(_at("a.yaml", 5))
    assert changed.keeps(_at("a.yaml", 2), documents)  # same document as line 5
    assert not changed.keeps(_at("a.yaml", 12), documents)
    assert changed.keeps(_at("a.yaml", 0))  # the whole file, which changed
    assert changed.keeps(_at("new.yaml", 300))
    assert changed.keeps(_at("b.yaml", 15), documents)  # a changed object's document
    assert not changed.keeps(_at("b.yaml", 3), documents)
    assert not changed.keeps(_at("c.yaml", 1), documents)
