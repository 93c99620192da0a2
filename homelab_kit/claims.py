"""Work shared out between this process and forked ones, claimed from both ends.

The parse (:mod:`homelab_kit.yaml.batch`) and the checks (:mod:`homelab_kit.lint.engine`)
cut their work into numbered pieces; forked workers claim pieces from the front, this
process from the back.  The two counters live in an unnamed file every forked process
shares, and each claim is made under a POSIX record lock on it, which dies with its
holder: a worker killed mid-claim leaves the others free to go on.
"""

from __future__ import annotations

import os
import struct

_COUNTERS = struct.Struct("<ii")  # the next piece from the front, the end of what is left


class Claims:
    """Pieces ``0 .. count - 1``, each claimed once, by whichever process asks first.

    Made before the fork; :meth:`close` it in this process when done.
    """

    def __init__(self, count: int, name: str) -> None:
        self.fd = unnamed_file(name)
        try:
            os.pwrite(self.fd, _COUNTERS.pack(0, count), 0)
        except OSError:
            os.close(self.fd)
            raise

    def take(self, front: bool) -> int | None:
        """The next piece from the front (a worker) or the back (this process); None
        when every piece is claimed."""
        import fcntl

        fcntl.lockf(self.fd, fcntl.LOCK_EX)
        try:
            low: int
            high: int
            low, high = _COUNTERS.unpack(os.pread(self.fd, _COUNTERS.size, 0))
            if low >= high:
                return None
            low, high = (low + 1, high) if front else (low, high - 1)
            os.pwrite(self.fd, _COUNTERS.pack(low, high), 0)
            return low - 1 if front else high
        finally:
            fcntl.lockf(self.fd, fcntl.LOCK_UN)

    def taken_from_front(self) -> int:
        """How many pieces workers have claimed so far."""
        return int(_COUNTERS.unpack(os.pread(self.fd, _COUNTERS.size, 0))[0])

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def unnamed_file(name: str) -> int:
    """A file no other program sees, shared with the processes forked after it."""
    try:
        return os.memfd_create(name, os.MFD_CLOEXEC)
    except (AttributeError, OSError):  # not Linux
        import tempfile

        with tempfile.TemporaryFile() as f:
            return os.dup(f.fileno())
