"""Reading a revision of a repository from Git's objects, and what changed since one.

Nothing here checks out, writes in the user's working tree or in ``.git``, or runs
code from the repository: Git is asked only for objects (``ls-tree``, ``cat-file``)
and for differences (``diff``), with hooks, pagers, external diff drivers and
fsmonitor turned off.

A revision is read into a private temporary folder (mode 0700, removed on exit):
the loader and the renderer then read it exactly as they read a working tree.  Git
stores a symbolic link as a blob (mode 120000) holding its target; it is written
back as a link when its target stays inside the repository, and otherwise as a
link to a path outside it that does not exist, so the loader reports it as it
reports such a link in a working tree ("symbolic link leaving the repository")
and nothing outside the tree is ever read.  Submodules are not read.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import attrs

from homelab_kit.errors import HomelabKitError

WORKING_TREE = "WORKTREE"
"""The name ``--head`` takes for the working tree (its default)."""

_SAFE = (
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.quotePath=false",
    "-c",
    "diff.external=",
    "-c",
    "core.hooksPath=/dev/null",
)
_OUTSIDE = "outside-the-repository"


class GitError(HomelabKitError):
    """Git is missing, the folder is not in a Git work tree, or a revision is unknown."""


def git(args: list[str], cwd: Path, *, stdin: bytes | None = None) -> bytes:
    """Run ``git`` in ``cwd`` and return its standard output.

    :raises GitError: git is not installed or exits with an error (its first line).
    """
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PAGER": "cat",
        "GIT_OPTIONAL_LOCKS": "0",
        "LC_ALL": "C",
    }
    try:
        done = subprocess.run(
            ["git", *_SAFE, *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed (it is needed to read revisions)") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]}: {message[0] if message else 'failed'}")
    return done.stdout


@attrs.frozen
class Worktree:
    """Where a homelab repository sits in its Git work tree.

    ``top`` is the work tree's top folder, ``prefix`` the repository root relative
    to it (``""`` when they are the same, else ``"infra/"``).
    """

    top: Path
    prefix: str

    @classmethod
    def of(cls, root: Path) -> Worktree:
        """The work tree holding ``root``.

        :raises GitError: ``root`` is not inside a Git work tree.
        """
        try:
            out = git(["rev-parse", "--show-toplevel", "--show-prefix"], root)
        except GitError:
            raise GitError(
                f"{root}: not inside a Git work tree (diff compares revisions)"
            ) from None
        top, prefix = [*out.decode("utf-8").split("\n"), "", ""][:2]
        return cls(Path(top), prefix)

    def commit(self, ref: str) -> str:
        """The commit ``ref`` names (a branch, tag, SHA or ``HEAD~2``).

        :raises GitError: no such revision.
        """
        if ref.startswith("-"):
            raise GitError(f"{ref!r} is not a revision")
        try:
            return (
                git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], self.top)
                .decode("ascii")
                .strip()
            )
        except GitError:
            raise GitError(f"unknown revision {ref!r}") from None

    def default_branch(self) -> str | None:
        """``origin/HEAD``'s branch, else ``main``, else ``master`` (local or origin's)."""
        try:
            head = git(["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"], self.top)
            return head.decode("utf-8").strip().removeprefix("refs/remotes/")
        except GitError:
            pass
        for name in ("main", "master", "origin/main", "origin/master"):
            with contextlib.suppress(GitError):
                self.commit(name)
                return name
        return None

    def default_base(self) -> str:
        """The merge base of ``HEAD`` and the default branch: what a pull request compares with.

        :raises GitError: no default branch, or no common history.
        """
        branch = self.default_branch()
        if branch is None:
            raise GitError("no default branch (origin/HEAD, main or master): give --base REF")
        try:
            return git(["merge-base", "HEAD", branch], self.top).decode("ascii").strip()
        except GitError:
            raise GitError(f"HEAD and {branch} have no common history: give --base REF") from None

    @contextlib.contextmanager
    def checkout_free(self, commit: str) -> Iterator[Path]:
        """The repository root as of ``commit``, read from Git's objects into a private folder.

        The folder (outside the work tree, removed on leaving) holds the files below
        :attr:`prefix`; :func:`homelab_kit.load` reads it like any working tree.
        """
        with tempfile.TemporaryDirectory(prefix="homelab-kit-rev-") as scratch:
            tree = Path(scratch) / "tree"
            tree.mkdir()
            self._write_tree(commit, tree, Path(scratch) / _OUTSIDE)
            yield tree

    def _write_tree(self, commit: str, dest: Path, outside: Path) -> None:
        listing = git(
            ["ls-tree", "-r", "-z", "--full-tree", commit, "--", self.prefix or "."], self.top
        )
        entries: list[tuple[str, str, str]] = []  # (mode, sha, path below prefix)
        for record in listing.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, sha = meta.decode("ascii").split(" ")
            path = raw_path.decode("utf-8", "surrogateescape")
            if kind != "blob" or not path.startswith(self.prefix):
                continue  # submodules (commits) are not read
            rel = path[len(self.prefix) :]
            if _unsafe(rel):
                continue
            entries.append((mode, sha, rel))
        blobs = read_blobs({sha for _, sha, _ in entries}, self.top)
        for mode, sha, rel in entries:
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if mode == "120000":
                link = blobs[sha].decode("utf-8", "surrogateescape")
                os.symlink(link if _stays_inside(rel, link) else outside, target)
                continue
            target.write_bytes(blobs[sha])


def _unsafe(rel: str) -> bool:
    parts = rel.split("/")
    return not rel or any(p in ("", ".", "..", ".git") for p in parts)


def _stays_inside(rel: str, link: str) -> bool:
    """Whether the link at ``rel`` to ``link`` points inside the tree (judged by its text)."""
    if not link or link.startswith("/") or "\0" in link:
        return False
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(rel), link))
    return resolved != ".." and not resolved.startswith("../")


def read_blobs(shas: set[str], cwd: Path) -> Mapping[str, bytes]:
    """The content of each blob, read in one ``git cat-file --batch``."""
    if not shas:
        return {}
    order = sorted(shas)
    out = git(["cat-file", "--batch"], cwd, stdin="".join(f"{s}\n" for s in order).encode())
    blobs: dict[str, bytes] = {}
    at = 0
    for sha in order:
        end = out.index(b"\n", at)
        header = out[at:end].decode("ascii").split(" ")
        if len(header) != 3 or header[0] != sha:
            raise GitError(f"cat-file: unexpected answer for {sha}")
        size = int(header[2])
        blobs[sha] = out[end + 1 : end + 1 + size]
        at = end + 1 + size + 1
    return blobs


# --------------------------------------------------------------------------- changed lines

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def changed_lines(worktree: Worktree, base: str) -> dict[str, frozenset[int] | None]:
    """Lines of the working tree added or modified since ``base``, per repository path.

    Paths are relative to the homelab repository root.  Untracked files (not
    ignored) count as wholly added (None: every line); deleted files have no lines.  Renames are
    followed, so a moved file brings only the lines that changed in it.
    """
    out = git(
        [
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "-U0",
            "-M",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            base,
            "--",
            ".",
        ],
        worktree.top / worktree.prefix if worktree.prefix else worktree.top,
    )
    lines: dict[str, frozenset[int] | None] = {}
    found: dict[str, set[int]] = {}
    current: set[int] | None = None
    for raw in out.split(b"\n"):
        if raw.startswith(b"+++ "):
            path = _diff_path(raw[4:])
            current = None
            if path is not None and path.startswith(worktree.prefix):
                current = found.setdefault(path[len(worktree.prefix) :], set())
            continue
        match = _HUNK.match(raw)
        if match and current is not None:
            start, count = int(match[1]), int(match[2] or b"1")
            current.update(range(start, start + count))
    untracked = git(
        ["ls-files", "-z", "--others", "--exclude-standard", "--full-name", "--", "."],
        worktree.top / worktree.prefix if worktree.prefix else worktree.top,
    )
    lines.update((path, frozenset(numbers)) for path, numbers in found.items())
    for raw in untracked.split(b"\0"):
        path = raw.decode("utf-8", "surrogateescape")
        if path.startswith(worktree.prefix) and path:
            lines[path[len(worktree.prefix) :]] = None
    return lines


def _diff_path(raw: bytes) -> str | None:
    if raw == b"/dev/null":
        return None
    if raw.startswith(b'"'):
        raw = _unquote(raw)
    return raw.decode("utf-8", "surrogateescape").removeprefix("b/")


def _unquote(raw: bytes) -> bytes:
    """Git's C-style quoting of a path (``"a\\tb"``, octal escapes for bytes)."""
    body = raw[1:-1]
    out = bytearray()
    i = 0
    simple = {ord("n"): 10, ord("t"): 9, ord('"'): 34, ord("\\"): 92, ord("a"): 7, ord("b"): 8}
    simple.update({ord("f"): 12, ord("r"): 13, ord("v"): 11})
    while i < len(body):
        c = body[i]
        if c == 92 and i + 1 < len(body):
            nxt = body[i + 1]
            if 48 <= nxt <= 55:
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out.append(simple.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)
