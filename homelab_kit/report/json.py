"""The ``json`` format: a versioned, documented schema for scripts and dashboards.

The schema is ``homelab_kit/report/schemas/lint-output-v1.json`` (JSON Schema
draft 2020-12) and docs/output-formats.md describes it.  Within version 1 fields
are only ever added; a rename or removal bumps ``version``.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from homelab_kit.diagnostic import Diagnostic, Severity
from homelab_kit.lint.result import LintResult
from homelab_kit.report.base import ReportOptions, json_text

SCHEMA_VERSION = 1
SCHEMA_RESOURCE = "lint-output-v1.json"
TOOL_NAME = "homelab-kit"


def tool_version(result: LintResult) -> str:
    """The version that produced ``result``: its own record, else this package's."""
    if result.tool_version:
        return result.tool_version
    from homelab_kit import __version__

    return __version__


def schema() -> dict[str, Any]:
    """The JSON Schema of this format, as shipped in the package."""
    from importlib import resources

    text = (
        resources.files("homelab_kit.report.schemas").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def diagnostic_to_dict(diagnostic: Diagnostic) -> dict[str, Any]:
    """One finding as the ``diagnostics`` array holds it."""
    location = diagnostic.location
    return {
        "path": location.path,
        "line": location.line,
        "column": location.column,
        "end_line": location.end_line,
        "end_column": location.end_column,
        "check_id": diagnostic.check_id,
        "severity": str(diagnostic.severity),
        "message": diagnostic.message,
        "remediation": diagnostic.remediation,
        "fixable": diagnostic.fix is not None,
        "cluster": diagnostic.cluster,
    }


def summary_to_dict(result: LintResult) -> dict[str, Any]:
    """The ``summary`` object: counts, and what was looked at."""
    severities = result.counts_by_severity()
    return {
        "total": len(result.diagnostics),
        "errors": severities[Severity.ERROR],
        "warnings": severities[Severity.WARNING],
        "info": severities[Severity.INFO],
        "fixable": sum(1 for d in result.diagnostics if d.fix is not None),
        "suppressed": result.suppressed,
        "by_check": result.counts_by_check(),
        "files": result.files,
        "apps": result.apps,
        "namespaces": result.namespaces,
        "clusters": list(result.clusters),
        "duration": round(result.duration, 3),
    }


def result_to_dict(result: LintResult) -> dict[str, Any]:
    """The whole document, as :class:`JsonReporter` prints it."""
    return {
        "version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": tool_version(result)},
        "root": result.root.as_posix(),
        "summary": summary_to_dict(result),
        "checks": [
            {
                "id": check.id,
                "severity": str(check.severity),
                "summary": check.summary,
                "plugin": check.plugin,
                "fixable": check.fixable,
            }
            for check in sorted(result.checks, key=lambda c: c.id)
        ],
        "diagnostics": [diagnostic_to_dict(d) for d in sorted(result.diagnostics)],
    }


class JsonReporter:
    """The findings as one JSON document (schema version 1)."""

    name: ClassVar[str] = "json"
    description: ClassVar[str] = "JSON, schema version 1 (see docs/output-formats.md)."

    def render(self, result: LintResult, options: ReportOptions) -> str:
        """The document, indented, ending in a newline."""
        del options  # JSON has no colour and no source lines
        return json_text(result_to_dict(result))
