"""Vetting what a build reads, and the copy a kustomize binary builds instead of the repository.

A kustomize binary is run on a *vetted copy*: a temporary folder holding only the
files the build reads, each checked first, so nothing else (the rest of the
repository, ``.git/``, the cache, the user's home) is even reachable from it.
The walk starts at the built folder and follows every field of kustomize's
``Kustomization`` that names a file or a folder (``resources``, ``bases``,
``components``, ``patches[].path``, ``patchesStrategicMerge``,
``patchesJson6902[].path``, ``configMapGenerator``/``secretGenerator``
``files``/``envs``/``env``, ``replacements[].path``, ``configurations``,
``crds``, ``openapi.path``).  Each entry must be relative, stay inside the
repository (symbolic links resolved) and never reach a ``.git`` folder; a URL is
refused (nothing is fetched); every file must be a regular file no larger than
``max-file-size``, and every YAML file (inline patches too) must pass the
project's reader, bounds on alias expansion and nesting included.

Kustomization files are decoded as kubectl decodes them (UTF-8, or UTF-16/32
with a byte-order mark) and written into the copy as the JSON of what was parsed,
so the binary reads exactly what was vetted.  ``generators``, ``transformers``,
``validators`` (kustomize's plugin and built-in plugin configurations) and
``helmCharts`` are refused, as are fields kustomize does not know.

The copy keeps the repository's layout: folders at their real paths, and the
symbolic links on the way to a vetted file recreated inside the copy, so the
binary resolves every path as it would in the repository.  The pure-Python
renderer reads the repository itself: :func:`vet` runs the same checks for it
without copying (it never runs plugins nor fetches, so those fields stay
warnings there).
"""

from __future__ import annotations

import json
import os
import posixpath
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from homelab_kit.errors import HomelabKitError
from homelab_kit.location import Location
from homelab_kit.render.kustomize import KUSTOMIZATION_FIELDS, KUSTOMIZATION_FILES
from homelab_kit.render.sources import Sources
from homelab_kit.yaml import position_of
from homelab_kit.yaml.reader import DEFAULT_MAX_FILE_SIZE, decode

# A resource that is a URL or a remote repository (kustomize fetches these).
REMOTE_PREFIXES = ("git@", "github.com/", "gitlab.com/", "bitbucket.org/")
# Kustomization fields kustomize runs plugins (built-in ones too) or helm for.
_PLUGIN_FIELDS = {
    "generators": "generator configurations (plugins, built-in ones too) are never run",
    "transformers": "transformer configurations (plugins, built-in ones too) are never run",
    "validators": "validator plugins are never run",
    "helmCharts": "helmCharts are never inflated",
    "helmChartInflationGenerator": "helmChartInflationGenerator is never inflated",
    "helmGlobals": "helmGlobals are never used (helmCharts are never inflated)",
}
_KNOWN = KUSTOMIZATION_FIELDS | {"imageTags"}  # imageTags: deprecated, still accepted


def is_remote(entry: str) -> bool:
    """Whether kustomize would fetch ``entry`` (a URL or a remote repository)."""
    scheme, sep, _ = entry.partition("://")
    return bool(sep and scheme and scheme[0].isalpha()) or entry.startswith(REMOTE_PREFIXES)


class _Kustomization:
    """One parsed kustomization: where it is (real, relative to the root) and its data."""

    def __init__(self, directory: str, rel: str, data: Mapping[str, Any]) -> None:
        self.directory = directory
        self.rel = rel
        self.data = data

    def at(self, *keys: str | int) -> Location:
        pos = position_of(self.data, keys)
        return Location(self.rel) if pos is None else Location(self.rel, pos[0], pos[1])

    def items(self, key: str) -> list[tuple[int, Any]]:
        value = self.data.get(key)
        return list(enumerate(value)) if isinstance(value, list) else []


class Vetter:
    """Walks a kustomization tree, checking every file it reads; copies them when asked.

    :param root: the repository root.
    :param copy_to: an empty folder to mirror the vetted files into, or None to
        check only (the pure-Python renderer).
    :param max_size: the largest file read, in bytes.
    :param strict: refuse what only a binary would act on (plugin and helm
        fields, remote resources, unknown fields); the pure-Python renderer skips
        those with a warning instead.
    :param sources: the tree as a run of builds reads it (see
        :class:`~homelab_kit.render.sources.Sources`): paths, files and parses
        shared with other builds; a fresh one when not given.
    """

    def __init__(
        self,
        root: Path | str,
        copy_to: Path | None = None,
        *,
        max_size: int = DEFAULT_MAX_FILE_SIZE,
        strict: bool = True,
        sources: Sources | None = None,
    ) -> None:
        self.sources = sources if sources is not None else Sources(root)
        self.root = self.sources.realpath(os.fspath(root))
        # the root and a separator: what os.path.join(self.root, rel) gives for a relative
        # ``rel`` (paths here are relative to the root), without its cost
        self._prefix = self.root.rstrip(os.sep) + os.sep
        self.copy_to = None if copy_to is None else os.path.realpath(copy_to)
        self.max_size = max_size
        self.strict = strict
        self._seen: set[str] = set()
        self._placed: set[str] = set()

    # ------------------------------------------------------------------ paths

    def _real_rel(self, full: str) -> str | None:
        real = self.sources.real(full)  # from the resolved parent
        if real == self.root:
            return ""
        if real.startswith(self._prefix):
            return real[len(self._prefix) :].replace(os.sep, "/")
        return None

    def _entry(self, k: _Kustomization, entry: Any, *where: str | int) -> str:
        """The lexical repository-relative path of ``entry``, refused when it leaves."""
        field = str(where[0])
        if not isinstance(entry, str) or not entry.strip():
            raise HomelabKitError(f"entry of '{field}' must be a non-empty path", k.at(*where))
        if is_remote(entry):
            raise HomelabKitError(
                f"'{field}' entry {entry!r} is remote; nothing is fetched", k.at(*where)
            )
        if posixpath.isabs(entry) or os.path.isabs(entry):
            raise HomelabKitError(
                f"'{field}' entry {entry!r} is refused: an absolute path; nothing outside "
                "the repository is read",
                k.at(*where),
            )
        rel = posixpath.normpath(posixpath.join(k.directory, entry))
        if rel == ".." or rel.startswith("../"):
            raise HomelabKitError(
                f"'{field}' entry {entry!r} points outside the repository root", k.at(*where)
            )
        self._refuse_git(rel, k, *where)
        return "" if rel == "." else rel

    def _place(self, rel: str, k: _Kustomization, *where: str | int) -> tuple[str, int] | None:
        """Check ``rel`` (and every link on its way); mirror it; its real path and mode.

        ``None`` when it does not exist (the build then reports it as missing).
        A path that passed is remembered when nothing is mirrored: the same answer
        for every build that reads it.
        """
        key = self._prefix + rel  # os.path.join(self.root, rel): rel is relative
        if self.copy_to is None and key in self.sources.placed:
            return self.sources.placed[key]
        placed = self._place_path(rel, k, *where)
        if self.copy_to is None:
            self.sources.placed[key] = placed
        return placed

    def _place_path(self, rel: str, k: _Kustomization, *where: str | int) -> tuple[str, int] | None:
        parts = rel.split("/") if rel else []
        real, start = "", 0
        shared = self.copy_to is None and self.root == self.sources.root_text
        memo = self.sources.placed_folders if shared else None
        if memo is not None and len(parts) > 1:
            known = memo.get(rel.rpartition("/")[0])
            if known is not None:  # the folder passed already: only the last part is new
                real, start = known, len(parts) - 1
        lexical = "/".join(parts[:start])
        mode: int | None = None  # the last part's, when it is not a link (lstat is stat)
        for part in parts[start:]:
            lexical = f"{lexical}/{part}" if lexical else part
            candidate = f"{real}/{part}" if real else part
            full = self._prefix + candidate
            link_mode = self.sources.lstat(full)
            if link_mode is None:
                return None
            if stat.S_ISLNK(link_mode):
                target = self._real_rel(full)
                if target is None:
                    raise HomelabKitError(
                        f"{_what(rel, where)} goes through a symbolic link to "
                        "outside the repository; not read",
                        k.at(*where),
                    )
                self._refuse_git(target, k, *where)
                self._link(candidate, target)
                real, mode = target, None
            else:
                real, mode = candidate, link_mode
                if part == ".git":  # the parts before passed already
                    self._refuse_git(real, k, *where)
            if memo is not None:
                memo[lexical] = real
        if mode is None:
            mode = self.sources.stat(self._prefix + real)
        if mode is None:
            return None
        if self.copy_to is not None and stat.S_ISDIR(mode):
            os.makedirs(os.path.join(self.copy_to, real), exist_ok=True)
        return real, mode

    def _refuse_git(self, real: str, k: _Kustomization, *where: str | int) -> None:
        if ".git" in real.split("/"):
            raise HomelabKitError(
                f"{_what(real, where)} is refused: it is inside a .git folder; not read",
                k.at(*where),
            )

    def _link(self, candidate: str, target: str) -> None:
        if self.copy_to is None:
            return
        at = os.path.join(self.copy_to, candidate)
        if os.path.lexists(at):
            return
        os.makedirs(os.path.dirname(at), exist_ok=True)
        destination = os.path.join(self.copy_to, target)
        os.symlink(os.path.relpath(destination, os.path.dirname(at)), at)

    # ------------------------------------------------------------------ files

    def _read(self, real: str, k: _Kustomization | None, *where: str | int) -> bytes:
        """The bytes of a regular file, at most ``max_size`` of them."""
        full = self._prefix + real
        data = self.sources.vetted(full)
        if data is None:
            data = self._read_file(full, real, k, *where)
        if len(data) > self.max_size:
            raise HomelabKitError(
                f"{real!r} is larger than {self.max_size:,} bytes (the max-file-size limit); "
                "not read",
                k.at(*where) if k is not None else Location(real),
            )
        self.sources.keep_vetted(full, data)
        return data

    def _read_file(
        self, full: str, real: str, k: _Kustomization | None, *where: str | int
    ) -> bytes:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(full, flags)
        except OSError as exc:
            at = k.at(*where) if k is not None else Location(real)
            raise HomelabKitError(f"cannot read {real!r}: {exc.strerror}", at) from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise HomelabKitError(
                    f"{real!r} is not a regular file (a FIFO, socket or device); not read",
                    k.at(*where) if k is not None else Location(real),
                )
            # as much as the file holds, not max_size + 1 (a buffer that large per
            # file); a file that grew since fstat is read on, up to the limit
            chunks = [os.read(fd, min(info.st_size, self.max_size) + 1)]
            total = len(chunks[0])
            while info.st_size < total <= self.max_size and chunks[-1]:
                chunks.append(os.read(fd, self.max_size + 1 - total))
                total += len(chunks[-1])
        except OSError as exc:
            at = k.at(*where) if k is not None else Location(real)
            raise HomelabKitError(f"cannot read {real!r}: {exc.strerror}", at) from None
        finally:
            os.close(fd)
        return b"".join(chunks) if len(chunks) > 1 else chunks[0]

    def _file(self, k: _Kustomization, entry: Any, *where: str | int, yaml: bool) -> str | None:
        """Vet (and copy) the file ``entry`` names; its real path, None when missing."""
        rel = self._entry(k, entry, *where)
        real = self._vet_file(rel, k, *where, yaml=yaml)
        if real == rel and self.copy_to is None and self.root == self.sources.root_text:
            self._tell_renderer(k.directory, entry, real)
        return real

    def _tell_renderer(self, directory: str, entry: str, real: str) -> None:
        """What the renderer will ask of this entry (``Sources.entry``), known now.

        Only for an entry without ``..`` that passed no symbolic link (``real`` is
        its lexical path): there the lexical path is what ``realpath`` gives.
        """
        if ".." in entry.split("/"):
            return
        folder = self._prefix + directory if directory else self.root
        full = self._prefix + real if real else self.root
        self.sources.known_entry(folder, entry, full)

    def _vet_file(self, rel: str, k: _Kustomization, *where: str | int, yaml: bool) -> str | None:
        placed = self._place(rel, k, *where)
        if placed is None or stat.S_ISDIR(placed[1]):
            return None if placed is None else placed[0]
        real = placed[0]
        if real in self._placed:
            return real
        data = self._read(real, k, *where)
        if yaml:
            problems = self.sources.problems(real, data)
            if problems:
                p = problems[0]
                raise HomelabKitError(p.message, Location(real, p.line, p.column))
        self._placed.add(real)
        if self.copy_to is not None:
            target = os.path.join(self.copy_to, real)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "xb") as handle:
                handle.write(data)
        return real

    def _inline(self, k: _Kustomization, text: Any, *where: str | int) -> None:
        """An inline patch is YAML kustomize parses too: the same bounds apply."""
        if not isinstance(text, str):
            return
        _, problems = self.sources.parse(k.rel, text)
        if problems:
            raise HomelabKitError(f"invalid inline patch: {problems[0].message}", k.at(*where))

    # ------------------------------------------------------------------ kustomizations

    def kustomization(self, directory: str, override: Mapping[str, Any] | None = None) -> None:
        """Vet the kustomization in the real folder ``directory`` and all it reads."""
        if directory in self._seen:
            return
        self._seen.add(directory)
        full = self._prefix + directory
        folder = f"{full}{os.sep}" if directory else full
        found = [n for n in KUSTOMIZATION_FILES if self.sources.lstat(folder + n) is not None]
        name = found[0] if found else KUSTOMIZATION_FILES[0]
        rel = f"{directory}/{name}" if directory else name
        if override is None and len(found) > 1:
            raise HomelabKitError(
                f"found multiple kustomization files in {directory or '.'}",
                Location(directory or "."),
            )
        if override is not None:
            data: Any = override
        elif not found:
            return  # the build reports the folder as not a kustomization
        else:
            data = self._parse_kustomization(directory, name, rel)
        k = _Kustomization(directory, rel, data)
        self._walk(k)
        if self.copy_to is not None:
            target = os.path.join(self.copy_to, directory, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.lexists(target):  # the file is a link: the binary reads this instead
                os.unlink(target)
            text = json.dumps(data, ensure_ascii=False, default=str)
            with open(target, "x", encoding="utf-8") as handle:
                handle.write(text + "\n")

    def _parse_kustomization(self, directory: str, name: str, rel: str) -> Any:
        origin = _Kustomization(directory, rel, {})
        placed = self._place(rel, origin)
        if placed is None:
            raise HomelabKitError("cannot read the kustomization", Location(rel))
        data = self._read(placed[0], None)
        text, _, problem = decode(data)
        if text is None:
            assert problem is not None
            raise HomelabKitError(
                f"cannot read the kustomization: {problem.message}", Location(rel)
            )
        documents, problems = self.sources.parse(rel, text, data)
        if problems:
            p = problems[0]
            raise HomelabKitError(f"invalid YAML: {p.message}", Location(rel, p.line, p.column))
        value = documents[0].data if documents else None
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise HomelabKitError("a kustomization must be a mapping", Location(rel, 1, 1))
        return value

    def _walk(self, k: _Kustomization) -> None:
        for key in k.data:
            if key in _PLUGIN_FIELDS:
                if self.strict and k.data[key]:
                    raise HomelabKitError(f"'{key}': {_PLUGIN_FIELDS[key]}", k.at(key))
            elif key not in _KNOWN and self.strict:
                raise HomelabKitError(
                    f"unknown kustomization field {key!r} (kustomize refuses it)", k.at(key)
                )
        for key in ("resources", "bases", "components"):
            for index, entry in k.items(key):
                if (
                    not self.strict
                    and isinstance(entry, str)
                    and is_remote(entry)
                    and not os.path.lexists(os.path.join(self.root, k.directory, entry))
                ):
                    continue  # the pure-Python renderer skips it with a warning
                real = self._file(k, entry, key, index, yaml=True)
                if real is not None and self.sources.is_dir(self._prefix + real):
                    self.kustomization(real)
        for key in ("crds", "configurations"):
            for index, entry in k.items(key):
                self._file(k, entry, key, index, yaml=True)
        openapi = k.data.get("openapi")
        if isinstance(openapi, Mapping) and "path" in openapi:
            self._file(k, openapi["path"], "openapi", "path", yaml=True)
        for index, entry in k.items("patchesStrategicMerge"):
            if isinstance(entry, str) and ("\n" in entry or entry.lstrip()[:1] in ("{", "[")):
                self._inline(k, entry, "patchesStrategicMerge", index)
            else:
                self._file(k, entry, "patchesStrategicMerge", index, yaml=True)
        for key in ("patches", "patchesJson6902", "replacements"):
            for index, item in k.items(key):
                if not isinstance(item, Mapping):
                    continue
                if "path" in item:
                    self._file(k, item["path"], key, index, "path", yaml=True)
                if key != "replacements":
                    self._inline(k, item.get("patch"), key, index, "patch")
        for key in ("configMapGenerator", "secretGenerator"):
            for index, item in k.items(key):
                if isinstance(item, Mapping):
                    self._generator(k, key, index, item)

    def _folder_of_files(self, k: _Kustomization, real: str, *where: str | int) -> None:
        """A folder in ``files`` stands for the files in it (not its subfolders)."""
        full = os.path.join(self.root, real)
        if not os.path.isdir(full):
            return
        for name in _children(full):
            self._vet_file(f"{real}/{name}" if real else name, k, *where, yaml=False)

    def _generator(self, k: _Kustomization, key: str, index: int, item: Mapping[str, Any]) -> None:
        for field in ("files", "envs"):
            sources = item.get(field)
            for number, source in enumerate(sources if isinstance(sources, list) else ()):
                where = (key, index, field, number)
                if isinstance(source, str) and field == "files":
                    # kustomize: "[key=]path", a key or path holding "=" is refused
                    source = source.split("=", 1)[1] if "=" in source else source
                real = self._file(k, source, *where, yaml=False)
                if field == "files" and real is not None:
                    self._folder_of_files(k, real, *where)
        if "env" in item:
            self._file(k, item["env"], key, index, "env", yaml=False)


def _children(full: str) -> list[str]:
    try:
        return sorted(os.listdir(full))
    except OSError:
        return []


def vet(
    directory: Path | str,
    *,
    root: Path | str,
    kustomization: Mapping[str, Any] | None = None,
    copy_to: Path | None = None,
    max_size: int = DEFAULT_MAX_FILE_SIZE,
    strict: bool = True,
    sources: Sources | None = None,
) -> Path:
    """Vet the build of ``directory`` (and copy what it reads into ``copy_to``).

    :param directory: the folder holding the kustomization, inside ``root``.
    :param root: the repository root.
    :param kustomization: the kustomization to build in place of the folder's own
        file (or where it has none), as Flux rewrites it.
    :param copy_to: an empty folder to mirror the files into; None checks only.
    :param max_size: the largest file read, in bytes.
    :param strict: refuse what only a binary would act on (see :class:`Vetter`).
    :param sources: the tree shared with other builds (see :class:`Vetter`).
    :returns: where ``directory`` is in the copy (or the real ``directory``).
    :raises HomelabKitError: the first entry or file refused, at its location.
    """
    vetter = Vetter(root, copy_to, max_size=max_size, strict=strict, sources=sources)
    real = vet_in(vetter, directory, kustomization)
    base = Path(vetter.copy_to) if vetter.copy_to is not None else Path(vetter.root)
    return base / real if real else base


def vet_in(
    vetter: Vetter, directory: Path | str, kustomization: Mapping[str, Any] | None = None
) -> str:
    """:func:`vet` with a :class:`Vetter`: ``directory``'s real path relative to the root."""
    real = vetter._real_rel(os.fspath(directory))
    if real is None:
        raise HomelabKitError(f"{directory} is outside the repository root")
    if ".git" in real.split("/"):
        raise HomelabKitError(f"{directory} is inside a .git folder; not read")
    if vetter.copy_to is not None:
        os.makedirs(os.path.join(vetter.copy_to, real), exist_ok=True)
    vetter.kustomization(real, kustomization)
    return real


def _what(rel: str, where: tuple[str | int, ...]) -> str:
    """How a refusal names the path: the field entry, or the file itself (a kustomization)."""
    return f"'{where[0]}' entry {rel!r}" if where else repr(rel)
