"""Every real repository lints end to end, in every output format, with no internal error.

The corpora in ``../shared/corpora`` were written by other people for their own
clusters: whatever they hold, homelab-kit reads them to the end.  Each is linted
once through the library, then through the CLI in every registered format (to
standard output and with ``--output``), then once more in a fresh process with a
different hash seed: the findings must be the same every time.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

import homelab_kit
from homelab_kit.lint import LintResult
from homelab_kit.report import ReportOptions
from homelab_kit.report import json as json_format
from tests.conftest import CORPUS_NAMES, corpus_path
from tests.robustness.conftest import (
    assert_no_crash,
    format_names,
    internal_errors,
    render_all,
    run_cli,
    run_main,
    stable,
)

pytestmark = pytest.mark.corpora

_RESULTS: dict[str, LintResult] = {}


def corpus_result(name: str) -> LintResult:
    """The library's lint of a corpus, once per session."""
    if name not in _RESULTS:
        _RESULTS[name] = homelab_kit.lint(corpus_path(name))
    return _RESULTS[name]


def _check_report(fmt: str, text: str) -> None:
    """A report is well-formed for its format."""
    assert text.endswith("\n")
    assert "Traceback" not in text
    if fmt == "json":
        document = json.loads(text)
        jsonschema.validate(document, json_format.schema())
    elif fmt == "sarif":
        document = json.loads(text)
        assert document["version"] == "2.1.0"
        assert document["runs"][0]["results"]
    elif fmt == "junit":
        assert ET.fromstring(text).tag in ("testsuites", "testsuite")
    elif fmt == "github":
        rows = [r for r in text.splitlines() if r.startswith("::")]
        assert rows
        assert all(r.startswith(("::error ", "::warning ", "::notice ")) for r in rows)


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_corpus_lints_without_internal_error_in_every_format(name: str) -> None:
    result = corpus_result(name)
    assert internal_errors(result) == []
    assert result.files > 100
    assert result.diagnostics
    for fmt, report in render_all(result).items():
        if fmt in format_names():
            _check_report(fmt, report)


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_corpus_through_the_cli_in_every_format(name: str, tmp_path: Path) -> None:
    root = corpus_path(name)
    for fmt in format_names():
        run = run_main("lint", "--format", fmt, root)
        assert_no_crash(run)
        assert run.returncode == 1  # every corpus has errors
        _check_report(fmt, run.stdout)
        target = tmp_path / f"report.{fmt}"
        written = run_main("lint", "--format", fmt, "--output", target, root)
        assert_no_crash(written)
        assert written.stdout == ""
        _check_report(fmt, target.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_corpus_findings_are_the_same_in_a_fresh_process(name: str) -> None:
    """Another process, another hash seed, no cache: the same findings, in the same order."""
    run = run_cli(
        "lint", "--no-cache", "--format", "json", corpus_path(name), env={"PYTHONHASHSEED": "7"}
    )
    assert_no_crash(run)
    fresh = json.loads(run.stdout)["diagnostics"]
    mine = json.loads(json_format.JsonReporter().render(corpus_result(name), ReportOptions()))
    assert fresh == mine["diagnostics"]


def test_a_repeated_lint_is_identical() -> None:
    name = CORPUS_NAMES[0]
    assert stable(homelab_kit.lint(corpus_path(name))) == stable(corpus_result(name))
