"""Where something came from: a file and a 1-based line and column."""

from __future__ import annotations

import attrs


@attrs.frozen(order=True)
class Location:
    """A position in a file of the repository.

    ``path`` is relative to the repository root and uses ``/`` separators, so a
    location reads the same on every machine and in every report.  ``line`` and
    ``column`` are 1-based, as editors show them; 0 means "the whole file".
    """

    path: str
    line: int = 0
    column: int = 0
    end_line: int | None = attrs.field(default=None, eq=False, order=False)
    end_column: int | None = attrs.field(default=None, eq=False, order=False)

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        if self.column <= 0:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"
