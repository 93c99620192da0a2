"""Where to edit a field of an object the clusters apply: the field's provenance.

An object of the desired state (:class:`~homelab_kit.model.clusters.DesiredObject`)
was written in one document, then changed by kustomize patches and components, a
Flux Kustomization's ``spec.patches`` (its own or a parent's), ``replacements`` and
``${VAR}`` substitution.  A finding about one of its fields must point at the line
the user edits:

1. the ``${VAR}`` reference substitution filled the field from;
2. the patch, component or replacement line that set the field (or its parent);
3. for a field a Flux Kustomization's ``spec.patches`` set, the line of that patch
   naming the field, in the Flux Kustomization that wrote it (a parent's patch that
   put ``spec.patches`` into its children is followed up to where it is written);
4. for a list item a patch added whole (a container a component adds), the first
   line the patch wrote under it;
5. else the field in the written document, list items matched by ``name`` (a patch
   may add a container before another), or its nearest written parent.

:class:`AppliedFields` answers this for one applied copy, with the same
``location`` / ``key_location`` interface as :class:`~homelab_kit.model.base.DocumentRef`,
so a model built from a document can be built from its applied copy unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from homelab_kit.location import Location
from homelab_kit.model.base import DocumentRef
from homelab_kit.model.provenance import FieldPath

if TYPE_CHECKING:
    from homelab_kit.model.clusters import DesiredObject
    from homelab_kit.model.repo import Repo


@attrs.frozen
class AppliedFields:
    """Where each field of one applied copy of ``doc`` is edited.

    ``cluster`` names the cluster whose desired state ``obj`` belongs to; ``base``
    prefixes every path (``("spec", "values")`` reads a HelmRelease's values).

    >>> AppliedFields(repo, "main", obj, doc).location("spec", "replicas")  # doctest: +SKIP
    Location('kubernetes/apps/default/echo/app/deployment.yaml', 8, 13)
    """

    repo: Repo = attrs.field(repr=False)
    cluster: str
    obj: DesiredObject = attrs.field(repr=False)
    doc: DocumentRef = attrs.field(repr=False)
    base: FieldPath = ()

    def at(self, *base: str | int) -> AppliedFields:
        """The same object with ``base`` appended to every path."""
        return attrs.evolve(self, base=(*self.base, *base))

    def location(self, *path: str | int) -> Location:
        """Where the field at ``path`` is edited (the rules of the module docstring)."""
        return field_location(self.repo, self.cluster, self.obj, self.doc, (*self.base, *path))

    def key_location(self, *path: str | int) -> Location:
        """Where the document wrote the key of ``path``; else :meth:`location`."""
        full = (*self.base, *path)
        provenance = self.obj.provenance
        if provenance.substituted(full) or provenance.changed_by(full) is not None:
            return self.location(*path)
        written = written_path(self.doc.data, self.obj.data, full)
        if written == full:
            return self.doc.key_location(*full)
        return self.location(*path)


def field_location(
    repo: Repo, cluster: str, obj: DesiredObject, doc: DocumentRef, path: FieldPath
) -> Location:
    """Where the field at ``path`` of ``obj`` (written at ``doc``) is edited.

    :param repo: the repository.
    :param cluster: the name of the cluster whose desired state holds ``obj``.
    :param obj: the object as that cluster applies it.
    :param doc: the document ``obj`` was written in.
    :param path: mapping keys and list indexes of the applied object.
    :returns: the ``${VAR}`` reference, the patch line, or the written field (or
        its nearest written parent), as the module docstring lists.
    """
    provenance = obj.provenance
    made = provenance.substituted(path)
    if made and made[0].reference.line:
        return made[0].reference
    changed = provenance.changed_by(path)
    if changed is not None:
        found = _placed(repo, cluster, obj, changed, path)
        if found is not None:
            return found
    written = written_path(doc.data, obj.data, path)
    if len(written) < len(path):
        # Not written here: a patch may have added the item (or mapping) whole.
        added = path[: len(written) + 1]
        below = sorted(
            (loc for p, loc in provenance.fields.items() if p[: len(added)] == added),
            key=lambda loc: (loc.line == 0, loc.path, loc.line, loc.column),
        )
        if below:
            found = _placed(repo, cluster, obj, below[0], added)
            if found is not None:
                return found
    return doc.location(*written)


def _placed(
    repo: Repo, cluster: str, obj: DesiredObject, changed: Location, path: FieldPath
) -> Location | None:
    """``changed`` when it has a line, else the Flux patch that set ``path``."""
    if changed.line > 0:
        return changed
    return flux_patch_location(repo, cluster, obj, path)


def flux_patch_location(
    repo: Repo, cluster: str, obj: DesiredObject, path: FieldPath
) -> Location | None:
    """The Flux ``spec.patches`` line that set ``path`` of ``obj``, where it is written.

    The patches of the Flux Kustomization applying ``obj``; when that one's
    ``spec.patches`` came from its parent's patch, the parent's (and so on up).
    Within the patch entry whose text names the field's last key (as a key, or at
    the end of a JSON 6902 ``path``), the line of that key inside a block scalar;
    else the ``spec.patches`` list.
    None when no Flux Kustomization can be found.
    """
    found = repo.cluster(cluster)
    leaf = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
    # The field as a key (a strategic merge patch), or at the end of a JSON 6902 path.
    name = re.escape(leaf)
    pattern = (
        re.compile(rf"(?m)^([ \t]*(?:-[ \t]+)?)(?:{name}[ \t]*:|path:[ \t]*[\"']?\S*/{name}\b)")
        if leaf
        else None
    )
    key = obj.applied_by
    seen: set[tuple[str | None, str]] = set()
    fallback: Location | None = None
    while found is not None and key is not None and key not in seen:
        seen.add(key)
        ks = found.kustomization(*key)
        if ks is None:
            break
        written = _document_at(repo, ks.source)
        patches = written.get("spec", "patches") if written is not None else None
        if written is not None and isinstance(patches, list):
            for index, item in enumerate(patches):
                text = item.get("patch") if isinstance(item, Mapping) else None
                if isinstance(text, str) and pattern is not None:
                    match = pattern.search(text)
                    if match:
                        return _line_in_block(written, ("spec", "patches", index), text, match)
            fallback = fallback or written.location("spec", "patches")
        changed = ks.object.provenance.changed_by(("spec", "patches"))
        if changed is None:
            break
        key = ks.object.applied_by  # the parent that patched this one's spec.patches
    return fallback


def _line_in_block(
    written: DocumentRef, entry: FieldPath, text: str, match: re.Match[str]
) -> Location:
    """The line of ``match`` in a ``patch: |`` block scalar, else the ``patch`` value."""
    value = written.location(*entry, "patch")
    key = written.key_location(*entry, "patch")
    if "\n" not in text or value.line != key.line:
        return value  # a one-line or quoted scalar: its own position
    offset = text.count("\n", 0, match.start())
    return Location(written.path, value.line + 1 + offset, key.column + 2 + len(match.group(1)))


def _document_at(repo: Repo, where: Location) -> DocumentRef | None:
    """The document written at ``where`` (its path and first line)."""
    return next((d for d in repo.documents_in(where.path) if d.location().line == where.line), None)


def written_path(written: Any, applied: Any, path: FieldPath) -> FieldPath:
    """``path`` of the applied object as a path of the written one.

    A list item is matched by index while the items agree on ``name`` (a patch may
    add a container before another), else by ``name``; where nothing matches the
    path stops, so a finding lands on the nearest written parent.

    >>> written_path({"c": [{"name": "a"}]}, {"c": [{"name": "b"}, {"name": "a"}]}, ("c", 1))
    ('c', 0)
    """
    out: list[str | int] = []
    for part in path:
        if _is_mapping(written) and isinstance(part, str) and part in written:
            written, applied = written[part], _step(applied, part)
        elif isinstance(written, list) and isinstance(part, int):
            item = _step(applied, part)
            name = item.get("name") if _is_mapping(item) else None
            index = _matching_item(written, part, name)
            if index is None:
                break
            part, written, applied = index, written[index], item
        else:
            break
        out.append(part)
    return tuple(out)


def _is_mapping(node: Any) -> bool:
    """``isinstance(node, Mapping)``, answering dicts (most nodes) without the slow ABC."""
    return isinstance(node, dict) or (not isinstance(node, list) and isinstance(node, Mapping))


def _step(node: Any, part: str | int) -> Any:
    if _is_mapping(node):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _matching_item(items: list[Any], index: int, name: Any) -> int | None:
    """The index in ``items`` of the written item the applied item ``index`` came from."""
    if name is None:
        return index if 0 <= index < len(items) else None
    if (
        0 <= index < len(items)
        and isinstance(items[index], Mapping)
        and items[index].get("name") == name
    ):
        return index
    for i, item in enumerate(items):
        if isinstance(item, Mapping) and item.get("name") == name:
            return i
    return None
