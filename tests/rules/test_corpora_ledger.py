"""docs/corpora.md, the per-check counts on ../shared/corpora then and now, stays true.

Each corpus is linted once (a module fixture); the document's "now" column must be
what lint reports.  Regenerate it with ``python -m tests.rules.corpora_ledger --write``
and give every moved count its reason.
"""

from __future__ import annotations

import collections

import pytest

from tests.conftest import corpus_path
from tests.rules import corpora_ledger as ledger
from tests.rules.corpora_ledger import NOT_REVIEWED, Row

TEXT = ledger.LEDGER.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def linted() -> dict[str, collections.Counter[tuple[str, str]]]:
    """Counts per corpus, filled on first use: one lint per corpus for the module."""
    return {}


@pytest.mark.corpora
@pytest.mark.parametrize("name", ledger.LEDGER_CORPORA)
def test_the_now_column_is_what_lint_reports(
    name: str, linted: dict[str, collections.Counter[tuple[str, str]]]
) -> None:
    corpus_path(name)  # skips, with the reason, when ../shared is absent
    if name not in linted:
        linted[name] = ledger.lint_counts(name)
    found = {key: n for key, n in linted[name].items() if n}
    stale = "docs/corpora.md is stale: run `python -m tests.rules.corpora_ledger --write`"
    assert ledger.now_counts(ledger.parse(TEXT)[name]) == found, stale


def test_every_corpus_has_a_table() -> None:
    assert list(ledger.parse(TEXT)) == list(ledger.LEDGER_CORPORA)


@pytest.mark.parametrize("name", ledger.LEDGER_CORPORA)
def test_every_moved_count_has_a_reviewed_reason(name: str) -> None:
    unexplained = [
        f"{r.check} ({r.severity}) {r.then} -> {r.now}"
        for r in ledger.parse(TEXT)[name]
        if r.then != r.now and (not r.why or NOT_REVIEWED in r.why)
    ]
    assert unexplained == []


def test_the_totals_add_up_and_the_tables_are_as_the_tool_writes_them() -> None:
    tables = ledger.parse(TEXT)
    unchanged = {name: ledger.now_counts(rows) for name, rows in tables.items()}
    assert ledger.update(TEXT, unchanged) == TEXT


def test_write_updates_now_marks_what_moved_adds_and_drops_rows() -> None:
    rows = [
        Row("flux-ks-wait", "warning", 3, 3),
        Row("flux-ks-prune", "error", 2, 0, "Owner's choice."),
        Row("yaml-syntax", "error", 1, 1),
    ]
    counts = {
        ("flux-ks-wait", "warning"): 5,
        ("flux-ks-prune", "error"): 0,
        ("api-removed", "error"): 1,
    }
    assert ledger.merge(rows, counts) == [
        Row("api-removed", "error", 0, 1, f"{NOT_REVIEWED}: 0 at the last review."),
        Row("flux-ks-prune", "error", 2, 0, "Owner's choice."),
        Row("flux-ks-wait", "warning", 3, 5, f"{NOT_REVIEWED}: 3 at the last review."),
        Row("yaml-syntax", "error", 1, 0, f"{NOT_REVIEWED}: 1 at the last review."),
    ]
    # A row at 0 then and now goes; a table round-trips through the document.
    assert ledger.merge([Row("api-removed", "error", 0, 1, "New.")], {}) == []
    doc = "<!-- ledger a -->\n" + ledger.render_rows(rows) + "<!-- /ledger -->\n"
    assert ledger.parse(doc) == {"a": rows}
