"""A cache of parsed files and of whole lint results, keyed like ruff's.

Parsed files are reused when a file's size and modification time are unchanged; a
whole lint result is reused when nothing that could change it changed: the tool
version, the plugins and their versions, the configuration, the selected checks and
the size and modification time of every file in the tree.  Parsed files are kept in
shards (by a hash of their path), so a run after one file changed rewrites one
shard, not the parse of the whole repository.

The cache lives outside the repository (``$XDG_CACHE_HOME/homelab-kit``, else
``~/.cache/homelab-kit``) and every cache file is signed with an HMAC key that only
this user can read: a cache file planted by a repository (or any other tampering or
corruption) is ignored, never unpickled.  The key always lives in the user's own
cache folder, even when the configuration's ``cache-dir`` puts the cache elsewhere:
a repository names ``cache-dir``, so a key found there could be its own.  Writes are
atomic, so concurrent runs at worst redo work.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import secrets
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from homelab_kit.yaml import YamlFile
from homelab_kit.yaml.reader import dumps_parsed

FORMAT_VERSION = 2
_DIGEST = 32
SHARDS = 32  # parsed-file cache files per repository


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "homelab-kit"


def _key(directory: Path) -> bytes:
    path = directory / "hmac.key"
    try:
        data = path.read_bytes()
        if len(data) == _DIGEST:
            return data
    except OSError:
        pass
    directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(_DIGEST)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".key.")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, key)
        os.close(fd)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return key  # unsigned-on-disk is fine: the next run will just not trust it
    return key


class Cache:
    """The signed cache of one repository (by its absolute root path).

    ``directory`` holds the cache files; the signing key lives in ``key_dir``
    (default: :func:`default_cache_dir`), never in a folder the repository chose.
    """

    def __init__(self, directory: Path, root: Path, salt: str, key_dir: Path | None = None) -> None:
        self.directory = directory
        self.salt = salt
        root_id = hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:20]
        self._shard_paths = [directory / f"{root_id}-{n:02d}.parse" for n in range(SHARDS)]
        self._legacy_parse_path = directory / f"{root_id}.parse"  # format 1: one file
        self._result_path = directory / f"{root_id}.result"
        self._key = _key(key_dir or default_cache_dir())
        # Parsed files are read on first use: a run the result cache answers never
        # needs them.
        self._loaded: list[dict[str, tuple[int, int, YamlFile]]] | None = None
        self._fresh: dict[str, tuple[int, int, YamlFile]] = {}
        self._dirty: set[int] = set()  # shards with an entry added, changed or gone

    @property
    def _shards(self) -> list[dict[str, tuple[int, int, YamlFile]]]:
        if self._loaded is None:
            self._loaded = []
            for path in self._shard_paths:
                stored = self._read(path)
                self._loaded.append(stored if isinstance(stored, dict) else {})
        return self._loaded

    @staticmethod
    def _shard(rel: str) -> int:
        return zlib.crc32(rel.encode()) % SHARDS

    # ------------------------------------------------------------------ signing

    def _read(self, path: Path) -> Any:
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        if len(blob) < _DIGEST:
            return None
        digest, payload = blob[:_DIGEST], blob[_DIGEST:]
        expected = hmac.new(self._key, payload, hashlib.sha256).digest()
        if not hmac.compare_digest(digest, expected):
            return None
        try:
            version, salt, value = pickle.loads(payload)  # signed by us: safe to load
        except Exception:
            return None
        if version != FORMAT_VERSION or salt != self.salt:
            return None
        return value

    def _write(self, path: Path, value: Any) -> None:
        payload = dumps_parsed((FORMAT_VERSION, self.salt, value))
        digest = hmac.new(self._key, payload, hashlib.sha256).digest()
        # Not fsutil.atomic_write_bytes: a cache file is disposable (a torn one fails its
        # HMAC and is ignored), so it skips the fsyncs that make user files durable.
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{path.name}.")
            with os.fdopen(fd, "wb") as handle:
                handle.write(digest + payload)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)

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
        self._fresh[rel] = (stat.st_mtime_ns, stat.st_size, parsed)
        self._dirty.add(self._shard(rel))

    def save(self) -> None:
        """Keep exactly the files of this run (forgetting deleted ones), shard by shard."""
        fresh: list[dict[str, tuple[int, int, YamlFile]]] = [{} for _ in range(SHARDS)]
        for rel, entry in self._fresh.items():
            fresh[self._shard(rel)][rel] = entry
        for number, (path, entries) in enumerate(zip(self._shard_paths, fresh, strict=True)):
            if number in self._dirty or len(entries) != len(self._shards[number]):
                self._write(path, entries)
        self._dirty.clear()
        with contextlib.suppress(OSError):
            self._legacy_parse_path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ whole results

    def load_result(self, fingerprint: str) -> Any:
        stored = self._read(self._result_path)
        if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == fingerprint:
            return stored[1]
        return None

    def save_result(self, fingerprint: str, result: Any) -> None:
        self._write(self._result_path, (fingerprint, result))


def tree_fingerprint(root: Path, parts: Iterable[str], folders: Iterable[str]) -> str:
    """A hash of ``parts`` and the size and mtime of every file under ``folders``."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    for folder in folders:
        top = root / folder
        if not top.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            h.update(dirpath.encode())
            for name in sorted(filenames):
                try:
                    st = os.lstat(os.path.join(dirpath, name))
                except OSError:
                    continue
                h.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()
