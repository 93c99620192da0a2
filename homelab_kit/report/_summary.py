"""The closing summary the human formats share: counts by severity and by check."""

from __future__ import annotations

from homelab_kit.diagnostic import Severity
from homelab_kit.lint.result import LintResult
from homelab_kit.report._style import Palette

_SEVERITY_NOUN = {
    Severity.ERROR: ("error", "errors"),
    Severity.WARNING: ("warning", "warnings"),
    Severity.INFO: ("info", "info"),
}


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``"1 file"``, ``"2 files"``; ``many`` when the plural is not ``singular + "s"``."""
    word = singular if count == 1 else (many or singular + "s")
    return f"{count} {word}"


def severity_counts(result: LintResult) -> str:
    """``"2 errors, 1 warning"``: the non-zero severities, worst first."""
    parts = [
        plural(count, *_SEVERITY_NOUN[severity])
        for severity, count in result.counts_by_severity().items()
        if count
    ]
    return ", ".join(parts)


def stats_line(result: LintResult) -> str:
    """``"12 files, 3 apps, 2 namespaces checked in 0.05s (1 suppressed)."``"""
    line = (
        f"{plural(result.files, 'file')}, {plural(result.apps, 'app')}, "
        f"{plural(result.namespaces, 'namespace')} checked in {result.duration:.2f}s"
    )
    if len(result.clusters) > 1:
        line += f" in {len(result.clusters)} clusters ({', '.join(result.clusters)})"
    if result.suppressed:
        line += f" ({result.suppressed} suppressed)"
    return line + "."


def summary_lines(result: LintResult, paint: Palette) -> list[str]:
    """The closing lines of the text and concise formats.

    With findings: a headline, one line per check with its count, then what was
    looked at.  Without: ``All checks passed!`` and what was looked at.
    """
    if not result.diagnostics:
        return [f"{paint('All checks passed!', 'bold', 'green')} {stats_line(result)}"]
    severities = result.counts_by_severity()
    worst = max(s for s, n in severities.items() if n)
    files = len({d.location.path for d in result.diagnostics})
    headline = (
        f"Found {plural(len(result.diagnostics), 'problem')} in {plural(files, 'file')}: "
        f"{severity_counts(result)}."
    )
    lines = [paint.severity(worst, headline)]
    by_check = result.counts_by_check()
    width = max(len(check_id) for check_id in by_check)
    count_width = max(len(str(n)) for n in by_check.values())
    for check_id, count in by_check.items():
        lines.append(f"  {check_id.ljust(width)}  {count:>{count_width}}")
    fixable = sum(1 for d in result.diagnostics if d.fix is not None)
    if fixable:
        lines.append(f"{plural(fixable, 'problem')} can be fixed automatically.")
    lines.append(stats_line(result))
    return lines
