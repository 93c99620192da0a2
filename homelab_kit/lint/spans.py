"""Give every finding an end: the region a report underlines, annotates or highlights.

Checks say where a problem starts; :func:`with_ends` reads each file with findings
once (safely: :class:`~homelab_kit.report._source.SourceCache`) and sets
``end_line``/``end_column`` from the YAML token at that position
(:func:`homelab_kit.yaml.span.span_end`; an empty region where there is none, such as
the end of a file), unless the check set them itself.  Only
positions are computed: no text of the file reaches the finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from homelab_kit.diagnostic import Diagnostic

if TYPE_CHECKING:
    from homelab_kit.report._source import SourceCache


def with_ends(root: Path, diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """``diagnostics``, each with an end where its start names a token of its file."""
    files: SourceCache | None = None  # imported (2-3 ms, its patterns) when a finding needs it
    out: list[Diagnostic] = []
    for diagnostic in diagnostics:
        location = diagnostic.location
        if location.end_line is None and location.line > 0 and location.column > 0:
            if files is None:
                from homelab_kit.report._source import SourceCache

                files = SourceCache(root)
            from homelab_kit.yaml.span import span_end

            lines = files.raw_lines(location.path)
            end = span_end(lines, location.line, location.column) if lines else None
            # No token there (the end of a file, a blank): an empty region at the start.
            end_line, end_column = end or (location.line, location.column)
            location = attrs.evolve(location, end_line=end_line, end_column=end_column)
            diagnostic = attrs.evolve(diagnostic, location=location)
        out.append(diagnostic)
    return out
