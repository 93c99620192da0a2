"""The reporter interface: turn a LintResult into text."""

from __future__ import annotations

from typing import ClassVar, Protocol

import attrs

from homelab_kit.lint.result import LintResult


@attrs.frozen
class ReportOptions:
    """How to render: colour (only on a terminal), source lines, terminal width.

    ``summary`` false (``lint --quiet``) leaves out the closing summary lines.
    """

    color: bool = False
    show_source: bool = True
    width: int = 100
    summary: bool = True


class Reporter(Protocol):
    """An output format registered through ``homelab_kit_register_formats``."""

    name: ClassVar[str]
    description: ClassVar[str]

    def render(self, result: LintResult, options: ReportOptions) -> str: ...
