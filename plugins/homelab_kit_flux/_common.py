"""Helpers shared by the Flux checks: injected spec fields, YAML-style scalars.

A Flux Kustomization's fields may be written in its ks.yaml or injected: by the
``spec.patches`` of the Flux Kustomization that deploys it (cluster-apps giving every
child its defaults), or by kustomize patches of the kustomization.yaml files that
include it.  Checks on a field consult :func:`injected_spec`, the Kustomization as
its cluster applies it, before reporting it as missing.

What creates a ConfigMap or Secret is the model's one table
(:mod:`homelab_kit.model.secret_index`), asked per cluster and namespace as each
cluster applies the asking Kustomization (:func:`find_producers`,
:func:`kustomization_copies`).
"""

from __future__ import annotations

from typing import Any

from homelab_kit import DocumentRef, Repo
from homelab_kit.diagnostic import SAFE, UNSAFE, Edit, Fix
from homelab_kit.location import Location
from homelab_kit.model.flux import FluxKustomization
from homelab_kit.model.kustomize import KustomizeFile
from homelab_kit.model.patches import applied_spec
from homelab_kit.model.secret_index import (
    Namespaces,
    SecretProducer,
    created_by_kind,
    producers_of,
)
from homelab_kit.model.secret_readers import applied_places


def injected_spec(repo: Repo, ks: FluxKustomization) -> dict[str, Any]:
    """The ``spec`` keys (and values) patches elsewhere set on ``ks``.

    Read from the desired state: ``ks`` as its cluster applies it, after every
    kustomize patch and its parent's ``spec.patches`` (:mod:`homelab_kit.model.patches`).
    Worked out once per Kustomization for every check that asks (shared: read-only).
    """
    return repo.derived(_injected_spec, ks.doc)


def _injected_spec(repo: Repo, doc: DocumentRef) -> dict[str, Any]:
    return applied_spec(repo, doc)


def files_deployed_by(repo: Repo, ks: FluxKustomization) -> tuple[str, ...]:
    """The files ``ks`` deploys in its own cluster.

    :meth:`Repo.files_deployed_by` knows Kustomizations by namespace and name, which
    repeat across the clusters of one repository (kubernetes/main and
    kubernetes/storage both deploying flux-system/cluster-apps): the files of a
    same-named Kustomization of another cluster are left out.
    """
    files = repo.files_deployed_by(ks.key)
    clusters = repo.clusters
    if len(clusters) < 2:
        return files
    own = [c for c in clusters if c.reaches(ks.doc.path)]
    others = [c for c in clusters if c not in own]
    if not own or not others:
        return files
    return tuple(
        p for p in files if not any(c.reaches(p) for c in others) or any(c.reaches(p) for c in own)
    )


def including_kustomizations(repo: Repo, path: str) -> list[KustomizeFile]:
    """kustomization.yaml files that pull in ``path``, directly or through others.

    ``path`` may be a manifest, a generator's file or a patch; the search climbs
    through ``resources`` and ``components`` of the kustomizations above it.
    """
    return list(repo.kustomize_files_including(path))


def yaml_scalar(value: Any) -> str:
    """A scalar as YAML writes it (``false``, ``null``), for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def aggregators(repo: Repo) -> set[tuple[str | None, str]]:
    """Flux Kustomizations that deploy other Flux Kustomizations (cluster-apps and the like)."""
    return {
        key
        for other in repo.kustomizations
        for key in repo.deployed_by.get(other.doc.path, ())
        if key != other.key
    }


def ks_label(ks: FluxKustomization) -> str:
    """``namespace/name`` of a Flux Kustomization (just the name without a namespace)."""
    return f"{ks.namespace}/{ks.name}" if ks.namespace else ks.name


def find_producers(
    repo: Repo, kind: str, namespaces: Namespaces, name: str, cluster: str | None
) -> list[SecretProducer]:
    """The producers of a ``kind`` called ``name`` in ``namespaces`` of ``cluster``.

    A producer counts only in its own cluster (bootstrap's in all; a ``cluster`` of
    None accepts every one) and namespace (one that lands nowhere known matches
    none).  Remembered per question: every Kustomization of a namespace asks the
    same one.
    """
    return list(repo.derived(_producers, kind, namespaces, name, cluster))


def _producers(
    repo: Repo, kind: str, namespaces: Namespaces, name: str, cluster: str | None
) -> tuple[SecretProducer, ...]:
    return tuple(producers_of(created_by_kind(repo)[kind], (name,), namespaces, cluster))


def kustomization_copies(
    repo: Repo, ks: FluxKustomization
) -> tuple[tuple[str | None, Namespaces], ...]:
    """``(cluster, namespaces)`` of each cluster applying ``ks`` (:func:`applied_places`).

    A Kustomization no cluster applies is judged as written, with no cluster (which
    accepts every cluster's producers).
    """
    return applied_places(repo, ks.doc) or ((None, (ks.namespace or None,)),)


def waits(repo: Repo, ks: FluxKustomization) -> bool:
    """Whether ``ks`` waits for what it deploys: ``wait: true`` or health checks."""
    injected = injected_spec(repo, ks)
    if injected.get("wait", ks.wait) is True:
        return True
    return bool(
        ks.health_checks
        or ks.health_check_exprs
        or injected.get("healthChecks")
        or injected.get("healthCheckExprs")
    )


def wait_problem(ks: FluxKustomization) -> tuple[Location, str]:
    """Where to report that ``ks`` does not wait, and what it writes instead."""
    written = ks.doc.get("spec", "wait")
    if written is None:
        return ks.doc.key_location("spec"), f"Kustomization {ks.name} does not set spec.wait"
    where = ks.doc.key_location("spec", "wait")
    return where, f"Kustomization {ks.name} sets spec.wait: {yaml_scalar(written)}"


def wait_fix(ks: FluxKustomization, *, safe: bool) -> Fix:
    """``wait: true``; never safe over a written ``wait: false`` (the owner chose it)."""
    safe = safe and ks.doc.get("spec", "wait") is None
    edit = Edit(ks.doc.path, ks.doc.index, ("spec", "wait"), True)
    return Fix("set spec.wait: true", (edit,), applicability=SAFE if safe else UNSAFE)
