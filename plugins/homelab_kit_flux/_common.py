"""Helpers shared by the Flux checks: injected spec fields, YAML-style scalars.

A Flux Kustomization's fields may be written in its ks.yaml or injected: by the
``spec.patches`` of the Flux Kustomization that deploys it (cluster-apps giving every
child its defaults), or by kustomize patches of the kustomization.yaml files that
include it.  Checks on a field consult :func:`injected_spec`, the Kustomization as
its cluster applies it, before reporting it as missing.
"""

from __future__ import annotations

from typing import Any

import attrs

from homelab_kit import Repo
from homelab_kit.diagnostic import SAFE, UNSAFE, Edit, Fix
from homelab_kit.location import Location
from homelab_kit.model.flux import FluxKustomization
from homelab_kit.model.kustomize import KustomizeFile
from homelab_kit.model.patches import applied_spec
from homelab_kit.model.secret_index import (
    bootstrap_producers,
    generated_config_maps,
    generated_secrets,
    landing_namespaces,
)
from homelab_kit.model.substitute import NameIndex, names_match


def injected_spec(repo: Repo, ks: FluxKustomization) -> dict[str, Any]:
    """The ``spec`` keys (and values) patches elsewhere set on ``ks``.

    Read from the desired state: ``ks`` as its cluster applies it, after every
    kustomize patch and its parent's ``spec.patches`` (:mod:`homelab_kit.model.patches`).
    """
    return applied_spec(repo, ks.doc)


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


@attrs.frozen
class Producer:
    """Something in the repository that creates a ConfigMap or Secret.

    ``names`` are its possible names once Flux substitutes inline variables;
    ``namespaces`` where it lands (empty: unknown); ``keys`` its key names, or None
    when they cannot be known from the repository (a secret store, an env file);
    ``hashed`` when kustomize appends a hash suffix to the name.
    """

    kind: str
    names: tuple[str, ...]
    namespaces: tuple[str, ...]
    keys: tuple[str, ...] | None
    hashed: bool
    what: str
    path: str
    source: Location = attrs.field(eq=False)

    def matches(self, kind: str, namespace: str | None, name: str) -> bool:
        if kind != self.kind or not any(names_match(name, n) for n in self.names):
            return False
        return self._lands_in(namespace)

    def _lands_in(self, namespace: str | None) -> bool:
        return namespace is None or not self.namespaces or namespace in self.namespaces


def producers(repo: Repo) -> list[Producer]:
    """Every ConfigMap and Secret the repository creates, and what creates it."""
    return list(repo.derived(_producers))


def find_producers(repo: Repo, kind: str, namespace: str | None, name: str) -> list[Producer]:
    """The producers that match (:meth:`Producer.matches`), in :func:`producers` order.

    Remembered per question: every Kustomization of a namespace asks the same
    one, and a name every namespace creates (``cluster-secrets``) has as many
    producers as namespaces, so filtering them for each asker grew with the square.
    """
    answers = repo.derived(_answers)
    key = (kind, namespace, name)
    found = answers.get(key)
    if found is None:
        found = answers[key] = _find(repo, kind, namespace, name)
    return list(found)


def _answers(repo: Repo) -> dict[tuple[str, str | None, str], tuple[Producer, ...]]:
    return {}


def _find(repo: Repo, kind: str, namespace: str | None, name: str) -> tuple[Producer, ...]:
    by_name = repo.derived(_by_namespace)
    entry = by_name.get((kind, name))
    if entry is None:
        index = repo.derived(_producer_index).get(kind)
        matching = index.matching((name,)) if index is not None else []
        anywhere: list[int] = []  # producers landing in an unknown namespace
        landing: dict[str, list[int]] = {}
        for number, p in enumerate(matching):
            if not p.namespaces:
                anywhere.append(number)
            for ns in dict.fromkeys(p.namespaces):
                landing.setdefault(ns, []).append(number)
        entry = by_name[(kind, name)] = (matching, anywhere, landing)
    matching, anywhere, landing = entry
    if namespace is None:
        return tuple(matching)
    numbers = sorted((*anywhere, *landing.get(namespace, ())))
    return tuple(matching[n] for n in numbers)


def _by_namespace(
    repo: Repo,
) -> dict[tuple[str, str], tuple[list[Producer], list[int], dict[str, list[int]]]]:
    """By ``(kind, name)``: the producers matching the name, and which land where."""
    return {}


def _producer_index(repo: Repo) -> dict[str, NameIndex[Producer]]:
    out: dict[str, NameIndex[Producer]] = {}
    for p in repo.derived(_producers):
        out.setdefault(p.kind, NameIndex()).add(p.names, p)
    return out


def _producers(repo: Repo) -> tuple[Producer, ...]:
    out: list[Producer] = []

    def add(
        kind: str,
        path: str,
        name: str,
        namespaces: tuple[str | None, ...],
        keys: tuple[str, ...] | None,
        what: str,
        source: Location,
        hashed: bool = False,
    ) -> None:
        if not repo.is_deployed(path):
            return  # what no cluster deploys creates nothing
        landed = tuple(ns for ns in namespaces if ns)
        names = repo.expand(path, name)
        out.append(Producer(kind, names, landed, keys, hashed, what, path, source))

    for doc in repo.documents:
        if doc.group == "" and doc.kind == "ConfigMap":
            keys = tuple(str(k) for k in (*doc.map_at("data"), *doc.map_at("binaryData")))
            landed = _landed(repo, doc.path, doc.namespace)
            add("ConfigMap", doc.path, doc.name, landed, keys, "manifest", doc.location())
    for secret in repo.secrets:
        path = secret.doc.path
        landed = _landed(repo, path, secret.namespace)
        add("Secret", path, secret.name, landed, secret.keys, "manifest", secret.source)
    for kfile, gen in repo.generators():
        gen_keys = None if gen.envs else (*gen.literal_keys, *gen.file_keys)
        landed = (gen.namespace,) if gen.namespace else _landed(repo, kfile.path, kfile.namespace)
        hashed = not gen.disable_name_suffix_hash
        add(gen.kind, kfile.path, gen.name, landed, gen_keys, "generator", gen.source, hashed)
    for infisical in repo.infisical_secrets:
        path = infisical.doc.path
        for managed in infisical.managed_secrets:
            # A written secretNamespace stays as written; otherwise the Secret lands
            # wherever the InfisicalSecret does.
            moved = managed.namespace != infisical.namespace
            landed = (managed.namespace,) if moved else _landed(repo, path, infisical.namespace)
            add(
                "Secret",
                path,
                managed.name,
                landed,
                managed.keys,
                "InfisicalSecret",
                managed.source,
            )
    for external in repo.external_secrets:
        path = external.doc.path
        landed = _landed(repo, path, external.namespace)
        add("Secret", path, external.target_name, landed, None, "ExternalSecret", external.source)
    # The operators' objects of the producer table (secret_index.PRODUCERS and
    # the plugins' rules): a CNPG Cluster's `<name>-app`, an ObjectBucketClaim's
    # ConfigMap, ...
    for kind, generated in (
        ("Secret", generated_secrets(repo)),
        ("ConfigMap", generated_config_maps(repo)),
    ):
        for doc, name in generated:
            lands = landing_namespaces(repo, doc)
            if lands is None:
                landed = _landed(repo, doc.path, doc.namespace)
            else:  # elsewhere; any None among them is unknown, so all are
                landed = (None,) if None in lands else lands
            add(kind, doc.path, name, landed, None, doc.kind, doc.location())
    # Created before Flux runs (bootstrap material, `bootstrap-secrets`).
    for boot in bootstrap_producers(repo):
        names = boot.names
        landed_at = tuple(ns for ns in boot.namespaces if ns)
        out.append(Producer("Secret", names, landed_at, None, False, boot.by, "", Location("")))
    return tuple(out)


def _landed(repo: Repo, path: str, written: str | None) -> tuple[str | None, ...]:
    """Where the objects of ``path`` land: as deployed, else as written (maybe unknown)."""
    return repo.all_namespaces_of_file(path) or (written,)


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
