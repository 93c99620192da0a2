"""Turn the YAML problems the reader recorded into diagnostics."""

from __future__ import annotations

from collections.abc import Container, Iterator

from homelab_kit import Diagnostic, Location, Repo, Severity


def problems(
    repo: Repo, codes: Container[str], check_id: str, severity: Severity, remediation: str
) -> Iterator[Diagnostic]:
    """One diagnostic per recorded problem whose code is in ``codes``."""
    # Sort only the files with problems (few): sorting every path cost more than the rest.
    for path, yfile in sorted((p, f) for p, f in repo.files.items() if f.problems):
        for problem in yfile.problems:
            if problem.code in codes:
                where = Location(path, problem.line, problem.column)
                yield Diagnostic(where, check_id, problem.message, severity, remediation)
