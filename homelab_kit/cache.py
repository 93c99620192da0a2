"""A cache of parsed files and of whole lint results, keyed like ruff's.

Parsed files are reused when a file's size and modification time are unchanged; a
whole lint result is reused when nothing that could change it changed: the tool
version, the plugins and their versions, the configuration, the selected checks and
every file the run read (the size and modification time of every file under the
folders read, of a symbolic link's target, and of every path outside them the
model looked at).  Parsed files are kept in shards (by a hash of their path), so a
run after one file changed rewrites one shard, not the parse of the whole repository.
Beside each file's parse are the models the loader built from it (its
:class:`~homelab_kit.model.base.DocumentRef` s, its Flux and Kubernetes objects, keyed
by what else they depended on), so that run rebuilds the models of that file only.

Where the cache lives is the user's choice, never the repository's:
``$HOMELAB_KIT_CACHE_DIR``, else a ``cache-dir`` in a configuration file outside the
repository (``--config``), else ``$XDG_CACHE_HOME/homelab-kit`` or
``~/.cache/homelab-kit``; the repository's own ``.homelab-kit.yaml`` cannot set it.
Every cache file is signed with an HMAC key kept in that folder (readable by this
user only), and holds the repository it was written for: a file planted or copied
from another repository, or corrupted, is ignored.  Even a correctly signed file
cannot run code: it is read by an unpickler that builds only homelab-kit's own
value classes (attrs classes, enums, its ``dict``/``str`` subclasses) and a few
standard types, and refuses any other global (``os.system``, any function).

A cache folder that cannot be used (a file, read-only, full, not creatable) costs a
warning, once, and the run goes on without the cache.  Writes are atomic, so
concurrent runs at worst redo work.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import io
import os
import pickle
import re
import stat
import sys
import warnings
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs

from homelab_kit.cachedir import CACHE_DIR_ENV as CACHE_DIR_ENV  # re-exported
from homelab_kit.cachedir import cache_directory
from homelab_kit.cachedir import default_cache_dir as default_cache_dir  # re-exported
from homelab_kit.errors import HomelabKitWarning
from homelab_kit.yaml import YamlFile
from homelab_kit.yaml.reader import dumps_parsed

# 4: Diagnostic.cluster; 5: a file's models beside its parse; 6: maps and sequences
# pickled as a call of their class (homelab_kit.yaml.nodes)
FORMAT_VERSION = 6
_DIGEST = 32
SHARDS = 32  # parsed-file cache files per repository
BUILD_SHARDS = 16  # Flux Kustomization build cache files per repository

_warned: list[str] = []  # the warning this process gave about an unusable cache (once)


# A parsed file in the cache: (mtime_ns, size, parsed, the models built from it)
_Entry = tuple[int, int, YamlFile, dict[Any, Any]]


def warn_unusable(directory: Path, exc: OSError) -> None:
    """Say once per process that the cache cannot be used, and why (the run goes on)."""
    if _warned:
        return
    reason = exc.strerror or type(exc).__name__
    message = f"cache folder {directory} cannot be used ({reason}); running without the cache"
    _warned.append(message)
    warnings.warn(HomelabKitWarning(message), stacklevel=3)


def open_cache(configured: Path | None, root: Path, salt: str) -> Cache | None:
    """The cache of ``root`` in :func:`cache_directory`, or None (warned once) if unusable."""
    directory = cache_directory(configured)
    try:
        return Cache(directory, root, salt)
    except OSError as exc:
        warn_unusable(directory, exc)
        return None


def _key(directory: Path) -> bytes:
    """The folder's signing key, made on first use.

    :raises OSError: the folder cannot hold it (a file, read-only, full, ...).
    """
    path = directory / "hmac.key"
    try:
        data = path.read_bytes()
        if len(data) == _DIGEST:
            return data
    except FileNotFoundError:
        pass
    import secrets
    import tempfile

    directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(_DIGEST)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".key.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return key


# Standard types a cached value may hold besides homelab-kit's own classes.
_STANDARD = frozenset(
    {
        ("pathlib", "Path"),
        ("pathlib", "PosixPath"),
        ("pathlib", "PurePosixPath"),
        ("pathlib", "WindowsPath"),
        ("pathlib", "PureWindowsPath"),
        ("datetime", "date"),
        ("datetime", "datetime"),
        ("datetime", "time"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "complex"),
    }
)
_VALUE_BASES = (enum.Enum, dict, list, tuple, str, int, float)


def _is_model_class(module: str, name: str) -> bool:
    """A value class homelab-kit defines: attrs, an enum, or a dict/str/... subclass."""
    if module != "homelab_kit" and not module.startswith("homelab_kit."):
        return False
    found = getattr(sys.modules.get(module), name, None) if "." not in name else None
    known = _model_classes.get((module, name))
    if known is not None and known[0] is found:
        return known[1]  # asked once per class and process (each unpickling asks again)
    answer = (
        isinstance(found, type)
        and found.__module__ == module
        and not issubclass(found, BaseException)
        and (attrs.has(found) or issubclass(found, _VALUE_BASES))
    )
    _model_classes[(module, name)] = (found, answer)
    return answer


# (module, name) -> (the object found there, whether it is a model class)
_model_classes: dict[tuple[str, str], tuple[Any, bool]] = {}


class _ModelUnpickler(pickle.Unpickler):
    """Builds only homelab-kit's value classes and :data:`_STANDARD` types: never a function."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _STANDARD or _is_model_class(module, name):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a homelab-kit value class")


def loads_models(payload: bytes) -> Any:
    """Unpickle ``payload``, admitting only homelab-kit's own value classes."""
    return _ModelUnpickler(io.BytesIO(payload)).load()


class Cache:
    """The signed cache of one repository (by its absolute root path).

    :raises OSError: ``directory`` cannot hold the cache (see :func:`open_cache`).
    """

    def __init__(self, directory: Path, root: Path, salt: str) -> None:
        self.directory = directory
        self.salt = salt
        self.root = str(Path(root).resolve())
        root_id = hashlib.sha256(self.root.encode("utf-8", "surrogatepass")).hexdigest()[:20]
        self._shard_paths = [directory / f"{root_id}-{n:02d}.parse" for n in range(SHARDS)]
        self._legacy_parse_path = directory / f"{root_id}.parse"  # format 1: one file
        self._result_path = directory / f"{root_id}.result"
        self._checks_path = directory / f"{root_id}.checks"
        self._build_paths = [directory / f"{root_id}-{n:02d}.build" for n in range(BUILD_SHARDS)]
        self._key = _key(directory)
        self._writable = True
        # Parsed files are read on first use: a run the result cache answers never
        # needs them.
        # rel -> (mtime, size, parsed, models); models: what the loader built from
        # the file (homelab_kit.model.loader.build_repo's ``memo``)
        self._loaded: list[dict[str, _Entry]] | None = None
        self._fresh: dict[str, _Entry] = {}
        self._dirty: set[int] = set()  # shards with an entry added, changed or gone
        self.models_rebuilt: set[str] = set()  # files whose models this run built anew
        # Builds (see homelab_kit.build_cache), by key; each shard read on first use.
        self._builds: list[dict[str, Any] | None] = [None] * BUILD_SHARDS
        self._builds_kept: dict[str, Any] = {}
        self._builds_dirty: set[int] = set()

    @property
    def _shards(self) -> list[dict[str, _Entry]]:
        if self._loaded is None:
            self._loaded = []
            for path in self._shard_paths:
                stored = self._read(path)
                self._loaded.append(stored if isinstance(stored, dict) else {})
        return self._loaded

    @staticmethod
    def _shard(rel: str) -> int:
        return zlib.crc32(rel.encode("utf-8", "surrogatepass")) % SHARDS

    # ------------------------------------------------------------------ signing

    def _read(self, path: Path) -> Any:
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        if len(blob) < _DIGEST:
            return None
        digest, payload = blob[:_DIGEST], blob[_DIGEST:]
        import hmac  # these three: only once a cache is read or written (not --no-cache)

        expected = hmac.new(self._key, payload, hashlib.sha256).digest()
        if not hmac.compare_digest(digest, expected):
            return None
        try:
            version, salt, root, value = loads_models(payload)
        except Exception:
            return None
        if version != FORMAT_VERSION or salt != self.salt or root != self.root:
            return None  # another version, limits or repository wrote it
        return value

    def _write(self, path: Path, value: Any) -> None:
        if not self._writable:
            return
        payload = dumps_parsed((FORMAT_VERSION, self.salt, self.root, value))
        import hmac
        import tempfile

        digest = hmac.new(self._key, payload, hashlib.sha256).digest()
        # Not fsutil.atomic_write_bytes: a cache file is disposable (a torn one fails its
        # HMAC and is ignored), so it skips the fsyncs that make user files durable.
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{path.name}.")
            with os.fdopen(fd, "wb") as handle:
                handle.write(digest + payload)
            os.replace(tmp, path)
        except OSError as exc:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            self._writable = False
            warn_unusable(self.directory, exc)

    # ------------------------------------------------------------------ parsed files

    def get(self, rel: str, stat: os.stat_result) -> YamlFile | None:
        shard = self._shard(rel)
        entry = self._shards[shard].get(rel)
        if entry is not None and entry[0] == stat.st_mtime_ns and entry[1] == stat.st_size:
            self._fresh[rel] = entry
            return entry[2]
        self._dirty.add(shard)
        return None

    def put(self, rel: str, stat: os.stat_result, parsed: YamlFile) -> None:
        self._fresh[rel] = (stat.st_mtime_ns, stat.st_size, parsed, {})
        self._dirty.add(self._shard(rel))

    def models(self, rel: str, parsed: YamlFile) -> dict[Any, Any]:
        """The models kept with ``parsed`` (this run's :meth:`get` or :meth:`put` of
        ``rel``), or an empty table when ``parsed`` is not that very object."""
        entry = self._fresh.get(rel)
        return entry[3] if entry is not None and entry[2] is parsed else {}

    def keep_models(
        self, rel: str, parsed: YamlFile, models: dict[Any, Any], *, changed: bool
    ) -> None:
        """Keep ``models`` with ``parsed`` (``changed``: not all as :meth:`models` gave)."""
        entry = self._fresh.get(rel)
        if entry is None or entry[2] is not parsed:
            return  # not cached (no stat), or replaced (spend_alias_budget)
        if changed:
            self.models_rebuilt.add(rel)
        if changed or entry[3].keys() != models.keys():
            self._dirty.add(self._shard(rel))
        self._fresh[rel] = (entry[0], entry[1], parsed, models)

    def save(self) -> None:
        """Keep exactly the files of this run (forgetting deleted ones), shard by shard."""
        fresh: list[dict[str, _Entry]] = [{} for _ in range(SHARDS)]
        for rel, entry in self._fresh.items():
            fresh[self._shard(rel)][rel] = entry
        for number, (path, entries) in enumerate(zip(self._shard_paths, fresh, strict=True)):
            if number in self._dirty or len(entries) != len(self._shards[number]):
                self._write(path, entries)
        self._dirty.clear()
        with contextlib.suppress(OSError):
            self._legacy_parse_path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ builds

    @staticmethod
    def _build_shard(key: str) -> int:
        return int(key[:8], 16) % BUILD_SHARDS

    def _build_table(self, shard: int) -> dict[str, Any]:
        table = self._builds[shard]
        if table is None:
            stored = self._read(self._build_paths[shard])
            table = self._builds[shard] = stored if isinstance(stored, dict) else {}
        return table

    def get_build(self, key: str) -> Any:
        """The build stored under ``key`` (a hex digest), or None."""
        return self._build_table(self._build_shard(key)).get(key)

    def keep_build(self, key: str, value: Any, *, changed: bool) -> None:
        """Keep ``value`` under ``key`` at :meth:`save_builds` (``changed``: not as stored)."""
        self._builds_kept[key] = value
        if changed:
            self._builds_dirty.add(self._build_shard(key))

    def save_builds(self) -> None:
        """Keep exactly the builds of this run (forgetting the others), shard by shard.

        A shard is written only when one of its builds is new or changed, or one it
        held was not used this run.
        """
        fresh: list[dict[str, Any]] = [{} for _ in range(BUILD_SHARDS)]
        for key, value in self._builds_kept.items():
            fresh[self._build_shard(key)][key] = value
        for number, (path, entries) in enumerate(zip(self._build_paths, fresh, strict=True)):
            if number in self._builds_dirty or len(entries) != len(self._build_table(number)):
                self._write(path, entries)
                self._builds[number] = entries
        self._builds_dirty.clear()

    # ------------------------------------------------------------------ check results

    def load_checks(self) -> Any:
        """The check results :meth:`save_checks` kept (see :mod:`homelab_kit.lint.reuse`)."""
        return self._read(self._checks_path)

    def save_checks(self, value: Any) -> None:
        self._write(self._checks_path, value)

    # ------------------------------------------------------------------ whole results

    def load_result(self, fingerprint: str) -> Any:
        """The result saved with ``fingerprint``, if every path it watched is unchanged."""
        stored = self._read(self._result_path)
        if not (isinstance(stored, tuple) and len(stored) == 3 and stored[0] == fingerprint):
            return None
        watched = stored[1]
        if not isinstance(watched, tuple) or any(
            not isinstance(item, tuple) or len(item) != 2 or _stamp(self.root, item[0]) != item[1]
            for item in watched
        ):
            return None
        return stored[2]

    def save_result(self, fingerprint: str, result: Any, watched: Iterable[str] = ()) -> None:
        """Keep ``result`` for ``fingerprint``; ``watched`` are more paths (relative to the
        root) it depends on, outside the fingerprinted folders: any change to one (it
        appears, goes, or its size or time changes) makes the result stale."""
        stamps = tuple((rel, _stamp(self.root, rel)) for rel in sorted(set(watched)))
        self._write(self._result_path, (fingerprint, stamps, result))


def _stamp(root: str, rel: str) -> tuple[str, int, int] | None:
    """What a path is now (following links): its kind, size and modification time."""
    try:
        st = os.stat(os.path.join(root, rel))
    except (OSError, ValueError):
        return None
    kind = "dir" if os.path.isdir(os.path.join(root, rel)) else "file"
    return (kind, 0, 0) if kind == "dir" else (kind, st.st_size, st.st_mtime_ns)


def fingerprint_folders(locations: Iterable[str]) -> Iterator[str]:
    """The folders to fingerprint for ``locations`` (a templated one by its fixed prefix).

    A kubeconform-style template (``schemas/{{ .Group }}/{{ .ResourceKind }}.json``)
    names files under ``schemas/``; a URL names nothing on this disk.
    """
    for location in locations:
        if "://" in location:
            continue
        if "{{" in location:
            location = location.split("{{", 1)[0].rpartition("/")[0] or "."
        yield location


def tree_fingerprint(
    root: Path, parts: Iterable[str], folders: Iterable[str], links: list[str] | None = None
) -> str:
    """A hash of ``parts`` and the size and mtime of every file under ``folders``.

    A symbolic link counts with its target's size and mtime (what a run reads), a
    link to a folder with its target; ``.git`` folders are left out.  ``links``,
    when given, receives ``path -> target`` of every symbolic link met.

    Every warm ``lint`` makes this walk (8,666 files at 1,000 apps): one ``scandir``
    per folder and one ``lstat`` per file, the text hashed at once at the end
    (``os.walk`` and a hash update per file cost half as much again).
    """
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    out: list[str] = []
    for folder in folders:
        top = root / folder
        if not top.exists():
            continue
        if top.is_file():
            _hash_file(out, str(top.parent), top.name, links)
            continue
        _hash_tree(out, str(top), links)
    h.update("".join(out).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _hash_tree(out: list[str], top: str, links: list[str] | None) -> None:
    """What ``os.walk(top)`` (top-down, no links followed, folders in name order,
    ``.git`` left out) meets, in that order, as :func:`tree_fingerprint` hashes it."""
    pending = [top]
    while pending:
        dirpath = pending.pop()
        try:
            with os.scandir(dirpath) as found:
                entries = sorted(found, key=_name)
        except OSError:
            continue
        out.append(dirpath)
        folders: list[os.DirEntry[str]] = []
        files: list[os.DirEntry[str]] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()  # as os.walk: a link to a folder is a folder
            except OSError:
                is_dir = False
            if not is_dir:
                files.append(entry)
            elif entry.name != ".git":
                folders.append(entry)
        below = []
        for entry in folders:
            if entry.is_symlink():  # not walked: its target is what counts
                target = _link(entry.path)
                out.append(f"{entry.name}\0->{target}\0")
                if links is not None:
                    links.append(f"{entry.path} -> {target}")
            else:
                below.append(entry.path)
        for entry in files:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            out.append(f"{entry.name}\0{st.st_size}\0{st.st_mtime_ns}\0")
            if stat.S_ISLNK(st.st_mode):
                _hash_target(out, entry.path, links)
        pending.extend(reversed(below))


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _link(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def _hash_file(out: list[str], dirpath: str, name: str, links: list[str] | None = None) -> None:
    path = os.path.join(dirpath, name)
    try:
        st = os.lstat(path)
    except OSError:
        return
    out.append(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0")
    if stat.S_ISLNK(st.st_mode):  # from the lstat above: no second system call per file
        _hash_target(out, path, links)


def _hash_target(out: list[str], path: str, links: list[str] | None) -> None:
    """A symbolic link's target, as a run reads it."""
    if links is not None:
        links.append(f"{path} -> {_link(path)}")
    try:
        target = os.stat(path)
    except OSError:
        out.append("-\0")
    else:
        out.append(f"{target.st_size}\0{target.st_mtime_ns}\0{target.st_ino}\0")


def code_fingerprint(package: str | None = None) -> str:
    """The size and mtime of every Python file of homelab-kit and its first-party plugins.

    Part of every cache's salt, so a cache written by other code (an upgrade, a
    developer's edit, a first-party plugin changed in place) is not used.  Covers the
    ``homelab_kit`` package (``package``: its folder) and the ``homelab_kit*``
    packages beside it or in ``plugins/`` beside it (as installed, or as checked out),
    whether imported or not; a third-party plugin is keyed by its version instead.
    """
    top = package or os.path.dirname(os.path.abspath(__file__))
    parent = os.path.dirname(top)
    folders: list[str] = []
    for where in (parent, os.path.join(parent, "plugins")):
        try:
            entries = sorted(os.scandir(where), key=lambda e: e.name)
        except OSError:
            continue
        folders += [e.path for e in entries if e.name.startswith("homelab_kit") and e.is_dir()]
    out: list[str] = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            out.append(dirpath)
            for filename in sorted(filenames):
                if filename.endswith(".py"):
                    _hash_file(out, dirpath, filename)
    return hashlib.sha256("".join(out).encode("utf-8", "surrogatepass")).hexdigest()[:16]


_CACHE_FILE = re.compile(r"[0-9a-f]{20}(?:-\d{2})?\.(?:parse|result|build|checks)\Z")
_REMOTE_SCHEMA = re.compile(r"[0-9a-f]{64}\.json\Z")


def clean(directory: Path) -> tuple[int, int]:
    """Remove the lint caches and fetched schemas in ``directory``: ``(files, bytes)``.

    Only files homelab-kit names itself are removed (``<root id>-NN.parse``,
    ``<root id>-NN.build``, ``<root id>.result``, ``<root id>.checks``,
    ``schemas/remote/<sha256>.json``),
    so a ``cache-dir`` that points at other files loses none of them. Schemas taken from a cluster
    (``homelab-kit schemas pull``) and the signing key stay.
    """
    files = removed = 0
    candidates = [(directory, _CACHE_FILE), (directory / "schemas" / "remote", _REMOTE_SCHEMA)]
    for folder, pattern in candidates:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if pattern.match(entry.name) and entry.is_file(follow_symlinks=False):
                try:
                    size = entry.stat(follow_symlinks=False).st_size
                    os.unlink(entry.path)
                except OSError:
                    continue
                files += 1
                removed += size
    return files, removed
