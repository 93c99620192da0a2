"""The repository tree as builds read it: each path resolved, each file read and parsed once.

Building every cluster's desired state runs a thousand kustomize builds over the same
tree: each vets what it reads (:mod:`~homelab_kit.render.vet`), then the renderer
reads it again (:mod:`~homelab_kit.render.kustomize`), and the kustomization files,
components and shared configurations are read by many builds.  A :class:`Sources`
shared by those builds answers each question once: ``Path.resolve``, ``realpath``,
``stat``/``lstat``, a file's bytes, and the YAML of a file (the loader's documents
when the bytes are the ones it parsed, else parsed here once).

It assumes the tree does not change while it is used (one ``build_clusters``, one
``render``): make a new one for a new run.  Documents it returns are shared with the
loaded repository and other builds: read them, never change them.  Every build gives
the same result with a fresh :class:`Sources` or a shared one; only the work differs.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from homelab_kit.yaml import YamlDocument, YamlFile, parse_text
from homelab_kit.yaml.reader import YamlProblem, parse_bytes


class Sources:
    """One repository tree, read once (see the module docstring).

    :param root: the repository root.
    :param parsed: files the loader already parsed, by path relative to ``root``.
    """

    def __init__(self, root: Path | str, parsed: Mapping[str, YamlFile] | None = None) -> None:
        self.root = Path(os.path.realpath(root))
        self.root_text = str(self.root)
        self._prefix = self.root_text.rstrip(os.sep) + os.sep
        self.parsed: Mapping[str, YamlFile] = parsed if parsed is not None else {}
        self._real_text: dict[str, str] = {}
        self._resolved: dict[str, Path] = {}
        self._stat: dict[str, int | None] = {}  # st_mode, None: no such path
        self._lstat: dict[str, int | None] = {}
        # a file's bytes, kept for one build (see forget_files): vetted, then rendered
        self._bytes: dict[str, bytes] = {}
        self._vetted: dict[str, bytes] = {}
        self._loaded: dict[str, tuple[bytes, YamlFile | None]] = {}
        self._checked: dict[tuple[str, str], tuple[YamlProblem, ...]] = {}
        self._texts: dict[tuple[str, str], tuple[tuple[YamlDocument, ...], tuple[YamlProblem, ...]]]
        self._texts = {}
        # what render.vet found for a path it checked (its real path and mode)
        self.placed: dict[str, tuple[str, int] | None] = {}
        # what pure functions of a file's text gave, by (what, text): a build may
        # keep here what any other build of the same text may reuse
        self.memo: dict[tuple[str, str], Any] = {}
        self.placed_folders: dict[str, str] = {}  # a path render.vet walked -> its real path
        # what a build's entry names: (folder, entry) -> the path resolved
        self._entries: dict[tuple[str, str], tuple[str, bool]] = {}

    # ------------------------------------------------------------------ paths
    #
    # Paths are strings inside: a ``Path`` is made only where a caller asks for one
    # (building one costs more than the string work of resolving it).

    def real(self, path: str | Path) -> str:
        """``os.path.realpath(path)`` (what ``Path.resolve`` gives), remembered.

        A path whose parent was resolved costs one ``lstat``: its last part is
        appended unless it is a symbolic link, which ``os.path.realpath`` follows
        as before (``.`` is the parent resolved, ``..`` its folder, as realpath
        takes them).
        """
        key = path if isinstance(path, str) else os.fspath(path)
        found = self._real_text.get(key)
        if found is None:
            found = self._real_text[key] = self._real_of(key)
            self._real_text.setdefault(found, found)
        return found

    def _real_of(self, path: str) -> str:
        head, name = os.path.split(path)  # split drops the slashes that end ``head``
        if head == path or not path.startswith(os.sep):  # os.path.isabs, inline
            return os.path.realpath(path)
        base = self.real(head)
        if name in ("", "."):  # realpath skips these parts
            return base
        if name == "..":  # the parent of what ``head`` resolves to
            return os.path.dirname(base)
        candidate = base + name if base.endswith(os.sep) else f"{base}{os.sep}{name}"
        mode = self.lstat(candidate)
        if mode is not None and stat.S_ISLNK(mode):
            return os.path.realpath(candidate)
        return candidate

    def resolve(self, path: str | Path) -> Path:
        """``Path(path).resolve()``, remembered."""
        text = self.real(path)
        found = self._resolved.get(text)
        if found is None:
            found = self._resolved[text] = Path(text)
        return found

    def entry(self, directory: str | Path, entry: str) -> tuple[str, bool]:
        """``directory / entry`` resolved (a string), and whether it is inside the root."""
        key = (directory if isinstance(directory, str) else os.fspath(directory), entry)
        known = self._entries.get(key)
        if known is None:
            folder = key[0]
            if entry.startswith(os.sep) or not folder:
                found = self.real(os.path.join(folder, entry))
            else:  # os.path.join, inline
                found = self.real(
                    f"{folder}{entry}" if folder.endswith(os.sep) else f"{folder}/{entry}"
                )
            inside = found == self.root_text or found.startswith(self._prefix)
            known = self._entries[key] = (found, inside)
        return known

    def known_entry(self, directory: str, entry: str, found: str) -> None:
        """Remember that ``directory``'s ``entry`` resolves to ``found``, inside the root
        (:mod:`~homelab_kit.render.vet` resolved it for the renderer to ask)."""
        self._entries.setdefault((directory, entry), (found, True))
        self._real_text.setdefault(found, found)

    def inside(self, path: str | Path) -> bool:
        """Whether ``path`` resolved is the root or below it."""
        found = self.real(path)
        return found == self.root_text or found.startswith(self._prefix)

    def realpath(self, path: str) -> str:
        """``os.path.realpath(path)``, remembered."""
        return self.real(path)

    def rel(self, path: str | Path) -> str:
        """``path`` resolved, relative to the root (POSIX); as given when outside it."""
        resolved = self.real(path)
        if resolved == self.root_text:
            return "."
        if resolved.startswith(self._prefix):
            return resolved[len(self._prefix) :].replace(os.sep, "/")
        return Path(path).as_posix()

    def stat(self, path: str | Path) -> int | None:
        """The ``st_mode`` of ``os.stat`` (links followed), remembered; None when it fails."""
        key = os.fspath(path)
        if key in self._stat:
            return self._stat[key]
        if key in self._lstat:  # lstat and stat differ only on a symbolic link
            known = self._lstat[key]
            if known is None or not stat.S_ISLNK(known):
                self._stat[key] = known
                return known
        try:
            found: int | None = os.stat(key).st_mode
        except (OSError, ValueError):
            found = None
        self._stat[key] = found
        return found

    def lstat(self, path: str) -> int | None:
        """The ``st_mode`` of ``os.lstat``, remembered; None when it fails."""
        if path in self._lstat:
            return self._lstat[path]
        try:
            found: int | None = os.lstat(path).st_mode
        except (OSError, ValueError):
            found = None
        self._lstat[path] = found
        return found

    def is_file(self, path: str | Path) -> bool:
        """``Path.is_file``, remembered."""
        mode = self.stat(path)
        return mode is not None and stat.S_ISREG(mode)

    def is_dir(self, path: str | Path) -> bool:
        """``Path.is_dir``, remembered."""
        mode = self.stat(path)
        return mode is not None and stat.S_ISDIR(mode)

    def exists(self, path: str | Path) -> bool:
        """``Path.exists``, remembered."""
        return self.stat(path) is not None

    # ------------------------------------------------------------------ files

    def read_bytes(self, path: str | Path) -> bytes:
        """``Path(path).read_bytes()``, remembered; raises the same ``OSError``."""
        key = self.real(path)
        found = self._bytes.get(key)
        if found is None:
            found = self._vetted.get(key)
        if found is None:
            with open(path, "rb") as handle:
                found = self._bytes[key] = handle.read()
        return found

    def vetted(self, full: str) -> bytes | None:
        """The bytes :mod:`~homelab_kit.render.vet` read (and checked) at real path ``full``."""
        return self._vetted.get(full)

    def keep_vetted(self, full: str, data: bytes) -> None:
        self._vetted[full] = data

    def forget_files(self) -> None:
        """Drop the bytes kept of files (a build is over): memory stays bounded."""
        self._bytes.clear()
        self._vetted.clear()
        self._loaded.clear()

    def loaded(self, rel: str, data: bytes) -> YamlFile | None:
        """The loader's parse of ``rel`` when it read these very bytes without problems.

        Reading text translates newlines, so a file holding a carriage return is
        never reused (the positions would differ); nor is one with problems.
        """
        memo = self._loaded.get(rel)
        if memo is not None and memo[0] is data:
            return memo[1]
        found = self.parsed.get(rel)
        if (
            found is None
            or found.problems
            or b"\r" in data
            or found.sha256 != hashlib.sha256(data).hexdigest()
        ):
            found = None
        self._loaded[rel] = (data, found)
        return found

    def problems(self, rel: str, data: bytes) -> tuple[YamlProblem, ...]:
        """What :func:`~homelab_kit.yaml.reader.parse_bytes` reports for ``data``."""
        if self.parsed.get(rel) is not None and self.loaded(rel, data) is not None:
            return ()
        key = (rel, hashlib.sha256(data).hexdigest())
        found = self._checked.get(key)
        if found is None:
            found = self._checked[key] = parse_bytes(data, rel).problems
        return found

    def parse(
        self, rel: str, text: str, data: bytes | None = None
    ) -> tuple[tuple[YamlDocument, ...], tuple[YamlProblem, ...]]:
        """``parse_text(text, rel)``: the loader's documents when ``data`` (the bytes
        ``text`` was decoded from) are the ones it parsed, else parsed once here.

        The documents are shared: never change them.
        """
        if data is not None:
            known = self.loaded(rel, data)
            if known is not None:
                return known.documents, ()
        key = (rel, text)
        found = self._texts.get(key)
        if found is None:
            found = self._texts[key] = parse_text(text, rel)
        return found
