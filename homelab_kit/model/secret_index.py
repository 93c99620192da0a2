"""Which Secrets the repository creates, and who reads them, by name and namespace.

One index, built once per :class:`~homelab_kit.model.repo.Repo` (``Repo.derived``)
and shared by the secrets checks, the Helm checks and the secrets map.  Names are
compared after Flux ``postBuild`` substitution (``repo.expand``); a variable left
unset matches any name, and an unknown namespace (``None``) matches any.  What no
cluster deploys (``Repo.is_deployed``) produces nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from homelab_kit.location import Location
from homelab_kit.model.base import DocumentRef
from homelab_kit.model.secrets import SecretConsumer, render_name_template
from homelab_kit.model.substitute import NameIndex, any_match

if TYPE_CHECKING:
    from homelab_kit.model.repo import Repo

Namespaces = tuple[str | None, ...]

_RELEASE_NAME = re.compile(r"\{\{-?\s*\.Release\.Name\s*-?\}\}")
_TEMPLATE = re.compile(
    r"^\s*(?P<kind>[A-Za-z][A-Za-z0-9]*)(?:\.(?P<group>[a-z0-9.-]+))?\s*:\s*"
    r"(?P<template>\S.*?)\s*$"
)


@attrs.frozen
class SecretProducer:
    """A Secret the repository creates: its possible names and namespaces.

    ``by`` names what creates it (``Secret db``, ``InfisicalSecret app``, ...).
    """

    names: tuple[str, ...]
    namespaces: Namespaces
    by: str


@attrs.frozen
class SecretReader:
    """A place that reads a Secret by name, with names and namespaces expanded."""

    names: tuple[str, ...]
    namespaces: Namespaces
    how: str
    consumer: str
    optional: bool
    source: Location


# --------------------------------------------------------------------- namespaces


def object_namespaces(repo: Repo, doc: DocumentRef, fallback: str | None) -> Namespaces:
    """Where an object lands: kustomize/Flux namespaces first, else as written.

    :param repo: the loaded repository.
    :param doc: the object's document.
    :param fallback: the namespace to report when neither says (None: unknown).
    :returns: the possible namespaces, after Flux substitution.
    """
    landed = repo.all_namespaces_of_file(doc.path)
    if landed:
        return tuple(landed)
    if doc.namespace:
        return repo.expand(doc.path, doc.namespace)
    return (fallback,)


def namespaces_meet(a: Namespaces, b: Namespaces) -> bool:
    """Whether two sets of possible namespaces can be the same namespace."""
    if None in a or None in b:
        return True
    return any_match((x for x in a if x), (y for y in b if y))


# ---------------------------------------------------------------------- producers


def secret_producers(repo: Repo, generated_templates: Iterable[str] = ()) -> list[SecretProducer]:
    """Every Secret something in the repository creates.

    Secret manifests, secretGenerators, InfisicalSecret managed Secrets,
    ExternalSecret targets, and objects matching ``generated_templates``: entries
    such as ``Certificate: {spec.secretName}`` or ``Cluster.postgresql.cnpg.io:
    {name}-app`` (a kind, optionally ``.group``, and the name of the Secret it
    creates).  Computed once per repository and set of templates.

    :param repo: the loaded repository.
    :param generated_templates: operator objects that create a Secret.
    :returns: the producers, a fresh list.

    Example::

        for p in secret_producers(repo, ["Certificate: {spec.secretName}"]):
            print(p.by, p.names, p.namespaces)
    """
    return list(repo.derived(_secret_producers, tuple(generated_templates)))


def producer_index(producers: Iterable[SecretProducer]) -> NameIndex[SecretProducer]:
    """``producers`` found by name, for :func:`is_produced`."""
    return NameIndex((p.names, p) for p in producers)


def is_produced(
    producers: NameIndex[SecretProducer], names: tuple[str, ...], where: Namespaces
) -> bool:
    """Whether a Secret called one of ``names`` is created in one of ``where``."""
    return any(namespaces_meet(where, p.namespaces) for p in producers.matching(names))


def generated_secrets(repo: Repo, templates: Iterable[str]) -> tuple[tuple[DocumentRef, str], ...]:
    """``(object, Secret name)`` for every object matching one of ``templates``.

    The name is the template rendered against the object, before Flux
    substitution; objects whose template does not render are left out.
    """
    return repo.derived(_generated_secrets, tuple(templates))


def _generated_secrets(
    repo: Repo, templates: tuple[str, ...]
) -> tuple[tuple[DocumentRef, str], ...]:
    rules = [m for t in templates if (m := _TEMPLATE.match(t))]
    if not rules:
        return ()
    out: list[tuple[DocumentRef, str]] = []
    for doc in repo.documents:
        for rule in rules:
            if doc.kind != rule["kind"]:
                continue
            if rule["group"] and doc.group != rule["group"]:
                continue
            name = render_name_template(doc, rule["template"])
            if name:
                out.append((doc, name))
    return tuple(out)


def _secret_producers(repo: Repo, templates: tuple[str, ...]) -> tuple[SecretProducer, ...]:
    out: list[SecretProducer] = []
    live = repo.is_deployed  # what no cluster deploys creates nothing
    for secret in repo.secrets:
        if not live(secret.doc.path):
            continue
        out.append(
            SecretProducer(
                repo.expand(secret.doc.path, secret.name),
                object_namespaces(repo, secret.doc, secret.namespace),
                f"Secret {secret.name}",
            )
        )
    for kfile, gen in repo.generators():
        if gen.kind != "Secret" or not live(kfile.path):
            continue
        where: Namespaces = (
            (gen.namespace,) if gen.namespace else repo.all_namespaces_of_file(kfile.path)
        ) or (None,)
        out.append(
            SecretProducer(repo.expand(kfile.path, gen.name), where, f"secretGenerator {gen.name}")
        )
    for infisical in repo.infisical_secrets:
        path = infisical.doc.path
        if not live(path):
            continue
        own = object_namespaces(repo, infisical.doc, infisical.namespace)
        for managed in infisical.managed_secrets:
            written = managed.namespace
            where = (
                repo.expand(path, written) if written and written != infisical.namespace else own
            )
            out.append(
                SecretProducer(
                    repo.expand(path, managed.name), where, f"InfisicalSecret {infisical.name}"
                )
            )
    for external in repo.external_secrets:
        if not live(external.doc.path):
            continue
        out.append(
            SecretProducer(
                repo.expand(external.doc.path, external.target_name),
                object_namespaces(repo, external.doc, external.namespace),
                f"ExternalSecret {external.name}",
            )
        )
    for doc, name in generated_secrets(repo, templates):
        if not live(doc.path):
            continue
        out.append(
            SecretProducer(
                repo.expand(doc.path, name),
                _template_namespaces(repo, doc),
                f"{doc.kind} {doc.name}",
            )
        )
    return tuple(out)


def _template_namespaces(repo: Repo, doc: DocumentRef) -> Namespaces:
    # A cluster-scoped producer (ClusterExternalSecret) fills many namespaces.
    if doc.kind.startswith("Cluster") and not doc.namespace:
        return (None,)
    return object_namespaces(repo, doc, doc.namespace)


# ------------------------------------------------------------------------ readers


def secret_readers(repo: Repo) -> tuple[SecretReader, ...]:
    """Every place that reads a Secret by name, plus InfisicalSecret credentialsRef.

    Computed once per repository.

    :param repo: the loaded repository.
    :returns: the readers, names and namespaces expanded (shared: read-only).
    """
    return repo.derived(_secret_readers)


def resolved_consumers(repo: Repo) -> tuple[tuple[SecretConsumer, str], ...]:
    """``repo.secret_consumers`` with the Secret name as Helm renders it.

    ``{{ .Release.Name }}`` in a HelmRelease's values becomes the release name;
    a consumer whose name still holds a template is left out.
    """
    return repo.derived(_resolved_consumers)


def _resolved_consumers(repo: Repo) -> tuple[tuple[SecretConsumer, str], ...]:
    releases = {(hr.namespace, hr.name): hr for hr in repo.helm_releases}
    out: list[tuple[SecretConsumer, str]] = []
    for c in repo.secret_consumers:
        name = c.secret_name
        if "{{" in name:
            name = _release_name(name, c.consumer, c.namespace, releases) or name
            if "{{" in name:
                continue
        out.append((c, name))
    return tuple(out)


def _secret_readers(repo: Repo) -> tuple[SecretReader, ...]:
    out: list[SecretReader] = []
    for c, name in resolved_consumers(repo):
        path = c.source.path
        landed = repo.all_namespaces_of_file(path)
        where: Namespaces = tuple(landed) if landed else (c.namespace,)
        out.append(
            SecretReader(repo.expand(path, name), where, c.how, c.consumer, c.optional, c.source)
        )
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
        out.append(
            SecretReader(
                repo.expand(doc.path, infisical.credentials_secret),
                where,
                "credentialsRef",
                f"InfisicalSecret {infisical.name}",
                False,
                doc.location(*ref, "secretName"),
            )
        )
    return tuple(out)


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
