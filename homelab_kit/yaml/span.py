"""Where a finding ends: the span of the YAML token that starts at a line and column.

Checks report where something starts (a key, a value); reports want a region (SARIF
``endLine``/``endColumn``, GitHub annotations, carets under the whole token).
:func:`span_end` reads it from the text, as YAML lays it out:

* a key (``privileged: true``): the key and its value on the same line, without a
  comment (a key whose value is a nested block spans the key and its colon);
* a quoted scalar: to its closing quote, across lines if it runs on;
* a flow collection (``{...}``, ``[...]``): to its matching bracket;
* a block scalar (``|``, ``>``): its indicator and every more-indented line after it;
* a sequence item (``- x``): the item on its line;
* any other scalar: to the end of the line, without a comment or trailing blanks.

Columns are 1-based and the end is exclusive (the column after the last character),
as SARIF defines ``endColumn``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_PLAIN_KEY = re.compile(r"""[^\s#'"\[\]{},&*!|>%@`][^:#]*?(?=:(?:\s|$))""")
_QUOTED_KEY = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')(?=\s*:(?:\s|$))""")
_COMMENT = re.compile(r"\s+#.*$")


def span_end(lines: Sequence[str], line: int, column: int) -> tuple[int, int] | None:
    """``(end line, end column)`` of the token at 1-based ``line``/``column``; None if none."""
    if not 1 <= line <= len(lines) or column < 1:
        return None
    text = lines[line - 1].rstrip("\r\n")
    start = column - 1
    if start >= len(text) or text[start].isspace():
        return None
    key = _QUOTED_KEY.match(text, start) or _PLAIN_KEY.match(text, start)
    if key is not None:
        after = text.index(":", key.end()) + 1
        value = _value_start(text, after)
        if value is None:
            return line, after + 1  # the value is a block below: the key and its colon
        return _value_end(lines, line, value, key_indent=start)
    if text.startswith("- ", start) or text[start:] == "-":
        value = _value_start(text, start + 1)
        return (line, start + 2) if value is None else _value_end(lines, line, value, start)
    return _value_end(lines, line, start, key_indent=_indent(text))


def _value_start(text: str, index: int) -> int | None:
    """The index of the first character of a value after ``index``; None if there is none."""
    rest = text[index:]
    stripped = rest.lstrip()
    if not stripped or stripped.startswith("#"):
        return None
    return index + len(rest) - len(stripped)


def _value_end(lines: Sequence[str], line: int, start: int, key_indent: int) -> tuple[int, int]:
    text = lines[line - 1].rstrip("\r\n")
    first = text[start]
    if first in "\"'":
        return _quoted_end(lines, line, start, first)
    if first in "[{":
        return _flow_end(lines, line, start)
    if first in "|>":
        return _block_end(lines, line, key_indent)
    end = len(_COMMENT.sub("", text).rstrip())
    return line, max(end, start + 1) + 1


def _quoted_end(lines: Sequence[str], line: int, start: int, quote: str) -> tuple[int, int]:
    index = start + 1
    for number in range(line, len(lines) + 1):
        text = lines[number - 1].rstrip("\r\n")
        while index < len(text):
            char = text[index]
            if quote == '"' and char == "\\":
                index += 2
                continue
            if char == quote:
                if quote == "'" and text[index + 1 : index + 2] == "'":
                    index += 2
                    continue
                return number, index + 2
            index += 1
        index = 0
    return line, len(lines[line - 1].rstrip("\r\n")) + 1


def _flow_end(lines: Sequence[str], line: int, start: int) -> tuple[int, int]:
    depth = 0
    quote = ""
    index = start
    for number in range(line, len(lines) + 1):
        text = lines[number - 1].rstrip("\r\n")
        while index < len(text):
            char = text[index]
            if quote:
                if char == quote:
                    quote = ""
            elif char in "\"'":
                quote = char
            elif char in "[{":
                depth += 1
            elif char in "]}":
                depth -= 1
                if depth == 0:
                    return number, index + 2
            elif char == "#" and index > 0 and text[index - 1].isspace():
                break
            index += 1
        index = 0
    return line, len(lines[line - 1].rstrip("\r\n")) + 1


def _block_end(lines: Sequence[str], line: int, key_indent: int) -> tuple[int, int]:
    end_line, end_column = line, len(lines[line - 1].rstrip("\r\n")) + 1
    for number in range(line + 1, len(lines) + 1):
        text = lines[number - 1].rstrip("\r\n")
        if not text.strip():
            continue
        if _indent(text) <= key_indent:
            break
        end_line, end_column = number, len(text) + 1
    return end_line, end_column


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))
