"""The human formats: ``text`` (the default, with source) and ``concise`` (one line each).

``text`` reads like ruff's or rustc's output, grouped by file::

    kubernetes/apps/media/ks.yaml:12:5: error[flux-ks-prune] Kustomization media does not prune
       |
    12 |     prune: false
       |     ^^^^^
       = help: Set spec.prune: true.

and closes with counts by severity and by check.  The quoted source line never
shows a value that may be secret (see :mod:`homelab_kit.report._source`).
Colour is used only when ``options.color`` is set; the CLI decides that.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, ClassVar

from homelab_kit.diagnostic import Diagnostic
from homelab_kit.lint.result import LintResult
from homelab_kit.report._style import SEVERITY_STYLE, Palette, one_line, printable
from homelab_kit.report._summary import summary_lines
from homelab_kit.report.base import ReportOptions

if TYPE_CHECKING:
    from homelab_kit.report._source import SourceCache, SourceLine

TAB = "    "
ELLIPSIS = "…"
MIN_SOURCE_CELLS = 20


def header(diagnostic: Diagnostic, paint: Palette) -> str:
    """``path:line:col: severity[check-id] message``, the first line of a finding.

    A finding about one cluster of several reads ``severity[check-id] [cluster main] message``.
    """
    location = one_line(str(diagnostic.location))
    label = paint.severity(diagnostic.severity, f"{diagnostic.severity}[{diagnostic.check_id}]")
    return f"{paint(location + ':', 'bold')} {label} {one_line(diagnostic.labelled_message)}"


def by_file(diagnostics: Iterable[Diagnostic]) -> Iterator[tuple[str, list[Diagnostic]]]:
    """The diagnostics grouped by path, paths in order, each group in order."""
    ordered = sorted(diagnostics)
    for path, group in itertools.groupby(ordered, key=lambda d: d.location.path):
        yield path, list(group)


class TextReporter:
    """Each finding with its source line and a caret, grouped by file, then a summary."""

    name: ClassVar[str] = "text"
    description: ClassVar[str] = "Findings with source and help, grouped by file (default)."

    def render(self, result: LintResult, options: ReportOptions) -> str:
        """The report, ending in a newline."""
        paint = Palette(options.color)
        source = None
        if options.show_source and result.diagnostics:
            # Imported here: a clean run (a warm one most often) never reads a line.
            from homelab_kit.report._source import SourceCache

            source = SourceCache(result.root)
        lines: list[str] = []
        for _path, group in by_file(result.diagnostics):
            for diagnostic in group:
                lines.extend(_finding(diagnostic, source, paint, options.width))
                lines.append("")
        if options.summary:
            lines.extend(summary_lines(result, paint))
        return "\n".join(lines) + "\n" if lines else ""


class ConciseReporter:
    """One line per finding, then the summary."""

    name: ClassVar[str] = "concise"
    description: ClassVar[str] = "One line per finding: path:line:col: severity[check] message."

    def render(self, result: LintResult, options: ReportOptions) -> str:
        """The report, ending in a newline."""
        paint = Palette(options.color)
        lines = [header(d, paint) for _path, group in by_file(result.diagnostics) for d in group]
        if lines and options.summary:
            lines.append("")
        if options.summary:
            lines.extend(summary_lines(result, paint))
        return "\n".join(lines) + "\n" if lines else ""


def _finding(
    diagnostic: Diagnostic, source: SourceCache | None, paint: Palette, width: int
) -> list[str]:
    lines = [header(diagnostic, paint)]
    location = diagnostic.location
    shown = source.line(location.path, location.line) if source is not None else None
    gutter_width = len(str(location.line)) if shown is not None else 1
    if shown is not None:
        text, pad, carets = _snippet(
            shown, location.column, _caret_length(diagnostic), width - gutter_width - 3
        )
        blank_gutter = paint(" " * gutter_width + " |", "bold", "blue")
        lines.append(blank_gutter)
        lines.append(f"{paint(f'{location.line} |', 'bold', 'blue')} {text}".rstrip())
        if carets:
            marker = paint("^" * carets, *SEVERITY_STYLE[diagnostic.severity])
            lines.append(f"{blank_gutter} {' ' * pad}{marker}")
    note = " " * gutter_width + " = "
    if shown is not None and shown.redacted:
        lines.append(f"{note}{paint('note', 'bold')}: value hidden, it may be a secret")
    if diagnostic.remediation:
        lines.append(f"{note}{paint('help', 'bold')}: {one_line(diagnostic.remediation)}")
    if diagnostic.fix is not None:
        lines.append(f"{note}{paint('fix', 'bold')}: {one_line(diagnostic.fix.description)}")
    return lines


def _caret_length(diagnostic: Diagnostic) -> int:
    location = diagnostic.location
    same_line = location.end_line is None or location.end_line == location.line
    if same_line and location.end_column is not None and location.end_column > location.column:
        return location.end_column - location.column
    return 1


def _drawn(char: str) -> str:
    """How a character is drawn: tabs as spaces, control characters as U+FFFD."""
    return TAB if char == "\t" else printable(char)


def _cells(drawn: str) -> int:
    """Terminal cells ``drawn`` takes: wide characters two, combining marks none."""
    total = 0
    for char in drawn:
        if not unicodedata.combining(char):
            total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


def _snippet(shown: SourceLine, column: int, length: int, max_cells: int) -> tuple[str, int, int]:
    """The line to print, and the caret's offset and width under it (0 wide: no caret).

    A line wider than ``max_cells`` is cut around the column, with ``…`` where cut.
    When the column falls in a hidden value the caret points at the mask.
    """
    from homelab_kit.report._source import MASK

    text = shown.text
    start = column - 1
    if start >= 0:
        if shown.redacted and start >= shown.verbatim:
            start, length = len(text) - len(MASK), len(MASK)
        start = min(start, len(text))
        length = max(1, min(length, len(text) - start))
    drawn = [_drawn(char) for char in text]
    widths = [_cells(piece) for piece in drawn]
    first, last = _window(widths, max(start, 0), max(max_cells, MIN_SOURCE_CELLS))
    prefix = ELLIPSIS if first > 0 else ""
    suffix = ELLIPSIS if last < len(drawn) else ""
    line = prefix + "".join(drawn[first:last]) + suffix
    if start < 0:
        return line, 0, 0
    pad = len(prefix) + sum(widths[first:start])
    carets = max(1, sum(widths[start : min(start + length, last)]))
    return line, pad, carets


def _window(widths: list[int], start: int, max_cells: int) -> tuple[int, int]:
    """The characters ``[first, last)`` to show: all of them, or a window around ``start``."""
    if sum(widths) <= max_cells:
        return 0, len(widths)
    budget = max_cells - 2  # room for an ellipsis on each side
    first, used = start, 0
    while first > 0 and used + widths[first - 1] <= budget // 3:  # a third for context
        first -= 1
        used += widths[first]
    last = start
    while last < len(widths) and used + widths[last] <= budget:
        used += widths[last]
        last += 1
    while first > 0 and used + widths[first - 1] <= budget:  # room left at the end of the line
        first -= 1
        used += widths[first]
    return first, max(last, min(start + 1, len(widths)))
