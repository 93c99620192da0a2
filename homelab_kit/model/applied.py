"""The desired state read as documents: each field as Flux applies it, located where written.

A check that reads references by name (``valuesFrom``, ``envFrom``,
``secretKeyRef``, ``substituteFrom``, an InfisicalSecret's managed Secret) must
read the object each cluster applies: the namespace ``targetNamespace`` or a
kustomization gave it, the fields a parent's patch injected, the names
``postBuild`` substitution filled.  An :class:`AppliedDocument` is that object
behind the :class:`~homelab_kit.model.base.DocumentRef` interface, so the model's
readers (``HelmRelease.from_doc``, ``pod_secret_consumers``, ...) work on it
unchanged, while :meth:`AppliedDocument.location` answers with the line the user
edits: the written field when the value is as written, else the field's provenance
(the ``${VAR}`` reference, the patch line).

Where no build says what a cluster applies (a repository without clusters, a
deployed file whose Kustomization failed to build, files Flux does not reach such
as ``talos/``), the document as written stands in, with no cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from homelab_kit.location import Location
from homelab_kit.model.base import DocumentRef
from homelab_kit.model.provenance import FieldPath

if TYPE_CHECKING:
    from homelab_kit.model.clusters import DesiredObject, KsKey
    from homelab_kit.model.repo import Repo


@attrs.frozen
class AppliedDocument(DocumentRef):
    """One object as a cluster applies it, read as a document.

    ``data`` is the applied object; ``written`` the document it was written as
    (None for a generated object); ``desired`` the desired-state object (None when
    the written document stands in for it).  ``cluster`` names the cluster applying
    it (None: no cluster is known, so it counts in every one); ``applied_by`` the
    Flux Kustomization.
    """

    written: DocumentRef | None = attrs.field(default=None, eq=False, repr=False)
    desired: DesiredObject | None = attrs.field(default=None, eq=False, repr=False)
    cluster: str | None = None
    applied_by: KsKey | None = None

    @property
    def as_written(self) -> bool:
        """Whether this is the written document standing in for an unbuilt object."""
        return self.desired is None

    def location(self, *path: str | int) -> Location:
        """Where the field at ``path`` is set: the written line, else its provenance.

        The written line when the value is as written; else where a patch or
        substitution set it (or an ancestor); for a list entry one of whose fields
        changed (a ``valuesFrom`` entry with ``name: ${APP}-values``), that field's
        first change; else the written line (a mapping whose fields were filled).
        """
        written = self.written
        if written is not None and not path:
            return written.location()  # the object itself: where it is written
        if written is not None:
            value = written.get(*path)
            if value is not None and value == self.get(*path):
                return written.location(*path)
        if self.desired is not None:
            changed = self.desired.provenance.changed_by(tuple(path))
            if changed is None and path and isinstance(path[-1], int):
                # A list entry (a reference) whose field changed: that field's ${VAR}.
                changed = _first_below(self.desired.provenance.fields, tuple(path))
            if changed is not None:
                return changed
        if written is not None:
            return written.location(*path)
        if self.desired is not None:
            return self.desired.source
        return Location(self.path, self.start_line, 1)

    def key_location(self, *path: str | int) -> Location:
        """Where the last key of ``path`` is written (see :meth:`location`)."""
        written = self.written
        if written is not None and written.get(*path) is not None:
            return written.key_location(*path)
        return self.location(*path)


def _first_below(fields: Mapping[FieldPath, Location], path: FieldPath) -> Location | None:
    size = len(path)
    below = [where for key, where in fields.items() if len(key) > size and key[:size] == path]
    return min(below, key=lambda w: (w.path, w.line, w.column), default=None)


def applied_documents(repo: Repo) -> tuple[AppliedDocument, ...]:
    """Every object the clusters apply, and the deployed documents no build produced.

    One :class:`AppliedDocument` per cluster and Flux Kustomization applying an
    object (a component several apps include gives several).  A deployed document
    that no cluster's build produced stands in as written, with no cluster.  What no
    cluster deploys is left out.  Computed once per repository (shared: read-only).
    """
    return repo.derived(_applied_documents)


def documents_by_place(repo: Repo) -> dict[tuple[str, int], DocumentRef]:
    """Every document by its path and line: where a desired object's ``source`` points.

    Computed once per repository (shared: read-only).
    """
    return repo.derived(_documents_by_place)


def _documents_by_place(repo: Repo) -> dict[tuple[str, int], DocumentRef]:
    return {(d.path, d.location().line): d for d in repo.documents}


def _applied_documents(repo: Repo) -> tuple[AppliedDocument, ...]:
    written = documents_by_place(repo)
    out: list[AppliedDocument] = []
    produced: set[tuple[str, int]] = set()
    for cluster in repo.clusters:
        for obj in cluster.objects:
            where = obj.source
            doc = written.get((where.path, where.line))
            if doc is not None:
                produced.add((doc.path, doc.index))
            out.append(
                AppliedDocument(
                    where.path,
                    doc.index if doc is not None else -1,
                    obj.data,
                    doc.start_line if doc is not None else where.line,
                    written=doc,
                    desired=obj,
                    cluster=cluster.name,
                    applied_by=obj.applied_by,
                )
            )
    for doc in repo.documents:
        if (doc.path, doc.index) in produced or not repo.is_deployed(doc.path):
            continue
        out.append(AppliedDocument(doc.path, doc.index, doc.data, doc.start_line, written=doc))
    return tuple(out)
