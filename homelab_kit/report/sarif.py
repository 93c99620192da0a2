"""The ``sarif`` format: SARIF 2.1.0, as GitHub code scanning and other tools read it.

One run; ``tool.driver.rules`` lists every check that ran (and any check that
reported without being listed), sorted by ID, and each result points at its rule
by ``ruleId`` and ``ruleIndex``.  Paths are relative URIs against the
``%SRCROOT%`` base, which ``originalUriBaseIds`` maps to the repository root.
``partialFingerprints`` hash the check, the path and the message but not the
line, so an alert survives edits above it.  The tests validate the output
against the official OASIS schema.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from typing import Any, ClassVar
from urllib.parse import quote

from homelab_kit.diagnostic import Diagnostic, Severity
from homelab_kit.lint.result import CheckInfo, LintResult
from homelab_kit.report.base import ReportOptions, json_text
from homelab_kit.report.json import TOOL_NAME, tool_version

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "homelabKit/v1"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_URL_LABELS = ("homepage", "documentation", "repository", "source")


def information_uri() -> str | None:
    """The project's home page from the installed distribution's metadata, if any."""
    from importlib import metadata  # only when SARIF is written: a costly import

    try:
        meta = metadata.metadata(TOOL_NAME)
    except metadata.PackageNotFoundError:
        return None
    urls: dict[str, str] = {}
    for entry in meta.get_all("Project-URL") or ():
        label, _, url = entry.partition(",")
        urls[label.strip().lower()] = url.strip()
    for label in _URL_LABELS:
        if urls.get(label, "").startswith(("https://", "http://")):
            return urls[label]
    for home in meta.get_all("Home-page") or ():
        if isinstance(home, str) and home.startswith(("https://", "http://")):
            return home
    return None


def fingerprint(diagnostic: Diagnostic, occurrence: int) -> str:
    """A stable hash of check, path and message (not the line) plus the occurrence number.

    ``occurrence`` tells apart identical findings in the same file (0 for the first).
    """
    text = "\0".join(
        (
            diagnostic.check_id,
            diagnostic.location.path,
            diagnostic.labelled_message,
            str(occurrence),
        )
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _rules(result: LintResult) -> list[CheckInfo]:
    known = {check.id: check for check in result.checks}
    for diagnostic in result.diagnostics:
        if diagnostic.check_id not in known:
            known[diagnostic.check_id] = CheckInfo(
                id=diagnostic.check_id,
                severity=diagnostic.severity,
                summary="",
                plugin="",
            )
    return sorted(known.values(), key=lambda check: check.id)


def _rule(check: CheckInfo) -> dict[str, Any]:
    summary = check.summary or check.id
    rule: dict[str, Any] = {
        "id": check.id,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": summary},
        "help": {"text": f"Run `homelab-kit explain {check.id}` for what the check does and why."},
        "defaultConfiguration": {"level": LEVELS[check.severity]},
        "properties": {"fixable": check.fixable},
    }
    if check.plugin:
        rule["properties"]["plugin"] = check.plugin
    return rule


def _region(diagnostic: Diagnostic) -> dict[str, int] | None:
    location = diagnostic.location
    if location.line <= 0:
        return None
    region = {"startLine": location.line}
    if location.column > 0:
        region["startColumn"] = location.column
    if location.end_line is not None and location.end_line >= location.line:
        region["endLine"] = location.end_line
    if location.column > 0 and location.end_column is not None:
        same_line = region.get("endLine", location.line) == location.line
        if not same_line or location.end_column > location.column:
            region["endColumn"] = location.end_column
    return region


def _result(diagnostic: Diagnostic, rule_index: int, occurrence: int) -> dict[str, Any]:
    text = diagnostic.labelled_message
    if diagnostic.remediation:
        text = f"{text}\nhelp: {diagnostic.remediation}"
    physical: dict[str, Any] = {
        "artifactLocation": {
            "uri": quote(os.fsencode(diagnostic.location.path), safe="/"),
            "uriBaseId": SRCROOT,
        }
    }
    region = _region(diagnostic)
    if region is not None:
        physical["region"] = region
    properties: dict[str, Any] = {"fixable": diagnostic.fix is not None}
    if diagnostic.cluster:
        properties["cluster"] = diagnostic.cluster
    return {
        "ruleId": diagnostic.check_id,
        "ruleIndex": rule_index,
        "level": LEVELS[diagnostic.severity],
        "message": {"text": text},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(diagnostic, occurrence)},
        "properties": properties,
    }


def result_to_sarif(result: LintResult) -> dict[str, Any]:
    """The SARIF log of ``result`` as plain data."""
    rules = _rules(result)
    index = {check.id: i for i, check in enumerate(rules)}
    driver: dict[str, Any] = {"name": TOOL_NAME, "version": tool_version(result)}
    uri = information_uri()
    if uri is not None:
        driver["informationUri"] = uri
    driver["rules"] = [_rule(check) for check in rules]
    seen: Counter[tuple[str, str, str]] = Counter()
    results = []
    for diagnostic in sorted(result.diagnostics):
        key = (diagnostic.check_id, diagnostic.location.path, diagnostic.labelled_message)
        results.append(_result(diagnostic, index[diagnostic.check_id], seen[key]))
        seen[key] += 1
    root_uri = result.root.resolve().as_uri().rstrip("/") + "/"
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "originalUriBaseIds": {SRCROOT: {"uri": root_uri}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


class SarifReporter:
    """The findings as a SARIF 2.1.0 log, for GitHub code scanning."""

    name: ClassVar[str] = "sarif"
    description: ClassVar[str] = "SARIF 2.1.0, for GitHub code scanning."

    def render(self, result: LintResult, options: ReportOptions) -> str:
        """The log, indented, ending in a newline."""
        del options  # SARIF has no colour and no source lines
        return json_text(result_to_sarif(result))
