"""The text and concise formats: exact output, source handling, colour."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from homelab_kit.diagnostic import Diagnostic, Severity
from homelab_kit.lint.result import LintResult
from homelab_kit.location import Location
from homelab_kit.report import ConciseReporter, ReportOptions, TextReporter
from homelab_kit.testing import YamlTree

MakeResult = Callable[..., LintResult]

ANSI = re.compile(r"\x1b\[[0-9;]*m")

SUMMARY = """\
Found 5 problems in 4 files: 3 errors, 1 warning, 1 info.
  flux-ks-interval     1
  flux-ks-prune        1
  helm-values-schema   2
  yaml-document-start  1
1 problem can be fixed automatically.
4 files, 1 app, 1 namespace checked in 0.12s (2 suppressed).
"""


def test_text_shows_source_caret_and_help_grouped_by_file(sample: LintResult) -> None:
    assert TextReporter().render(sample, ReportOptions()) == (
        """\
kubernetes/apps/gone.yaml:3:1: error[helm-values-schema] Value replicas is not an integer
  = help: Use a number.

kubernetes/apps/media/ks.yaml:7:13: warning[flux-ks-interval] Kustomization media syncs every 1m
  |
7 |   interval: 1m
  |             ^

kubernetes/apps/media/ks.yaml:8:10: error[flux-ks-prune] Kustomization media does not prune
  |
8 |   prune: false
  |          ^^^^^
  = help: Set spec.prune: true.
  = fix: Set spec.prune to true

kubernetes/apps/media/kustomization.yaml: info[yaml-document-start] File does not start with ---
  = help: Add --- as the first line.

kubernetes/blob.bin:1:1: error[helm-values-schema] Not a YAML file

"""
        + SUMMARY
    )


def test_concise_is_one_line_per_finding(sample: LintResult) -> None:
    assert ConciseReporter().render(sample, ReportOptions()) == (
        """\
kubernetes/apps/gone.yaml:3:1: error[helm-values-schema] Value replicas is not an integer
kubernetes/apps/media/ks.yaml:7:13: warning[flux-ks-interval] Kustomization media syncs every 1m
kubernetes/apps/media/ks.yaml:8:10: error[flux-ks-prune] Kustomization media does not prune
kubernetes/apps/media/kustomization.yaml: info[yaml-document-start] File does not start with ---
kubernetes/blob.bin:1:1: error[helm-values-schema] Not a YAML file

"""
        + SUMMARY
    )


def test_clean_run(clean: LintResult) -> None:
    expected = "All checks passed! 4 files, 1 app, 1 namespace checked in 0.12s.\n"
    assert TextReporter().render(clean, ReportOptions()) == expected
    assert ConciseReporter().render(clean, ReportOptions()) == expected


def test_no_source_when_show_source_is_off(sample: LintResult) -> None:
    text = TextReporter().render(sample, ReportOptions(show_source=False))
    assert "prune: false" not in text
    assert " |" not in text
    assert "  = help: Set spec.prune: true.\n" in text


def test_plain_without_colour_and_coloured_with_it(sample: LintResult, clean: LintResult) -> None:
    for reporter in (TextReporter(), ConciseReporter()):
        for result in (sample, clean):
            plain = reporter.render(result, ReportOptions(color=False))
            coloured = reporter.render(result, ReportOptions(color=True))
            assert "\x1b" not in plain
            assert "\x1b[" in coloured
            assert ANSI.sub("", coloured) == plain
    coloured = TextReporter().render(sample, ReportOptions(color=True))
    assert "\x1b[1;31merror[flux-ks-prune]\x1b[0m" in coloured
    assert "\x1b[1;33mwarning[flux-ks-interval]\x1b[0m" in coloured


def test_each_file_is_read_once(sample: LintResult, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    real_open = Path.open

    def counting_open(self: Path, *args: object, **kwargs: object) -> object:
        opened.append(self.name)
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", counting_open)
    TextReporter().render(sample, ReportOptions())
    assert sorted(opened) == ["blob.bin", "ks.yaml"]


def _render_one(root: Path, diagnostic: Diagnostic, width: int = 100) -> str:
    result = LintResult(root, (diagnostic,))
    return TextReporter().render(result, ReportOptions(width=width))


def test_whole_file_and_column_zero(yaml_tree: YamlTree) -> None:
    root = yaml_tree({"a.yaml": "key: value\nother: 1\n"})
    text = _render_one(root, Diagnostic(Location("a.yaml", 2), "x-check", "Line only"))
    assert text.startswith("a.yaml:2: error[x-check] Line only\n  |\n2 | other: 1\n\n")


def test_line_past_the_end_and_paths_outside_the_root(yaml_tree: YamlTree, tmp_path: Path) -> None:
    root = yaml_tree({"repo/a.yaml": "key: value\n", "outside.yaml": "PLANTED-OUTSIDE: x\n"})
    repo = root / "repo"
    (repo / "link.yaml").symlink_to(root / "outside.yaml")
    for path in ("a.yaml", "../outside.yaml", str(root / "outside.yaml"), "link.yaml"):
        line = 9 if path == "a.yaml" else 1
        text = _render_one(repo, Diagnostic(Location(path, line, 1), "x-check", "Somewhere"))
        assert " |" not in text, path
        assert "PLANTED-OUTSIDE" not in text


def test_tabs_wide_characters_and_control_characters(yaml_tree: YamlTree) -> None:
    root = yaml_tree({"a.yaml": "k:\t\x1b[31mv\n名前: x\n"})
    text = _render_one(root, Diagnostic(Location("a.yaml", 1, 4), "x-check", "Bad\x1b[2Jmsg\nnext"))
    assert "a.yaml:1:4: error[x-check] Bad\ufffd[2Jmsg next\n" in text
    assert "1 | k:    \ufffd[31mv\n  |       ^\n" in text
    text = _render_one(root, Diagnostic(Location("a.yaml", 2, 5), "x-check", "Wide"))
    assert "2 | 名前: x\n  |       ^\n" in text  # two cells per wide character


def test_long_lines_are_cut_around_the_column(yaml_tree: YamlTree) -> None:
    line = "name: " + "a" * 200 + "TARGET" + "b" * 200
    root = yaml_tree({"a.yaml": line + "\n"})
    column = line.index("TARGET") + 1
    text = _render_one(
        root,
        Diagnostic(Location("a.yaml", 1, column, end_column=column + 6), "x-check", "Long"),
        width=60,
    )
    source, caret = text.splitlines()[2:4]
    assert source.startswith("1 | …")
    assert source.endswith("…")
    assert len(source) <= 60
    assert source[caret.index("^") : caret.index("^") + 6] == "TARGET"
    assert caret.count("^") == 6


def test_severity_order_and_plurals(yaml_tree: YamlTree, result_for: MakeResult) -> None:
    root = yaml_tree({"a.yaml": "a: 1\n"})
    diagnostics = tuple(
        Diagnostic(Location("a.yaml", 1, 1), "x-check", f"m{i}", Severity.INFO) for i in range(2)
    )
    result = result_for(root, diagnostics, files=1, apps=0, namespaces=2, suppressed=0)
    assert (
        ConciseReporter()
        .render(result, ReportOptions())
        .endswith(
            "Found 2 problems in 1 file: 2 info.\n"
            "  x-check  2\n"
            "1 file, 0 apps, 2 namespaces checked in 0.12s.\n"
        )
    )
