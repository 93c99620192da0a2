"""Ignore patterns (a ``.gitignore``, ``exclude``, path patterns of the configuration).

They mean what pathspec's ``GitIgnoreSpec`` makes of them, but importing pathspec
costs every lint 10-12 ms of CPU (typing_extensions, its optional backends looked
for), most often for patterns made of names, ``/`` and ``*`` only (``.venv/``,
``*.pyc``, ``benchmarks/.venv/``, ``talos/*.sops.yaml``, ``kubernetes/flux/**``).
Those are translated here into the regular expression pathspec would make (the same
steps as its ``GitIgnoreSpecPattern``: a single segment matches at any depth, a
leading or inner ``/`` anchors at the folder of the patterns, ``*`` is anything but
``/``, ``**`` any number of folders, a trailing ``/`` only folders).  A list with
any other line (``!``, ``?``, ``[``, a backslash, leading blanks) goes to pathspec
whole, as before.  tests/core/test_gitignore.py holds the two to the same answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

# What a line may hold to be translated here (besides "/" and "*").
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+@%~=,:")


class IgnoreSpec(Protocol):
    """What matches a path (``/``-separated, relative; a folder ends with ``/``)."""

    def match_file(self, file: str) -> bool: ...


class _Globs:
    """The lines' expressions as one (every line includes: any match is a match)."""

    __slots__ = ("_search",)

    def __init__(self, regexes: list[str]) -> None:
        # Searched, as pathspec does (most expressions start with "^").
        self._search = re.compile("|".join(f"(?:{r})" for r in regexes)).search if regexes else None

    def match_file(self, file: str) -> bool:
        if self._search is None:
            return False
        if file.startswith("/"):  # as pathspec normalises (os.sep is "/" where we run)
            file = file[1:]
        elif file.startswith("./"):
            file = file[2:]
        return self._search(file) is not None


class _NotPlain(Exception):
    pass


def _regex(line: str) -> str | None:
    """pathspec's expression of one line (None: a blank or a comment)."""
    pattern = line.rstrip()  # no "\ " here: a backslash is not plain
    if not pattern or pattern.startswith("#") or pattern == "/":
        return None
    if not _PLAIN.issuperset(pattern.replace("/", "").replace("*", "")):
        raise _NotPlain
    segs = pattern.split("/")
    is_dir = not segs[-1]
    if not segs[0]:
        del segs[0]
    elif (len(segs) == 1 or (len(segs) == 2 and not segs[1])) and segs[0] != "**":
        segs.insert(0, "**")
    if not segs or "" in segs[:-1]:
        raise _NotPlain  # "//" and the like: pathspec's own errors and edge cases
    if not segs[-1]:
        segs[-1] = "**"
    segs = [s for i, s in enumerate(segs) if not (i and s == "**" and segs[i - 1] == "**")]
    if segs == ["**"]:
        return "/" if is_dir else "."
    if segs == ["**", "*"]:
        return "."
    if segs == ["**", "*", "**"]:
        return "/"
    out: list[str] = []
    need_slash = False
    end = len(segs) - 1
    for i, seg in enumerate(segs):
        if seg == "**":
            if i == 0:
                out.append("^(?:.+/)?")
            elif i < end:
                out.append("(?:/.+)?")
                need_slash = True
            else:
                out.append("/")
            continue
        if i == 0:
            out.append("^")
        if need_slash:
            out.append("/")
        if seg == "*":
            out.append("[^/]+")
        else:
            out.append("[^/]*".join(re.escape(part) for part in seg.split("*")))
        if i == end:
            out.append("(?:/|$)")
        need_slash = True
    return "".join(out)


def ignore_spec(lines: Iterable[str]) -> IgnoreSpec:
    """``pathspec.GitIgnoreSpec.from_lines(lines)``, without pathspec for plain lines."""
    lines = list(lines)
    try:
        regexes = [r for r in map(_regex, lines) if r is not None]
    except _NotPlain:
        import pathspec

        return pathspec.GitIgnoreSpec.from_lines(lines)
    return _Globs(regexes)
