"""A chart source (OCIRepository, HelmRepository) should be used in its cluster.

## What it does
For every deployed `OCIRepository` and `HelmRepository`, looks for something in
the same cluster that names it: a HelmRelease's `chartRef` or
`chart.spec.sourceRef`, a `HelmChart`, a Flux `Kustomization`'s `sourceRef`, or
any other object's `sourceRef`/`chartRef` (a ResourceSet template, say).  A
source no object of its cluster names is reported; references in files no
cluster deploys do not count.  A repository without clusters counts every file.

## Why is this bad?
An unused source is left over from a removed or moved app: source-controller
still polls the registry on every interval, Renovate keeps bumping it, and a
reader cannot tell which chart is really installed.

## Example
```yaml
# kubernetes/apps/media/sonarr/app/ocirepository.yaml; the HelmRelease now
# takes its chart from the shared app-template OCIRepository
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: sonarr
```

## Use instead
Delete the source, or point the HelmRelease's `chartRef` at it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.lint.reuse import per_object

ID = "helm-chart-source-unused"
SEVERITY = Severity.WARNING
CATEGORY = "correctness"
COST = 30  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Delete the unused source, or refer to it from the HelmRelease that needs it."

_KINDS = ("OCIRepository", "HelmRepository")
_REF_KEYS = ("sourceRef", "chartRef")
Source = tuple[str, str, str]  # (cluster, kind, name); cluster "" without clusters


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    sources = [
        (source, source.doc.kind, _groups(repo, source.doc.path))
        for source in (*repo.oci_repositories, *repo.helm_repositories)
        if repo.is_deployed(source.doc.path)
    ]
    named = _named(
        repo, {(group, kind, source.name) for source, kind, groups in sources for group in groups}
    )
    for source, kind, groups in sources:
        if any((group, kind, source.name) in named for group in groups):
            continue
        yield Diagnostic(
            source.doc.location("metadata", "name"),
            ID,
            f"{kind} {source.name} is used by nothing in its cluster (no chartRef or "
            "sourceRef names it)",
            SEVERITY,
            REMEDIATION,
        )


def _groups(repo: Repo, path: str) -> tuple[str, ...]:
    """The clusters deploying ``path`` (``""``: the repository, without clusters)."""
    names = tuple(c.name for c in repo.clusters if path in c.files)
    return names or ("",)


def _named(repo: Repo, wanted: set[Source]) -> set[Source]:
    """The sources of ``wanted`` (``(cluster, kind, name)``) that a sourceRef or chartRef
    of a deployed object names.

    Read from each cluster's desired state (a reference a patch sets, a name
    substituted from ``${VAR}``) and from the deployed files as written, every object
    whole.  Without a cache (no value is kept across runs), the fields that usually
    name a source are read first, and when they name every wanted source nothing
    else is read: nothing else could change the answer.
    """
    out: set[Source] = set()
    kept = per_object(repo, ID)  # each object's references, kept across runs
    if not kept.keeps and wanted <= _usually_named(repo):
        return wanted
    documents = [doc for doc in repo.documents if repo.is_deployed(doc.path)]
    for doc in documents:
        refs = kept.get(doc, functools.partial(_refs, doc.data))
        if refs:
            for group in _groups(repo, doc.path):
                out.update((group, kind, name) for kind, name in refs)
    for cluster in repo.clusters:
        for obj in cluster.objects:
            refs = kept.get(obj, functools.partial(_refs, obj.data))
            out.update((cluster.name, kind, name) for kind, name in refs)
    return out & wanted


# Where sources are usually named: a HelmRelease's chartRef or chart template, a
# HelmChart's or a Flux Kustomization's sourceRef.
_USUAL = {
    "HelmRelease": (("spec", "chartRef"), ("spec", "chart", "spec", "sourceRef")),
    "HelmChart": (("spec", "sourceRef"),),
    "Kustomization": (("spec", "sourceRef"),),
}


def _usually_named(repo: Repo) -> set[Source]:
    """What the fields of ``_USUAL`` name: some of what :func:`_named` reads, quickly."""
    out: set[Source] = set()
    for cluster in repo.clusters:
        for obj in cluster.objects:
            for path in _USUAL.get(obj.kind, ()):
                ref = _source_named(obj.get(*path))
                if ref is not None:
                    out.add((cluster.name, *ref))
    for doc in repo.documents:
        for path in _USUAL.get(doc.kind, ()):
            ref = _source_named(doc.get(*path))
            if ref is not None and repo.is_deployed(doc.path):
                out.update((group, *ref) for group in _groups(repo, doc.path))
    return out


def _source_named(ref: Any) -> tuple[str, str] | None:
    """``(kind, name)`` of the chart source a sourceRef or chartRef mapping names."""
    if not isinstance(ref, Mapping):
        return None
    kind, name = ref.get("kind"), ref.get("name")
    return (str(kind), name) if kind in _KINDS and isinstance(name, str) else None


_LEAVES = frozenset({str, int, float, bool, type(None)})


def _refs(root: Any) -> list[tuple[str, str]]:
    """``(kind, name)`` of every chart source a sourceRef or chartRef in ``root`` names.

    One walk with a stack (a generator per node, and ``isinstance`` against the
    ``Mapping`` ABC, cost most of this check before); scalars are never visited.
    """
    found: list[tuple[str, str]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.__class__ in _LEAVES:
            continue
        if isinstance(node, dict) or (not isinstance(node, list) and isinstance(node, Mapping)):
            for key, value in node.items():
                if value.__class__ in _LEAVES:
                    continue
                if key in _REF_KEYS:
                    ref = _source_named(value)
                    if ref is not None:
                        found.append(ref)
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return found
