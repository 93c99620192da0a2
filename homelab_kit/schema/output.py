"""How ``homelab-kit validate`` prints its :class:`~homelab_kit.schema.resources.Resource` results.

``text`` (one line per problem, ``FILE:LINE:COLUMN: severity: message [code]``; with
``verbose`` also ``FILE - Kind name is valid``), ``json``, ``junit`` and ``tap``, and
kubeconform's summary line.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from homelab_kit.report.junit import xml_text
from homelab_kit.schema.resources import Problem, Resource, summary_counts

FORMATS = ("text", "json", "junit", "tap")


def summary_line(resources: Sequence[Resource], files: int, stdin: bool) -> str:
    """``Summary: 2 resources found in 1 file - Valid: 1, Invalid: 1, Errors: 0, Skipped: 0``."""
    counts = summary_counts(resources)
    found = len(resources)
    where = "parsing stdin" if stdin else f"in {files} file{'s' if files > 1 else ''}"
    return (
        f"Summary: {found} resource{'s' if found > 1 else ''} found {where} - "
        f"Valid: {counts['valid']}, Invalid: {counts['invalid']}, "
        f"Errors: {counts['error']}, Skipped: {counts['skipped']}"
    )


def problem_line(resource: Resource, problem: Problem) -> str:
    """``FILE:LINE:COLUMN: severity: Kind name: message [code]``."""
    where = resource.file
    if problem.line:
        where += f":{problem.line}:{problem.column}"
    what = f"{resource.title}: " if resource.kind else ""
    return f"{where}: {problem.severity}: {what}{problem.message} [{problem.code}]"


def render(
    output: str,
    resources: Sequence[Resource],
    *,
    files: int,
    stdin: bool,
    summary: bool,
    verbose: bool,
) -> str:
    """The whole report in ``output`` format (without a final newline)."""
    if output == "json":
        return _json(resources, files, stdin)
    if output == "junit":
        return _junit(resources)
    if output == "tap":
        return _tap(resources)
    lines: list[str] = []
    for resource in resources:
        lines.extend(problem_line(resource, problem) for problem in resource.problems)
        if verbose and resource.status in ("valid", "skipped") and not resource.problems:
            verdict = "is valid" if resource.status == "valid" else "skipped"
            lines.append(f"{resource.file} - {resource.title} {verdict}")
    if summary:
        lines.append(summary_line(resources, files, stdin))
    return "\n".join(lines)


def _json(resources: Sequence[Resource], files: int, stdin: bool) -> str:
    counts = summary_counts(resources)
    document: dict[str, Any] = {
        "resources": [
            {
                "file": r.file,
                "line": r.line,
                "apiVersion": r.api_version,
                "kind": r.kind,
                "name": r.name,
                "namespace": r.namespace,
                "status": r.status,
                "schema": r.schema,
                "problems": [
                    {
                        "line": p.line,
                        "column": p.column,
                        "severity": p.severity,
                        "code": p.code,
                        "message": p.message,
                    }
                    for p in r.problems
                ],
            }
            for r in resources
        ],
        "summary": {
            "resources": len(resources),
            "files": files,
            "stdin": stdin,
            **counts,
        },
    }
    return json.dumps(document, indent=2)


def _junit(resources: Sequence[Resource]) -> str:
    counts = summary_counts(resources)
    root = ET.Element(
        "testsuites",
        {
            "name": "homelab-kit validate",
            "tests": str(len(resources)),
            "failures": str(counts["invalid"]),
            "errors": str(counts["error"]),
            "skipped": str(counts["skipped"]),
            "time": "0",
        },
    )
    by_file: dict[str, list[Resource]] = {}
    for resource in resources:
        by_file.setdefault(resource.file, []).append(resource)
    for number, (file, members) in enumerate(by_file.items()):
        file_counts = summary_counts(members)
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": xml_text(file),
                "id": str(number),
                "tests": str(len(members)),
                "failures": str(file_counts["invalid"]),
                "errors": str(file_counts["error"]),
                "skipped": str(file_counts["skipped"]),
                "time": "0",
            },
        )
        for resource in members:
            case = ET.SubElement(
                suite,
                "testcase",
                {
                    "name": xml_text(resource.title),
                    "classname": xml_text(f"{resource.api_version}/{resource.kind}"),
                    "file": xml_text(file),
                    "line": str(resource.line),
                    "time": "0",
                },
            )
            text = "\n".join(problem_line(resource, p) for p in resource.problems)
            if resource.status in ("invalid", "error"):
                tag = "failure" if resource.status == "invalid" else "error"
                first = resource.problems[0].message if resource.problems else resource.status
                element = ET.SubElement(case, tag, {"message": xml_text(first), "type": tag})
                element.text = xml_text(text)
            elif resource.status == "skipped":
                ET.SubElement(case, "skipped", {"message": xml_text(text or "skipped")})
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _tap(resources: Sequence[Resource]) -> str:
    lines = ["TAP version 13"]
    for number, resource in enumerate(resources, start=1):
        head = f"{resource.file} ({resource.reference})"
        if resource.status in ("invalid", "error"):
            reason = "; ".join(p.message for p in resource.problems if p.severity == "error")
            lines.append(f"not ok {number} - {head} - {reason or resource.status}")
        elif resource.status == "skipped":
            lines.append(f"ok {number} - {head} # skip")
        else:
            lines.append(f"ok {number} - {head}")
    lines.append(f"1..{len(resources)}")
    return "\n".join(lines)
