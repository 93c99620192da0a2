"""``lint --add-noqa``: suppress today's findings with inline comments, as ruff does.

Each finding gets ``# homelab-kit: ignore[ID] TODO: reason`` at the end of its line
(IDs are merged into a suppression comment already there).  A finding of the whole
file (line 0), or one whose line cannot take a comment without changing the data
(inside a block scalar or a multi-line string), gets ``ignore-file`` at the top
instead.  Every file is re-parsed before it is written: a file whose documents
would change is left alone and reported.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import attrs

from homelab_kit.diagnostic import Diagnostic
from homelab_kit.yaml.reader import parse_text

REASON = "TODO: say why"
_EXISTING = re.compile(r"#\s*homelab-kit:\s*ignore\[([^\]]*)\]")


@attrs.frozen
class NoqaOutcome:
    """Comments added, files changed, and files left alone (with why)."""

    added: int
    changed: tuple[str, ...]
    skipped: tuple[str, ...]


def add_noqa(root: Path, diagnostics: Iterable[Diagnostic]) -> NoqaOutcome:
    """Add a suppression comment for each of ``diagnostics`` under ``root``."""
    from homelab_kit.yaml.edit import atomic_write

    by_file: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for diag in diagnostics:
        if diag.location.path in ("", "."):
            continue
        by_file[diag.location.path][max(diag.location.line, 0)].add(diag.check_id)
    added = 0
    changed: list[str] = []
    skipped: list[str] = []
    for rel in sorted(by_file):
        target = root / rel
        try:
            text = target.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            skipped.append(f"{rel}: cannot read it ({exc})")
            continue
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        new_text, count = _annotate(text[len(bom) :], by_file[rel])
        if new_text is None:
            skipped.append(f"{rel}: a comment would change its data; suppress by hand")
            continue
        atomic_write(target, bom + new_text, root)
        added += count
        changed.append(rel)
    return NoqaOutcome(added, tuple(changed), tuple(skipped))


def _annotate(text: str, lines: dict[int, set[str]]) -> tuple[str | None, int]:
    """``text`` with the comments added and how many, or None when unsafe."""
    before, problems = parse_text(text)
    data = [d.data for d in before]
    out = text.splitlines(keepends=True)
    whole_file: set[str] = set(lines.get(0, ()))
    count = 0
    for number in sorted(n for n in lines if n > 0):
        ids = lines[number]
        if number > len(out) or problems:
            whole_file |= ids
            continue
        attempt = list(out)
        attempt[number - 1] = _with_comment(out[number - 1], ids)
        after, _ = parse_text("".join(attempt))
        if [d.data for d in after] == data:
            out = attempt
            count += 1
        else:  # inside a block scalar or a quoted string: the file-wide form instead
            whole_file |= ids
    if whole_file:
        ending = "\r\n" if text.endswith("\r\n") else "\n"
        comment = f"# homelab-kit: ignore-file[{', '.join(sorted(whole_file))}] {REASON}{ending}"
        out.insert(0, comment)
        count += 1
    new_text = "".join(out)
    after, _ = parse_text(new_text)
    if not problems and [d.data for d in after] != data:
        return None, 0
    return new_text, count


def _with_comment(line: str, ids: set[str]) -> str:
    body = line.rstrip("\r\n")
    ending = line[len(body) :]
    existing = _EXISTING.search(body)
    if existing is not None:
        named = [i.strip() for i in existing.group(1).split(",") if i.strip()]
        merged = ", ".join(named + sorted(ids - set(named)))
        return body[: existing.start(1)] + merged + body[existing.end(1) :] + ending
    return f"{body}  # homelab-kit: ignore[{', '.join(sorted(ids))}] {REASON}{ending}"
