"""``homelab-kit diff``: what each cluster would apply differently between two revisions.

:func:`load_revision` reads a repository as of any commit from Git's objects
(never checking out, never touching the working tree) into the same
:class:`~homelab_kit.model.repo.Repo` :func:`homelab_kit.load` builds;
:func:`diff` builds every cluster's desired state at both revisions and compares
them (:mod:`homelab_kit.diff.compare`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence

from homelab_kit.config import load_config
from homelab_kit.diff.compare import BuildError, DiffResult, ObjectChange, compare
from homelab_kit.diff.git import WORKING_TREE, GitError, Worktree, changed_lines
from homelab_kit.model.loader import find_root, load, paused_gc
from homelab_kit.model.repo import Repo

__all__ = [
    "WORKING_TREE",
    "BuildError",
    "DiffResult",
    "GitError",
    "ObjectChange",
    "Worktree",
    "changed_lines",
    "diff",
    "load_revision",
]


@contextlib.contextmanager
def load_revision(path: str | os.PathLike[str], ref: str = WORKING_TREE) -> Iterator[Repo]:
    """The repository at ``path`` as of ``ref`` (a commit, branch or tag; or the working tree).

    The revision's own ``.homelab-kit.yaml`` decides what is read.  The repository
    is valid inside the ``with`` block (its files are read from a temporary folder
    that is removed on leaving; :attr:`Repo.root` points there).

    :raises GitError: ``path`` is not in a Git work tree, or ``ref`` is unknown.
    """
    from homelab_kit.lint import load_options

    root = find_root(path)
    if ref == WORKING_TREE:
        with paused_gc():
            yield load(root, load_options(load_config(root)))
        return
    worktree = Worktree.of(root)
    commit = worktree.commit(ref)
    with worktree.checkout_free(commit) as tree, paused_gc():
        yield load(tree, load_options(load_config(tree)))


def diff(
    path: str | os.PathLike[str] = ".",
    *,
    base: str | None = None,
    head: str = WORKING_TREE,
    clusters: Sequence[str] = (),
) -> DiffResult:
    """Compare every cluster's desired state at ``base`` and ``head``.

    :param path: any folder inside the repository.
    :param base: a revision; default the merge base of ``HEAD`` and the default
        branch (``origin/HEAD``, else ``main``, else ``master``).
    :param head: a revision, or :data:`WORKING_TREE` (the default).
    :param clusters: only these clusters (default: all of both revisions).
    :raises GitError: not a Git work tree, an unknown revision, no default branch.
    :raises HomelabKitError: a name in ``clusters`` neither revision has.
    """
    from homelab_kit.errors import HomelabKitError

    root = find_root(path)
    worktree = Worktree.of(root)
    base_ref = base or worktree.default_base()
    base_commit = worktree.commit(base_ref)
    head_label = "working tree" if head == WORKING_TREE else _short(worktree, head)
    with load_revision(root, base_commit) as before, load_revision(root, head) as after:
        old, new = before.clusters, after.clusters
        if clusters:
            known = {c.name for c in (*old, *new)}
            unknown = [n for n in clusters if n not in known]
            if unknown:
                raise HomelabKitError(
                    f"no cluster {unknown[0]!r} at either revision "
                    f"(clusters: {', '.join(sorted(known)) or 'none'})"
                )
            old = tuple(c for c in old if c.name in clusters)
            new = tuple(c for c in new if c.name in clusters)
        return compare(old, new, base_label=_short(worktree, base_commit), head_label=head_label)


def _short(worktree: Worktree, ref: str) -> str:
    return worktree.commit(ref)[:12]
