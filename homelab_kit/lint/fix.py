"""``lint --fix`` and ``--diff``: apply the fixes checks offer, keeping everything else."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import attrs

from homelab_kit.diagnostic import Edit
from homelab_kit.errors import HomelabKitError
from homelab_kit.lint.result import LintResult
from homelab_kit.location import Location

if TYPE_CHECKING:
    from homelab_kit.report._source import Redactor


@attrs.frozen
class FixOutcome:
    """What fixing did: the files changed, the fixes applied, and a unified diff.

    ``fixed`` counts the applied fixes by file and check ID (``--show-fixes``);
    ``hidden`` is how many unsafe fixes were left for ``--unsafe-fixes``.
    """

    changed: tuple[str, ...]
    applied: int
    skipped: tuple[str, ...]
    diff: str
    fixed: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)
    hidden: int = 0

    def summary_lines(self, *, show_fixes: bool = False) -> list[str]:
        lines = [f"Fixed {self.applied} finding(s) in {len(self.changed)} file(s)."]
        for path in self.changed:
            lines.append(f"  {path}")
            if show_fixes:
                lines += [f"    {n} x {cid}" for cid, n in sorted(self.fixed.get(path, {}).items())]
        lines += [f"  not fixed: {reason}" for reason in self.skipped]
        if self.hidden:
            lines.append(
                f"{self.hidden} unsafe fix(es) not applied: they may change how the cluster "
                "behaves (apply them with --unsafe-fixes)."
            )
        return lines


def apply_fixes(result: LintResult, *, write: bool, unsafe: bool = False) -> FixOutcome:
    """Apply the fixes in ``result``; with ``write=False`` only compute the diff.

    Safe fixes only, unless ``unsafe``: then unsafe ones too (ruff's applicability).

    Edits to one file are applied together through round-trip editing, so
    comments, order, quoting and indentation survive; each file is written
    atomically.  A file whose edits cannot be applied is left untouched.
    """
    from homelab_kit.yaml.edit import apply_edits, atomic_write

    by_path: dict[str, list[Edit]] = defaultdict(list)
    counted: dict[str, int] = defaultdict(int)
    by_check: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    hidden = 0
    for diag in result.diagnostics:
        if diag.fix is None:
            continue
        if not diag.fix.safe and not unsafe:
            hidden += 1
            continue
        for edit in diag.fix.edits:
            by_path[edit.path].append(edit)
        first = diag.fix.edits[0].path if diag.fix.edits else ""
        counted[first] += 1
        by_check[first][diag.check_id] += 1
    changed: list[str] = []
    skipped: list[str] = []
    diffs: list[str] = []
    applied = 0
    for rel in sorted(by_path):
        target = Path(result.root) / rel
        try:
            raw = target.read_bytes()
            text = raw.decode("utf-8-sig")
            new_text = apply_edits(text, by_path[rel])
        except (OSError, UnicodeDecodeError, HomelabKitError, ValueError) as exc:
            skipped.append(f"{Location(rel)}: {exc}")
            continue
        if raw.startswith(b"\xef\xbb\xbf"):
            new_text = "\ufeff" + new_text
            text = "\ufeff" + text
        if new_text == text:
            continue
        diffs.append(redacted_diff(rel, text, new_text))
        if write:
            atomic_write(target, new_text, result.root)
        changed.append(rel)
        applied += counted.get(rel, 0)
    fixed = {path: dict(by_check[path]) for path in changed}
    return FixOutcome(tuple(changed), applied, tuple(skipped), "".join(diffs), fixed, hidden)


def redacted_diff(rel: str, old: str, new: str) -> str:
    """A unified diff of ``rel`` from ``old`` to ``new``, no secret value shown.

    Every line it prints (removed, added and the unchanged context around them) is
    redacted as the text format's source lines are: a fix next to a password must
    not print the password.
    """
    from homelab_kit.report._source import Redactor  # the text format's rules, as they are

    name = PurePosixPath(rel).name
    before = Redactor(name, old.removeprefix("\ufeff"))
    after = Redactor(name, new.removeprefix("\ufeff"))
    a, b = _lines(before), _lines(after)
    out = [f"--- a/{rel}\n", f"+++ b/{rel}\n"]
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(3):
        (_, i1, _, j1, _), (_, _, i2, _, j2) = group[0], group[-1]
        out.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [f" {before.text(i)}\n" for i in range(i1, i2)]
                continue
            out += [f"-{before.text(i)}\n" for i in range(i1, i2)]
            out += [f"+{after.text(j)}\n" for j in range(j1, j2)]
    return "".join(out)


def _lines(redactor: Redactor) -> list[str]:
    lines = list(redactor.lines)
    return lines[:-1] if lines and lines[-1] == "" else lines


def _range(start: int, stop: int) -> str:
    """A hunk's range as unified diffs write it (``difflib``'s own convention)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"
