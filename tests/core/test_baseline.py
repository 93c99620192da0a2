"""Adopting the linter on an existing repository: --add-noqa, --baseline, and the flags
that make the output trustworthy (--statistics, --exit-zero, --quiet)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import homelab_kit
from homelab_kit.testing import write_tree

# Written `prune: false` is reported only where the owner asks for it.
STRICT = {".homelab-kit.yaml": "checks:\n  flux-ks-prune: {allow-false: false}\n"}

KS = """\
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: default
spec:
  interval: 1h
  path: ./kubernetes/apps/default/{name}/app
  prune: false
  sourceRef:
    kind: GitRepository
    name: flux-system
"""
CONFIGMAP = """\
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: script
data:
  run.sh: |
    echo hi
    exit 0
"""


def _ks(name: str) -> str:
    return f"kubernetes/apps/default/{name}/ks.yaml"


def _app(name: str) -> str:
    return f"kubernetes/apps/default/{name}/app/kustomization.yaml"


APP_TEXT = "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


def _lint(root: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        [sys.executable, "-m", "homelab_kit", "lint", "--no-cache", *flags, str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _tree(tmp_path: Path, *names: str) -> Path:
    files = {_ks(n): KS.format(name=n) for n in names}
    files.update({_app(n): APP_TEXT for n in names})
    return write_tree(tmp_path, {**STRICT, **files})


# --------------------------------------------------------------------------- --add-noqa


def test_add_noqa_suppresses_every_finding_with_a_reason_to_fill_in(tmp_path: Path) -> None:
    root = _tree(tmp_path, "echo")
    assert _lint(root, "--select", "flux-ks-prune").returncode == 1
    added = _lint(root, "--select", "flux-ks-prune", "--add-noqa")
    assert added.returncode == 0, added.stderr
    assert "Added 1 suppression comment(s) in 1 file(s)" in added.stderr
    text = (root / _ks("echo")).read_text()
    assert "  prune: false  # homelab-kit: ignore[flux-ks-prune] TODO: say why\n" in text
    assert _lint(root, "--select", "flux-ks-prune").returncode == 0
    # The data did not change: only a comment was added.
    assert text.replace("  # homelab-kit: ignore[flux-ks-prune] TODO: say why", "") == KS.format(
        name="echo"
    )


def test_add_noqa_merges_into_an_existing_suppression(tmp_path: Path) -> None:
    root = _tree(tmp_path, "echo")
    path = root / _ks("echo")
    path.write_text(
        path.read_text().replace(
            "prune: false", "prune: false  # homelab-kit: ignore[flux-ks-wait] ok"
        )
    )
    _lint(root, "--select", "flux-ks-prune,flux-ks-wait", "--add-noqa")
    assert "# homelab-kit: ignore[flux-ks-wait, flux-ks-prune] ok" in path.read_text()


def test_add_noqa_never_writes_into_a_block_scalar(tmp_path: Path) -> None:
    from homelab_kit.diagnostic import Diagnostic
    from homelab_kit.lint.noqa import add_noqa
    from homelab_kit.location import Location

    rel = "kubernetes/apps/default/cm.yaml"
    root = write_tree(tmp_path, {**STRICT, rel: CONFIGMAP})
    finding = Diagnostic(Location(rel, 8, 5), "workload-probes", "inside the script")
    outcome = add_noqa(root, [finding])
    text = (root / rel).read_text()
    assert outcome.added == 1
    assert text == "# homelab-kit: ignore-file[workload-probes] TODO: say why\n" + CONFIGMAP


# --------------------------------------------------------------------------- --baseline


def test_baseline_accepts_todays_findings_and_reports_only_new_ones(tmp_path: Path) -> None:
    root = _tree(tmp_path, "echo")
    baseline = tmp_path / "baseline.json"
    first = _lint(root, "--select", "flux-ks-prune", "--baseline", str(baseline))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Wrote the baseline" in first.stderr
    data = json.loads(baseline.read_text())
    assert data["findings"] == [
        {
            "path": _ks("echo"),
            "check": "flux-ks-prune",
            "message": "Kustomization echo sets spec.prune: false",
        }
    ]
    # An edit above the finding moves it: still covered (entries have no line).
    path = root / _ks("echo")
    path.write_text("# moved down\n" + path.read_text())
    assert _lint(root, "--select", "flux-ks-prune", "--baseline", str(baseline)).returncode == 0
    # A new app's finding is new.
    _tree(tmp_path, "web")
    new = _lint(root, "--select", "flux-ks-prune", "--baseline", str(baseline), "-f", "concise")
    assert new.returncode == 1
    assert _ks("web") in new.stdout
    assert _ks("echo") not in new.stdout


def test_baseline_entries_no_finding_matches_are_reported_stale(tmp_path: Path) -> None:
    root = _tree(tmp_path, "echo")
    baseline = tmp_path / "baseline.json"
    _lint(root, "--select", "flux-ks-prune", "--baseline", str(baseline))
    path = root / _ks("echo")
    path.write_text(path.read_text().replace("prune: false", "prune: true"))
    result = _lint(root, "--select", "flux-ks-prune", "--baseline", str(baseline))
    assert result.returncode == 0
    assert (
        f"stale entry, no longer found: {_ks('echo')}: [flux-ks-prune] "
        "Kustomization echo sets spec.prune: false" in result.stderr
    )
    # Entries of checks that did not run are not stale.
    other = _lint(root, "--select", "flux-ks-wait", "--baseline", str(baseline))
    assert "stale" not in other.stderr


def test_a_malformed_baseline_is_a_usage_error(tmp_path: Path) -> None:
    root = _tree(tmp_path, "echo")
    baseline = tmp_path / "baseline.json"
    baseline.write_text('{"version": 1,\n "findings": [,]}')
    result = _lint(root, "--baseline", str(baseline))
    assert result.returncode == 2
    assert f"{baseline}:2:15: the baseline is not valid JSON: Expecting value" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_baseline_library_matches_each_entry_once() -> None:
    from homelab_kit.diagnostic import Diagnostic
    from homelab_kit.lint.baseline import apply_baseline
    from homelab_kit.location import Location

    one = Diagnostic(Location("a.yaml", 3), "x-y", "same")
    two = Diagnostic(Location("a.yaml", 9), "x-y", "same")
    outcome = apply_baseline([one, two], [("a.yaml", "x-y", "same")])
    assert outcome.kept == (two,)
    assert outcome.matched == 1
    assert outcome.stale == ()


# --------------------------------------------------------------------------- output flags


def test_statistics_exit_zero_and_quiet(tmp_path: Path) -> None:
    root = _tree(tmp_path, "echo", "web")
    stats = _lint(root, "--select", "flux-ks-prune,flux-ks-interval", "--statistics")
    assert stats.returncode == 1
    assert stats.stdout.splitlines() == [
        "2  flux-ks-prune      Flux Kustomizations must prune what they no longer declare."
    ]
    assert _lint(root, "--select", "flux-ks-prune", "--exit-zero").returncode == 0
    quiet = _lint(root, "--select", "flux-ks-prune", "-q", "-f", "concise")
    assert quiet.stdout.count("\n") == 2  # the two findings and nothing else
    assert quiet.stderr == ""
    clean = _lint(root, "--select", "flux-ks-interval", "-q")
    assert clean.returncode == 0
    assert clean.stdout == ""


def test_library_lint_still_reports_everything_selected(tmp_path: Path) -> None:
    root = _tree(tmp_path, "echo")
    result = homelab_kit.lint(root)
    assert "flux-ks-prune" in {d.check_id for d in result.diagnostics}
