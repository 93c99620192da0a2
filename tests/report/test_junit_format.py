"""The junit format: well-formed XML whose counts match the findings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from homelab_kit.diagnostic import Diagnostic
from homelab_kit.lint.result import LintResult
from homelab_kit.location import Location
from homelab_kit.report import JunitReporter, ReportOptions


def _parse(result: LintResult) -> ET.Element:
    text = JunitReporter().render(result, ReportOptions(color=True))
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')
    assert "\x1b" not in text
    return ET.fromstring(text.encode("utf-8"))


def test_a_suite_per_file_and_a_failure_per_finding(sample: LintResult) -> None:
    root = _parse(sample)
    assert root.tag == "testsuites"
    assert root.attrib == {
        "name": "homelab-kit",
        "tests": "5",
        "failures": "5",
        "errors": "0",
        "time": "0.123",
    }
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "kubernetes/apps/gone.yaml",
        "kubernetes/apps/media/ks.yaml",
        "kubernetes/apps/media/kustomization.yaml",
        "kubernetes/blob.bin",
    ]
    for suite in suites:
        cases = suite.findall("testcase")
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == str(len(suite.findall("testcase/failure")))
    assert len(root.findall("testsuite/testcase/failure")) == len(sample.diagnostics)
    prune = suites[1].findall("testcase")[1]
    assert prune.attrib == {
        "name": "flux-ks-prune (8:10)",
        "classname": "kubernetes/apps/media/ks.yaml",
        "file": "kubernetes/apps/media/ks.yaml",
        "line": "8",
        "time": "0",
    }
    failure = prune.find("failure")
    assert failure is not None
    assert failure.attrib == {"message": "Kustomization media does not prune", "type": "error"}
    assert failure.text == (
        "kubernetes/apps/media/ks.yaml:8:10: error[flux-ks-prune] "
        "Kustomization media does not prune\nhelp: Set spec.prune: true."
    )
    whole_file = suites[2].find("testcase")
    assert whole_file is not None
    assert whole_file.get("name") == "yaml-document-start (file)"
    assert "line" not in whole_file.attrib


def test_a_clean_run_has_one_passing_test(clean: LintResult) -> None:
    root = _parse(clean)
    assert root.get("tests") == "1"
    assert root.get("failures") == "0"
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["lint"]
    assert root.findall(".//failure") == []


def test_markup_and_control_characters_are_escaped(tmp_path: Path) -> None:
    message = 'bad <tag> & "quote" \x1b[31m\x00 ]]> end'
    diagnostic = Diagnostic(Location("a&b<c>.yaml", 1, 1), "x-check", message)
    root = _parse(LintResult(tmp_path, (diagnostic,)))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == 'bad <tag> & "quote" \ufffd[31m\ufffd ]]> end'
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("name") == "a&b<c>.yaml"
