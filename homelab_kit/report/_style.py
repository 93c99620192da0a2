"""ANSI styling for the human formats: colour only when asked, plain text otherwise."""

from __future__ import annotations

import re

from homelab_kit.diagnostic import Severity

_RESET = "\x1b[0m"
_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "cyan": "36",
}
SEVERITY_STYLE = {
    Severity.ERROR: ("bold", "red"),
    Severity.WARNING: ("bold", "yellow"),
    Severity.INFO: ("bold", "cyan"),
}


class Palette:
    """Wraps text in ANSI SGR codes when ``color`` is true; returns it unchanged otherwise.

    The CLI decides whether colour is wanted (a terminal, ``NO_COLOR``,
    ``FORCE_COLOR``); a reporter only asks its palette.
    """

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        """``text`` in the given styles (``"bold"``, ``"red"``...), or plain."""
        if not self.color or not styles or not text:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}{_RESET}"

    def severity(self, severity: Severity, text: str | None = None) -> str:
        """``text`` (the severity's name by default) in that severity's colour."""
        return self(str(severity) if text is None else text, *SEVERITY_STYLE[severity])


# Terminal control characters, and the bidirectional overrides of "Trojan Source",
# must not reach a terminal from a linted file.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def printable(text: str) -> str:
    """``text`` with control characters (but not tabs) replaced by U+FFFD."""
    return _UNSAFE.sub("\N{REPLACEMENT CHARACTER}", text)


def one_line(text: str) -> str:
    """``text`` on one line: line breaks become spaces, control characters U+FFFD."""
    return printable(_NEWLINES.sub(" ", text))
