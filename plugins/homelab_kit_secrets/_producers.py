"""Which Secrets the repository creates, and who reads them, by name and namespace.

Names are compared after Flux ``postBuild`` substitution (``repo.expand``); a
variable left unset matches any name, and an unknown namespace matches any.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from homelab_kit import DocumentRef, Location, Repo
from homelab_kit.model.secrets import render_name_template
from homelab_kit.model.substitute import NameIndex, any_match

Namespaces = tuple[str | None, ...]

_RELEASE_NAME = re.compile(r"\{\{-?\s*\.Release\.Name\s*-?\}\}")
_TEMPLATE = re.compile(
    r"^\s*(?P<kind>[A-Za-z][A-Za-z0-9]*)(?:\.(?P<group>[a-z0-9.-]+))?\s*:\s*"
    r"(?P<template>\S.*?)\s*$"
)


@attrs.frozen
class Produced:
    """A Secret the repository creates: its possible names and namespaces."""

    names: tuple[str, ...]
    namespaces: Namespaces
    by: str


@attrs.frozen
class Consumer:
    """A place that reads a Secret by name, with names and namespaces expanded."""

    names: tuple[str, ...]
    namespaces: Namespaces
    how: str
    consumer: str
    optional: bool
    source: Location


def object_namespaces(repo: Repo, doc: DocumentRef, fallback: str | None) -> Namespaces:
    """Where an object lands: kustomize/Flux namespaces first, else as written."""
    landed = repo.all_namespaces_of_file(doc.path)
    if landed:
        return tuple(landed)
    if doc.namespace:
        return repo.expand(doc.path, doc.namespace)
    return (fallback,)


def namespaces_meet(a: Namespaces, b: Namespaces) -> bool:
    if None in a or None in b:
        return True
    return any_match((x for x in a if x), (y for y in b if y))


def produced_index(produced: Iterable[Produced]) -> NameIndex[Produced]:
    """``produced`` found by name, for :func:`is_produced`."""
    return NameIndex((p.names, p) for p in produced)


def is_produced(produced: NameIndex[Produced], names: tuple[str, ...], where: Namespaces) -> bool:
    """Whether a Secret called one of ``names`` is created in one of ``where``."""
    return any(namespaces_meet(where, p.namespaces) for p in produced.matching(names))


def produced_secrets(repo: Repo, templates: Iterable[str] = ()) -> list[Produced]:
    """Every Secret something in the repository creates.

    Secret manifests, secretGenerators, InfisicalSecret managed Secrets,
    ExternalSecret targets, and objects matching ``templates``: entries such as
    ``Certificate: {spec.secretName}`` or ``Cluster.postgresql.cnpg.io: {name}-app``
    (a kind, optionally ``.group``, and the name of the Secret it creates).
    """
    out: list[Produced] = []
    for secret in repo.secrets:
        out.append(
            Produced(
                repo.expand(secret.doc.path, secret.name),
                object_namespaces(repo, secret.doc, secret.namespace),
                f"Secret {secret.name}",
            )
        )
    for kfile, gen in repo.generators():
        if gen.kind != "Secret":
            continue
        where: Namespaces = (
            (gen.namespace,) if gen.namespace else repo.all_namespaces_of_file(kfile.path)
        ) or (None,)
        out.append(
            Produced(repo.expand(kfile.path, gen.name), where, f"secretGenerator {gen.name}")
        )
    for infisical in repo.infisical_secrets:
        path = infisical.doc.path
        own = object_namespaces(repo, infisical.doc, infisical.namespace)
        for managed in infisical.managed_secrets:
            written = managed.namespace
            where = (
                repo.expand(path, written) if written and written != infisical.namespace else own
            )
            out.append(
                Produced(
                    repo.expand(path, managed.name), where, f"InfisicalSecret {infisical.name}"
                )
            )
    for external in repo.external_secrets:
        out.append(
            Produced(
                repo.expand(external.doc.path, external.target_name),
                object_namespaces(repo, external.doc, external.namespace),
                f"ExternalSecret {external.name}",
            )
        )
    rules = [m for t in templates if (m := _TEMPLATE.match(t))]
    if rules:
        for doc in repo.documents:
            for rule in rules:
                if doc.kind != rule["kind"]:
                    continue
                if rule["group"] and doc.group != rule["group"]:
                    continue
                name = render_name_template(doc, rule["template"])
                if name:
                    out.append(
                        Produced(
                            repo.expand(doc.path, name),
                            _template_namespaces(repo, doc),
                            f"{doc.kind} {doc.name}",
                        )
                    )
    return out


def _template_namespaces(repo: Repo, doc: DocumentRef) -> Namespaces:
    # A cluster-scoped producer (ClusterExternalSecret) fills many namespaces.
    if doc.kind.startswith("Cluster") and not doc.namespace:
        return (None,)
    return object_namespaces(repo, doc, doc.namespace)


def secret_consumers(repo: Repo) -> Iterator[Consumer]:
    """Every place that reads a Secret by name, plus InfisicalSecret credentialsRef."""
    return iter(repo.derived(_secret_consumers))


def _secret_consumers(repo: Repo) -> tuple[Consumer, ...]:
    return tuple(_find_consumers(repo))


def _find_consumers(repo: Repo) -> Iterator[Consumer]:
    releases = {(hr.namespace, hr.name): hr for hr in repo.helm_releases}
    for c in repo.secret_consumers:
        name = c.secret_name
        if "{{" in name:
            name = _release_name(name, c.consumer, c.namespace, releases) or name
            if "{{" in name:
                continue
        path = c.source.path
        landed = repo.all_namespaces_of_file(path)
        where: Namespaces = tuple(landed) if landed else (c.namespace,)
        yield Consumer(repo.expand(path, name), where, c.how, c.consumer, c.optional, c.source)
    for infisical in repo.infisical_secrets:
        if not infisical.credentials_secret:
            continue
        doc = infisical.doc
        where = (
            repo.expand(doc.path, infisical.credentials_namespace)
            if infisical.credentials_namespace
            else object_namespaces(repo, doc, infisical.namespace)
        )
        ref = ("spec", "authentication", infisical.auth_method or "", "credentialsRef")
        yield Consumer(
            repo.expand(doc.path, infisical.credentials_secret),
            where,
            "credentialsRef",
            f"InfisicalSecret {infisical.name}",
            False,
            doc.location(*ref, "secretName"),
        )


def _release_name(
    name: str, consumer: str, namespace: str | None, releases: Mapping[Any, Any]
) -> str | None:
    """``{{ .Release.Name }}`` of a HelmRelease's values, as Helm renders it."""
    if not consumer.startswith("HelmRelease "):
        return None
    hr = releases.get((namespace, consumer.removeprefix("HelmRelease ")))
    if hr is None:
        return None
    release = hr.doc.str_at("spec", "releaseName")
    if release is None:
        release = f"{hr.target_namespace}-{hr.name}" if hr.target_namespace else hr.name
    return _RELEASE_NAME.sub(release, name)
