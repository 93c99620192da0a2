"""``lint --baseline FILE``: accept today's findings, fail only on new ones.

The first run writes FILE (JSON) with every finding; later runs drop the findings
it lists and report the entries no finding matches any more as *stale*, so the
baseline shrinks as problems are fixed.  An entry is a finding's file, check ID
and message, without its line: editing above a finding does not make it new.
Two identical findings in one file need two entries.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

import attrs

from homelab_kit.diagnostic import Diagnostic
from homelab_kit.errors import ConfigError
from homelab_kit.fsutil import atomic_write_text
from homelab_kit.location import Location

VERSION = 1

Entry = tuple[str, str, str]  # (path, check ID, message)


@attrs.frozen
class BaselineOutcome:
    """The findings the baseline does not cover, how many it covered, its stale entries."""

    kept: tuple[Diagnostic, ...]
    matched: int
    stale: tuple[Entry, ...]


def entry(diag: Diagnostic) -> Entry:
    return (diag.location.path, diag.check_id, diag.labelled_message)


def write_baseline(path: Path, diagnostics: Iterable[Diagnostic]) -> int:
    """Write every finding to ``path`` atomically; returns how many."""
    entries = sorted(entry(d) for d in diagnostics)
    data = {
        "version": VERSION,
        "tool": "homelab-kit",
        "findings": [{"path": p, "check": c, "message": m} for p, c, m in entries],
    }
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return len(entries)


def read_baseline(path: Path) -> list[Entry]:
    """The entries of a baseline file; a malformed one is a configuration error."""
    where = Location(str(path))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the baseline: {exc.strerror or exc}", where) from None
    except json.JSONDecodeError as exc:
        at = Location(str(path), exc.lineno, exc.colno)
        raise ConfigError(f"the baseline is not valid JSON: {exc.msg}", at) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the baseline is not valid JSON: {exc}", where) from None
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(findings, list) or data.get("version") != VERSION:
        raise ConfigError(
            f"not a homelab-kit baseline (version {VERSION} with a findings list)", where
        )
    entries: list[Entry] = []
    for item in findings:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("path", "check", "message")
        ):
            raise ConfigError("a baseline finding needs path, check and message strings", where)
        entries.append((item["path"], item["check"], item["message"]))
    return entries


def apply_baseline(
    diagnostics: Sequence[Diagnostic],
    entries: Iterable[Entry],
    *,
    ran: Collection[str] | None = None,
) -> BaselineOutcome:
    """Drop the findings ``entries`` list (each entry covers one finding).

    Only entries of checks in ``ran`` (all, when None) can be stale: a check that
    did not run (``--select``) found nothing to match them.
    """
    left = Counter(entries)
    kept: list[Diagnostic] = []
    matched = 0
    for diag in diagnostics:
        key = entry(diag)
        if left[key] > 0:
            left[key] -= 1
            matched += 1
        else:
            kept.append(diag)
    stale = tuple(
        sorted(key for key, n in left.items() if ran is None or key[1] in ran for _ in range(n))
    )
    return BaselineOutcome(tuple(kept), matched, stale)
