"""What the patches of a repository do to an object: read from the desired state.

Patches reach an object from a kustomization.yaml (``patches``, file or inline,
strategic merge or JSON 6902), from the ``spec.patches`` of the Flux Kustomization
that applies it, and from patches a parent Flux Kustomization puts into that one.
Which patch reaches which object (``target``: group, version, kind, name and
namespace regular expressions, labelSelector, annotationSelector) is decided once,
by the build of each cluster's desired state (:mod:`homelab_kit.model.clusters`);
checks read the object as Flux applies it through :func:`applied_copies` and
:func:`applied_value`, never a separate reading of the patches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homelab_kit.location import Location
from homelab_kit.model.base import DocumentRef

if TYPE_CHECKING:
    from homelab_kit.model.clusters import DesiredObject
    from homelab_kit.model.repo import Repo


def target_pattern_matches(pattern: str, value: str) -> bool:
    """Whether a patch target's ``name`` or ``namespace`` pattern matches ``value``.

    :param pattern: the pattern as written in the target (``app-.*``, ``podinfo``).
    :param value: the object's name or namespace.
    :returns: True when ``pattern`` matches all of ``value``; an invalid regular
        expression matches only a value equal to it.

    >>> target_pattern_matches("app-.*", "app-podinfo"), target_pattern_matches("app", "app-x")
    (True, False)
    """
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return pattern == value


def applied_copies(repo: Repo, doc: DocumentRef) -> tuple[DesiredObject, ...]:
    """Every copy of the object written at ``doc`` that a cluster applies.

    One per cluster and Flux Kustomization applying it (a component several apps
    include gives several); none for a file no cluster deploys, or whose build
    failed.  Each copy has every patch, ``namePrefix`` and substitution applied.
    """
    where = doc.location()
    return tuple(repo.derived(_copies_by_place).get((where.path, where.line), ()))


def _copies_by_place(repo: Repo) -> dict[tuple[str, int], list[DesiredObject]]:
    out: dict[tuple[str, int], list[DesiredObject]] = {}
    for cluster in repo.clusters:
        for obj in cluster.objects:
            if obj.applied_by is not None:
                out.setdefault((obj.source.path, obj.source.line), []).append(obj)
    return out


def applied_copies_by_cluster(
    repo: Repo, doc: DocumentRef
) -> tuple[tuple[str, DesiredObject], ...]:
    """:func:`applied_copies` of ``doc``, each with the name of the cluster applying it.

    For checks that name the cluster when the clusters apply one file differently
    (one cluster's patch or substitution, say).
    """
    where = doc.location()
    return tuple(repo.derived(_cluster_copies_by_place).get((where.path, where.line), ()))


def _cluster_copies_by_place(repo: Repo) -> dict[tuple[str, int], list[tuple[str, DesiredObject]]]:
    out: dict[tuple[str, int], list[tuple[str, DesiredObject]]] = {}
    for cluster in repo.clusters:
        for obj in cluster.objects:
            if obj.applied_by is not None:
                out.setdefault((obj.source.path, obj.source.line), []).append((cluster.name, obj))
    return out


def applied_known(repo: Repo, doc: DocumentRef) -> bool:
    """Whether the object written at ``doc`` is known as the clusters apply it.

    False when a cluster deploys its file but no build produced it (the build of
    the Flux Kustomization applying it failed: a missing file, say): what patches
    would set is then unknown, and a check of a missing field should not guess.
    True for a repository without clusters (the file is all there is).
    """
    return not repo.clusters or bool(applied_copies(repo, doc)) or not repo.is_deployed(doc.path)


def applied_value(repo: Repo, doc: DocumentRef, *path: str | int) -> tuple[Any, Location | None]:
    """The value at ``path`` of the object written at ``doc``, as the clusters apply it.

    :returns: the first applied copy's value that is set, with where it was set (a
        patch's line when one set it); else the written value and its location;
        ``(None, None)`` when neither has it.

    >>> applied_value(repo, hr.doc, "spec", "interval")  # doctest: +SKIP
    ('1h', Location('kubernetes/apps/media/sonarr/ks.yaml', 30, 11))
    """
    for copy in applied_copies(repo, doc):
        value = copy.get(*path)
        if value is not None:
            return value, copy.location_of(*path)
    value = doc.get(*path)
    return (value, doc.location(*path)) if value is not None else (None, None)


def applied_field(repo: Repo, doc: DocumentRef, *path: str | int) -> Any:
    """The value of :func:`applied_value`, without where it was set.

    Cheaper where the place is not needed: no copy's provenance is worked out.
    """
    for copy in applied_copies(repo, doc):
        value = copy.get(*path)
        if value is not None:
            return value
    return doc.get(*path)


def applied_spec(repo: Repo, doc: DocumentRef) -> dict[str, Any]:
    """``spec`` keys the applied copies of ``doc`` set differently from the file.

    What patches (and substitution) put into the object: a parent Flux
    Kustomization's defaults, say.  Computed from the desired state, a fresh dict.
    """
    written = doc.get("spec")
    written = written if isinstance(written, Mapping) else {}
    out: dict[str, Any] = {}
    for copy in applied_copies(repo, doc):
        spec = copy.get("spec")
        for key, value in spec.items() if isinstance(spec, Mapping) else ():
            if key not in out and written.get(key) != value:
                out[key] = value
    return out
