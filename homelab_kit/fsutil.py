"""Writing files so that nothing is ever half-written, and staying inside a folder."""

from __future__ import annotations

import contextlib
import os


def inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """Whether ``path``, with every symbolic link resolved, lies in ``root``."""
    real = os.path.realpath(path)
    base = os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def fsync_directory(directory: str | os.PathLike[str]) -> None:
    """Flush a folder's entries to disk (best effort; not every platform allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically: readers see the old file or the new.

    A temporary file is created exclusively (never through a symbolic link) in the
    target's folder, written, flushed to disk and renamed over the target; the
    target's permissions are kept, and the folder entry is flushed too.  A symbolic
    link at ``path`` is written through (its target is replaced).
    """
    import secrets  # hmac, hashlib, random: only when a file is written

    real = os.path.realpath(path)
    directory = os.path.dirname(real)
    tmp = os.path.join(directory, f".{os.path.basename(real)}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, os.stat(real).st_mode & 0o7777)
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_directory(directory)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> None:
    """:func:`atomic_write_bytes` for text; line breaks are written as given.

    A file name that is not valid UTF-8 (in a report, say) is written back as the
    bytes it was read from (``surrogateescape``), as Python writes it to a terminal.
    """
    atomic_write_bytes(path, text.encode(encoding, "surrogateescape"))
