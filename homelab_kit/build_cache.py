"""Incremental desired state: a Flux Kustomization is rebuilt only when what it read changed.

Building every cluster's desired state (:mod:`homelab_kit.model.clusters`) renders
each Flux Kustomization with :func:`homelab_kit.render.flux.build_flux_kustomization`.
With a lint cache (:class:`homelab_kit.cache.Cache`), :func:`build_flux_kustomization`
here stands in for it: a build is stored under a key made of everything it was
given (the Kustomization object, positions included, after the parent's patches and
substitution; its namespace; the ConfigMaps and Secrets its ``substituteFrom``
could name; every symbolic link of the repository), with the files it read and the
folders it listed, as the build itself opened them (Python's audit events ``open``,
``os.scandir`` and ``os.listdir``, recorded while it runs).  A later run reuses the
build when the key is the same and every one of those files has the same content
(the SHA-256 of the bytes the loader read this run; a file it did not read: same
size and modification time, or else the same SHA-256) and every folder the same
entries (same modification time, or else the same names, kinds and link targets)
as the folder of each file read, and every folder listed.  A changed values file
thus rebuilds the Kustomizations that read it, and no other.  With each build the
digest of every Flux Kustomization it gives is kept: the key of that
Kustomization's own build, next run, is made without hashing it again.

Only the pure-Python renderer's builds are kept (a kubectl binary reads files this
process cannot see), never a build that failed, and never one that skips missing
components (``ignoreMissingComponents``: a component created later would not be
noticed).  The stored builds live in the cache's signed shards, read back by its
restricted unpickler (see :mod:`homelab_kit.cache`).

A build may be made in a forked process (the desired state's frontier built
ahead: :mod:`homelab_kit.model.clusters`): :meth:`BuildSession.make` changes
nothing in the session and returns what the build read with the build pickled;
the main process then counts and keeps it with :meth:`BuildSession.adopt`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from collections.abc import Hashable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from homelab_kit.cache import Cache, loads_models
from homelab_kit.model.flux import KUSTOMIZE_GROUP, substitute_from_refs
from homelab_kit.render import flux
from homelab_kit.render.flux import FluxBuild
from homelab_kit.yaml import YamlFile, YMap, YSeq
from homelab_kit.yaml.reader import dumps_parsed

# A dependency: ("f", path, size, mtime_ns, sha256) or ("d", path, entries' sha256,
# mtime_ns); mtime_ns is None when it was within _RACY of the recording.
Dependency = tuple[Any, ...]
# What the cache keeps of a build: its dependencies, the build pickled, the digest
# (:func:`_digest`) of each Flux Kustomization among its objects by index (the keys
# of their builds), and the name of its objects (see BuildSession._identify).
Stored = tuple[tuple[Dependency, ...], bytes, "_Digests", str]


class _Reads:
    """The files one build opened for reading and the folders it listed."""

    def __init__(self) -> None:
        self.files: set[str] = set()
        self.folders: set[str] = set()


_recording: list[_Reads] = []
_hooked: list[bool] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Record what the running build reads (an audit hook: must never raise)."""
    if not _recording:
        return
    try:
        if event == "open":
            path, mode, flags = args
            if isinstance(path, int):
                return
            if mode is not None:
                if "r" not in mode and "+" not in mode:
                    return  # written only (the renderer's temporary copies)
            elif isinstance(flags, int) and flags & os.O_ACCMODE == os.O_WRONLY:
                return
            for reads in _recording:
                reads.files.add(os.path.abspath(os.fsdecode(path)))
        elif event in ("os.scandir", "os.listdir"):
            path = args[0] if args and args[0] is not None else "."
            if isinstance(path, int):
                return
            for reads in _recording:
                reads.folders.add(os.path.abspath(os.fsdecode(path)))
    except Exception:
        for reads in _recording:
            reads.files.add("\0unknown")


@contextlib.contextmanager
def _recorded() -> Iterator[_Reads]:
    if not _hooked:
        sys.addaudithook(_audit)
        _hooked.append(True)
    reads = _Reads()
    _recording.append(reads)
    try:
        yield reads
    finally:
        _recording.remove(reads)


class _ReadThrough(Mapping[str, YamlFile]):
    """The loader's parsed files (by path relative to the root), each looked up
    recorded as read."""

    def __init__(self, files: Mapping[str, YamlFile], root: str, reads: _Reads) -> None:
        self.files = files
        self.root = root
        self.reads = reads

    def __getitem__(self, rel: str) -> YamlFile:
        self.reads.files.add(os.path.join(self.root, rel))
        return self.files[rel]

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


# A build made: the build, what it read (None: not to be kept), the build pickled and
# the digests of the Flux Kustomizations it holds.
Made = tuple[FluxBuild, "tuple[Dependency, ...] | None", "bytes | None", "_Digests"]
# (index of an object of a build, its digest): the Flux Kustomizations among them.
_Digests = tuple[tuple[int, bytes], ...]


class Ticket:
    """One build through a :class:`BuildSession`: its arguments, its key (None: never
    kept) and the stored build still valid for it (None: to be made)."""

    def __init__(
        self,
        kustomization: Mapping[str, Any],
        root: Path | str,
        objects: list[Mapping[str, Any]],
        backend: str,
        namespace: str | None,
        strict: bool,
        parsed: Mapping[str, YamlFile] | None,
    ) -> None:
        self.kustomization = kustomization
        self.root = root
        self.objects = objects
        self.backend = backend
        self.namespace = namespace
        self.strict = strict
        self.parsed = parsed
        self.key: str | None = None
        self.stored: Stored | None = None

    def reusable(self) -> bool:
        return self.stored is not None

    def run(self, parsed: Mapping[str, YamlFile] | None) -> FluxBuild:
        return flux.build_flux_kustomization(
            self.kustomization,
            root=self.root,
            source_objects=self.objects,
            backend=self.backend,
            namespace=self.namespace,
            strict=self.strict,
            parsed=parsed,
        )


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Whether two tickets' arguments are the same: the same objects (the
    Kustomization, its sources, the parsed files), equal others."""
    return (
        a[0] is b[0]
        and len(a[1]) == len(b[1])
        and all(x is y for x, y in zip(a[1], b[1], strict=True))
        and a[2] is b[2]
        and a[3:] == b[3:]
    )


class BuildSession:
    """The builds of one run: reused from ``store`` where still valid, kept for the next.

    ``links`` are the repository's symbolic links (``path -> target``): part of
    every key, so retargeting one rebuilds everything.
    """

    def __init__(self, store: Cache, root: Path, links: Iterable[str] = ()) -> None:
        self.store = store
        self.root = os.path.realpath(root)
        self._prefix = self.root.rstrip(os.sep) + os.sep
        self._salt = hashlib.sha256(
            "\n".join(sorted(links)).encode("utf-8", "surrogatepass")
        ).hexdigest()
        self._valid: dict[Dependency, bool] = {}
        self._ours: dict[str, bool] = {}  # a root as given -> whether it is this one
        self._sources: dict[int, tuple[Mapping[str, Any], bytes]] = {}
        # The digest of each Flux Kustomization a build gave (by the id of its data),
        # known from the build: its children's keys need not hash it again.
        self._digests: dict[int, tuple[Mapping[str, Any], bytes]] = {}
        self._index = _SourceIndex()
        # What each built object is, by the id of its data: (the data, its name).
        self.identities: dict[int, tuple[Mapping[str, Any], str]] = {}
        # The last ticket of each Kustomization object (by id), with what it was asked.
        self._tickets: dict[int, tuple[tuple[Any, ...], Ticket]] = {}
        self.reused = 0
        self.built = 0

    def build(
        self,
        kustomization: Mapping[str, Any],
        *,
        root: Path | str,
        source_objects: Iterable[Mapping[str, Any]] = (),
        backend: str = "auto",
        namespace: str | None = None,
        strict: bool = False,
        parsed: Mapping[str, YamlFile] | None = None,
        sources: Any = None,
    ) -> FluxBuild:
        """:func:`homelab_kit.render.flux.build_flux_kustomization`, reused when valid.

        A build that runs gets its own reader of the tree (not the run's shared
        ``sources``, which remembers what earlier builds read), so that every file
        it depends on is read, and recorded, by it.
        """
        ticket = self.ticket(
            kustomization,
            root=root,
            source_objects=source_objects,
            backend=backend,
            namespace=namespace,
            strict=strict,
            parsed=parsed,
            sources=sources,
        )
        return self.adopt(ticket, None if ticket.reusable() else self.make(ticket))

    def ticket(
        self,
        kustomization: Mapping[str, Any],
        *,
        root: Path | str,
        source_objects: Iterable[Mapping[str, Any]] = (),
        backend: str = "auto",
        namespace: str | None = None,
        strict: bool = False,
        parsed: Mapping[str, YamlFile] | None = None,
        sources: Any = None,
    ) -> Ticket:
        """The build of these arguments: its key and the stored build still valid, if any.

        Asking changes nothing: :meth:`make` builds it (in any process),
        :meth:`adopt` counts and keeps it, in turn.  Asked again for the same
        objects (a build made ahead of its turn), the same ticket.
        """
        objects = source_objects if isinstance(source_objects, list) else list(source_objects)
        if parsed is None and sources is not None:
            parsed = getattr(sources, "parsed", None)
        asked = (kustomization, objects, parsed, str(root), backend, namespace, strict)
        known = self._tickets.get(id(kustomization))
        if known is not None and _same(known[0], asked):
            return known[1]
        ticket = Ticket(kustomization, root, objects, backend, namespace, strict, parsed)
        if backend == "python" and self._is_root(str(root)) and not _ignores_missing(kustomization):
            ticket.key = self._key(kustomization, objects, namespace, strict)
            stored = self.store.get_build(ticket.key)
            if (
                isinstance(stored, tuple)
                and len(stored) == 4
                and isinstance(stored[0], tuple)
                and isinstance(stored[1], bytes)
                and isinstance(stored[2], tuple)
                and isinstance(stored[3], str)
                and self._all_still(stored[0], parsed)
            ):
                ticket.stored = stored
        self._tickets[id(kustomization)] = (asked, ticket)
        return ticket

    def make(self, ticket: Ticket) -> Made:
        """Run the build of ``ticket`` (not reusable), recording what it reads: the
        build, its dependencies (None: not to be kept) and the build pickled to keep.
        Changes nothing in the session: safe in a forked process."""
        if ticket.key is None:
            return ticket.run(ticket.parsed), None, None, ()
        with _recorded() as reads:
            parsed = ticket.parsed
            if parsed is not None:  # a file used through the loader's parse is read too
                parsed = _ReadThrough(parsed, self.root, reads)
            result = ticket.run(parsed)
        dependencies = self._dependencies(reads)
        if dependencies is None:
            return result, None, None, ()
        # Pickled now: what the caller later does with the objects is not kept.
        return result, dependencies, dumps_parsed(result), _kustomization_digests(result)

    def adopt(self, ticket: Ticket, made: Made | None) -> FluxBuild:
        """The build of ``ticket``: the stored one (``made`` None) or ``made``, counted
        and kept for the next run."""
        if made is None:
            assert ticket.key is not None
            assert ticket.stored is not None
            try:
                found = loads_models(ticket.stored[1])
            except Exception:  # a build its classes no longer describe: build again
                found = None
            if not isinstance(found, FluxBuild):
                ticket.stored = None
                return self.adopt(ticket, self.make(ticket))
            self.store.keep_build(ticket.key, ticket.stored, changed=False)
            self.reused += 1
            self._identify(ticket.stored[3], found)
            self._known_digests(found, ticket.stored[2])
            return found
        result, dependencies, payload, digests = made
        if ticket.key is None:
            return result
        self.built += 1
        if dependencies is not None and payload is not None:
            for dep in dependencies:
                self._valid[dep] = True
            # the name of its objects: what made them, the build's key and the files
            # and folders it read, as they are (so the same name, run after run, means
            # the same object, positions included)
            name = hashlib.sha256(
                f"{ticket.key}\0{dependencies!r}".encode("utf-8", "surrogatepass")
            ).hexdigest()
            self.store.keep_build(ticket.key, (dependencies, payload, digests, name), changed=True)
            self._identify(name, result)
            self._known_digests(result, digests)
        return result

    def _known_digests(self, result: FluxBuild, digests: _Digests) -> None:
        """Remember the digests of ``result``'s Flux Kustomizations (as kept with it),
        for the keys of their own builds."""
        objects = result.objects
        for item in digests:
            if (
                isinstance(item, tuple)
                and len(item) == 2
                and isinstance(item[0], int)
                and 0 <= item[0] < len(objects)
                and isinstance(item[1], bytes)
            ):
                data = objects[item[0]]
                self._digests[id(data)] = (data, item[1])

    def _identify(self, made: str, result: FluxBuild) -> None:
        """Name each object of ``result`` by the name of its build (kept with it: see
        :meth:`adopt`) and its place (see :class:`homelab_kit.lint.reuse.ObjectResults`)."""
        for number, data in enumerate(result.objects):
            self.identities[id(data)] = (data, f"{made}:{number}")

    def save(self) -> None:
        self.store.save_builds()

    # ------------------------------------------------------------------ keys

    def _key(
        self,
        kustomization: Mapping[str, Any],
        sources: list[Mapping[str, Any]],
        namespace: str | None,
        strict: bool,
    ) -> str:
        h = hashlib.sha256()
        h.update(f"{self._salt}\0{namespace}\0{strict}\0".encode("utf-8", "surrogatepass"))
        known = self._digests.get(id(kustomization))
        if known is not None and known[0] is kustomization:
            # An object of a build: hashed when it was built (what _feed would feed).
            h.update(known[1])
        else:
            h.update(_digest(kustomization))
        names = {ref.get("name") for ref in substitute_from_refs(kustomization)}
        for source in self._index.named(sources, names) if names else ():
            # Many Kustomizations name the same few objects: each is hashed once.
            known = self._sources.get(id(source))
            if known is None or known[0] is not source:
                known = self._sources[id(source)] = (source, _digest(source))
            h.update(known[1])
        return h.hexdigest()

    # ------------------------------------------------------------------ dependencies

    def _rel(self, path: str) -> str | None:
        """``path`` relative to the root, or None outside it (the renderer reads nothing
        there: its own temporary copies, Python's modules)."""
        if path.startswith(self._prefix):
            return path[len(self._prefix) :]
        return None

    def _dependencies(self, reads: _Reads) -> tuple[Dependency, ...] | None:
        if "\0unknown" in reads.files:
            return None
        out: list[Dependency] = []
        folders: set[str] = set()
        # A modification time within _RACY of now may be shared by a change still to
        # come (coarse file-system clocks, a write in the same tick): it is not kept,
        # so the next run compares the digest or the entries (git's "racily clean").
        recent = time.time_ns() - _RACY
        for path in sorted(reads.files):
            rel = self._rel(path)
            if rel is None:
                continue
            folders.add(os.path.dirname(rel))  # a file that appears there, or goes
            stamp = _file_stamp(os.path.join(self.root, rel))
            if stamp is not None:  # else it was missing: its folder's entries say so
                size, changed, sha = stamp
                out.append(("f", rel, size, changed if changed < recent else None, sha))
        for path in reads.folders:
            rel = self._rel(path + os.sep)
            if rel is not None:
                folders.add(rel.rstrip(os.sep))
        for rel in sorted(folders):
            full = os.path.join(self.root, rel)
            when = _mtime(full)  # before the entries: a change after is seen next run
            trusted = when if when is not None and when < recent else None
            out.append(("d", rel, _entries(full), trusted))
        return tuple(out)

    def _is_root(self, root: str) -> bool:
        known = self._ours.get(root)
        if known is None:
            known = self._ours[root] = os.path.realpath(root) == self.root
        return known

    def _all_still(
        self, dependencies: tuple[Dependency, ...], parsed: Mapping[str, YamlFile] | None
    ) -> bool:
        """Whether every one of ``dependencies`` is still so (:meth:`_still`).

        A file the loader read this run (in ``parsed``) is compared by the digest of
        the bytes it read, without reading it again (nor remembering the answer: a
        look in ``parsed`` costs what a look in the answers would).
        """
        for dep in dependencies:
            if (
                parsed is not None
                and type(dep) is tuple
                and len(dep) == 5
                and dep[0] == "f"
                and type(dep[1]) is str
            ):
                loaded = parsed.get(dep[1])
                if loaded is not None and loaded.sha256:
                    if loaded.sha256 != dep[4]:
                        return False
                    continue
            if not self._still(dep):
                return False
        return True

    def _still(self, dep: Dependency) -> bool:
        """Whether what ``dep`` recorded is still so (answered once per run): a file
        by its size and modification time, or else its digest; a folder by its
        modification time, or else its entries (a time recorded too near its change
        is not kept: the digest or the entries answer)."""
        known = self._valid.get(dep)
        if known is not None:
            return known
        valid = False
        kind = dep[0] if dep else None
        if kind == "f" and len(dep) == 5 and isinstance(dep[1], str):
            valid = _file_unchanged(os.path.join(self.root, dep[1]), dep[2], dep[3], dep[4])
        elif kind == "d" and len(dep) == 4 and isinstance(dep[1], str):
            full = os.path.join(self.root, dep[1])
            valid = (dep[3] is not None and _mtime(full) == dep[3]) or _entries(full) == dep[2]
        self._valid[dep] = valid
        return valid


_RACY = 2_000_000_000  # ns: FAT keeps times to 2 s, HFS+ and some mounts to 1 s


def _file_stamp(path: str) -> tuple[int, int, str] | None:
    try:
        with open(path, "rb") as handle:
            st = os.fstat(handle.fileno())
            data = handle.read()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, hashlib.sha256(data).hexdigest()


def _file_unchanged(path: str, size: Any, mtime: Any, sha: Any) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    if st.st_size == size and st.st_mtime_ns == mtime:
        return True
    stamp = _file_stamp(path)
    return stamp is not None and stamp[2] == sha


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _entries(folder: str) -> str | None:
    """A hash of a folder's entries: names, kinds and link targets (None: no folder)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return None
    h = hashlib.sha256()
    for entry in entries:
        if entry.is_symlink():
            try:
                kind = "l" + os.readlink(entry.path)
            except OSError:
                kind = "l"
        else:
            kind = "d" if entry.is_dir(follow_symlinks=False) else "f"
        h.update(f"{entry.name}\0{kind}\0".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _kustomization_digests(result: FluxBuild) -> _Digests:
    """The digest of each Flux Kustomization among ``result``'s objects, by index."""
    out: list[tuple[int, bytes]] = []
    for number, data in enumerate(result.objects):
        api = data.get("apiVersion")
        if (
            data.get("kind") == "Kustomization"
            and isinstance(api, str)
            and api.startswith(KUSTOMIZE_GROUP + "/")
        ):
            out.append((number, _digest(data)))
    return tuple(out)


def _ignores_missing(kustomization: Mapping[str, Any]) -> bool:
    spec = kustomization.get("spec")
    return isinstance(spec, Mapping) and spec.get("ignoreMissingComponents") is True


class _SourceIndex:
    """The positions of the sources of each name in a list that only grows (as the
    cluster build's list of ConfigMaps and Secrets does); rebuilt for another list."""

    def __init__(self) -> None:
        self.of: list[Mapping[str, Any]] | None = None
        self.done = 0
        self.by_name: dict[Any, list[int]] = {}
        self.last: Mapping[str, Any] | None = None

    def named(self, sources: list[Mapping[str, Any]], names: set[Any]) -> list[Mapping[str, Any]]:
        """Every source of one of ``names`` (any namespace: a superset of what the
        build uses), in list order."""
        if (
            sources is not self.of
            or len(sources) < self.done
            or (self.done and sources[self.done - 1] is not self.last)
        ):
            self.of, self.done, self.by_name = sources, 0, {}
        for number in range(self.done, len(sources)):
            meta = sources[number].get("metadata")
            if isinstance(meta, Mapping):
                name = meta.get("name")
                if isinstance(name, Hashable):
                    self.by_name.setdefault(name, []).append(number)
        self.done = len(sources)
        self.last = sources[-1] if sources else None
        found = sorted(
            n for name in names if isinstance(name, Hashable) for n in self.by_name.get(name, ())
        )
        return [sources[n] for n in found]


def _digest(value: Any) -> bytes:
    h = hashlib.sha256()
    _feed(h, value)
    return h.digest()


def _feed(h: Any, value: Any) -> None:
    """Hash ``value`` exactly: types, positions of YAML nodes, and contents, in order."""
    parts: list[str] = []
    _parts(value, parts.append)
    # One update of the joined text hashes what one update per part would.
    h.update("".join(parts).encode("utf-8", "surrogatepass"))


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _parts(value: Any, out: Any) -> None:
    """:func:`_feed`'s text of ``value``, part by part (exact classes tested first: the
    ``Mapping`` ABC's check of every scalar was most of the keys' cost)."""
    cls = value.__class__
    if cls in _SCALARS:
        out(f"{cls.__name__}:{value!r};")
    elif isinstance(value, dict):
        if type(value) is YMap:
            out(f"M{value.line},{value.column}{list(value.marks.items())!r}")
        out("{")
        for key, item in value.items():
            _parts(key, out)
            _parts(item, out)
        out("}")
    elif isinstance(value, list | tuple):
        if type(value) is YSeq:
            out(f"S{value.line},{value.column}{value.item_marks!r}")
        out("[")
        for item in value:
            _parts(item, out)
        out("]")
    elif isinstance(value, Mapping):
        _parts(dict(value), out)
    else:
        out(f"{cls.__name__}:{value!r};")


_ACTIVE: ContextVar[BuildSession | None] = ContextVar("homelab_kit_build_session", default=None)


def active_session() -> BuildSession | None:
    """The session builds go through here (see :func:`using`), if any."""
    return _ACTIVE.get()


@contextlib.contextmanager
def using(session: BuildSession | None) -> Iterator[None]:
    """Builds in this block go through ``session`` (None: as without a cache)."""
    token = _ACTIVE.set(session)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def build_flux_kustomization(
    kustomization: Mapping[str, Any],
    *,
    root: Path | str,
    source_objects: Iterable[Mapping[str, Any]] = (),
    backend: str = "auto",
    namespace: str | None = None,
    strict: bool = False,
    parsed: Mapping[str, YamlFile] | None = None,
    sources: Any = None,
) -> FluxBuild:
    """:func:`homelab_kit.render.flux.build_flux_kustomization`, through the active session.

    The same arguments and result; inside :func:`using` a build whose inputs did
    not change is reused instead of run.
    """
    session = _ACTIVE.get()
    build = session.build if session is not None else flux.build_flux_kustomization
    return build(
        kustomization,
        root=root,
        source_objects=source_objects,
        backend=backend,
        namespace=namespace,
        strict=strict,
        parsed=parsed,
        sources=sources,
    )
