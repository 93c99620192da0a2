"""Categories, presets, ruff-style selection and strict configuration (issue 17)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import attrs
import pytest

import homelab_kit
from homelab_kit.config import Selection, load_config, path_matches
from homelab_kit.diagnostic import Diagnostic, Severity
from homelab_kit.errors import ConfigError
from homelab_kit.lint import registered_checks, selected_checks
from homelab_kit.lint.check import CATEGORIES, DEFAULT_CATEGORY, Check
from homelab_kit.location import Location
from homelab_kit.plugins import PluginManager, hookimpl
from homelab_kit.testing import lint_path, write_tree

CHECKS = registered_checks(PluginManager(autoload=False))
BY_ID = {c.id: c for c in CHECKS}

# A Flux Kustomization that fails a correctness check (prune) and a convention (wait).
KS = """\
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: echo
  namespace: default
spec:
  interval: 1h
  path: ./kubernetes/apps/default/echo/app
  prune: false
  sourceRef:
    kind: GitRepository
    name: flux-system
"""
KS_PATH = "kubernetes/apps/default/echo/ks.yaml"
APP = "kubernetes/apps/default/echo/app/kustomization.yaml"
APP_TEXT = "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


def _ids(root: Path, **changes: object) -> set[str]:
    config = attrs.evolve(load_config(root), **changes)
    return {c.id for c in selected_checks(CHECKS, config)}


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        [sys.executable, "-m", "homelab_kit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


# --------------------------------------------------------------------------- categories


def test_every_builtin_check_declares_a_known_category() -> None:
    assert all(c.category in CATEGORIES for c in CHECKS)
    by_category = {name: {c.id for c in CHECKS if c.category == name} for name in CATEGORIES}
    # The guide's house rules, which valid repositories of other layouts do not follow:
    assert {
        "flux-ks-wait",
        "helm-chart-source-placement",
        "secrets-sops-allowlist",
        "structure-app-layout",
        "yaml-document-start",
    } <= by_category["convention"]
    assert {"flux-ks-prune", "flux-ks-depends-on", "yaml-syntax"} <= by_category["correctness"]
    assert {"secrets-plaintext-secret", "workload-privileged"} <= by_category["security"]
    assert {"yaml-final-newline", "unused-suppression"} <= by_category["style"]


def test_a_check_module_without_category_counts_as_correctness() -> None:
    module = types.ModuleType("third_party_check")
    module.__doc__ = "A third-party check."
    module.ID = "third-party-check"  # type: ignore[attr-defined]
    module.check = lambda repo, options: iter(())  # type: ignore[attr-defined]
    check = Check.from_module(module)
    assert check.category == DEFAULT_CATEGORY == "correctness"


def test_an_unknown_category_is_a_plugin_error() -> None:
    module = types.ModuleType("bad_category")
    module.ID = "bad-category"  # type: ignore[attr-defined]
    module.CATEGORY = "pedantic"  # type: ignore[attr-defined]
    module.check = lambda repo, options: iter(())  # type: ignore[attr-defined]
    with pytest.raises(homelab_kit.errors.PluginError, match="category 'pedantic'"):
        Check.from_module(module).validate()


# --------------------------------------------------------------------------- presets


def test_the_default_preset_runs_no_convention(tmp_path: Path) -> None:
    selected = _ids(write_tree(tmp_path, {"kubernetes/.keep": ""}))
    assert selected == {c.id for c in CHECKS if c.category != "convention"}


def test_preset_homelab_kit_runs_every_category(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {".homelab-kit.yaml": "preset: homelab-kit\n"})
    assert _ids(root) == set(BY_ID)


def test_default_preset_findings_have_no_convention(tmp_path: Path) -> None:
    strict = "checks:\n  flux-ks-prune: {allow-false: false}\n"
    write_tree(tmp_path, {KS_PATH: KS, APP: APP_TEXT, ".homelab-kit.yaml": strict})
    found = {d.check_id for d in homelab_kit.lint(tmp_path).diagnostics}
    assert "flux-ks-prune" in found
    assert "flux-ks-wait" not in found
    write_tree(tmp_path, {".homelab-kit.yaml": "preset: homelab-kit\n" + strict})
    found = {d.check_id for d in homelab_kit.lint(tmp_path).diagnostics}
    assert {"flux-ks-prune", "flux-ks-wait"} <= found


def test_an_unknown_preset_is_an_error_with_a_hint(tmp_path: Path) -> None:
    write_tree(tmp_path, {".homelab-kit.yaml": "preset: homelab\n"})
    with pytest.raises(ConfigError, match=r"unknown preset 'homelab' \(did you mean 'homelab-kit'"):
        load_config(tmp_path)


# --------------------------------------------------------------------------- select


def test_select_replaces_the_preset_and_takes_categories(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {".homelab-kit.yaml": "select: [convention]\n"})
    assert _ids(root) == {c.id for c in CHECKS if c.category == "convention"}


def test_extend_select_adds_to_the_preset(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {".homelab-kit.yaml": "extend-select: [flux-ks-wait]\n"})
    base = {c.id for c in CHECKS if c.category != "convention"}
    assert _ids(root) == base | {"flux-ks-wait"}


def test_the_more_specific_selector_wins_and_ignore_wins_a_tie(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"kubernetes/.keep": ""})
    # An ID beats a category, both ways.
    assert "flux-ks-wait" in _ids(root, select=("flux-ks-wait",), ignore=("convention",))
    assert "flux-ks-prune" not in _ids(root, select=("correctness",), ignore=("flux-ks-prune",))
    # A pack prefix beats a category; equal specificity: ignore wins.
    assert "flux-ks-wait" in _ids(root, extend_select=("flux",), ignore=("convention",))
    assert "flux-ks-wait" not in _ids(root, extend_select=("flux-ks-*",), ignore=("flux",))


def test_command_line_select_overrides_the_files_select_and_ignore(tmp_path: Path) -> None:
    text = "select: [flux]\nignore: [flux-ks-prune]\n"
    root = write_tree(tmp_path, {".homelab-kit.yaml": text})
    assert "flux-ks-prune" not in _ids(root)
    assert _ids(root, command_line=Selection(select=("flux-ks-prune",))) == {"flux-ks-prune"}
    # --extend-select adds to the file's selection, whose ignore still applies.
    extended = _ids(root, command_line=Selection(extend_select=("yaml-syntax",)))
    assert "yaml-syntax" in extended
    assert "flux-ks-prune" not in extended
    assert "flux-ks-path" in extended


# --------------------------------------------------------------------------- strict configuration


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("select: [flux-ks-prunee]\n", "select: 'flux-ks-prunee' names no check", 1),
        ("ignore:\n  - yaml-synatx\n", "(did you mean 'yaml-syntax'?)", 2),
        ("extend-select: [conventions]\n", "(did you mean 'convention'?)", 1),
        ("per-path-ignores:\n  kubernetes/**: [flux-ks-prunee]\n", "did you mean", 2),
        ("severity:\n  flux-ks-prunee: info\n", "unknown check 'flux-ks-prunee' in severity", 2),
        ("checks:\n  flux-ks-prunee: {}\n", "(did you mean 'flux-ks-prune'?)", 2),
        (
            "checks:\n  helm-chart-source-placement:\n    placement: folders\n",
            "option placement must be one of helmrelease, folder, got 'folders'",
            3,
        ),
        (
            "checks:\n  helm-remediation-retries:\n    require: [instal]\n",
            "option require must be one of install, upgrade, got 'instal'",
            3,
        ),
        ("kubernetes-version: banana\n", "kubernetes-version must be a version", 1),
        ("include: [kubernetes, clusters]\n", "include: 'clusters' matches no file", 1),
    ],
)
def test_configuration_mistakes_are_errors_with_their_position(
    tmp_path: Path, text: str, message: str, line: int
) -> None:
    write_tree(tmp_path, {".homelab-kit.yaml": text, "kubernetes/.keep": ""})
    with pytest.raises(ConfigError) as info:
        homelab_kit.lint(tmp_path)
    assert message in str(info.value)
    assert info.value.location is not None
    assert (info.value.location.path, info.value.location.line) == (".homelab-kit.yaml", line)


def test_command_line_mistakes_exit_2_with_a_hint(tmp_path: Path) -> None:
    write_tree(tmp_path, {KS_PATH: KS})
    wrong = _run("lint", "--select", "flux-ks-prunee", str(tmp_path), cwd=tmp_path)
    assert wrong.returncode == 2
    assert "--select: 'flux-ks-prunee' names no check (did you mean 'flux-ks-prune'?)" in (
        wrong.stderr
    )
    assert "Traceback" not in wrong.stderr
    banana = _run("lint", "--kubernetes-version", "banana", str(tmp_path), cwd=tmp_path)
    assert banana.returncode == 2
    assert "--kubernetes-version: 'banana' is not a version" in banana.stderr


def test_a_suppression_naming_an_unknown_check_is_a_finding(tmp_path: Path) -> None:
    text = KS.replace("prune: false", "prune: true  # homelab-kit: ignore[flux-ks-prunee] old")
    write_tree(tmp_path, {KS_PATH: text, APP: APP_TEXT})
    found = [
        (d.location.line, d.check_id, d.message)
        for d in homelab_kit.lint(tmp_path).diagnostics
        if d.check_id == "unused-suppression"
    ]
    assert found == [
        (
            10,
            "unused-suppression",
            "suppression names unknown check 'flux-ks-prunee' (did you mean 'flux-ks-prune'?)",
        )
    ]


def test_rules_show_each_checks_category(tmp_path: Path) -> None:
    listed = json.loads(_run("rules", "--format", "json", cwd=tmp_path).stdout)
    assert {r["id"]: r["category"] for r in listed}["flux-ks-wait"] == "convention"
    text = _run("rules", cwd=tmp_path).stdout
    assert any(
        line.startswith("flux-ks-wait") and " convention " in line for line in text.splitlines()
    )
    assert "recommended: correctness, security, style" in text


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("talos/*.sops.yaml", "talos/talsecret.sops.yaml", True),
        ("talos/*.sops.yaml", "talos/nodes/n1.sops.yaml", False),  # * stops at /
        ("talos/**/*.sops.yaml", "talos/nodes/n1.sops.yaml", True),
        ("*.sops.yaml", "kubernetes/a/b.sops.yaml", True),  # no slash: any depth
        ("kubernetes/archive", "kubernetes/archive/old/ks.yaml", True),  # a folder's contents
        ("/bootstrap/**", "bootstrap/a/b.yaml", True),
        ("bootstrap/**", "kubernetes/bootstrap/a.yaml", False),  # anchored
    ],
)
def test_path_patterns_have_gitignore_semantics(pattern: str, path: str, matches: bool) -> None:
    assert path_matches(path, pattern) is matches


def test_gitignored_files_are_not_linted_unless_asked(tmp_path: Path) -> None:
    bad = "kubernetes/apps/default/echo/app/scratch.yaml"
    nested = "kubernetes/apps/default/echo/app/local/x.yaml"
    write_tree(
        tmp_path,
        {
            ".gitignore": "scratch.yaml\n",
            "kubernetes/apps/default/echo/app/.gitignore": "local/\n",
            bad: "a: [\n",
            nested: "b: [\n",
            "kubernetes/ok.yaml": "c: [\n",
        },
    )
    syntax = lint_path(tmp_path, select=["yaml-syntax"]).diagnostics
    assert [d.location.path for d in syntax] == ["kubernetes/ok.yaml"]
    config = attrs.evolve(load_config(tmp_path), select=("yaml-syntax",), respect_gitignore=False)
    everything = homelab_kit.lint(tmp_path, config=config).diagnostics
    assert sorted(d.location.path for d in everything) == sorted(
        [bad, nested, "kubernetes/ok.yaml"]
    )
    cli = _run(
        "lint",
        "--select",
        "yaml-syntax",
        "--no-respect-gitignore",
        "-f",
        "concise",
        ".",
        cwd=tmp_path,
    )
    assert bad in cli.stdout


def test_findings_keep_a_checks_own_severity_unless_configured(tmp_path: Path) -> None:
    module = types.ModuleType("two_severities")
    module.__doc__ = "Two severities.\n\n## What it does\nx\n"
    module.ID = "two-severities"  # type: ignore[attr-defined]

    def check(repo: object, options: object) -> object:
        yield Diagnostic(Location("kubernetes/.keep"), "two-severities", "a", Severity.INFO)

    module.check = check  # type: ignore[attr-defined]

    class Plugin:
        @hookimpl
        def homelab_kit_register_checks(self) -> list[object]:
            return [module]

    write_tree(tmp_path, {"kubernetes/.keep": ""})
    result = lint_path(tmp_path, select=["two-severities"], plugins=[Plugin()])
    assert [d.severity for d in result.diagnostics] == [Severity.INFO]


def test_exclude_takes_gitignore_patterns(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            ".homelab-kit.yaml": "exclude: [kubernetes/archive, '*.draft.yaml']\n",
            "kubernetes/archive/old/x.yaml": "a: [\n",
            "kubernetes/apps/y.draft.yaml": "b: [\n",
            "kubernetes/apps/archive/z.yaml": "c: [\n",  # anchored: not excluded
        },
    )
    syntax = lint_path(tmp_path, select=["yaml-syntax"]).diagnostics
    assert [d.location.path for d in syntax] == ["kubernetes/apps/archive/z.yaml"]
