"""The corpora ledger: per-check finding counts on ../shared/corpora, then and now.

docs/corpora.md holds, for each corpus, a table of ``check | severity | then | now |
why``: *then* is the count at the commit issue 16 was filed on, *now* is what
``homelab-kit lint DIR --no-cache`` reports today (default preset, every finding), and
*why* says why the two differ.  tests/rules/test_corpora_ledger.py fails when *now* is
no longer what lint reports, or when a changed count has no reviewed reason.

Regenerate the *now* column (and the totals) after a change that moves findings::

    .venv/bin/python -m tests.rules.corpora_ledger --write

A row whose count moved gets ``Not yet reviewed: ...`` in its reason, which the test
refuses until someone reads the findings that moved and writes why.  Without
``--write`` the command only compares and exits 1 on a difference.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
from collections.abc import Iterable, Mapping

import attrs

from tests.conftest import CORPORA, CORPUS_NAMES, PROJECT_ROOT

LEDGER = PROJECT_ROOT / "docs" / "corpora.md"
LEDGER_CORPORA = (*CORPUS_NAMES, "onedr0p__home-ops-2024")
SEVERITIES = ("error", "warning", "info")
NOT_REVIEWED = "Not yet reviewed"

Counts = Mapping[tuple[str, str], int]

_BLOCK = re.compile(r"(<!-- ledger (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- /ledger -->)", re.S)
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_HEADER = "| check | severity | then | now | why it changed |\n|---|---|--:|--:|---|\n"
_TOTALS_HEADER = (
    "| repository | then: errors | warnings | info | now: errors | warnings | info |\n"
    "|---|--:|--:|--:|--:|--:|--:|\n"
)


@attrs.frozen
class Row:
    """One check at one severity on one corpus."""

    check: str
    severity: str
    then: int
    now: int
    why: str = ""


def lint_counts(name: str) -> collections.Counter[tuple[str, str]]:
    """``(check, severity) -> findings`` of ``homelab-kit lint CORPUS --no-cache``."""
    from homelab_kit.testing import lint_path

    result = lint_path(CORPORA / name)
    return collections.Counter((d.check_id, str(d.severity)) for d in result.diagnostics)


def parse(text: str) -> dict[str, list[Row]]:
    """Every corpus table of the ledger, by corpus name (the totals are derived)."""
    out: dict[str, list[Row]] = {}
    for match in _BLOCK.finditer(text):
        if match.group("name") == "totals":
            continue
        rows = []
        for line in match.group("body").splitlines()[2:]:
            cells = [c.strip() for c in _CELL_SPLIT.split(line.strip())[1:-1]]
            if len(cells) != 5:
                raise ValueError(f"{match.group('name')}: not a ledger row: {line!r}")
            check, severity, then, now, why = cells
            rows.append(Row(check.strip("`"), severity, int(then), int(now), why))
        out[match.group("name")] = rows
    return out


def now_counts(rows: Iterable[Row]) -> dict[tuple[str, str], int]:
    """The *now* column as counts, without the zero rows."""
    return {(r.check, r.severity): r.now for r in rows if r.now}


def merge(rows: Iterable[Row], counts: Counts) -> list[Row]:
    """``rows`` with *now* set from ``counts``: a moved count is marked for review, a
    new check gets a row (then 0), a row at 0 then and now is dropped."""
    by_key = {(r.check, r.severity): r for r in rows}
    out = []
    for key in sorted(set(by_key) | {k for k, n in counts.items() if n}):
        old = by_key.get(key, Row(*key, then=0, now=0))
        now = counts.get(key, 0)
        why = old.why
        if now != old.now and now != old.then and NOT_REVIEWED not in why:
            note = f"{NOT_REVIEWED}: {old.now} at the last review."
            why = f"{note} {why}".strip()
        if old.then or now:
            out.append(attrs.evolve(old, now=now, why=why))
    return out


def render_rows(rows: Iterable[Row]) -> str:
    lines = [f"| `{r.check}` | {r.severity} | {r.then} | {r.now} | {r.why} |\n" for r in rows]
    return _HEADER + "".join(lines)


def render_totals(ledger: Mapping[str, list[Row]]) -> str:
    lines = []
    for name, rows in ledger.items():
        then = [sum(r.then for r in rows if r.severity == s) for s in SEVERITIES]
        now = [sum(r.now for r in rows if r.severity == s) for s in SEVERITIES]
        lines.append("| " + " | ".join([name, *map(str, then), *map(str, now)]) + " |\n")
    return _TOTALS_HEADER + "".join(lines)


def update(text: str, counts: Mapping[str, Counts]) -> str:
    """The ledger document with the *now* column of each corpus in ``counts``."""
    ledger = parse(text)
    missing = set(counts) - set(ledger)
    if missing:
        raise ValueError(f"docs/corpora.md has no table for {', '.join(sorted(missing))}")
    for name, found in counts.items():
        ledger[name] = merge(ledger[name], found)

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        body = render_totals(ledger) if name == "totals" else render_rows(ledger[name])
        return match.group(1) + body + match.group(4)

    return _BLOCK.sub(replace, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.rules.corpora_ledger")
    parser.add_argument("--write", action="store_true", help="rewrite the now column")
    args = parser.parse_args(argv)
    names = [n for n in LEDGER_CORPORA if (CORPORA / n).is_dir()]
    if not names:
        print(f"{CORPORA} is absent: nothing to compare", file=sys.stderr)
        return 2
    text = LEDGER.read_text(encoding="utf-8")
    new = update(text, {name: lint_counts(name) for name in names})
    before, after = parse(text), parse(new)
    moved = []
    for name in names:
        old, now = now_counts(before[name]), now_counts(after[name])
        for check, severity in sorted(set(old) | set(now)):
            was, count = old.get((check, severity), 0), now.get((check, severity), 0)
            if was != count:
                moved.append(f"{name}: {check} ({severity}) {was} -> {count}")
    print("\n".join(moved) or "docs/corpora.md is up to date")
    if args.write and new != text:
        tmp = LEDGER.with_suffix(".md.tmp")
        tmp.write_text(new, encoding="utf-8")
        tmp.replace(LEDGER)
        print(f"wrote {LEDGER}; give every row marked '{NOT_REVIEWED}' its reason")
        return 0
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
