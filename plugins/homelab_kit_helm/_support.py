"""Shared helpers of the Helm checks: chart sources and namespaces.

What patches set on a HelmRelease is read from the desired state
(:mod:`homelab_kit.model.patches`), never from a reading of the patches of its own.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from homelab_kit import DocumentRef, HelmRelease, Repo
from homelab_kit.model.flux import NamespacedRef
from homelab_kit.model.patches import applied_copies_by_cluster, applied_value
from homelab_kit.model.secret_index import namespaces_meet, object_namespaces
from homelab_kit.model.secret_readers import applied_places
from homelab_kit.model.substitute import NameIndex

CHART_SOURCE_KINDS = ("OCIRepository", "HelmRepository", "GitRepository")

# An exact version: 1.2.3, v1.18.2, 2024.10.1, 0.9.5-pre.4, 1.2.3+build.
EXACT_VERSION = re.compile(r"^v?\d+(\.\d+){0,3}(-[0-9A-Za-z][0-9A-Za-z.-]*)?(\+[0-9A-Za-z.-]+)?$")
_RANGE_CHARS = re.compile(r"[\s*^~<>=|,]|(^|\.)[xX](\.|$)")


def is_range(version: str) -> bool:
    """A semver constraint that matches more than one version (``^1.2``, ``1.x``, ``>=1``)."""
    return bool(_RANGE_CHARS.search(version))


# --------------------------------------------------------------------- namespaces


def ref_namespaces(
    repo: Repo, doc: DocumentRef, ref: NamespacedRef, own: tuple[str | None, ...]
) -> tuple[str | None, ...]:
    """The namespaces a reference resolves in: as written, else the referrer's own."""
    if ref.namespace:
        return repo.expand(doc.path, ref.namespace)
    return own


# ------------------------------------------------------------------ chart sources


@attrs.frozen
class ChartSource:
    """A Flux source object a HelmRelease may take its chart from, as a cluster applies it.

    ``names`` are its names after Flux substitution; ``namespaces`` where it lands;
    ``cluster`` the cluster applying it (None: no build says, which counts in every
    cluster); ``doc`` the document as written.
    """

    kind: str
    name: str
    doc: DocumentRef
    namespaces: tuple[str | None, ...]
    names: tuple[str, ...] = ()
    cluster: str | None = None


def chart_sources(repo: Repo) -> list[ChartSource]:
    """Every OCIRepository, HelmRepository and GitRepository a cluster applies, per cluster."""
    return list(repo.derived(_chart_sources))


def _chart_sources(repo: Repo) -> tuple[ChartSource, ...]:
    pools: tuple[tuple[str, tuple[Any, ...]], ...] = (
        ("OCIRepository", repo.oci_repositories),
        ("HelmRepository", repo.helm_repositories),
        ("GitRepository", repo.git_repositories),
    )
    out: list[ChartSource] = []
    for kind, pool in pools:
        for obj in pool:
            doc = obj.doc
            copies = applied_copies_by_cluster(repo, doc)
            for cluster, applied in copies:
                names = (applied.name,)
                out.append(ChartSource(kind, obj.name, doc, (applied.namespace,), names, cluster))
            if not copies:  # bootstrap applies it, or no build says: as written
                names = repo.expand(doc.path, obj.name)
                for cluster, where in applied_places(repo, doc):
                    out.append(ChartSource(kind, obj.name, doc, where, names, cluster))
    return tuple(out)


def _chart_source_index(repo: Repo) -> dict[str, NameIndex[ChartSource]]:
    """Chart sources by kind, found by their names after Flux substitution."""
    out: dict[str, NameIndex[ChartSource]] = {}
    for source in repo.derived(_chart_sources):
        out.setdefault(source.kind, NameIndex()).add(source.names, source)
    return out


def chart_ref_of(hr: HelmRelease, repo: Repo | None = None) -> tuple[NamespacedRef | None, str]:
    """The reference to the chart's source and its kind (chartRef or chart.spec.sourceRef).

    With ``repo``, a reference that only a patch sets (a component adding
    ``chartRef``) is read from the object as the clusters apply it, placed where
    the patch sets it.
    """
    found = _chart_ref(hr, repo)
    return (found[0], found[1]) if found is not None else (None, "")


def names_chart_ref(hr: HelmRelease, repo: Repo | None = None) -> bool:
    """Whether the chart's source is given by ``spec.chartRef`` (not ``chart.spec.sourceRef``)."""
    found = _chart_ref(hr, repo)
    return found is not None and found[2]


_CHART_REF = ("spec", "chartRef")
_SOURCE_REF = ("spec", "chart", "spec", "sourceRef")


def _chart_ref(hr: HelmRelease, repo: Repo | None) -> tuple[NamespacedRef, str, bool] | None:
    if hr.chart_ref is not None:
        return hr.chart_ref, hr.chart_ref.kind or "OCIRepository", True
    if hr.chart is not None and hr.chart.source_ref is not None:
        return hr.chart.source_ref, hr.chart.source_ref.kind or "HelmRepository", False
    if repo is None:
        return None
    for path, default in ((_CHART_REF, "OCIRepository"), (_SOURCE_REF, "HelmRepository")):
        value, _ = applied_value(repo, hr.doc, *path)
        _, where = applied_value(repo, hr.doc, *path, "name")  # the line a patch set it on
        ref = NamespacedRef.from_item(hr.doc, path, value, hr.namespace)
        if ref is not None:
            ref = attrs.evolve(ref, source=where or ref.source)
            return ref, ref.kind or default, path == _CHART_REF
    return None


def release_places(repo: Repo, hr: HelmRelease) -> tuple[Place, ...]:
    """``(cluster, namespaces)`` of each cluster applying ``hr``.

    A release no cluster applies is placed as written, with no cluster (every
    cluster's sources count).
    """
    return applied_places(repo, hr.doc) or ((None, object_namespaces(repo, hr.doc, hr.namespace)),)


Place = tuple["str | None", tuple["str | None", ...]]


def resolve_chart_source(
    repo: Repo, hr: HelmRelease, place: Place | None = None
) -> list[ChartSource] | None:
    """The sources ``hr`` takes its chart from, one per document (:func:`chart_sources` order).

    Only a source of the cluster applying ``hr`` counts (one of no cluster counts
    in all): in ``place`` (one of :func:`release_places`) when given, else in any
    cluster applying ``hr``.  None when the kind of its source is not modelled.
    """
    answers = repo.derived(_resolved)
    key = (hr.doc.path, hr.doc.index, place)
    if key not in answers:
        if place is not None:
            answers[key] = _resolve(repo, hr, place)
        else:  # every cluster applying it: the union, one per document
            each = [resolve_chart_source(repo, hr, p) for p in release_places(repo, hr)]
            merged: dict[tuple[str, int], ChartSource] = {}
            for found in each:
                for s in found or ():
                    merged.setdefault((s.doc.path, s.doc.index), s)
            answers[key] = None if None in each else tuple(merged.values())
    answer = answers[key]
    return None if answer is None else list(answer)


def _resolved(repo: Repo) -> dict[Any, tuple[ChartSource, ...] | None]:
    return {}


def _resolve(repo: Repo, hr: HelmRelease, place: Place) -> tuple[ChartSource, ...] | None:
    ref, kind = chart_ref_of(hr, repo)
    if ref is None or kind not in CHART_SOURCE_KINDS:
        return None
    index = repo.derived(_chart_source_index).get(kind)
    if index is None:
        return ()
    cluster, own = place
    namespaces = ref_namespaces(repo, hr.doc, ref, own)
    found: dict[tuple[str, int], ChartSource] = {}  # one per document, its first copy
    for s in index.matching(repo.expand(hr.doc.path, ref.name)):
        if (cluster is None or s.cluster is None or s.cluster == cluster) and namespaces_meet(
            namespaces, s.namespaces
        ):
            found.setdefault((s.doc.path, s.doc.index), s)
    return tuple(found.values())


def implicit_source(repo: Repo, hr: HelmRelease) -> bool:
    """Whether the chart source is one bootstrap creates (GitRepository flux-system).

    Only those (``repo.implicit_sources``): a declared source counts where
    :func:`resolve_chart_source` finds it, in the cluster applying the release.
    """
    ref, kind = chart_ref_of(hr, repo)
    if ref is None:
        return False
    own = object_namespaces(repo, hr.doc, hr.namespace)
    return any(
        (kind, ns, ref.name) in repo.implicit_sources
        for ns in ref_namespaces(repo, hr.doc, ref, own)
    )
