"""Parsing many files at once: this process and forked workers, from both ends.

The files are cut into chunks.  Workers claim chunks from the front, this
process from the back, each claim made under a lock that dies with its holder
(a POSIX record lock on a shared file holding the two counters), so no chunk is
parsed twice and neither side waits while the other has work.  A worker writes
each chunk it parsed, pickled (:func:`~homelab_kit.yaml.reader.dumps_parsed`),
into its own pipe (or keeps it until the pipe has room, parsing on meanwhile);
this process reads those between its own chunks.  Nothing
here starts a thread (``concurrent.futures`` does two, whose turns at the GIL
kept the worker waiting for its next chunk), and workers start as soon as the
file list is known, so they parse while this process goes on importing and
configuring (:meth:`ParseBatch.start`, then :meth:`ParseBatch.result`).

Whatever goes wrong with a worker (no fork here, a worker that dies or is
killed) costs time, never a file: every chunk no worker delivered is parsed by
this process at the end.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
from collections.abc import Callable, Sequence

from homelab_kit.claims import Claims
from homelab_kit.yaml.reader import YamlFile, dumps_parsed, load_file

_FRAME = struct.Struct("<II")  # chunk index, length of the pickle that follows
_PIPE_SIZE = 1 << 20  # a worker writes while this process is busy parsing


def can_fork() -> bool:
    """Whether worker processes can be forked here (not on Windows)."""
    return hasattr(os, "fork")


class ParseBatch:
    """``paths`` (relative to ``root``) being parsed by ``processes`` processes: this
    one and ``processes - 1`` forked workers (none where fork is unavailable).

    Use :meth:`start`, then :meth:`result` once; :meth:`cancel` ends the workers
    of a batch whose result is not wanted (also done when it is garbage).
    """

    def __init__(self, root: str, paths: Sequence[str], max_size: int, chunk: int) -> None:
        self.root = root
        self.paths = tuple(paths)
        self.max_size = max_size
        size = max(1, chunk)
        self.chunks = [self.paths[i : i + size] for i in range(0, len(self.paths), size)]
        self.workers: list[tuple[int, int]] = []  # (pid, read end of its pipe)
        self._claims: Claims | None = None

    @classmethod
    def start(
        cls, root: str, paths: Sequence[str], max_size: int, processes: int, chunk: int
    ) -> ParseBatch:
        """Fork ``processes - 1`` workers (at most one per chunk of ``chunk`` files
        beyond the first) that start parsing at once."""
        batch = cls(root, paths, max_size, chunk)
        wanted = min(processes, len(batch.chunks)) - 1
        if wanted > 0 and can_fork():
            batch._fork(wanted)
        return batch

    def _fork(self, wanted: int) -> None:
        try:
            self._claims = Claims(len(self.chunks), "homelab-kit-parse")
        except OSError:
            return
        for _ in range(wanted):
            try:
                read, write = os.pipe()
            except OSError:
                break
            try:
                pid = os.fork()
            except OSError:
                os.close(read)
                os.close(write)
                break
            if pid == 0:  # the worker: parse, write, and never return into the caller
                code = 1
                try:
                    os.close(read)
                    for _pid, other in self.workers:
                        os.close(other)
                    self._work(write)
                    code = 0
                finally:
                    os._exit(code)
            os.close(write)
            self.workers.append((pid, read))

    def _claim(self, front: bool) -> int | None:
        """The next chunk from the front (a worker) or the back (this process)."""
        assert self._claims is not None  # workers were forked
        return self._claims.take(front)

    def _work(self, out: int) -> None:
        with contextlib.suppress(OSError, AttributeError):  # Linux: room for some chunks
            import fcntl

            fcntl.fcntl(out, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        # What the pipe has no room for yet waits here while the next chunk is parsed:
        # this process may be busy (importing plugins, modelling what arrived).
        unsent = bytearray()
        os.set_blocking(out, False)
        while (index := self._claim(front=True)) is not None:
            blob = dumps_parsed(self._parse(index))
            unsent += _FRAME.pack(index, len(blob))
            unsent += blob
            _send(out, unsent)
        os.set_blocking(out, True)
        _send(out, unsent)

    def _parse(self, index: int) -> list[YamlFile]:
        root, max_size = self.root, self.max_size
        return [
            load_file(os.path.join(root, rel), rel, max_size=max_size) for rel in self.chunks[index]
        ]

    def result(
        self,
        progress: Callable[[int, int], None] | None = None,
        arrived: Callable[[list[YamlFile]], None] | None = None,
    ) -> dict[str, YamlFile]:
        """Every file parsed, by path; ``progress(done, total)`` after each chunk.

        ``arrived(files)`` is called with each chunk as this process has it (parsed
        here or read from a worker), between the chunks it parses itself: what it
        does there, workers meanwhile spend parsing more of the files.
        """
        parsed: dict[str, YamlFile] = {}
        delivered: set[int] = set()

        def done(index: int, found: list[YamlFile]) -> None:
            delivered.add(index)
            for yfile in found:
                parsed[yfile.path] = yfile
            if arrived is not None:
                arrived(found)
            if progress is not None:
                progress(len(parsed), len(self.paths))

        try:
            if self.workers:
                pending = {read: bytearray() for _, read in self.workers}
                for read in pending:
                    os.set_blocking(read, False)
                while (index := self._claim(front=False)) is not None:
                    done(index, self._parse(index))
                    for read, buffer in pending.items():  # meanwhile, take what is back
                        _drain(read, buffer, done, block=False)
                for read, buffer in pending.items():
                    os.set_blocking(read, True)
                    _drain(read, buffer, done, block=True)
        finally:
            self.cancel()
        for index in range(len(self.chunks)):  # no worker here, or one that failed
            if index not in delivered:
                done(index, self._parse(index))
        return parsed

    def cancel(self) -> None:
        """End and reap the workers (they may be mid-chunk); close the shared file."""
        import signal

        workers, self.workers = self.workers, []
        for pid, read in workers:
            os.close(read)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
        self._close_shared()

    def _close_shared(self) -> None:
        if self._claims is not None:
            self._claims.close()
            self._claims = None

    def __del__(self) -> None:
        if self.workers or self._claims is not None:
            self.cancel()


def _send(out: int, data: bytearray) -> None:
    """Write what the pipe ``out`` takes of ``data`` (all of it, when ``out`` blocks),
    and drop that from ``data``."""
    sent = 0
    with memoryview(data) as view:
        while sent < len(view):
            try:
                sent += os.write(out, view[sent:])
            except BlockingIOError:
                break
    del data[:sent]


def _drain(
    read: int, buffer: bytearray, done: Callable[[int, list[YamlFile]], None], block: bool
) -> None:
    """Read what a worker wrote into ``buffer`` and hand over each complete chunk; with
    ``block``, until the worker has closed its end.  An incomplete last frame (a worker
    killed mid-write) is dropped: its chunk counts as not delivered."""
    while True:
        try:
            data = os.read(read, _PIPE_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            buffer += data
        start = 0
        with memoryview(buffer) as view:
            while len(view) - start >= _FRAME.size:
                index, length = _FRAME.unpack_from(view, start)
                end = start + _FRAME.size + length
                if len(view) < end:
                    break
                done(index, pickle.loads(view[start + _FRAME.size : end]))
                start = end
        del buffer[:start]
        if not data:
            return
