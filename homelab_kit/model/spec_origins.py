"""Where a field that a Flux Kustomization's own spec set was written.

kustomize-controller folds the Flux spec into the kustomization it builds
(``spec.patches``, ``targetNamespace``, ``namePrefix``/``nameSuffix``): those entries
have no line in any kustomization.yaml, so the renderer records the fields they set
at the kustomization file with line 0.  :func:`spec_origins` places each such field
at the Flux Kustomization where the user writes it: the line inside the inline
``spec.patches`` entry that sets it (``patch: |`` text), the ``targetNamespace``,
the ``namePrefix``; when the Kustomization itself came from a parent's patch, at that
patch.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from homelab_kit.location import Location
from homelab_kit.model.provenance import FieldPath, Provenance
from homelab_kit.yaml import parse_text, position_of

if TYPE_CHECKING:
    from homelab_kit.model.clusters import DesiredObject
    from homelab_kit.model.repo import Repo


def spec_origins(repo: Repo, ks: DesiredObject, where: Provenance, kind: str) -> Provenance:
    """``where`` (of an object ``ks`` built, of ``kind``) with its unplaced fields placed.

    Fields recorded with line 0 (set by the folded Flux spec) get the location of the
    spec entry that set them; the others are kept.  Cheap when there are none.
    """
    unknown = [path for path, place in where.fields.items() if not place.line]
    if not unknown:
        return where
    fields = dict(where.fields)
    for path in unknown:
        found = _origin(repo, ks, path, kind)
        if found is not None:
            fields[path] = found
    return attrs.evolve(where, fields=fields)


def _origin(repo: Repo, ks: DesiredObject, path: FieldPath, kind: str) -> Location | None:
    if path[:2] == ("metadata", "namespace"):
        return _field(repo, ks, ("spec", "targetNamespace"))
    if path[:2] == ("metadata", "name"):
        for field in ("namePrefix", "nameSuffix"):
            if ks.get("spec", field):
                return _field(repo, ks, ("spec", field))
        return None
    patches = ks.get("spec", "patches")
    # depth, index, positioned tree, where in the tree
    best: tuple[int, int, Any, tuple[str | int, ...]] | None = None
    for index, entry in enumerate(patches if isinstance(patches, list) else ()):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("patch"), str):
            continue
        if not _targets(entry.get("target"), kind):
            continue
        tree = _patch_tree(entry["patch"])
        depth, at = _json6902(tree, path) if isinstance(tree, list) else (_depth(tree, path), None)
        if depth > 1 and (best is None or depth > best[0]):
            best = (depth, index, tree, at or path[:depth])
    if best is None:
        return None
    _, index, tree, at = best
    if ks.provenance.changed_by(("spec", "patches")) is not None:
        # spec.patches came from a parent's patch: left to the checks that place a
        # field inside nested patch text (homelab_kit.model.applied_fields)
        return None
    block = _field(repo, ks, ("spec", "patches", index, "patch"))
    inner = position_of(tree, at)
    if block is None or inner is None:
        return block
    return _inside(repo, block, inner) or block


def _targets(target: Any, kind: str) -> bool:
    """Whether a patch's ``target`` may select objects of ``kind`` (no kind: any)."""
    wanted = target.get("kind") if isinstance(target, Mapping) else None
    if not isinstance(wanted, str) or not wanted:
        return True
    try:
        return re.fullmatch(wanted, kind) is not None
    except re.error:
        return wanted == kind


@functools.lru_cache(maxsize=512)
def _patch_tree(text: str) -> Any:
    """The first document of a patch's text, positioned (shared: read only)."""
    documents, _ = parse_text(text)
    return documents[0].data if documents else None


def _depth(tree: Any, path: FieldPath) -> int:
    """How many leading parts of ``path`` the patch writes (list items by any index)."""
    node, depth = tree, 0
    for part in path:
        in_map = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_map or in_list):
            break
        node = node[part]
        depth += 1
    return depth


def _json6902(operations: list[Any], path: FieldPath) -> tuple[int, tuple[str | int, ...]]:
    """How much of ``path`` the deepest JSON 6902 operation on it covers, and where
    that operation's ``path`` is in the patch."""
    best: tuple[int, tuple[str | int, ...]] = (0, ())
    for index, operation in enumerate(operations):
        pointer = operation.get("path") if isinstance(operation, Mapping) else None
        if not isinstance(pointer, str) or not pointer.startswith("/"):
            continue
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
        depth = 0
        for mine, theirs in zip(path, parts, strict=False):
            if str(mine) != theirs and not (theirs == "-" and isinstance(mine, int)):
                break
            depth += 1
        if depth == min(len(parts), len(path)) and depth > best[0]:
            best = (depth, (index, "path"))
    return best


def _field(repo: Repo, ks: DesiredObject, path: FieldPath) -> Location | None:
    """Where the Flux Kustomization ``ks`` has ``path``: a patch that set it, else its file."""
    changed = ks.provenance.changed_by(path)
    if changed is not None:
        return changed if changed.line else None
    source = ks.source
    docs = [d for d in repo.documents_in(source.path) if d.start_line <= source.line]
    if not docs:
        return None
    found = max(docs, key=lambda d: d.start_line).location(*path)
    return found if found.line else None


def _inside(repo: Repo, block: Location, inner: tuple[int, int]) -> Location | None:
    """``inner`` (line, column in a patch's text) in the file holding its block scalar."""
    cache: dict[str, list[str]] = repo.derived(_no_lines)
    lines = cache.get(block.path)
    if lines is None:
        try:
            text = Path(repo.root, block.path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            text = ""
        lines = cache[block.path] = text.splitlines()
    if not 1 <= block.line <= len(lines):
        return None
    if lines[block.line - 1][block.column - 1 : block.column] not in ("|", ">"):
        return None
    for text in lines[block.line :]:
        if text.strip():
            indent = len(text) - len(text.lstrip(" "))
            return Location(block.path, block.line + inner[0], indent + inner[1])
    return None


def _no_lines(repo: Repo) -> dict[str, list[str]]:
    """The lines of the files :func:`_inside` read, by path (filled as it reads)."""
    return {}
