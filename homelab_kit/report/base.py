"""The reporter interface: turn a LintResult into text."""

from __future__ import annotations

import json
import re
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


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_text(value: object) -> str:
    """``value`` as indented JSON, non-ASCII text as itself, ending in a line break.

    A file name that is not UTF-8 reaches Python as lone surrogates, which no UTF-8
    output can hold: each is written as its JSON escape (``\\udcfe``), which a JSON
    reader turns back into the same string.
    """
    text = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    if _LONE_SURROGATE.search(text) is None:
        return text
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
