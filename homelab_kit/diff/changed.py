"""``lint --diff-base REF``: keep only the findings on what changed since ``REF``.

The whole repository is checked (a finding may need every file), then a finding
is kept when its location is

- on a line added or modified since ``REF`` (``git diff`` of the working tree,
  untracked files wholly; reviewdog's ``added`` filter), or
- in a changed object: a YAML document holding such a line, or a document whose
  object the desired state of some cluster applies differently (or newly) since
  ``REF`` (:func:`homelab_kit.diff.diff`), so that a change to a shared component
  also gates the findings it brings to each object it reaches.

A finding on a whole file (no line) is kept when the file changed at all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import attrs

from homelab_kit.diagnostic import Diagnostic
from homelab_kit.diff.git import Worktree, changed_lines
from homelab_kit.lint.result import LintResult
from homelab_kit.model.loader import find_root
from homelab_kit.yaml import load_file


@attrs.frozen
class ChangedSince:
    """What changed in the working tree since a revision: lines, and objects' first lines."""

    lines: Mapping[str, frozenset[int] | None]  # None: a new file, every line
    objects: Mapping[str, frozenset[int]]  # path -> where changed objects are written

    def keeps(self, diagnostic: Diagnostic, documents: Sequence[tuple[int, int]] = ()) -> bool:
        """Whether ``diagnostic`` lies on a changed line or in a changed object.

        ``documents`` are the (first, last) lines of the documents of its file.
        """
        path, line = diagnostic.location.path, diagnostic.location.line
        changed = self.lines.get(path, frozenset())
        starts = self.objects.get(path, frozenset())
        if changed is None:
            return True
        if line <= 0:
            return bool(changed or starts)
        if line in changed:
            return True
        for first, last in documents:
            if first <= line <= last:
                return any(first <= n <= last for n in (*starts, *changed))
        return False


def changed_since(path: str | os.PathLike[str], base: str) -> ChangedSince:
    """Lines and objects of the working tree changed since ``base``.

    :raises GitError: not a Git work tree, or ``base`` unknown.
    """
    from homelab_kit.diff import diff

    root = find_root(path)
    worktree = Worktree.of(root)
    commit = worktree.commit(base)
    lines = changed_lines(worktree, commit)
    objects: dict[str, set[int]] = {}
    for change in diff(root, base=commit).changes:
        if change.status != "removed" and change.source.line > 0:
            objects.setdefault(change.source.path, set()).add(change.source.line)
    return ChangedSince(lines, {p: frozenset(s) for p, s in objects.items()})


def only_changed(result: LintResult, changed: ChangedSince) -> LintResult:
    """``result`` with only the findings :meth:`ChangedSince.keeps`."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    kept: list[Diagnostic] = []
    for diagnostic in result.diagnostics:
        path = diagnostic.location.path
        if path not in ranges:
            ranges[path] = _documents(result, path)
        if changed.keeps(diagnostic, ranges[path]):
            kept.append(diagnostic)
    return attrs.evolve(result, diagnostics=tuple(kept))


def _documents(result: LintResult, path: str) -> list[tuple[int, int]]:
    """The (first, last) lines of each YAML document of ``path`` in the working tree."""
    if not path.endswith((".yaml", ".yml")):
        return []
    full = result.root / path
    if not full.is_file():
        return []
    return [(d.start_line, d.end_line) for d in load_file(str(full), path).documents]
