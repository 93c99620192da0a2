"""Secrets: what produces them (Infisical, External Secrets, SOPS, generators) and who reads them.

No model here ever holds a secret *value* in a field that reaches a repr, a log or
a report: only names, keys and paths.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from homelab_kit.location import Location
from homelab_kit.model.base import DocumentRef, doc_field, source_field

if TYPE_CHECKING:
    from homelab_kit.model.repo import Repo

INFISICAL_GROUP = "secrets.infisical.com"
EXTERNAL_SECRETS_GROUP = "external-secrets.io"


@attrs.frozen
class ManagedSecret:
    """A Kubernetes Secret that an InfisicalSecret or ExternalSecret creates.

    ``keys`` are the key names the Secret will hold when the manifest shows them
    (an InfisicalSecret ``template.data`` without ``includeAllSecrets``), else None:
    the keys come from the secret store and cannot be known from the repository.
    """

    name: str
    namespace: str | None
    source: Location = source_field()
    keys: tuple[str, ...] | None = None


@attrs.frozen
class InfisicalSecret:
    """A ``secrets.infisical.com`` InfisicalSecret.

    Both forms are read: ``managedSecretReference`` (one Secret) and
    ``managedKubeSecretReferences`` (a list).  ``auth_method`` names the key under
    ``spec.authentication`` (``universalAuth``, ``kubernetesAuth``, ...).
    """

    name: str
    namespace: str | None
    host_api: str | None
    auth_method: str | None
    project_slug: str | None
    env_slug: str | None
    secrets_path: str | None
    recursive: bool
    credentials_secret: str | None
    credentials_namespace: str | None
    managed_secrets: tuple[ManagedSecret, ...]
    source: Location = source_field()
    doc: DocumentRef = doc_field()

    @classmethod
    def from_doc(cls, doc: DocumentRef, namespace: str | None = None) -> InfisicalSecret:
        ns = doc.namespace or namespace
        auth = doc.map_at("spec", "authentication")
        method = next((k for k, v in auth.items() if isinstance(v, Mapping) and v), None)
        base: tuple[str, ...] = ("spec", "authentication", method) if method else ("spec",)
        scope = doc.map_at(*base, "secretsScope")
        creds = doc.map_at(*base, "credentialsRef")
        managed: list[ManagedSecret] = []
        single = doc.get("spec", "managedSecretReference")
        if isinstance(single, Mapping):
            managed.append(_managed(doc, ("spec", "managedSecretReference"), single, ns))
        for i, item in enumerate(doc.list_at("spec", "managedKubeSecretReferences")):
            if isinstance(item, Mapping):
                managed.append(_managed(doc, ("spec", "managedKubeSecretReferences", i), item, ns))
        return cls(
            name=doc.name,
            namespace=ns,
            host_api=doc.str_at("spec", "hostAPI"),
            auth_method=method,
            project_slug=_str(scope.get("projectSlug")),
            env_slug=_str(scope.get("envSlug")),
            secrets_path=_str(scope.get("secretsPath")),
            recursive=scope.get("recursive") is True,
            credentials_secret=_str(creds.get("secretName")),
            credentials_namespace=_str(creds.get("secretNamespace")),
            managed_secrets=tuple(managed),
            source=doc.location(),
            doc=doc,
        )


def _managed(
    doc: DocumentRef, path: tuple[str | int, ...], item: Mapping[str, Any], ns: str | None
) -> ManagedSecret:
    written = _str(item.get("secretNamespace"))
    template = item.get("template")
    keys: tuple[str, ...] | None = None
    if (
        isinstance(template, Mapping)
        and template.get("includeAllSecrets") is not True
        and isinstance(template.get("data"), Mapping)
    ):
        keys = tuple(str(k) for k in template["data"])
    return ManagedSecret(
        name=_str(item.get("secretName")) or "",
        namespace=written or ns,
        source=doc.location(*path),
        keys=keys,
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@attrs.frozen
class ExternalSecret:
    """An ``external-secrets.io`` ExternalSecret; it produces ``target_name``."""

    name: str
    namespace: str | None
    target_name: str
    store_kind: str | None
    store_name: str | None
    source: Location = source_field()
    doc: DocumentRef = doc_field()

    @classmethod
    def from_doc(cls, doc: DocumentRef, namespace: str | None = None) -> ExternalSecret:
        return cls(
            name=doc.name,
            namespace=doc.namespace or namespace,
            target_name=doc.str_at("spec", "target", "name") or doc.name,
            store_kind=doc.str_at("spec", "secretStoreRef", "kind"),
            store_name=doc.str_at("spec", "secretStoreRef", "name"),
            source=doc.location(),
            doc=doc,
        )


def is_sops_document(data: Any) -> bool:
    """A document carrying SOPS metadata (a top-level ``sops`` mapping)."""
    if not isinstance(data, Mapping):
        return False
    sops = data.get("sops")
    return isinstance(sops, Mapping) and ("mac" in sops or "lastmodified" in sops)


def _looks_encrypted(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith("ENC[") or not value
    if isinstance(value, Mapping):
        return all(_looks_encrypted(v) for v in value.values())
    if isinstance(value, list):
        return all(_looks_encrypted(v) for v in value)
    return value is None


@attrs.frozen
class Secret:
    """A core ``v1`` Secret declared in the repository.

    ``keys`` are the data/stringData key names (never values); ``sops`` is true when
    the document carries SOPS metadata and ``encrypted`` when its payload values are
    all ``ENC[...]``; ``plaintext`` when it holds data that is not encrypted.
    """

    name: str
    namespace: str | None
    keys: tuple[str, ...]
    sops: bool
    encrypted: bool
    plaintext: bool
    source: Location = source_field()
    doc: DocumentRef = doc_field()

    @classmethod
    def from_doc(cls, doc: DocumentRef, namespace: str | None = None) -> Secret:
        data = doc.map_at("data")
        string_data = doc.map_at("stringData")
        keys = tuple(str(k) for k in (*data, *string_data))
        sops = is_sops_document(doc.data)
        encrypted = sops and _looks_encrypted(dict(data)) and _looks_encrypted(dict(string_data))
        return cls(
            name=doc.name,
            namespace=doc.namespace or namespace,
            keys=keys,
            sops=sops,
            encrypted=encrypted,
            plaintext=bool(keys) and not encrypted,
            source=doc.location(),
            doc=doc,
        )


@attrs.frozen
class SopsFile:
    """A file with SOPS metadata (or named ``*.sops.yaml``): never decrypted."""

    path: str
    encrypted: bool
    named_sops: bool
    source: Location = source_field()


@attrs.frozen
class SecretConsumer:
    """A place where something reads a Secret by name.

    ``how`` is one of ``envFrom``, ``secretKeyRef``, ``volume``, ``imagePullSecrets``,
    ``valuesFrom``, ``substituteFrom``, ``existingSecret`` (a chart value) or
    ``projected``.  ``consumer`` names the object that reads it.
    """

    secret_name: str
    namespace: str | None
    how: str
    consumer: str
    optional: bool
    source: Location = source_field()


_FIELD = re.compile(r"\{([A-Za-z0-9_.]+)\}")


def render_name_template(doc: DocumentRef, template: str) -> str | None:
    """The Secret name an operator derives from ``doc``: ``{name}`` and ``{spec.x}`` fields.

    Used for the ``generated`` producers of the secrets options (``Certificate:
    {spec.secretName}``, say); ``None`` when a field is missing or not a string.
    """
    missing = False

    def field(match: re.Match[str]) -> str:
        nonlocal missing
        key = match.group(1)
        value: Any = doc.name if key == "name" else doc.get(*key.split("."))
        if not isinstance(value, str) or not value:
            missing = True
            return ""
        return value

    rendered = _FIELD.sub(field, template)
    return None if missing else rendered


_RULE = re.compile(
    r"^\s*(?P<kind>[A-Za-z][A-Za-z0-9]*)(?:\.(?P<group>[a-z0-9.-]+))?\s*:\s*(?P<names>\S.*?)\s*$"
)


@attrs.frozen
class ProducerRule:
    """An operator's kind that creates Secrets (or ConfigMaps) named after its objects.

    ``secrets`` and ``config_maps`` are name templates (``{name}``, ``{spec.field}``);
    a template written ``a | b`` is ``a`` when it renders, else ``b``.  ``group`` is
    the apiVersion group (``None``: any group).  ``when`` is a dotted field that
    must be true for the rule to apply (``spec.enableSuperuserAccess``), or
    ``field=value`` for a string value (``metadata.labels.kanidm_config=1``).
    ``cluster_wide`` marks a cluster-scoped object that fills many namespaces, all
    unknown unless ``lands`` says which.

    Two functions cover operators whose names or namespaces live in data, never
    running anything: ``names_from(doc)`` gives the Secret names when templates
    cannot (clients listed in a JSON document), and ``lands(repo, doc)`` the
    namespaces the Secrets land in when not beside the object (``None`` in the
    result: unknown, matching any; returning ``None``: beside the object).
    Registered through ``homelab_kit_register_secret_producers``.
    """

    kind: str
    group: str | None
    secrets: tuple[str, ...] = ()
    config_maps: tuple[str, ...] = ()
    when: str | None = None
    cluster_wide: bool = False
    names_from: Callable[[DocumentRef], tuple[str, ...]] | None = None
    lands: Callable[[Repo, DocumentRef], tuple[str | None, ...] | None] | None = None

    @classmethod
    def parse(cls, text: str) -> ProducerRule | None:
        """A rule from ``Kind[.group]: template`` (the ``generated`` option's form)."""
        match = _RULE.match(text)
        if not match:
            return None
        return cls(match["kind"], match["group"], (match["names"],))

    def applies(self, doc: DocumentRef) -> bool:
        """Whether ``doc`` is an object this rule describes."""
        if doc.kind != self.kind or (self.group is not None and doc.group != self.group):
            return False
        if self.when is None:
            return True
        field, equals, value = self.when.partition("=")
        found = doc.get(*field.split("."))
        return found == value if equals else found is True

    def names(self, doc: DocumentRef, kind: str = "Secret") -> tuple[str, ...]:
        """The names of the ``kind`` objects ``doc`` makes, before Flux substitution."""
        if self.names_from is not None:
            return self.names_from(doc) if kind == "Secret" else ()
        templates = self.secrets if kind == "Secret" else self.config_maps
        out: list[str] = []
        for template in templates:
            for choice in template.split("|"):
                name = render_name_template(doc, choice.strip())
                if name:
                    out.append(name)
                    break
        return tuple(out)
