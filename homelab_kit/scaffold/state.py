"""Scaffolding's own state, kept out of the working tree: a lock, staging and a journal.

Every command that changes the repository holds :class:`RepositoryLock` from before
it reads the repository to after it wrote its plan, so two runs never plan against
the same files (``new-app`` twice in one namespace: both apps listed).  The lock is
an OS advisory lock (``flock``) on a file in the *state folder*:

- ``<git dir>/homelab-kit/`` when the repository is in a Git work tree (the
  folder ``.git`` names, for a linked worktree its own one);
- else ``.<name>.homelab-kit/`` beside the repository, on the same file system;
- else (no writable parent on the same file system) ``.homelab-kit-state/`` in it.

The state folder also holds the staging folder of the plan being applied (on the
repository's file system, so moving a file into place is an atomic rename) and the
plan's journal, written before the first rename and removed after the last.  A run
killed in between leaves the journal behind; the next run that takes the lock rolls
that plan back (:func:`recover`) and says so in one line.  The lock is released by
the kernel when its holder dies, so a killed run never blocks the next one.  A run
that ends removes the lock file, and the state folder when it is empty, so nothing
is left beside the repository.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import posixpath
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from homelab_kit.errors import ScaffoldError
from homelab_kit.fsutil import atomic_write_bytes, fsync_directory

LOCK_FILE = "lock"
JOURNAL = "journal.json"
STAGING_PREFIX = "staging-"
TIMEOUT_ENV = "HOMELAB_KIT_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 60.0  # seconds a run waits for another one before giving up
JOURNAL_VERSION = 1

# The locks this process holds: lock path -> [descriptor, depth].  A plan applied
# inside a command that already holds the lock re-enters it instead of waiting on
# itself (flock locks belong to an open file, not to a process).
_HELD: dict[str, list[int]] = {}


def _git_dir(root: Path) -> Path | None:
    """The Git directory of the work tree holding ``root``, if any."""
    for folder in (root, *root.parents):
        dot = folder / ".git"
        if dot.is_dir():
            return dot
        if dot.is_file():
            try:
                text = dot.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return None
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:") :].strip().splitlines()[0])
                target = target if target.is_absolute() else folder / target
                return target if target.is_dir() else None
            return None
    return None


def state_dir(root: str | os.PathLike[str]) -> Path:
    """Where scaffolding keeps its lock, staging folder and journal for ``root``."""
    real = Path(os.path.realpath(root))
    device = real.stat().st_dev
    git = _git_dir(real)
    if git is not None and git.stat().st_dev == device:
        return git / "homelab-kit"
    parent = real.parent
    if parent != real and parent.stat().st_dev == device and os.access(parent, os.W_OK | os.X_OK):
        return parent / f".{real.name}.homelab-kit"
    return real / ".homelab-kit-state"


def _timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "")
    try:
        return max(0.0, float(raw)) if raw.strip() else DEFAULT_TIMEOUT
    except ValueError:
        raise ScaffoldError(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds") from None


class RepositoryLock:
    """Hold the repository's scaffolding lock (re-entrant within one process).

    :param root: the repository root.
    :param timeout: seconds to wait for another run (default: ``$HOMELAB_KIT_LOCK_TIMEOUT``,
        else 60); 0 gives up at once.
    :param on_wait: called once with a line to show when another run holds the lock.

    On first entry it rolls back a plan an earlier run left half-applied; ``note`` is
    then the one line that says so.

    Example::

        with RepositoryLock(".") as lock:
            if lock.note:
                print(lock.note)
            plan_new_app(".", "media/jellyfin", ...).apply()
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        timeout: float | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.root = Path(os.path.realpath(root))
        self.timeout = timeout
        self.on_wait = on_wait
        self.note: str | None = None
        try:
            self.state = state_dir(self.root)
        except OSError as exc:
            raise ScaffoldError(f"{root}: {exc.strerror or exc}; nothing was changed") from exc
        self.path = str(self.state / LOCK_FILE)

    def __enter__(self) -> RepositoryLock:
        held = _HELD.get(self.path)
        if held is not None:
            held[1] += 1
            return self
        timeout = _timeout() if self.timeout is None else self.timeout
        deadline = time.monotonic() + timeout
        told = False
        while True:
            fd = self._open()
            if fd is None:  # the folder went away as a run finished: again
                continue
            try:
                told = self._acquire(fd, timeout, deadline, told)
                if _is_file_at(fd, self.path):
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                    _HELD[self.path] = [fd, 1]
                    break
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # locked a file the last holder had removed: again
        try:
            self.note = recover(self.root, self.state)
        except BaseException:
            self._release()
            raise
        return self

    def _open(self) -> int | None:
        try:
            self.state.mkdir(mode=0o700, exist_ok=True)
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC
            return os.open(self.path, flags, 0o600)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ScaffoldError(
                f"cannot create the lock {self.path} ({exc.strerror or exc}); nothing was changed"
            ) from exc

    def _acquire(self, fd: int, timeout: float, deadline: float, told: bool) -> bool:
        """Lock ``fd``, waiting until ``deadline``; whether the wait was announced."""
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return told
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise ScaffoldError(
                        f"cannot lock {self.path} ({exc.strerror or exc}); nothing was changed"
                    ) from exc
            holder = _holder(fd)
            if time.monotonic() >= deadline:
                raise ScaffoldError(
                    f"another homelab-kit run{holder} is changing {self.root}; gave up after "
                    f"{timeout:g}s (set {TIMEOUT_ENV} to wait longer); nothing was changed"
                )
            if not told and self.on_wait is not None:
                self.on_wait(
                    f"waiting for another homelab-kit run{holder} to finish changing the "
                    f"repository (up to {timeout:g}s)"
                )
                told = True
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def __exit__(self, *exc: object) -> None:
        held = _HELD[self.path]
        held[1] -= 1
        if held[1] == 0:
            self._release()

    def _release(self) -> None:
        """Remove the lock file (and the state folder, when empty), then unlock.

        Removing it while still locked is safe: a run waiting on the removed file
        sees, once it gets the lock, that the path no longer names that file, and
        starts over on the path.
        """
        fd = _HELD.pop(self.path)[0]
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.rmdir(self.state)
        os.close(fd)  # closing the last descriptor releases the flock


def _is_file_at(fd: int, path: str) -> bool:
    """Whether ``path`` still names the open file ``fd``."""
    try:
        here, there = os.fstat(fd), os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _holder(fd: int) -> str:
    """`` (pid N)`` of the run holding the lock, when it wrote its pid."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""


# --------------------------------------------------------------------- journal


def digest(data: bytes) -> str:
    """The SHA-256 of ``data``, as the journal records file contents."""
    return hashlib.sha256(data).hexdigest()


@attrs.frozen
class Journal:
    """What an applied plan is about to do, written before its first rename.

    Paths are relative to the repository root; ``staging`` is the staging folder's
    name in the state folder (it holds the backups of the edited files).

    :param title: the plan's title.
    :param staging: the staging folder's name.
    :param dirs: the folders the plan creates, parents first.
    :param creates: ``(path, sha256)`` of each file it creates.
    :param edits: ``(path, backup name, sha256 before, sha256 after)`` of each file it changes.
    """

    title: str
    staging: str
    dirs: tuple[str, ...] = ()
    creates: tuple[tuple[str, str], ...] = ()
    edits: tuple[tuple[str, str, str, str], ...] = ()

    def write(self, state: Path) -> None:
        """Write the journal durably (an atomic rename, flushed to disk)."""
        data: dict[str, Any] = {
            "version": JOURNAL_VERSION,
            "pid": os.getpid(),
            **attrs.asdict(self),
        }
        atomic_write_bytes(state / JOURNAL, json.dumps(data, indent=1).encode("utf-8"))

    @classmethod
    def read(cls, path: Path) -> Journal:
        """The journal at ``path``; :class:`ValueError` when it is not one."""
        data = json.loads(path.read_bytes())
        if not isinstance(data, dict) or data.get("version") != JOURNAL_VERSION:
            raise ValueError("not a version 1 journal")
        return cls(
            title=str(data["title"]),
            staging=str(data["staging"]),
            dirs=tuple(str(d) for d in data["dirs"]),
            creates=tuple((str(p), str(h)) for p, h in data["creates"]),
            edits=tuple((str(p), str(b), str(o), str(n)) for p, b, o, n in data["edits"]),
        )


def finish(state: Path) -> None:
    """The plan is all in place (or all rolled back): remove its journal, durably."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(state / JOURNAL)
    fsync_directory(state)


def recover(root: Path, state: Path) -> str | None:
    """Roll back a plan an earlier run left half-applied; a one-line note when there was one.

    Only what that plan wrote is undone: a file it created is removed when it still
    holds what the plan wrote, a file it changed gets its backup back when it still
    holds the plan's change, and a folder it created is removed when empty.  Anything
    changed since is left alone and counted.  Staging folders of earlier runs are
    removed.  Call with the lock held.
    """
    note = None
    path = state / JOURNAL
    if path.exists():
        try:
            journal = Journal.read(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            note = f"removed an unreadable scaffolding journal {path} ({exc}); check `git status`"
        else:
            note = _undo(root, state, journal)
        finish(state)
    for leftover in _staging_folders(state):
        shutil.rmtree(leftover, ignore_errors=True)
    return note


def _staging_folders(state: Path) -> Sequence[Path]:
    try:
        return [p for p in state.iterdir() if p.name.startswith(STAGING_PREFIX)]
    except OSError:
        return []


def _clean(rel: str) -> bool:
    """A plain relative path that stays in its folder (a journal is never trusted blindly)."""
    norm = posixpath.normpath(rel)
    return bool(rel) and norm == rel and not rel.startswith(("/", "../")) and rel != ".."


def _undo(root: Path, state: Path, journal: Journal) -> str:
    removed = restored = kept = 0
    staging = state / (journal.staging if _clean(journal.staging) else "missing")
    touched: set[Path] = set()
    for rel, backup, before, after in reversed(journal.edits):
        if not (_clean(rel) and _clean(backup) and "/" not in backup):
            continue
        target = root / rel
        now = _digest_of(target)
        if now == after and (staging / backup).is_file():
            os.replace(staging / backup, target)
            touched.add(target.parent)
            restored += 1
        elif now != before:
            kept += 1
    for rel, wrote in reversed(journal.creates):
        if not _clean(rel):
            continue
        target = root / rel
        if target.is_symlink() or not target.exists():
            continue
        if _digest_of(target) == wrote:
            target.unlink()
            touched.add(target.parent)
            removed += 1
        else:
            kept += 1
    for rel in reversed(journal.dirs):
        if not _clean(rel):
            continue
        with contextlib.suppress(OSError):
            os.rmdir(root / rel)
            touched.add((root / rel).parent)
    for folder in touched:
        fsync_directory(folder)
    text = (
        f"rolled back `{journal.title}`, which an earlier run left half-applied "
        f"(removed {removed} new file(s), restored {restored} changed one(s))"
    )
    if kept:
        text += f"; {kept} file(s) changed since were left as they are"
    return text


def _digest_of(path: Path) -> str | None:
    try:
        return digest(path.read_bytes()) if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None
