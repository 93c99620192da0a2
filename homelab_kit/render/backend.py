"""Choosing how to build a kustomization: a real kustomize binary or pure Python.

``auto`` prefers a ``kustomize`` binary, then ``kubectl kustomize``, both run with
``--load-restrictor LoadRestrictionsNone`` as Flux runs kustomize, and falls back to
:func:`~homelab_kit.render.kustomize.render_directory`.  Before a binary runs, the
kustomization tree is checked: a remote resource or a path outside ``root`` is
refused, so a binary never fetches anything or reads outside the repository.  Helm
inflation and plugins stay off (kustomize's defaults).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from homelab_kit.errors import HomelabKitError
from homelab_kit.location import Location
from homelab_kit.render._docs import parse_documents
from homelab_kit.render.kustomize import KUSTOMIZATION_FILES, Rendered, render_directory
from homelab_kit.yaml import parse_text

Backend = Literal["auto", "python", "kubectl", "kustomize"]
BACKENDS: tuple[str, ...] = ("auto", "python", "kubectl", "kustomize")
_RESTRICTOR = ("--load-restrictor", "LoadRestrictionsNone")
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)")
_KUBECTL_ERR = re.compile(r'err="((?:[^"\\]|\\.)*)"')
_LITERAL_SOURCE = re.compile(r"literal sources? .*")
_LITERAL_HIDDEN = "a literal source is not key=value (not shown: it may be a secret)"


def available_backend() -> str:
    """The backend ``auto`` picks on this machine: kustomize, kubectl or python."""
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
) -> Rendered:
    """Build the kustomization in ``directory`` with the chosen backend.

    :param directory: the directory holding the kustomization file.
    :param root: the repository root; nothing outside it is read.
    :param backend: ``"auto"``, ``"python"``, ``"kubectl"`` or ``"kustomize"``.
    :param timeout: seconds a binary may run.
    :param kustomization: a kustomization to build in place of the directory's own
        file (or where it has none), as Flux rewrites it.  A binary then builds a
        temporary tree of symbolic links to the repository holding that one file;
        the repository is never written to.
    :returns: the objects in kustomize's output order.
    :raises HomelabKitError: bad input, or the binary failed (its first error line).
    """
    if backend not in BACKENDS:
        raise HomelabKitError(f"unknown render backend {backend!r}; use one of {BACKENDS}")
    directory, root = Path(directory), Path(root)
    chosen = available_backend() if backend == "auto" else backend
    if chosen == "python":
        return render_directory(directory, root=root, kustomization=kustomization)
    binary = shutil.which(chosen)
    if binary is None:
        raise HomelabKitError(f"the {chosen} backend needs {chosen!r} on PATH")
    preflight(directory, root=root, kustomization=kustomization)
    command = [binary, "build"] if chosen == "kustomize" else [binary, "kustomize"]
    if kustomization is None:
        return _run([*command, *_RESTRICTOR, str(directory.resolve())], chosen, directory, timeout)
    with tempfile.TemporaryDirectory(prefix="homelab-kit-flux-") as shadow:
        shadow_root = Path(shadow).resolve()
        target = _shadow_tree(shadow_root, directory.resolve(), root.resolve(), kustomization)
        try:
            return _run([*command, *_RESTRICTOR, str(target)], chosen, directory, timeout)
        except HomelabKitError as exc:
            message = exc.message.replace(str(shadow_root), str(root.resolve()))
            raise HomelabKitError(message, exc.location) from None


def _shadow_tree(
    shadow: Path, directory: Path, root: Path, kustomization: Mapping[str, Any]
) -> Path:
    """Mirror ``root`` in ``shadow`` with symbolic links, ``directory``'s kustomization replaced.

    Only the folders from ``root`` down to ``directory`` are real; every other entry
    is a link to the repository, so the copy costs a few links whatever its size.
    """
    source, target = root, shadow
    for part in directory.relative_to(root).parts:
        _link_children(source, target, skip=part)
        source, target = source / part, target / part
        target.mkdir()
    found = [n for n in KUSTOMIZATION_FILES if (directory / n).is_file()]
    name = found[0] if found else KUSTOMIZATION_FILES[0]
    _link_children(source, target, skip=name)
    text = json.dumps(kustomization, ensure_ascii=False, default=str)
    (target / name).write_text(text + "\n", encoding="utf-8")
    return target


def _link_children(source: Path, target: Path, *, skip: str) -> None:
    try:
        children = sorted(os.listdir(source))
    except OSError as exc:
        raise HomelabKitError(f"cannot list {source}: {exc.strerror}") from None
    for child in children:
        if child != skip:
            os.symlink(source / child, target / child)


def _run(command: list[str], backend: str, directory: Path, timeout: float) -> Rendered:
    with tempfile.TemporaryDirectory(prefix="homelab-kit-render-") as home:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "LANG": "C.UTF-8"}
        try:
            proc = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                cwd=home,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise HomelabKitError(
                f"{backend} did not finish within {timeout:.0f} s", Location(str(directory))
            ) from None
        except OSError as exc:
            raise HomelabKitError(f"cannot run {backend}: {exc.strerror}") from None
    if proc.returncode != 0:
        raise HomelabKitError(f"{backend} failed: {first_error_line(proc.stderr)}")
    documents, problems = parse_documents(proc.stdout, f"<{backend} output>")
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
    """Refuse a tree a binary would fetch for, or read outside ``root`` from.

    Walks the kustomization files reachable from ``directory`` through
    ``resources``, ``bases`` and ``components`` and checks every path-like entry;
    ``kustomization`` stands for ``directory``'s own file when given.
    """
    root = root.resolve()
    top = directory.resolve()
    seen: set[Path] = set()
    pending = [top]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        if not current.is_relative_to(root):
            raise HomelabKitError(f"{current} is outside the repository root")
        files = [current / n for n in KUSTOMIZATION_FILES if (current / n).is_file()]
        data: Any
        if current == top and kustomization is not None:
            path = files[0] if files else current / KUSTOMIZATION_FILES[0]
            rel, data = path.relative_to(root).as_posix(), dict(kustomization)
        elif not files:
            continue
        else:
            rel = files[0].relative_to(root).as_posix()
            try:
                text = files[0].read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError):
                continue
            documents, _ = parse_text(text, rel)
            data = documents[0].data if documents else None
        if not isinstance(data, dict):
            continue
        for key, entry in _path_entries(data):
            if key == "replacements" and (os.path.isabs(entry) or ".git" in Path(entry).parts):
                raise HomelabKitError(
                    f"'{key}' entry {entry!r} is refused: give a relative path inside the "
                    "repository, outside .git/",
                    Location(rel),
                )
            if _REMOTE.match(entry) and not (current / entry).exists():
                raise HomelabKitError(
                    f"'{key}' entry {entry!r} is remote; nothing is fetched", Location(rel)
                )
            target = (current / entry).resolve()
            if not target.is_relative_to(root):
                raise HomelabKitError(
                    f"'{key}' entry {entry!r} points outside the repository root", Location(rel)
                )
            if key in ("resources", "bases", "components") and target.is_dir():
                pending.append(target)


def _path_entries(data: dict[str, object]) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    for key in ("resources", "bases", "components", "configurations", "crds"):
        value = data.get(key)
        if isinstance(value, list):
            entries += [(key, v) for v in value if isinstance(v, str)]
    for key in ("patchesStrategicMerge",):
        value = data.get(key)
        if isinstance(value, list):
            entries += [(key, v) for v in value if isinstance(v, str) and "\n" not in v]
    for key in ("patches", "patchesJson6902", "replacements"):
        value = data.get(key)
        for item in value if isinstance(value, list) else []:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                entries.append((key, item["path"]))
    for key in ("configMapGenerator", "secretGenerator"):
        value = data.get(key)
        for item in value if isinstance(value, list) else []:
            if not isinstance(item, dict):
                continue
            for field in ("files", "envs"):
                for source in item.get(field) or []:
                    if isinstance(source, str):
                        entries.append((key, source.partition("=")[2] or source))
            if isinstance(item.get("env"), str):
                entries.append((key, item["env"]))
    return entries
