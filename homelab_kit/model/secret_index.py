"""Which Secrets (and ConfigMaps) the repository creates, by name and namespace.

One index, built once per :class:`~homelab_kit.model.repo.Repo` (``Repo.derived``)
and shared by the secrets, Helm and Flux checks; who reads them is
:mod:`homelab_kit.model.secret_readers`.  Producers are read from each cluster's
desired state (:mod:`homelab_kit.model.applied`): names after Flux ``postBuild``
substitution, namespaces as Flux applies them (``targetNamespace``, a
kustomization's ``namespace``), fields a parent's patch injected.  A producer
counts only in its own cluster (:func:`is_produced`); bootstrap's count in all.  A
variable left unset matches any name, and an unknown namespace (``None``) matches
any.  What no cluster deploys produces nothing; a deployed file no build produced
(a failed build, a repository without clusters) stands in as written.
"""

from __future__ import annotations

import functools
import json
import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from homelab_kit.location import Location
from homelab_kit.model.applied import AppliedDocument, applied_documents
from homelab_kit.model.base import DocumentRef
from homelab_kit.model.kept import kept_per_object
from homelab_kit.model.secrets import (
    EXTERNAL_SECRETS_GROUP,
    INFISICAL_GROUP,
    ExternalSecret,
    InfisicalSecret,
    ProducerRule,
    SecretConsumer,
)
from homelab_kit.model.substitute import NameIndex, any_match

if TYPE_CHECKING:
    from homelab_kit.model.clusters import KsKey
    from homelab_kit.model.kustomize import Generator
    from homelab_kit.model.repo import Repo

Namespaces = tuple[str | None, ...]

RELEASE_NAME = re.compile(r"\{\{-?\s*\.Release\.Name\s*-?\}\}")


@attrs.frozen
class SecretProducer:
    """A Secret (or ConfigMap) a cluster creates: its possible names and namespaces.

    ``by`` names what creates it (``Secret db``, ``InfisicalSecret app``, ...);
    ``path`` the file that declares it (``""``: bootstrap, outside every cluster).
    ``cluster`` is the cluster whose desired state holds it; None where no build
    says (bootstrap, a repository without clusters), which counts in every cluster.
    ``hashed``: generated with kustomize's name hash suffix (``names`` holds the
    name with and without it).  ``keys`` are the key names it will hold when the
    repository shows them (a manifest's data, a generator's literals and files, an
    InfisicalSecret's template), None when they come from elsewhere (a secret
    store, an env file, an operator).  ``applied_by`` is the Flux Kustomization
    whose build creates it (None: bootstrap, or no build says); ``index`` the
    declaring document's index in ``path`` (-1: a generated object, bootstrap).
    """

    names: tuple[str, ...]
    namespaces: Namespaces
    by: str
    path: str = ""
    cluster: str | None = None
    hashed: bool = False
    keys: tuple[str, ...] | None = None
    applied_by: KsKey | None = None
    index: int = -1


Outcome = tuple[Location, "str | None", "str | None"]


def per_cluster(outcomes: Iterable[Outcome]) -> Iterator[tuple[Location, str, str | None]]:
    """What to report of references checked once per cluster applying them.

    :param outcomes: ``(source, cluster, message)`` for each applied copy of a
        reference; ``message`` is None where it holds.
    :returns: ``(source, message, cluster)`` to report.  A reference that fails
        alike in every cluster applying it is one finding, naming no cluster (the
        engine names it when only one cluster has the file); one that holds in
        another cluster, or fails differently in several, is reported per failing
        cluster, naming it.
    """
    held: dict[Location, set[str | None]] = {}
    failed: dict[Location, dict[str | None, set[str]]] = {}
    for source, cluster, message in outcomes:
        if message is None:
            held.setdefault(source, set()).add(cluster)
        else:
            failed.setdefault(source, {}).setdefault(cluster, set()).add(message)
    for source, by_cluster in failed.items():
        messages = {m for found in by_cluster.values() for m in found}
        involved = set(by_cluster) | held.get(source, set())
        if len(involved) < 2 or (not held.get(source) and len(messages) == 1):
            for message in sorted(messages):
                yield source, message, None
            continue
        for cluster in sorted(by_cluster, key=lambda c: c or ""):
            for message in sorted(by_cluster[cluster]):
                yield source, message, cluster


Pending = tuple[DocumentRef, tuple[str | int, ...], "str | None", "str | None"]


def per_cluster_at(outcomes: Iterable[Pending]) -> Iterator[tuple[Location, str, str | None]]:
    """:func:`per_cluster` of ``(doc, path, cluster, message)``: the source is ``doc``'s
    field at ``path``, located only when a reference fails (most hold: none is reported)."""
    pending = list(outcomes)
    if any(message is not None for _, _, _, message in pending):
        yield from per_cluster(
            (doc.location(*path), cluster, message) for doc, path, cluster, message in pending
        )


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


def _plain_names(namespaces: Namespaces) -> frozenset[str] | None:
    """The names of ``namespaces`` when they are all known and free of variables.

    Such names meet by equality alone; the few distinct tuples are cached.
    """
    if type(namespaces) is not tuple:
        return None
    return _plain_tuple(namespaces)


@functools.lru_cache(maxsize=4096)
def _plain_tuple(namespaces: Namespaces) -> frozenset[str] | None:
    if None in namespaces or any("${" in n for n in namespaces if n):
        return None
    return frozenset(n for n in namespaces if n)


def namespaces_meet(a: Namespaces, b: Namespaces) -> bool:
    """Whether two sets of possible namespaces can be the same namespace."""
    if None in a or None in b:
        return True
    plain_a, plain_b = _plain_names(a), _plain_names(b)
    if plain_a is not None and plain_b is not None:
        return not plain_a.isdisjoint(plain_b)
    return any_match((x for x in a if x), (y for y in b if y))


# ---------------------------------------------------------------------- producers


# The operators' kinds that create Secrets (and ConfigMaps), one row each, as
# their documentation says.  Plugins add rows through
# ``homelab_kit_register_secret_producers`` (``repo.settings.secret_producers``).
PRODUCERS: tuple[ProducerRule, ...] = (
    # cert-manager: the certificate and key land in spec.secretName.
    ProducerRule("Certificate", "cert-manager.io", ("{spec.secretName}",)),
    # CloudNativePG: the app user's credentials, the CA and the server and
    # replication certificates; the superuser's only with enableSuperuserAccess.
    ProducerRule(
        "Cluster",
        "postgresql.cnpg.io",
        ("{name}-app", "{name}-ca", "{name}-replication", "{name}-server"),
    ),
    ProducerRule(
        "Cluster", "postgresql.cnpg.io", ("{name}-superuser",), when="spec.enableSuperuserAccess"
    ),
    # Crunchy PGO: one Secret per user; without spec.users, a user named after the cluster.
    ProducerRule("PostgresCluster", "postgres-operator.crunchydata.com", ("{name}-pguser-{name}",)),
    # Strimzi: a KafkaUser's credentials; a Kafka cluster's CA certificates.
    ProducerRule("KafkaUser", "kafka.strimzi.io", ("{name}",)),
    ProducerRule("Kafka", "kafka.strimzi.io", ("{name}-cluster-ca-cert", "{name}-clients-ca-cert")),
    # Rook / lib-bucket-provisioner: a Secret and a ConfigMap named after the claim.
    ProducerRule("ObjectBucketClaim", "objectbucket.io", ("{name}",), ("{name}",)),
    ProducerRule(
        "CephObjectStoreUser", "ceph.rook.io", ("rook-ceph-object-user-{spec.store}-{name}",)
    ),
    # garage-operator: the key's credentials, in spec.secretTemplate.name else its name.
    ProducerRule("GarageKey", None, ("{spec.secretTemplate.name} | {name}",)),
    # Sealed Secrets, 1Password, external-secrets' cluster-wide form.
    ProducerRule("SealedSecret", "bitnami.com", ("{spec.template.metadata.name} | {name}",)),
    ProducerRule("OnePasswordItem", "onepassword.com", ("{name}",)),
    ProducerRule(
        "ClusterExternalSecret",
        "external-secrets.io",
        ("{spec.externalSecretName} | {name}",),
        cluster_wide=True,
        lands=lambda repo, doc: cluster_external_secret_namespaces(repo, doc),
    ),
    # EMQX operator (apps.emqx.io v2beta1 and later): the bootstrap API key and the
    # Erlang node cookie; the rendered configuration as a ConfigMap.
    ProducerRule(
        "EMQX",
        "apps.emqx.io",
        ("{name}-bootstrap-api-key", "{name}-node-cookie"),
        ("{name}-configs",),
    ),
    # Talos: a ServiceAccount of talos.dev makes a Secret of its own name (talosconfig).
    ProducerRule("ServiceAccount", "talos.dev", ("{name}",)),
    # kanidm-provision: ConfigMaps labelled kanidm_config=1 list OAuth2 clients in
    # *.json data (systems.oauth2.<client>); for each confidential client with a
    # `k8s` block it writes Secret kanidm-<client>-oidc, in data.targetNamespace
    # when the ConfigMap names one, else beside the ConfigMap.
    ProducerRule(
        "ConfigMap",
        "",
        when="metadata.labels.kanidm_config=1",
        names_from=lambda doc: kanidm_oidc_secrets(doc),
        lands=lambda repo, doc: _data_namespace(doc, "targetNamespace"),
    ),
)

_BOOTSTRAP_DIR = re.compile(r"(^|/)bootstrap/")
_BOOTSTRAP_TEXT = (".tmpl", ".j2", ".gotmpl", ".tpl")
_MAX_TEXT = 1 << 20
_KIND_SECRET = re.compile(r"^\s*kind:\s*[\"']?Secret[\"']?\s*$", re.MULTILINE)
_NAME = re.compile(r"^(?P<indent>\s+)(?P<key>name|namespace):\s*[\"']?(?P<value>[^\s\"'#]+)")
_CREATE = re.compile(
    r"create\s+secret\s+(?:generic|tls|docker-registry)\s+(?P<name>[a-z0-9][a-z0-9.-]*)"
    r"(?P<rest>[^\n]*)"
)
_NS_FLAG = re.compile(r"(?:-n|--namespace)[\s=]+(?P<ns>[a-z0-9][a-z0-9-]*)")
_PLAIN_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


def producer_rules(repo: Repo, extra: Iterable[str] = ()) -> tuple[ProducerRule, ...]:
    """The built-in table, the plugins' rules, then ``extra`` (``Kind[.group]: template``)."""
    parsed = tuple(r for t in extra if (r := ProducerRule.parse(t)))
    return PRODUCERS + tuple(repo.settings.secret_producers) + parsed


def secret_producers(repo: Repo, generated_templates: Iterable[str] = ()) -> list[SecretProducer]:
    """Every Secret something in the repository creates.

    Secret manifests (SOPS-encrypted or not, ServiceAccount tokens included),
    secretGenerators, InfisicalSecret managed Secrets, ExternalSecret targets,
    the operators' objects of :data:`PRODUCERS` and of the plugins' rules, objects
    matching ``generated_templates`` (``Kind[.group]: {name}-app``), and the
    Secrets bootstrap creates before Flux runs (:func:`bootstrap_producers`).
    Only deployed files produce (``Repo.is_deployed``); a namespaced producer
    with no namespace of its own lives where its Kustomization puts it, and
    nowhere when nothing does.  Computed once per repository and set of templates.

    :param repo: the loaded repository.
    :param generated_templates: more operator objects that create a Secret.
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
    producers: NameIndex[SecretProducer],
    names: tuple[str, ...],
    where: Namespaces,
    cluster: str | None = None,
) -> bool:
    """Whether a Secret called one of ``names`` is created in one of ``where``, in ``cluster``.

    A producer counts only in the cluster whose desired state holds it (one
    cluster's Secret does not exist in another); one of no cluster (bootstrap)
    counts in all, and a ``cluster`` of None accepts every producer.
    """
    return any(True for _ in producers_of(producers, names, where, cluster))


def producers_of(
    producers: NameIndex[SecretProducer],
    names: tuple[str, ...],
    where: Namespaces,
    cluster: str | None = None,
) -> Iterator[SecretProducer]:
    """The producers :func:`is_produced` accepts, in index order."""
    plain = _plain_names(where)
    candidates = (
        producers.matching(names) if plain is None else _placed(producers, names).among(plain)
    )
    for p in candidates:
        if cluster is not None and p.cluster is not None and p.cluster != cluster:
            continue
        if namespaces_meet(where, p.namespaces):
            yield p


class _Placed:
    """The producers matching some names, by the namespaces free of variables they land in.

    A name every namespace creates (``cluster-secrets``) has a producer per namespace;
    asking for one namespace then looks at that namespace's producers and the ones
    whose namespaces are unknown or hold variables, not at all of them (which grew
    with the square of the namespaces).
    """

    def __init__(self, matching: list[SecretProducer]) -> None:
        self._matching = matching
        self._by_namespace: dict[str, list[int]] = {}
        self._loose: list[int] = []  # unknown or variable namespaces: always asked
        for number, p in enumerate(matching):
            plain = _plain_names(p.namespaces)
            if plain is None:
                self._loose.append(number)
            for namespace in plain or ():
                self._by_namespace.setdefault(namespace, []).append(number)

    def among(self, namespaces: frozenset[str]) -> list[SecretProducer]:
        """The candidates for ``namespaces``, in the order :meth:`NameIndex.matching` gives."""
        numbers = set(self._loose)
        for namespace in namespaces:
            numbers.update(self._by_namespace.get(namespace, ()))
        return [self._matching[n] for n in sorted(numbers)]


def _placed(producers: NameIndex[SecretProducer], names: tuple[str, ...]) -> _Placed:
    key = ("placed", names)
    found = producers.memo.get(key)
    if not isinstance(found, _Placed):
        found = producers.memo[key] = _Placed(producers.matching(names))
    return found


def created_by_kind(repo: Repo) -> Mapping[str, NameIndex[SecretProducer]]:
    """The ConfigMaps and Secrets the clusters create, by kind, found by name (shared)."""
    return repo.derived(_created_by_kind)


def _created_by_kind(repo: Repo) -> dict[str, NameIndex[SecretProducer]]:
    return {
        "ConfigMap": producer_index(created_config_maps(repo)),
        "Secret": producer_index(secret_producers(repo)),
    }


def reference_problem(
    producers: NameIndex[SecretProducer], name: str, where: Namespaces, cluster: str | None
) -> str | None:
    """What is wrong with a reference to an object by its exact name, if anything.

    ``"missing"``: nothing of that name in ``where`` in ``cluster``; ``"hashed"``:
    only a generator whose name kustomize suffixes with a hash, which the reference
    does not carry (no nameReference rewrote it); None: it resolves (or holds a
    variable left unresolved, which matches anything).
    """
    made = list(producers_of(producers, (name,), where, cluster))
    if not made:
        return "missing"
    if "${" not in name and all(p.hashed and p.names[0] != name for p in made):
        return "hashed"
    return None


def generated_secrets(
    repo: Repo, templates: Iterable[str] = ()
) -> tuple[tuple[DocumentRef, str], ...]:
    """``(object, Secret name)`` for every operator object that creates a Secret.

    The rules are :func:`producer_rules` (the table, the plugins', ``templates``);
    the name is rendered against the object, before Flux substitution; objects
    whose template does not render are left out.
    """
    return repo.derived(_generated, tuple(templates), "Secret")


def _generated(
    repo: Repo, templates: tuple[str, ...], kind: str
) -> tuple[tuple[DocumentRef, str], ...]:
    rules = producer_rules(repo, templates)
    kinds = {r.kind for r in rules}
    out: list[tuple[DocumentRef, str]] = []
    for doc in repo.documents:
        if doc.kind not in kinds:
            continue
        for rule in rules:
            if rule.applies(doc):
                out.extend((doc, name) for name in rule.names(doc, kind))
    return tuple(out)


def bootstrap_producers(repo: Repo) -> tuple[SecretProducer, ...]:
    """The Secrets created before Flux runs, read as text and never executed.

    Secret manifests under a ``bootstrap/`` folder; ``kind: Secret`` documents
    and ``kubectl create secret`` lines in templates (``*.tmpl``, ``*.j2``,
    ``*.gotmpl``, helmfile values) and other files of ``bootstrap/``; and the
    ``bootstrap-secrets`` configuration (``name`` or ``namespace/name``).  A
    name holding a template (``{{ }}``) is left out; one without a namespace
    matches every namespace (bootstrap applies it where its tool points).
    """
    return repo.derived(_bootstrap_producers)


def _bootstrap_producers(repo: Repo) -> tuple[SecretProducer, ...]:
    out: list[SecretProducer] = []
    for entry in repo.settings.bootstrap_secrets:
        space, _, name = entry.rpartition("/")
        out.append(SecretProducer((name,), (space or None,), "bootstrap-secrets"))
    for secret in repo.secrets:
        if _BOOTSTRAP_DIR.search(secret.doc.path) and not repo.is_deployed(secret.doc.path):
            where = placed(repo, secret.doc, secret.namespace) or (None,)
            out.append(SecretProducer((secret.name,), where, f"bootstrap {secret.doc.path}"))
    for skipped in repo.skipped:
        path = skipped.path
        if not (_BOOTSTRAP_DIR.search(path) or path.endswith(_BOOTSTRAP_TEXT)):
            continue
        for found, namespace in _secrets_in_text(_read_text(repo.root / path)):
            out.append(SecretProducer((found,), (namespace,), f"bootstrap {path}"))
    return tuple(out)


def _read_text(path: Any) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read(_MAX_TEXT).decode("utf-8", "replace")
    except OSError:
        return ""


def _secrets_in_text(text: str) -> Iterator[tuple[str, str | None]]:
    """``(name, namespace)`` of the Secrets a bootstrap file declares, as text."""
    for document in re.split(r"^---", text, flags=re.MULTILINE):
        if not _KIND_SECRET.search(document):
            continue
        name = namespace = None
        in_metadata = False
        for line in document.splitlines():
            if re.match(r"^metadata:\s*$", line):
                in_metadata = True
                continue
            if in_metadata and line and not line[0].isspace():
                in_metadata = False
            match = _NAME.match(line) if in_metadata else None
            if match and match["key"] == "name" and name is None:
                name = match["value"]
            elif match and match["key"] == "namespace" and namespace is None:
                namespace = match["value"]
        if name and _PLAIN_NAME.match(name):
            yield name, namespace if namespace and _PLAIN_NAME.match(namespace) else None
    for match in _CREATE.finditer(text):
        ns = _NS_FLAG.search(match["rest"])
        yield match["name"], ns["ns"] if ns else None


def _secret_producers(repo: Repo, templates: tuple[str, ...]) -> tuple[SecretProducer, ...]:
    return repo.derived(_created, templates)["Secret"]


def created_config_maps(repo: Repo) -> tuple[SecretProducer, ...]:
    """Every ConfigMap the clusters apply: manifests, generators, operators' objects.

    Read from each cluster's desired state (:mod:`homelab_kit.model.applied`); a
    generated ConfigMap is found by its name with and without kustomize's hash
    suffix (``hashed``).
    """
    return repo.derived(_created_config_maps)


def _created_config_maps(repo: Repo) -> tuple[SecretProducer, ...]:
    return repo.derived(_created, ())["ConfigMap"]


def _created(repo: Repo, templates: tuple[str, ...]) -> dict[str, tuple[SecretProducer, ...]]:
    """The Secrets (bootstrap's first) and the ConfigMaps the clusters create, in one
    pass over the objects that can create either (of the rules' kinds and these)."""
    rules: dict[str, list[ProducerRule]] = {}  # by kind, in the table's order
    for rule in producer_rules(repo, templates):
        rules.setdefault(rule.kind, []).append(rule)
    out: dict[str, list[SecretProducer]] = {"Secret": list(bootstrap_producers(repo))}
    out["ConfigMap"] = []
    # With lint's cache, what each built object creates is kept by its name (its
    # cluster and Flux Kustomization included); the rules are the plugins' (part of
    # every table's key) and ``templates`` (this table's).
    kept = kept_per_object(repo, f"homelab-kit/model/producers{templates!r}")
    for doc in applied_of_kinds(repo, rules.keys() | _CREATING_KINDS):
        own = rules.get(doc.kind, ())
        made: tuple[tuple[SecretProducer, ...], ...] | None = None
        if kept is not None and _keepable(doc, own):
            made = kept.get(doc, functools.partial(_made_by, repo, doc, own))
        for found, produced in zip(out.values(), made or _made_by(repo, doc, own), strict=True):
            found.extend(produced)
    return {kind: (*found, *_unbuilt_generators(repo, kind)) for kind, found in out.items()}


def _made_by(
    repo: Repo, doc: AppliedDocument, rules: Sequence[ProducerRule]
) -> tuple[tuple[SecretProducer, ...], ...]:
    """The Secrets, then the ConfigMaps, ``doc`` creates (:func:`_produced_by`)."""
    return tuple(tuple(_produced_by(repo, doc, kind, rules)) for kind in ("Secret", "ConfigMap"))


def _keepable(doc: AppliedDocument, rules: Sequence[ProducerRule]) -> bool:
    """Whether what ``doc`` creates depends on it alone (its provenance included): not
    a document read as written (it lands where the kustomizations above it say), nor
    one a rule places by reading the repository (``lands``, a cluster-wide object)."""
    if doc.as_written:
        return False
    return not any(r.lands is not None or r.cluster_wide for r in rules if r.applies(doc))


_GENERATOR = {"Secret": "secretGenerator", "ConfigMap": "configMapGenerator"}
# The kinds that create a Secret or ConfigMap besides the producer rules' (see _produced_by).
_CREATING_KINDS = frozenset(("Secret", "ConfigMap", "InfisicalSecret", "ExternalSecret"))
_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_HASH = re.compile(r"[a-z0-9]{10}")


def _produced_by(
    repo: Repo, doc: AppliedDocument, kind: str, rules: Sequence[ProducerRule]
) -> Iterator[SecretProducer]:
    """The ``kind`` objects ``doc`` creates: itself, its managed Secrets, an operator's.

    ``rules``: the producer rules of ``doc``'s kind.
    """
    cluster, applied_by = doc.cluster, doc.applied_by
    if doc.kind == kind and doc.group == "" and doc.name:
        generator = _generator_of(repo, doc)
        names, hashed = _names(doc, generator)
        yield SecretProducer(
            names,
            _landed(repo, doc),
            f"{kind} {doc.name}",
            doc.path,
            cluster,
            hashed,
            _keys(doc, generator),
            applied_by,
            doc.index,
        )
    elif kind == "Secret" and doc.group == INFISICAL_GROUP and doc.kind == "InfisicalSecret":
        infisical = infisical_of(repo, doc)
        for managed in infisical.managed_secrets:
            if not managed.name:
                continue
            where = (managed.namespace,) if managed.namespace else _landed(repo, doc)
            by = f"InfisicalSecret {infisical.name}"
            yield SecretProducer(
                (managed.name,),
                where,
                by,
                doc.path,
                cluster,
                keys=managed.keys,
                applied_by=applied_by,
                index=doc.index,
            )
    elif kind == "Secret" and doc.group == EXTERNAL_SECRETS_GROUP and doc.kind == "ExternalSecret":
        external = ExternalSecret.from_doc(doc, None)
        by = f"ExternalSecret {external.name}"
        where = _landed(repo, doc)
        yield SecretProducer(
            (external.target_name,),
            where,
            by,
            doc.path,
            cluster,
            applied_by=applied_by,
            index=doc.index,
        )
    if rules:
        yield from _operator_producers(repo, doc, kind, rules)


def _keys(doc: AppliedDocument, generator: Generator | None) -> tuple[str, ...] | None:
    """The key names of a ConfigMap or Secret (made by ``generator``, if one made it);
    None for one generated from env files."""
    if generator is not None:
        return None if generator.envs else (*generator.literal_keys, *generator.file_keys)
    fields = ("data", "binaryData") if doc.kind == "ConfigMap" else ("data", "stringData")
    return tuple(str(k) for f in fields for k in doc.map_at(f))


def _generator_of(repo: Repo, doc: AppliedDocument) -> Generator | None:
    """The generator a built object came from (by name, with or without its hash)."""
    if doc.written is not None or posixpath.basename(doc.path) not in _KUSTOMIZATION_FILES:
        return None
    kfile = repo.kustomize_file(posixpath.dirname(doc.path))
    name = doc.name
    for gen in kfile.generators if kfile is not None else ():
        if gen.kind == doc.kind and (
            name == gen.name
            or (name.startswith(gen.name + "-") and _HASH.fullmatch(name[len(gen.name) + 1 :]))
        ):
            return gen
    return None


def applied_names(repo: Repo, doc: AppliedDocument) -> tuple[tuple[str, ...], bool]:
    """An object's name; for one a generator made with a hash suffix, its name without it."""
    return _names(doc, _generator_of(repo, doc))


def _names(doc: AppliedDocument, gen: Generator | None) -> tuple[tuple[str, ...], bool]:
    if gen is None or gen.disable_name_suffix_hash or doc.name == gen.name:
        return (doc.name,), False
    return (doc.name, gen.name), True


def _landed(repo: Repo, doc: AppliedDocument) -> Namespaces:
    """Where an object lands: as applied; the written stand-in where its Kustomization puts it.

    No namespace at all is no namespace (``()``): a producer that lands nowhere
    known matches no reader.
    """
    if not doc.as_written:
        return (doc.namespace,) if doc.namespace else ()
    written = doc.written if doc.written is not None else doc
    return placed(repo, written, written.namespace)


def _operator_producers(
    repo: Repo, doc: AppliedDocument, kind: str, rules: Sequence[ProducerRule]
) -> Iterator[SecretProducer]:
    names: list[str] = []
    for rule in rules:
        if rule.applies(doc):
            names.extend(rule.names(doc, kind))
    if not names:
        return
    lands = landing_namespaces(repo, doc)
    where = _landed(repo, doc) if lands is None else lands
    by = f"{doc.kind} {doc.name}"
    for name in dict.fromkeys(names):
        yield SecretProducer(
            (name,), where, by, doc.path, doc.cluster, applied_by=doc.applied_by, index=doc.index
        )


def _unbuilt_generators(repo: Repo, kind: str) -> Iterator[SecretProducer]:
    """Generators of deployed kustomization files that no cluster's build produced."""
    built = repo.derived(_built_paths)
    for kfile, gen in repo.generators():
        if gen.kind != kind or kfile.path in built or not repo.is_deployed(kfile.path):
            continue
        where: Namespaces = (
            (gen.namespace,) if gen.namespace else tuple(repo.all_namespaces_of_file(kfile.path))
        )
        keys = None if gen.envs else (*gen.literal_keys, *gen.file_keys)
        by = f"{_GENERATOR[kind]} {gen.name}"
        hashed = not gen.disable_name_suffix_hash
        yield SecretProducer((gen.name,), where, by, kfile.path, hashed=hashed, keys=keys)


def _built_paths(repo: Repo) -> frozenset[str]:
    return frozenset(d.path for d in applied_documents(repo) if not d.as_written)


def landing_namespaces(repo: Repo, doc: DocumentRef) -> Namespaces | None:
    """Where the Secrets an operator object of the table creates land, if not beside it.

    ``None``: beside the object (where it is deployed).  Otherwise the namespaces,
    after Flux substitution; ``None`` among them is unknown (matches any): a
    cluster-wide object with no ``lands`` rule, or a selector that cannot be
    evaluated from the repository.

    :param repo: the loaded repository.
    :param doc: an object one of :func:`producer_rules` applies to.
    """
    for rule in producer_rules(repo):
        if not rule.applies(doc):
            continue
        if rule.lands is not None:
            lands = rule.lands(repo, doc)
            if lands is not None:
                if isinstance(doc, AppliedDocument) and not doc.as_written:
                    return tuple(ns or None for ns in lands)  # substituted already
                return tuple(
                    out for ns in lands for out in (repo.expand(doc.path, ns) if ns else (None,))
                )
        if rule.cluster_wide and not doc.namespace:
            return (None,)  # fills many namespaces, which is not known
    return None


def _data_namespace(doc: DocumentRef, key: str) -> Namespaces | None:
    value = doc.get("data", key)  # Flux variables are substituted by landing_namespaces
    return (value.strip(),) if isinstance(value, str) and value.strip() else None


def kanidm_oidc_secrets(doc: DocumentRef) -> tuple[str, ...]:
    """``kanidm-<client>-oidc`` for each confidential OAuth2 client with a ``k8s`` block.

    The clients are ``systems.oauth2`` of the ConfigMap's ``*.json`` values, parsed as
    JSON (never executed); a client marked ``public`` or not ``present`` has no secret.
    """
    data = doc.get("data")
    if not isinstance(data, Mapping):
        return ()
    out: list[str] = []
    for key, value in data.items():
        if not (isinstance(key, str) and key.endswith(".json") and isinstance(value, str)):
            continue
        try:
            state = json.loads(value[:_MAX_TEXT])
        except ValueError:
            continue
        systems = state.get("systems") if isinstance(state, Mapping) else None
        clients = systems.get("oauth2") if isinstance(systems, Mapping) else None
        if not isinstance(clients, Mapping):
            continue
        for client, config in clients.items():
            if (
                isinstance(config, Mapping)
                and isinstance(config.get("k8s"), Mapping)
                and config.get("public") is not True
                and config.get("present") is not False
                and _PLAIN_NAME.match(f"kanidm-{client}-oidc")
            ):
                out.append(f"kanidm-{client}-oidc")
    return tuple(dict.fromkeys(out))


_NAME_LABEL = "kubernetes.io/metadata.name"


def cluster_external_secret_namespaces(repo: Repo, doc: DocumentRef) -> Namespaces:
    """The namespaces a ClusterExternalSecret creates its Secret in.

    ``spec.namespaces``, plus those ``spec.namespaceSelectors`` (and the older
    ``spec.namespaceSelector``) select.  A selector on ``kubernetes.io/metadata.name``
    (``In``, ``matchLabels``) names them; one on other labels selects among the
    repository's deployed Namespace manifests, and is unknown (``None``: any) when it
    selects none of them, since labels may be set outside the repository; so is an
    empty selector, one only excluding, or a ClusterExternalSecret with neither field.
    """
    spec = doc.get("spec")
    if not isinstance(spec, Mapping):
        return (None,)
    out: list[str | None] = []
    listed = spec.get("namespaces")
    if isinstance(listed, list):
        out.extend(ns for ns in listed if isinstance(ns, str) and ns)
    selectors = spec.get("namespaceSelectors")
    selectors = list(selectors) if isinstance(selectors, list) else []
    if isinstance(spec.get("namespaceSelector"), Mapping):
        selectors.append(spec["namespaceSelector"])
    if not selectors and not isinstance(listed, list):
        return (None,)
    for selector in selectors:
        out.extend(_selected_namespaces(repo, selector))
    return tuple(dict.fromkeys(out))


def _selected_namespaces(repo: Repo, selector: Any) -> Namespaces:
    """The namespaces a label selector picks, or ``(None,)`` when that is not known."""
    requirements = _requirements(selector)
    if requirements is None or not requirements:
        return (None,)  # unreadable, or empty: every namespace
    by_name = [r for r in requirements if r[0] == _NAME_LABEL and r[1] == "In"]
    if by_name and len(by_name) == len(requirements):
        names = set.intersection(*(set(values) for _, _, values in by_name))
        return tuple(sorted(names))
    if not any(op in ("In", "Exists") for _, op, _ in requirements):
        return (None,)  # only exclusions: namespaces outside the repository match too
    declared = _declared_namespaces(repo)
    chosen = tuple(
        name
        for name, labels in sorted(declared.items())
        if all(_meets(labels, requirement) for requirement in requirements)
    )
    return chosen or (None,)


def _requirements(selector: Any) -> list[tuple[str, str, tuple[str, ...]]] | None:
    """``(key, operator, values)`` of a LabelSelector; None when it is not one."""
    if not isinstance(selector, Mapping):
        return None
    out: list[tuple[str, str, tuple[str, ...]]] = []
    labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(labels, Mapping) or not isinstance(expressions, list):
        return None
    for key, value in labels.items():
        out.append((str(key), "In", (str(value),)))
    for expression in expressions:
        if not isinstance(expression, Mapping):
            return None
        values = expression.get("values") or []
        operator = expression.get("operator")
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return None
        out.append((str(expression.get("key")), operator, tuple(str(v) for v in values)))
    return out


def _meets(labels: Mapping[str, str], requirement: tuple[str, str, tuple[str, ...]]) -> bool:
    key, operator, values = requirement
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    return key not in labels


def _declared_namespaces(repo: Repo) -> dict[str, dict[str, str]]:
    """The deployed Namespace manifests: name -> labels (with the name label)."""
    out: dict[str, dict[str, str]] = {}
    for doc in repo.documents:
        if doc.kind != "Namespace" or doc.group != "" or not repo.is_deployed(doc.path):
            continue
        labels = doc.get("metadata", "labels")
        found = {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}
        found[_NAME_LABEL] = doc.name
        out[doc.name] = found
    return out


def placed(repo: Repo, doc: DocumentRef, written: str | None) -> Namespaces:
    """Where a deployed object lands: its Kustomization's namespace, else as written.

    Unlike :func:`object_namespaces`, no namespace at all is no namespace (``()``):
    a producer that lands nowhere known matches no reader.
    """
    landed = repo.all_namespaces_of_file(doc.path) or kustomize_namespace(repo, doc.path)
    if landed:
        return tuple(landed)
    if written:
        return repo.expand(doc.path, written)
    return ()


def kustomize_namespace(repo: Repo, path: str) -> tuple[str, ...]:
    """The ``namespace:`` of the nearest kustomization.yaml above ``path`` that sets one.

    For files no Flux Kustomization reaches (bootstrap's ``kubectl apply -k``
    folders): kustomize puts everything below it in that namespace.
    """
    directory = posixpath.dirname(path)
    while True:
        kfile = repo.kustomize_file(directory)
        if kfile is not None and kfile.namespace:
            return (kfile.namespace,)
        if not directory:
            return ()
        directory = posixpath.dirname(directory)


def applied_of_kinds(repo: Repo, kinds: Iterable[str]) -> list[AppliedDocument]:
    """The applied documents (:func:`applied_documents`) of ``kinds``, in their order.

    For readers of a few kinds: found by kind, not by asking every object its own.
    """
    by_kind = repo.derived(_applied_by_kind)
    wanted = set(kinds)
    numbers = [n for kind in wanted for n in by_kind.get(kind, ())]
    if len(wanted) > 1:
        numbers.sort()
    documents = applied_documents(repo)
    return [documents[n] for n in numbers]


def _applied_by_kind(repo: Repo) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for number, doc in enumerate(applied_documents(repo)):
        out.setdefault(doc.kind, []).append(number)
    return out


def applied_infisical_secrets(repo: Repo) -> tuple[tuple[AppliedDocument, InfisicalSecret], ...]:
    """Every InfisicalSecret as a cluster applies it (see :func:`applied_documents`).

    Read once per repository for every reader (shared: read-only).
    """
    return repo.derived(_applied_infisical_secrets)


def _applied_infisical_secrets(repo: Repo) -> tuple[tuple[AppliedDocument, InfisicalSecret], ...]:
    return tuple(
        (doc, InfisicalSecret.from_doc(doc, None))
        for doc in applied_of_kinds(repo, ("InfisicalSecret",))
        if doc.group == INFISICAL_GROUP
    )


def infisical_of(repo: Repo, doc: AppliedDocument) -> InfisicalSecret:
    """The InfisicalSecret ``doc`` holds, read once (:func:`applied_infisical_secrets`)."""
    found = repo.derived(_infisical_by_document).get(id(doc))
    if found is not None and found[0] is doc:
        return found[1]
    return InfisicalSecret.from_doc(doc, None)


def _infisical_by_document(
    repo: Repo,
) -> dict[int, tuple[AppliedDocument, InfisicalSecret]]:
    # By identity: the applied documents live as long as the repository.
    return {id(doc): (doc, infisical) for doc, infisical in applied_infisical_secrets(repo)}


# ------------------------------------------------------------------------ readers


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
    return RELEASE_NAME.sub(release, name)
