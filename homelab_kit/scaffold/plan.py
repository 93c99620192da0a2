"""Plans: the files a command would create and change, shown as a diff, applied atomically.

A :class:`Plan` is computed without touching the repository.  :func:`apply_plan`
then writes it as one transaction, holding the repository's lock
(:class:`~homelab_kit.scaffold.state.RepositoryLock`): every file is first written
to a staging folder outside the working tree (in the state folder, on the same
file system), a journal of the renames to come is written, and only then are the
files moved into place; if any step fails, what was moved is moved back, the
folders created are removed, and the repository is exactly as it was.  A run
killed during the renames leaves the journal, and the next run rolls the plan back
(:func:`~homelab_kit.scaffold.state.recover`).  Nothing is ever written through a
symbolic link that leads out of the repository.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import os
import posixpath
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import attrs

from homelab_kit.errors import ScaffoldError
from homelab_kit.fsutil import fsync_directory, inside
from homelab_kit.scaffold.state import STAGING_PREFIX, Journal, RepositoryLock, digest, finish


@attrs.frozen
class FileCreate:
    """A new file: its repository-relative path and its text."""

    path: str
    text: str


@attrs.frozen
class FileEdit:
    """A change to an existing file: its path, its text now and its text after."""

    path: str
    old: str
    new: str


@attrs.frozen
class Plan:
    """What a scaffolding command would do.  Nothing is written until :meth:`apply`.

    :param root: the repository root.
    :param title: one line saying what this is (``new app media/jellyfin``).
    :param creates: the files to create, in order.
    :param edits: the existing files to change.
    :param next_steps: what the user does next, in order.
    :param notes: where repository-specific values came from, and other remarks.
    """

    root: Path
    title: str
    creates: tuple[FileCreate, ...] = ()
    edits: tuple[FileEdit, ...] = ()
    next_steps: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Nothing to create or change."""
        return not self.creates and not self.edits

    def diff(self) -> str:
        """A unified diff of everything: new files from ``/dev/null``, then the changes."""
        pairs = [("", c.text, "/dev/null", f"b/{c.path}") for c in self.creates]
        pairs += [(e.old, e.new, f"a/{e.path}", f"b/{e.path}") for e in self.edits]
        out: list[str] = []
        for old, new, before, after in pairs:
            for line in difflib.unified_diff(
                old.splitlines(keepends=True),
                new.splitlines(keepends=True),
                fromfile=before,
                tofile=after,
            ):
                out.append(
                    line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                )
        return "".join(out)

    def apply(self) -> Result:
        """Write the plan atomically (see :func:`apply_plan`)."""
        return apply_plan(self)


@attrs.frozen
class Result:
    """What an applied plan did."""

    root: Path
    title: str
    created: tuple[str, ...]
    changed: tuple[str, ...]
    next_steps: tuple[str, ...]
    notes: tuple[str, ...] = ()


def check_relative(path: str) -> str:
    """A clean repository-relative POSIX path: no absolute paths, no ``..``."""
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        raise ScaffoldError(f"{path!r} is not a path inside the repository")
    norm = posixpath.normpath(path)
    if norm != path or norm == "." or norm.startswith("../") or norm == "..":
        raise ScaffoldError(f"{path!r} is not a path inside the repository")
    return path


class Workspace:
    """The repository as a plan will leave it: reads see planned files and changes.

    Builders create and edit through it; :meth:`plan` turns what they did into a
    :class:`Plan`.  The disk is only read.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._created: dict[str, str] = {}
        self._edited: dict[str, tuple[str, str]] = {}

    def _disk(self, rel: str) -> Path:
        return self.root / check_relative(rel)

    def read(self, rel: str) -> str | None:
        """The text of ``rel`` as planned so far (``None`` when there is no such file)."""
        if rel in self._created:
            return self._created[rel]
        if rel in self._edited:
            return self._edited[rel][1]
        path = self._disk(rel)
        if not path.is_file():
            return None
        if not inside(path, self.root):
            raise ScaffoldError(f"{rel} is a symbolic link leading out of the repository")
        try:
            return path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScaffoldError(f"{rel}: cannot read: {exc}") from None

    def exists(self, rel: str) -> bool:
        """Whether ``rel`` is (or will be) a file or folder."""
        if rel in self._created or any(p.startswith(rel + "/") for p in self._created):
            return True
        return os.path.lexists(self._disk(rel))

    def is_file(self, rel: str) -> bool:
        return rel in self._created or self._disk(rel).is_file()

    def create(self, rel: str, text: str) -> None:
        """Plan a new file; refused when anything is already there."""
        check_relative(rel)
        if self.exists(rel):
            raise ScaffoldError(f"{rel} already exists; nothing was written")
        self._created[rel] = text

    def update(self, rel: str, change: Callable[[str], str]) -> bool:
        """Plan a change to ``rel`` (a planned file or one on disk); whether it changed."""
        old = self.read(rel)
        if old is None:
            raise ScaffoldError(f"{rel} does not exist")
        new = change(old)
        if new == old:
            return False
        if rel in self._created:
            self._created[rel] = new
        elif rel in self._edited:
            self._edited[rel] = (self._edited[rel][0], new)
        else:
            self._edited[rel] = (old, new)
        return True

    def created(self) -> list[str]:
        return list(self._created)

    def plan(
        self, title: str, next_steps: tuple[str, ...] = (), notes: tuple[str, ...] = ()
    ) -> Plan:
        return Plan(
            root=self.root,
            title=title,
            creates=tuple(FileCreate(p, t) for p, t in self._created.items()),
            edits=tuple(FileEdit(p, o, n) for p, (o, n) in self._edited.items() if o != n),
            next_steps=next_steps,
            notes=notes,
        )


# --------------------------------------------------------------------------- applying


def _real_target(root_real: str, rel: str, *, must_exist: bool) -> str:
    """The real path ``rel`` names, refusing symbolic links that leave the repository."""
    check_relative(rel)
    target = os.path.join(root_real, *rel.split("/"))
    if must_exist:
        if not os.path.isfile(target):
            raise ScaffoldError(f"{rel} no longer exists; nothing was written")
        if not inside(target, root_real):
            raise ScaffoldError(f"{rel} is a symbolic link leading out of the repository")
        return os.path.realpath(target)
    if os.path.lexists(target):
        raise ScaffoldError(f"{rel} already exists; nothing was written")
    # The nearest folder that exists must lie in the repository, symbolic links resolved.
    parent = os.path.dirname(target)
    missing: list[str] = []
    while not os.path.lexists(parent):
        missing.append(os.path.basename(parent))
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not inside(parent, root_real):
        raise ScaffoldError(
            f"{rel}: {os.path.relpath(parent, root_real)} is not a folder inside the "
            "repository (a symbolic link leading out?); nothing was written"
        )
    return os.path.join(os.path.realpath(parent), *reversed(missing), os.path.basename(target))


def _write_file(path: str, data: bytes, mode: int | None = None) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    if mode is not None:
        os.chmod(path, mode)


def _place(staged: str, target: str) -> None:
    """Move a staged file to ``target`` atomically (copying first across file systems)."""
    try:
        os.replace(staged, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.homelab-kit")
        shutil.copy2(staged, tmp)
        os.replace(tmp, target)


def apply_plan(plan: Plan) -> Result:
    """Write ``plan`` as one transaction; on any failure nothing is left changed.

    The repository's lock is held throughout (re-entered when the caller holds it
    already, as the commands do from before they plan); a plan an earlier run left
    half-applied is rolled back first, and the result's notes say so.

    :raises ScaffoldError: when a file to create appeared, a file to change changed
        since the plan was made, a path leads out of the repository, another run
        holds the lock for too long, or writing failed (after everything was
        rolled back).
    """
    with RepositoryLock(plan.root) as lock:
        result = _apply(plan, lock.state)
    if lock.note:
        result = attrs.evolve(result, notes=(lock.note, *result.notes))
    return result


def _apply(plan: Plan, state: Path) -> Result:
    root_real = os.path.realpath(plan.root)
    creates = [(c, _real_target(root_real, c.path, must_exist=False)) for c in plan.creates]
    edits = []
    for edit in plan.edits:
        target = _real_target(root_real, edit.path, must_exist=True)
        try:
            with open(target, "rb") as handle:
                current = handle.read()
        except OSError as exc:
            raise ScaffoldError(f"{edit.path}: cannot read ({exc.strerror or exc})") from exc
        if current != edit.old.encode("utf-8"):
            raise ScaffoldError(f"{edit.path} changed since the plan was made; nothing was written")
        edits.append((edit, target, os.stat(target).st_mode & 0o7777))
    if len({t for _, t in creates} | {t for _, t, _ in edits}) != len(creates) + len(edits):
        raise ScaffoldError("the plan names one file twice; nothing was written")

    try:
        staging = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=state)
    except OSError as exc:
        raise ScaffoldError(
            f"cannot write in {state} ({exc.strerror or exc}); nothing was changed"
        ) from exc
    made_dirs: list[str] = []
    placed: list[str] = []
    replaced: list[tuple[str, str, bytes]] = []
    try:
        staged: list[tuple[str, str]] = []
        dirs: list[str] = []
        for n, (create, target) in enumerate(creates):
            path = os.path.join(staging, f"new-{n}")
            _write_file(path, create.text.encode("utf-8"))
            staged.append((path, target))
            dirs += [d for d in _missing_dirs(os.path.dirname(target)) if d not in dirs]
        backups: list[tuple[str, str, str, bytes]] = []
        for n, (edit, target, mode) in enumerate(edits):
            path = os.path.join(staging, f"edit-{n}")
            _write_file(path, edit.new.encode("utf-8"), mode)
            backup = os.path.join(staging, f"backup-{n}")
            old = edit.old.encode("utf-8")
            _write_file(backup, old, mode)
            backups.append((path, target, backup, old))

        def rel(target: str) -> str:
            return os.path.relpath(target, root_real).replace(os.sep, "/")

        # Everything is on disk: say what is about to move, then move it into place.
        Journal(
            title=plan.title,
            staging=os.path.basename(staging),
            dirs=tuple(rel(d) for d in dirs),
            creates=tuple((rel(t), digest(c.text.encode("utf-8"))) for c, t in creates),
            edits=tuple(
                (rel(t), os.path.basename(b), digest(old), digest(e.new.encode("utf-8")))
                for (e, t, _), (_, _, b, old) in zip(edits, backups, strict=True)
            ),
        ).write(state)
        for directory in dirs:
            os.mkdir(directory)
            made_dirs.append(directory)
        for path, target in staged:
            _place(path, target)
            placed.append(target)
        for path, target, backup, old in backups:
            _place(path, target)
            replaced.append((target, backup, old))
        for directory in sorted({os.path.dirname(t) for t in placed + [r[0] for r in replaced]}):
            fsync_directory(directory)
        finish(state)
    except BaseException as exc:
        _rollback(made_dirs, placed, replaced)
        with contextlib.suppress(OSError):
            finish(state)
        if isinstance(exc, OSError):
            raise ScaffoldError(
                f"writing failed ({exc.strerror or exc}); everything was rolled back, "
                "nothing was changed"
            ) from exc
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Result(
        root=plan.root,
        title=plan.title,
        created=tuple(c.path for c in plan.creates),
        changed=tuple(e.path for e in plan.edits),
        next_steps=plan.next_steps,
        notes=plan.notes,
    )


def _missing_dirs(directory: str) -> list[str]:
    missing: list[str] = []
    while not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    return list(reversed(missing))


def _rollback(
    made_dirs: list[str], placed: list[str], replaced: list[tuple[str, str, bytes]]
) -> None:
    """Undo a partial commit; every step is tried even when one fails."""
    for target, backup, old in reversed(replaced):
        try:
            os.replace(backup, target)
        except OSError:
            with contextlib.suppress(OSError), open(target, "wb") as handle:
                handle.write(old)
    for target in reversed(placed):
        with contextlib.suppress(OSError):
            os.unlink(target)
    for directory in reversed(made_dirs):
        with contextlib.suppress(OSError):
            os.rmdir(directory)
