"""The ``github`` format: GitHub Actions workflow commands, shown as annotations.

Each finding becomes ``::error``, ``::warning`` or ``::notice`` with ``file``,
``line``, ``col``, ``endLine``, ``endColumn`` and ``title`` (the check ID).
The message starts with the location, as ruff does, because the job log shows
only the message.  Data and properties are escaped as the Actions runner
unescapes them (``%``, ``\\r``, ``\\n``; in properties also ``:`` and ``,``), so a
message can neither break the command nor inject another one.  Chosen
automatically when ``GITHUB_ACTIONS=true`` (see :func:`choose_default_format`).
"""

from __future__ import annotations

import re
from typing import ClassVar

from homelab_kit.diagnostic import Diagnostic, Severity
from homelab_kit.lint.result import LintResult
from homelab_kit.report._style import Palette
from homelab_kit.report._summary import summary_lines
from homelab_kit.report.base import ReportOptions

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


# Terminal escapes (ESC, BEL...) and bidirectional overrides from a file name or an
# object name must not reach the job log raw; they become U+FFFD, as in the text format.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape_data(text: str) -> str:
    """Escape a command's message: ``%``, ``\\r``, ``\\n``; other control characters to U+FFFD."""
    text = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: as data, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(diagnostic: Diagnostic) -> str:
    """The workflow command for one finding."""
    location = diagnostic.location
    properties = [("file", location.path)]
    if location.line > 0:
        properties.append(("line", str(location.line)))
        if location.column > 0:
            properties.append(("col", str(location.column)))
        if location.end_line is not None and location.end_line >= location.line:
            properties.append(("endLine", str(location.end_line)))
            if location.column > 0 and location.end_column is not None:
                properties.append(("endColumn", str(location.end_column)))
    properties.append(("title", diagnostic.check_id))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    message = f"{location}: {diagnostic.labelled_message} [{diagnostic.check_id}]"
    if diagnostic.remediation:
        message += f"\nhelp: {diagnostic.remediation}"
    return f"::{COMMANDS[diagnostic.severity]} {rendered}::{escape_data(message)}"


class GithubReporter:
    """Workflow commands that GitHub Actions turns into annotations, then a summary."""

    name: ClassVar[str] = "github"
    description: ClassVar[str] = "GitHub Actions annotations (default when GITHUB_ACTIONS=true)."

    def render(self, result: LintResult, options: ReportOptions) -> str:
        """The commands, one per line, then the plain summary, ending in a newline."""
        del options  # the job log is not a terminal: never colour
        lines = [command(d) for d in sorted(result.diagnostics)]
        if lines:
            lines.append("")
        lines.extend(summary_lines(result, Palette(False)))
        return "\n".join(lines) + "\n"
