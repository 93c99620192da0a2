"""The ``junit`` format: JUnit XML, as GitLab, Jenkins and test dashboards read it.

As ruff does: one ``<testsuite>`` per file with findings, one ``<testcase>`` per
finding with a ``<failure>`` (``type`` is the severity).  A clean run has one
passing test case, so CI tools that reject an empty report do not fail.  Text
that XML 1.0 cannot hold (control characters), C1 controls and bidirectional
overrides become U+FFFD, as in the text format; the rest is escaped by
:mod:`xml.etree.ElementTree`.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, ClassVar

from homelab_kit.diagnostic import Diagnostic
from homelab_kit.lint.result import LintResult
from homelab_kit.report.base import ReportOptions
from homelab_kit.report.json import TOOL_NAME
from homelab_kit.report.text import by_file

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

# Every run registers this format; only a run that writes it pays for the XML
# library and this pattern (a few milliseconds of start-up: docs/performance.md).


@functools.cache
def _not_xml() -> re.Pattern[str]:
    return re.compile(
        "[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
        "|[\u202a-\u202e\u2066-\u2069]"
    )


def xml_text(text: str) -> str:
    """``text`` with what XML 1.0 cannot hold, and what disguises text, as U+FFFD."""
    return _not_xml().sub("\N{REPLACEMENT CHARACTER}", text)


def _testcase(suite: ET.Element, diagnostic: Diagnostic) -> None:
    import xml.etree.ElementTree as ET

    location = diagnostic.location
    position = f"{location.line}:{location.column}" if location.line > 0 else "file"
    case = ET.SubElement(
        suite,
        "testcase",
        {
            "name": xml_text(f"{diagnostic.check_id} ({position})"),
            "classname": xml_text(location.path),
            "file": xml_text(location.path),
            "time": "0",
        },
    )
    if location.line > 0:
        case.set("line", str(location.line))
    failure = ET.SubElement(
        case,
        "failure",
        {"message": xml_text(diagnostic.labelled_message), "type": str(diagnostic.severity)},
    )
    body = f"{location}: {diagnostic.severity}[{diagnostic.check_id}] {diagnostic.labelled_message}"
    if diagnostic.remediation:
        body += f"\nhelp: {diagnostic.remediation}"
    failure.text = xml_text(body)


class JunitReporter:
    """The findings as JUnit XML: a test suite per file, a failing test case per finding."""

    name: ClassVar[str] = "junit"
    description: ClassVar[str] = "JUnit XML: a test suite per file, a failure per finding."

    def render(self, result: LintResult, options: ReportOptions) -> str:
        """The XML document with its declaration, ending in a newline."""
        import xml.etree.ElementTree as ET

        del options  # XML has no colour and no source lines
        total = len(result.diagnostics)
        time = f"{result.duration:.3f}"
        root = ET.Element(
            "testsuites",
            {
                "name": TOOL_NAME,
                "tests": str(max(total, 1)),
                "failures": str(total),
                "errors": "0",
                "time": time,
            },
        )
        for path, group in by_file(result.diagnostics):
            suite = ET.SubElement(
                root,
                "testsuite",
                {
                    "name": xml_text(path),
                    "tests": str(len(group)),
                    "failures": str(len(group)),
                    "errors": "0",
                    "skipped": "0",
                    "time": "0",
                },
            )
            for diagnostic in group:
                _testcase(suite, diagnostic)
        if not total:
            suite = ET.SubElement(
                root,
                "testsuite",
                {
                    "name": TOOL_NAME,
                    "tests": "1",
                    "failures": "0",
                    "errors": "0",
                    "skipped": "0",
                    "time": time,
                },
            )
            ET.SubElement(suite, "testcase", {"name": "lint", "classname": TOOL_NAME, "time": time})
        ET.indent(root)
        body = ET.tostring(root, encoding="unicode")
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
