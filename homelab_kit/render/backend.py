"""Choosing how to build a kustomization: a real kustomize binary or pure Python.

``auto`` prefers a ``kustomize`` binary, then ``kubectl kustomize``, both run with
``--load-restrictor LoadRestrictionsNone`` as Flux runs kustomize, and falls back to
:func:`~homelab_kit.render.kustomize.render_directory`.  Whichever builds, every
file the build reads is vetted first (:mod:`homelab_kit.render.vet`); a binary
builds a copy that holds only those files, so it can fetch nothing, run no plugin
and read nothing else.  A binary runs in its own process group with a clean
environment and is killed with the whole group when the build ends (time bound,
Ctrl-C, ``SIGTERM``); the pure-Python renderer has the same time bound.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from homelab_kit.errors import HomelabKitError
from homelab_kit.location import Location
from homelab_kit.render._docs import parse_documents
from homelab_kit.render.kustomize import Rendered, render_directory
from homelab_kit.render.sources import Sources
from homelab_kit.render.vet import Vetter, vet, vet_in
from homelab_kit.yaml import YamlFile
from homelab_kit.yaml.reader import DEFAULT_MAX_FILE_SIZE

if TYPE_CHECKING:
    import subprocess

# shutil, subprocess and tempfile are imported by what runs a binary (kustomize,
# kubectl): the built-in renderer, which a lint uses, needs none of them.

Backend = Literal["auto", "python", "kubectl", "kustomize"]
BACKENDS: tuple[str, ...] = ("auto", "python", "kubectl", "kustomize")
_RESTRICTOR = ("--load-restrictor", "LoadRestrictionsNone")
_KUBECTL_ERR = re.compile(r'err="((?:[^"\\]|\\.)*)"')
_LITERAL_SOURCE = re.compile(r"literal sources? .*")
_LITERAL_HIDDEN = "a literal source is not key=value (not shown: it may be a secret)"


def available_backend() -> str:
    """The backend ``auto`` picks on this machine: kustomize, kubectl or python."""
    import shutil

    if shutil.which("kustomize"):
        return "kustomize"
    if shutil.which("kubectl"):
        return "kubectl"
    return "python"


def render(
    directory: Path | str,
    *,
    root: Path | str,
    backend: Backend | str = "auto",
    timeout: float = 120.0,
    kustomization: Mapping[str, Any] | None = None,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    parsed: Mapping[str, YamlFile] | None = None,
    sources: Sources | None = None,
) -> Rendered:
    """Build the kustomization in ``directory`` with the chosen backend.

    Every file the build reads is vetted first (:mod:`homelab_kit.render.vet`):
    inside ``root``, outside ``.git/``, a regular file, within ``max_file_size`` and
    YAML the project's reader accepts.  A binary builds a vetted copy holding only
    those files; the pure-Python renderer reads the repository under a time bound.

    :param directory: the directory holding the kustomization file.
    :param root: the repository root; nothing outside it is read.
    :param backend: ``"auto"``, ``"python"``, ``"kubectl"`` or ``"kustomize"``.
    :param timeout: seconds the build may run, whichever backend builds.
    :param kustomization: a kustomization to build in place of the directory's own
        file (or where it has none), as Flux rewrites it; the repository is never
        written to.
    :param max_file_size: the largest file the build may read, in bytes.
    :param parsed: files already parsed, for the pure-Python renderer (see
        :func:`~homelab_kit.render.kustomize.render_directory`).
    :param sources: the tree as a run of builds reads it
        (:class:`~homelab_kit.render.sources.Sources`, made from ``root`` and
        ``parsed`` when not given), shared by builds of a tree that does not change.
    :returns: the objects in kustomize's output order.
    :raises HomelabKitError: bad input, a refused entry, or the build failed (the
        binary's first error line) or ran out of time.
    """
    if backend not in BACKENDS:
        raise HomelabKitError(f"unknown render backend {backend!r}; use one of {BACKENDS}")
    sources = sources if sources is not None else Sources(root, parsed)
    chosen = available_backend() if backend == "auto" else backend
    if chosen == "python":
        with time_limit(timeout, "the python renderer", directory):
            try:
                vetter = Vetter(root, max_size=max_file_size, strict=False, sources=sources)
                vet_in(vetter, directory, kustomization)
                return render_directory(
                    directory, root=root, kustomization=kustomization, sources=sources
                )
            finally:
                sources.forget_files()
    import shutil
    import tempfile

    directory, root = Path(directory), Path(root)
    binary = shutil.which(chosen)
    if binary is None:
        raise HomelabKitError(f"the {chosen} backend needs {chosen!r} on PATH")
    command = [binary, "build"] if chosen == "kustomize" else [binary, "kustomize"]
    with tempfile.TemporaryDirectory(prefix="homelab-kit-build-") as copy:
        copy_root = Path(copy).resolve()
        try:
            target = vet(
                directory,
                root=root,
                kustomization=kustomization,
                copy_to=copy_root,
                max_size=max_file_size,
                sources=sources,
            )
        finally:
            sources.forget_files()
        try:
            return _run([*command, *_RESTRICTOR, str(target)], chosen, directory, timeout)
        except HomelabKitError as exc:
            message = exc.message.replace(str(copy_root), str(root.resolve()))
            raise HomelabKitError(message, exc.location) from None


@contextlib.contextmanager
def time_limit(seconds: float, what: str, directory: Path | str) -> Iterator[None]:
    """Raise :class:`HomelabKitError` when the block runs longer than ``seconds``.

    A ``SIGALRM`` interrupts pure-Python work and blocking reads alike; it can be
    set only in the main thread, so elsewhere the block runs unbounded.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise _Expired

    previous = _set_handler(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Expired:
        raise HomelabKitError(
            f"{what} did not finish within {seconds:.0f} s", Location(str(Path(directory)))
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _set_handler(signal.SIGALRM, previous)


# ``signal.signal`` without its wrapper, which turns the previous handler into an enum
# member by trying (and, for a function, failing with an exception: most of the cost of
# a build's time limit); the handler given back is restored the same way.
_set_handler: Callable[[int, Any], Any] = getattr(
    getattr(signal, "_signal", None), "signal", signal.signal
)


class _Expired(BaseException):
    """The time bound of :func:`time_limit` passed (a BaseException: nothing swallows it)."""


@contextlib.contextmanager
def _terminate_raises() -> Iterator[None]:
    """SIGTERM raises ``SystemExit`` (exit code 143) in the block, so cleanups run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _run(command: list[str], backend: str, directory: Path, timeout: float) -> Rendered:
    """Run the binary in its own process group, killed whole however this run ends."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="homelab-kit-render-") as home:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "LANG": "C.UTF-8"}
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                cwd=home,
                start_new_session=True,
            )
        except OSError as exc:
            raise HomelabKitError(f"cannot run {backend}: {exc.strerror}") from None
        try:
            with _terminate_raises():
                stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise HomelabKitError(
                f"{backend} did not finish within {timeout:.0f} s", Location(str(directory))
            ) from None
        finally:
            _kill_group(proc)  # on a timeout, Ctrl-C, SIGTERM, and any process left behind
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise HomelabKitError(f"{backend} failed: {first_error_line(stderr)}")
    documents, problems = parse_documents(stdout, f"<{backend} output>")
    if problems:
        raise HomelabKitError(f"cannot read {backend} output: {problems[0]}")
    objects = tuple(d for d in documents if isinstance(d, dict) and d)
    return Rendered(objects=objects, warnings=(), backend=backend)


def first_error_line(stderr: str) -> str:
    """The useful first line of a kustomize or kubectl error output.

    kustomize quotes a malformed generator literal whole (``invalid literal source
    DB_PASSWORD:hunter2``), and it may be a secretGenerator's: that part is dropped.
    kubectl writes a multi-line error as ``err=<`` and the text on the lines after
    (a patch that fails to parse follows, whole): only the first of those is kept.
    """
    for line in stderr.splitlines():
        line = line.strip()
        if not line or line.endswith("err=<"):
            continue
        match = _KUBECTL_ERR.search(line)
        if match is not None:
            text = match.group(1).encode("utf-8").decode("unicode_escape", errors="replace")
            line = text.splitlines()[0] if text else line
        return _LITERAL_SOURCE.sub(_LITERAL_HIDDEN, line.removeprefix("Error: "))
    return "no error output"


def preflight(
    directory: Path, *, root: Path, kustomization: Mapping[str, Any] | None = None
) -> None:
    """Refuse a tree a binary would fetch for, run plugins for, or read outside ``root`` from.

    :func:`homelab_kit.render.vet.vet` without the copy: every kustomization reachable
    from ``directory`` and every file it names are checked.
    """
    vet(directory, root=root, kustomization=kustomization)
