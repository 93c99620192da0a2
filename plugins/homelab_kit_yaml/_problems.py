"""Turn the YAML problems the reader recorded into diagnostics."""

from __future__ import annotations

from collections.abc import Container, Iterator

from homelab_kit import Diagnostic, Location, Repo, Severity


def problems(
    repo: Repo, codes: Container[str], check_id: str, severity: Severity, remediation: str
) -> Iterator[Diagnostic]:
    """One diagnostic per recorded problem whose code is in ``codes``."""
    for path, yfile in sorted(repo.files.items()):
        for problem in yfile.problems:
            if problem.code in codes:
                where = Location(path, problem.line, problem.column)
                yield Diagnostic(where, check_id, problem.message, severity, remediation)
