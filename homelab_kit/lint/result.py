"""What a lint run produced: the input every reporter renders."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import attrs

from homelab_kit.diagnostic import Diagnostic, Severity


@attrs.frozen
class CheckInfo:
    """A check as reporters describe it."""

    id: str
    severity: Severity
    summary: str
    plugin: str
    fixable: bool = False


@attrs.frozen
class LintResult:
    """The findings of one run, sorted by location, and what was looked at.

    ``root`` is the repository root; every diagnostic's path is relative to it.
    ``clusters`` are the names of the clusters checked (see ``Repo.clusters``).
    """

    root: Path
    diagnostics: tuple[Diagnostic, ...]
    checks: tuple[CheckInfo, ...] = ()
    files: int = 0
    apps: int = 0
    namespaces: int = 0
    suppressed: int = 0
    duration: float = 0.0
    tool_version: str = ""
    clusters: tuple[str, ...] = ()

    def counts_by_severity(self) -> dict[Severity, int]:
        counts = Counter(d.severity for d in self.diagnostics)
        return {s: counts.get(s, 0) for s in sorted(Severity, reverse=True)}

    def counts_by_check(self) -> dict[str, int]:
        return dict(sorted(Counter(d.check_id for d in self.diagnostics).items()))

    def check(self, check_id: str) -> CheckInfo | None:
        for info in self.checks:
            if info.id == check_id:
                return info
        return None
