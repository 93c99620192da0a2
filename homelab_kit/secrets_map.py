"""The secrets map: per namespace, who creates each Secret, from where, and who reads it.

For every namespace the map lists each producer (an ``InfisicalSecret``, an
``ExternalSecret``, a SOPS-encrypted or plain ``Secret``, a kustomize
``secretGenerator``, or an operator object such as a cert-manager
``Certificate``), the source its values come from (the Infisical project,
environment and path; the external store and keys; the file), the ``Secret`` it
creates, and the apps that read it and how (``envFrom``, a key reference, chart
values, Flux substitution, a volume, ...).

It flags **missing producers** (a Secret an app reads that nothing creates),
**unused secrets** (created, read by nothing) and **over-broad scopes** (an
InfisicalSecret reading the project root ``/`` or a folder recursively, an
ExternalSecret ``dataFrom.find`` with no filter).

**Exposure.**  Pods can mount any Secret of their namespace, so what limits
exposure is what each Secret holds and who reads it.  The conventions' pattern
(one app-scoped ``InfisicalSecret`` per app in the namespace's ``secrets``
folder) gives each app exactly its own secrets.  The map counts *app-secret
pairs*, the app scopes each app receives:

* a Secret's **breadth** is how many apps' secrets it holds: 1 for an app-scoped
  one; for an InfisicalSecret reading ``/``, every scope of its Infisical
  project (at least the namespace's apps); for a recursive one, its folder and
  every known folder below;
* its **exposure** is (apps reading it) x breadth, and its **least privilege**
  the apps reading it (each receiving only its own scope);
* a namespace's **shared** figure is what one namespace-wide Secret holding
  every scope, read by every app, would expose: apps x secrets.  The reduction
  ``1 - exposure / shared`` is the figure the conventions quote (87% for a
  namespace of eight apps: ``1 - 8/64``).

Only names, keys and paths are read: no secret value is ever looked at, stored
or printed.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from homelab_kit.location import Location
from homelab_kit.model.applied import AppliedDocument, applied_documents
from homelab_kit.model.base import DocumentRef
from homelab_kit.model.clusters import Cluster
from homelab_kit.model.flux import KUSTOMIZE_GROUP, SOURCE_GROUP
from homelab_kit.model.repo import Repo
from homelab_kit.model.secret_index import (
    SecretProducer,
    bootstrap_producers,
    generated_secrets,
    secret_producers,
)
from homelab_kit.model.secret_readers import reader_namespaces, secret_readers
from homelab_kit.model.secrets import is_sops_document
from homelab_kit.model.substitute import has_variables, names_match, substitute
from homelab_kit.report._style import one_line

NO_NAMESPACE = "(no namespace)"
JSON_VERSION = 1

MISSING_PRODUCER = "missing-producer"
UNUSED_SECRET = "unused-secret"
OVER_BROAD_SCOPE = "over-broad-scope"

USAGE = {
    "envFrom": "envFrom",
    "secretKeyRef": "key reference",
    "valuesFrom": "values",
    "existingSecret": "values",
    "substituteFrom": "substitution",
    "volume": "volume",
    "projected": "volume",
    "imagePullSecrets": "image pull",
    "credentialsRef": "credentials",
    "decryption": "decryption",
    "sourceRef": "source credentials",
    "reference": "reference",
}

# Created before anything in the repository runs (see secrets-consumed-secret-exists).
EXTERNAL = ("sops-age", "universal-auth-credentials", "infisical-credentials")
READ_IMPLICITLY = ("rook-ceph-dashboard-password",)

# Reads by a controller (Flux, the Infisical operator), not by an app's pods.
CONTROLLER_READS = frozenset({"credentialsRef", "decryption", "sourceRef"})

_TOKEN = re.compile(r"[\s,;\"'`()\[\]]+")
_SOURCE_KINDS = ("GitRepository", "OCIRepository", "HelmRepository")
_SOURCE_REFS: tuple[tuple[str, ...], ...] = (
    ("spec", "secretRef"),
    ("spec", "certSecretRef"),
    ("spec", "proxySecretRef"),
    ("spec", "verify", "secretRef"),
)


@attrs.frozen
class Producer:
    """What creates a Secret, and where its values come from.

    ``kind`` is ``InfisicalSecret``, ``ExternalSecret``, ``SOPS Secret``,
    ``Secret``, ``secretGenerator`` or an operator's kind; ``source`` names the
    origin of the values (``homelab/prod:/sonarr``, a store and its keys, a file);
    ``scope`` is ``app``, ``root`` (the whole project), ``recursive``, ``file``
    or ``generated``; ``keys`` the key names when the manifest shows them;
    ``scope_location`` where the scope is written (``secretsScope.secretsPath``).
    """

    kind: str
    name: str
    source: str
    scope: str
    location: Location
    app: str | None = None
    keys: tuple[str, ...] | None = None
    scope_location: Location | None = None

    @property
    def over_broad(self) -> bool:
        """Reads more than one app's folder."""
        return self.scope in ("root", "recursive")


@attrs.frozen
class Reader:
    """One place that reads a Secret: the app, the object, how, and where."""

    app: str | None
    consumer: str
    how: str
    optional: bool
    location: Location

    @property
    def usage(self) -> str:
        """How, in words: ``envFrom``, ``key reference``, ``values``, ``substitution``..."""
        return USAGE.get(self.how, self.how)


@attrs.frozen
class MappedSecret:
    """A Secret of one namespace: its producers, readers, exposure and flags.

    ``apps_in_namespace`` counts the apps that could mount it (every app of the
    namespace); ``breadth`` how many apps' secrets it holds; ``external`` marks a
    Secret the configuration says is created outside the repository.
    """

    name: str
    namespace: str
    producers: tuple[Producer, ...]
    readers: tuple[Reader, ...]
    apps_in_namespace: int
    breadth: int
    external: bool = False
    flags: tuple[str, ...] = ()

    @property
    def reader_apps(self) -> tuple[str, ...]:
        """The distinct apps (``namespace/app``) whose objects read it.

        Reads by a controller (an InfisicalSecret's credentials, Flux decryption
        and source credentials) are not an app's and do not count.
        """
        return tuple(
            dict.fromkeys(r.app for r in self.readers if r.app and r.how not in CONTROLLER_READS)
        )

    @property
    def counted(self) -> bool:
        """Counted in the exposure figures: created in the repository, not bootstrap."""
        return bool(self.producers) and not self.external

    @property
    def exposure(self) -> int:
        """App-secret pairs it exposes: apps reading it x its breadth."""
        return len(self.reader_apps) * self.breadth

    @property
    def least_privilege(self) -> int:
        """What the app-scoped pattern would expose: one scope per reading app."""
        return len(self.reader_apps)


@attrs.frozen
class SecretFinding:
    """A problem the map found: ``kind`` is one of the three flags."""

    kind: str
    namespace: str
    secret: str
    message: str
    location: Location


@attrs.frozen
class NamespaceSecrets:
    """One namespace: its apps, its Secrets, and the exposure figures."""

    namespace: str
    apps: tuple[str, ...]
    secrets: tuple[MappedSecret, ...]

    @property
    def produced(self) -> tuple[MappedSecret, ...]:
        """The Secrets the exposure figures count (:attr:`MappedSecret.counted`)."""
        return tuple(s for s in self.secrets if s.counted)

    @property
    def exposure(self) -> int:
        """App-secret pairs the namespace's Secrets expose."""
        return sum(s.exposure for s in self.produced)

    @property
    def least_privilege(self) -> int:
        """What the namespace-level, app-scoped pattern would expose."""
        return sum(s.least_privilege for s in self.produced)

    @property
    def shared(self) -> int:
        """One namespace-wide Secret with every scope, read by every app."""
        return len(self.apps) * len(self.produced)

    @property
    def reduction(self) -> float | None:
        """``1 - exposure / shared``, or None when there is nothing to compare."""
        if not self.shared:
            return None
        return 1 - self.exposure / self.shared


@attrs.frozen
class SecretsMap:
    """Every namespace with a Secret, and the findings.

    ``cluster`` names the repository's cluster the map was built for, None for the
    whole repository.
    """

    namespaces: tuple[NamespaceSecrets, ...]
    findings: tuple[SecretFinding, ...]
    cluster: str | None = None

    @property
    def exposure(self) -> int:
        """Exposure over all namespaces."""
        return sum(ns.exposure for ns in self.namespaces)

    @property
    def least_privilege(self) -> int:
        """Least privilege over all namespaces."""
        return sum(ns.least_privilege for ns in self.namespaces)

    @property
    def shared(self) -> int:
        """The shared baseline over all namespaces."""
        return sum(ns.shared for ns in self.namespaces)

    @property
    def reduction(self) -> float | None:
        """The overall reduction against the shared baseline."""
        return 1 - self.exposure / self.shared if self.shared else None

    def namespace(self, name: str) -> NamespaceSecrets | None:
        """The entry of namespace ``name``."""
        return next((ns for ns in self.namespaces if ns.namespace == name), None)


# ------------------------------------------------------------------- building


@attrs.define(eq=False)
class _Entry:
    name: str
    namespace: str | None
    producers: list[Producer] = attrs.field(factory=list)
    readers: list[Reader] = attrs.field(factory=list)
    breadth: int = 1
    docs: set[tuple[str, int]] = attrs.field(factory=set)


def build_secrets_map(
    repo: Repo,
    *,
    external: Sequence[str] = EXTERNAL,
    generated: Sequence[str] = (),
    read_implicitly: Sequence[str] = READ_IMPLICITLY,
    cluster: Cluster | None = None,
) -> SecretsMap:
    """Map every Secret of ``repo`` from producer to readers, with flags and exposure.

    :param repo: the loaded repository.
    :param cluster: only this cluster (one of ``repo.clusters``): its producers,
        readers and apps, and those of files no cluster applies (bootstrap), so a
        Secret one cluster creates never satisfies a reader of another.
    :param external: name globs of Secrets created outside the repository (never
        flagged as missing).
    :param generated: operator objects that create a Secret besides the producer
        table (``secret_index.PRODUCERS`` and the plugins' rules), as
        ``Kind[.group]: name-template`` (``{name}``, ``{spec.field}``).
    :param read_implicitly: name globs of Secrets operators read by a fixed name.
    :returns: the :class:`SecretsMap`.

    Example::

        smap = build_secrets_map(homelab_kit.load("."))
        print(smap.namespace("media").reduction)
    """
    return _Builder(repo, external, generated, read_implicitly, cluster).build()


class _Builder:
    def __init__(
        self,
        repo: Repo,
        external: Sequence[str],
        generated: Sequence[str],
        read_implicitly: Sequence[str],
        cluster: Cluster | None = None,
    ) -> None:
        self.repo = repo
        self.cluster = cluster
        self.kept: dict[str, bool] = {}
        self.external = tuple(external)
        self.generated = tuple(generated)
        self.read_implicitly = tuple(read_implicitly)
        self.entries: dict[tuple[str | None, str], _Entry] = {}
        self.by_name: dict[str, list[_Entry]] = {}
        self.variable_entries: list[_Entry] = []
        self.app_cache: dict[str, str | None] = {}
        self.findings: list[SecretFinding] = []
        self.made = self._made_here()
        self.apps: dict[str, set[str]] = {}
        for app in repo.apps if cluster is None else cluster.apps:
            if app.is_secrets:
                continue
            self.apps.setdefault(app.namespace, set()).add(app.name)
            for ks in app.kustomizations:
                if ks.target_namespace and not has_variables(ks.target_namespace):
                    self.apps.setdefault(ks.target_namespace, set()).add(app.name)

    # -------------------------------------------------------------- helpers

    def keep(self, path: str) -> bool:
        """Whether ``path`` is deployed in the map's cluster, or in no cluster (bootstrap).

        A file below a cluster's folders that nothing deploys (an app left out of
        its kustomization) is left out.
        """
        if path not in self.kept:
            repo = self.repo
            reached = [c for c in repo.clusters if c.reaches(path)]
            if not reached:
                self.kept[path] = True
            else:
                here = self.cluster is None or self.cluster in reached
                self.kept[path] = here and repo.is_deployed(path)
        return self.kept[path]

    def here(self, cluster: str | None) -> bool:
        """Whether what ``cluster`` applies belongs in the map (None: no build says)."""
        return cluster is None or self.cluster is None or cluster == self.cluster.name

    def _made_here(self) -> dict[tuple[str, int, str], list[SecretProducer]]:
        """The Secrets each written document creates in the map's cluster.

        Read from the desired state (:func:`secret_producers`): names after Flux
        substitution, namespaces as each cluster applies them; keyed by the
        declaring file, document index (-1: a generator) and, for a generator,
        its name.
        """
        out: dict[tuple[str, int, str], list[SecretProducer]] = {}
        for p in secret_producers(self.repo, self.generated):
            if not p.path or not self.here(p.cluster):
                continue  # bootstrap's are placed by manifests()
            key = (p.path, p.index, p.names[-1] if p.index < 0 else "")
            out.setdefault(key, []).append(p)
        return out

    def made_by(self, doc: DocumentRef, generator: str = "") -> list[SecretProducer]:
        """What the written ``doc`` (a kustomization's ``generator``) creates here."""
        return self.made.get((doc.path, -1 if generator else doc.index, generator), [])

    def pairs_of(self, made: Iterable[SecretProducer]) -> list[tuple[str, str | None]]:
        """``(name, namespace)`` of each Secret ``made``; one landing in no known
        namespace is filed under no namespace (``""``), matching no reader."""
        return [(p.names[-1], ns) for p in made for ns in (p.namespaces or ("",))]

    def app_of(self, path: str) -> str | None:
        if path not in self.app_cache:
            app = self.repo.app_of_file(path)
            self.app_cache[path] = f"{app.namespace}/{app.name}" if app else None
        return self.app_cache[path]

    def placements(
        self,
        path: str,
        name: str,
        *,
        override: str | None = None,
        doc_ns: str | None = None,
        fallback: str | None = None,
    ) -> list[tuple[str, str | None]]:
        """``(name, namespace)`` pairs a word written in ``path`` may name, once deployed.

        For :meth:`mentions` only, which reads words in the written text (producers
        and readers are read from the desired state).  A name with Flux variables
        is expanded once per Kustomization deploying the file, paired with the
        namespace that Kustomization puts it in; other names land in every
        namespace the file lands in.  ``override`` is a namespace the
        reference itself names (``secretNamespace``), ``doc_ns`` the object's own.
        """
        repo = self.repo
        if has_variables(name) or (override and has_variables(override)):
            pairs: list[tuple[str, str | None]] = []
            landed = repo.all_namespaces_of_file(path)
            for key in repo.deployed_by.get(path, ()):
                ks = repo.kustomization(*key)
                if ks is None:
                    continue
                variables = ks.substitute
                ns: str | None
                if override:
                    ns = substitute(override, variables)
                elif ks.target_namespace:
                    ns = substitute(ks.target_namespace, variables)
                elif len(landed) == 1:
                    ns = landed[0]
                elif doc_ns:
                    ns = substitute(doc_ns, variables)
                else:
                    ns = ks.namespace or fallback
                pairs.append((substitute(name, variables), ns))
            if pairs:
                return list(dict.fromkeys(pairs))
        names = repo.expand(path, name)
        spaces: tuple[str | None, ...]
        if override:
            spaces = repo.expand(path, override)
        else:
            landed = repo.all_namespaces_of_file(path)
            if landed:
                spaces = tuple(landed)
            elif doc_ns:
                spaces = repo.expand(path, doc_ns)
            else:
                spaces = (fallback,)
        return [(n, ns) for ns in dict.fromkeys(spaces) for n in names]

    def entry(self, namespace: str | None, name: str) -> _Entry:
        key = (namespace, name)
        found = self.entries.get(key)
        if found is None:
            found = self.entries[key] = _Entry(name, namespace)
            self.by_name.setdefault(name, []).append(found)
            if has_variables(name):
                self.variable_entries.append(found)
        return found

    def produce(
        self,
        pairs: Iterable[tuple[str, str | None]],
        producer: Producer,
        doc: DocumentRef,
        breadth: int = 1,
    ) -> None:
        if not self.keep(doc.path):
            return
        for name, ns in dict.fromkeys(pairs):
            if name:
                entry = self.entry(ns, name)
                entry.producers.append(producer)
                entry.docs.add((doc.path, doc.index))
                entry.breadth = max(entry.breadth, breadth)

    def matching(self, namespace: str | None, name: str) -> list[_Entry]:
        """The produced entries a reader of ``name`` in ``namespace`` finds."""
        pool = list(self.by_name.get(name, ()))
        if has_variables(name):
            pool += [e for n, es in self.by_name.items() if names_match(name, n) for e in es]
        else:
            pool += [e for e in self.variable_entries if names_match(name, e.name)]
        return [
            e
            for e in dict.fromkeys(pool)
            if e.producers and (namespace is None or e.namespace in (None, namespace))
        ]

    # ------------------------------------------------------------ producers

    def infisical(self) -> None:
        projects: dict[tuple[str | None, str | None], set[str]] = {}
        for inf in self.repo.infisical_secrets:
            path = (inf.secrets_path or "").strip()
            if path.strip("/"):
                projects.setdefault((inf.project_slug, inf.env_slug), set()).add(
                    "/" + path.strip("/")
                )
        for inf in self.repo.infisical_secrets:
            doc = inf.doc
            raw = (inf.secrets_path or "").strip()
            folder = "/" + raw.strip("/")
            scope = "root" if raw and folder == "/" else "recursive" if inf.recursive else "app"
            known = projects.get((inf.project_slug, inf.env_slug), set())
            base = ("spec", "authentication", inf.auth_method or "", "secretsScope")
            where = doc.location(*base, "secretsPath") if raw else doc.location(*base)
            origin = "/".join(p for p in (inf.project_slug, inf.env_slug) if p)
            source = f"{origin}:{raw}" if origin else raw or "(no secretsPath)"
            for made in self.made_by(doc):
                producer = Producer(
                    "InfisicalSecret",
                    inf.name,
                    source,
                    scope,
                    doc.location(),
                    self.app_of(doc.path),
                    made.keys,
                    where,
                )
                for pair in self.pairs_of([made]):
                    ns_apps = len(self.apps.get(pair[1] or "", ()))
                    if scope == "root":
                        breadth = max(len(known), ns_apps, 1)
                    elif scope == "recursive":
                        prefix = folder.rstrip("/") + "/"
                        breadth = 1 + sum(1 for k in known if k.startswith(prefix))
                    else:
                        breadth = 1
                    self.produce([pair], producer, doc, breadth)

    def external_secrets(self) -> None:
        for es in self.repo.external_secrets:
            doc = es.doc
            keys: list[str] = []
            for item in doc.list_at("spec", "data"):
                ref = item.get("remoteRef") if isinstance(item, Mapping) else None
                key = ref.get("key") if isinstance(ref, Mapping) else None
                if isinstance(key, str):
                    keys.append(key)
            broad = False
            for item in doc.list_at("spec", "dataFrom"):
                if not isinstance(item, Mapping):
                    continue
                extract = item.get("extract")
                if isinstance(extract, Mapping) and isinstance(extract.get("key"), str):
                    keys.append(extract["key"])
                find = item.get("find")
                if isinstance(find, Mapping):
                    name = find.get("name")
                    regexp = name.get("regexp") if isinstance(name, Mapping) else None
                    path = find.get("path")
                    if regexp in (None, "", ".*") and not path and not find.get("tags"):
                        broad = True
                    keys.append(f"find {path or regexp or '*'}")
            store = " ".join(p for p in (es.store_kind or "SecretStore", es.store_name) if p)
            source = f"{store}: {', '.join(dict.fromkeys(keys))}" if keys else store
            producer = Producer(
                "ExternalSecret",
                es.name,
                source,
                "root" if broad else "app",
                doc.location(),
                self.app_of(doc.path),
                scope_location=doc.location("spec", "dataFrom"),
            )
            for pair in self.pairs_of(self.made_by(doc)):
                breadth = max(len(self.apps.get(pair[1] or "", ())), 1) if broad else 1
                self.produce([pair], producer, doc, breadth)

    def manifests(self) -> None:
        boot: dict[str, list[SecretProducer]] = {}
        for p in bootstrap_producers(self.repo):
            boot.setdefault(p.by.removeprefix("bootstrap "), []).append(p)
        for secret in self.repo.secrets:
            doc = secret.doc
            producer = Producer(
                "SOPS Secret" if secret.sops else "Secret",
                secret.name,
                doc.path,
                "file",
                doc.location(),
                self.app_of(doc.path),
                secret.keys,
            )
            pairs = self.pairs_of(self.made_by(doc))
            if not pairs:  # created at bootstrap, before Flux runs (or nowhere)
                pairs = [
                    (secret.name, ns)
                    for p in boot.get(doc.path, ())
                    if p.names[0] == secret.name
                    for ns in p.namespaces
                ]
            self.produce(pairs, producer, doc)
        for kfile, gen in self.repo.generators():
            if gen.kind != "Secret":
                continue
            files = [e.value for e in (*gen.files, *gen.envs)]
            producer = Producer(
                "secretGenerator",
                gen.name,
                ", ".join(files) or kfile.path,
                "file",
                gen.source,
                self.app_of(kfile.path),
                tuple(gen.file_keys) + tuple(gen.literal_keys) or None,
            )
            self.produce(self.pairs_of(self.made_by(kfile.doc, gen.name)), producer, kfile.doc)

    def operators(self) -> None:
        seen: set[tuple[str, int]] = set()
        for doc, _name in generated_secrets(self.repo, self.generated):
            if (doc.path, doc.index) in seen:
                continue
            seen.add((doc.path, doc.index))
            producer = Producer(
                doc.kind,
                doc.name,
                f"generated by {doc.kind} {doc.name}",
                "generated",
                doc.location(),
                self.app_of(doc.path),
            )
            self.produce(self.pairs_of(self.made_by(doc)), producer, doc)

    # -------------------------------------------------------------- readers

    def readers(self) -> Iterator[tuple[list[tuple[str, str | None]], Reader]]:
        """Who reads each Secret, as the map's cluster applies it (:func:`secret_readers`),
        plus Flux's own reads: a Kustomization's decryption key, a source's credentials."""
        for r in secret_readers(self.repo):
            if not self.here(r.cluster) or (r.cluster is None and not self.keep(r.source.path)):
                continue  # another cluster's; a stand-in where no build says, if not here
            reader = Reader(self.app_of(r.source.path), r.consumer, r.how, r.optional, r.source)
            yield [(n, ns) for n in r.names for ns in r.namespaces], reader
        for doc in applied_documents(self.repo):
            if not self.here(doc.cluster) or (doc.cluster is None and not self.keep(doc.path)):
                continue
            group, kind = doc.group, doc.kind
            if group == KUSTOMIZE_GROUP and kind == "Kustomization":
                refs: tuple[tuple[str, ...], ...] = (("spec", "decryption", "secretRef"),)
                how = "decryption"
            elif group == SOURCE_GROUP and kind in _SOURCE_KINDS:
                refs, how = _SOURCE_REFS, "sourceRef"
            else:
                continue
            for ref in refs:
                yield from self._flux_read(doc, ref, how)

    def _flux_read(
        self, doc: AppliedDocument, ref: tuple[str, ...], how: str
    ) -> Iterator[tuple[list[tuple[str, str | None]], Reader]]:
        name = doc.str_at(*ref, "name")
        if not name:
            return
        where = doc.location(*ref, "name")
        reader = Reader(self.app_of(doc.path), f"{doc.kind} {doc.name}", how, False, where)
        yield [(name, ns) for ns in reader_namespaces(self.repo, doc)], reader

    def mentions(self, unread: Sequence[_Entry]) -> None:
        """Names written elsewhere (an Ingress's ``secretName``, an issuer's ref, ...)."""
        wanted: dict[str, list[_Entry]] = {}
        for entry in unread:
            wanted.setdefault(entry.name, []).append(entry)
        repo = self.repo
        docs = [*repo.documents, *repo.patch_documents, *(v.doc for v in repo.values)]
        for doc in docs:
            if doc.kind == "Secret" or is_sops_document(doc.data) or not self.keep(doc.path):
                continue  # a Secret's data are values, never references: not even read
            key = (doc.path, doc.index)
            for text in _strings(doc.data):
                for word in _TOKEN.split(text):
                    if not word or (word not in wanted and "${" not in word):
                        continue
                    if "${" in word and has_variables(word):
                        hits = [
                            e
                            for name, ns in self.placements(doc.path, word, doc_ns=doc.namespace)
                            for e in wanted.get(name, ())
                            if ns is None or e.namespace in (None, ns)
                        ]
                    else:
                        hits = wanted.get(word, [])
                    entries = [e for e in hits if not e.readers and key not in e.docs]
                    if not entries:
                        continue
                    reader = Reader(
                        self.app_of(doc.path),
                        f"{doc.kind or 'values'} {doc.name}".strip(),
                        "reference",
                        False,
                        doc.location(*_path_of(doc.data, text)),
                    )
                    for entry in dict.fromkeys(entries):
                        entry.readers.append(reader)

    # ---------------------------------------------------------------- build

    def build(self) -> SecretsMap:
        self.infisical()
        self.external_secrets()
        self.manifests()
        self.operators()
        for pairs, reader in self.readers():
            for name, ns in pairs:
                found = self.matching(ns, name)
                if found:
                    for entry in found:
                        entry.readers.append(reader)
                else:
                    self.entry(ns, name).readers.append(reader)
        # A Secret landing in no known namespace ("") is found by no name either.
        unread = [
            e for e in self.entries.values() if e.producers and not e.readers and e.namespace != ""
        ]
        if unread:
            self.mentions(unread)
        return self.finish()

    def finish(self) -> SecretsMap:
        by_ns: dict[str, list[MappedSecret]] = {}
        broad_seen: set[Location] = set()
        for entry in self.entries.values():
            lane = entry.namespace or NO_NAMESPACE
            flags = self.flag(entry, lane, broad_seen)
            readers = sorted(
                dict.fromkeys(entry.readers), key=lambda r: (r.app or "", r.consumer, r.location)
            )
            by_ns.setdefault(lane, []).append(
                MappedSecret(
                    name=entry.name,
                    namespace=lane,
                    producers=tuple(dict.fromkeys(entry.producers)),
                    readers=tuple(readers),
                    apps_in_namespace=len(self.apps.get(entry.namespace or "", ())),
                    breadth=entry.breadth if entry.producers else 0,
                    external=self.is_external(entry.name),
                    flags=tuple(flags),
                )
            )
        namespaces = tuple(
            NamespaceSecrets(
                ns,
                tuple(sorted(self.apps.get(ns, ()))),
                tuple(sorted(secrets, key=lambda s: s.name)),
            )
            for ns, secrets in sorted(by_ns.items())
        )
        findings = tuple(
            sorted(dict.fromkeys(self.findings), key=lambda f: (f.location, f.kind, f.secret))
        )
        return SecretsMap(namespaces, findings, self.cluster.name if self.cluster else None)

    def is_external(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in self.external)

    def flag(self, entry: _Entry, lane: str, broad_seen: set[Location]) -> list[str]:
        """The flags of one Secret; each new problem also becomes a finding."""
        flags: list[str] = []
        needed = [r for r in entry.readers if not r.optional]
        if not entry.producers and needed and not self.is_external(entry.name):
            flags.append(MISSING_PRODUCER)
            first = min(needed, key=lambda r: r.location)
            self.findings.append(
                SecretFinding(
                    MISSING_PRODUCER,
                    lane,
                    entry.name,
                    f"{first.consumer} reads Secret {entry.name} ({first.usage}), which "
                    f"nothing in the repository creates in namespace {lane}",
                    first.location,
                )
            )
        implicit = any(fnmatch.fnmatchcase(entry.name, p) for p in self.read_implicitly)
        made = [p for p in entry.producers if p.scope != "generated"]
        # bootstrap Secrets (``external``) are read from outside the repository too
        if made and not entry.readers and not implicit and not self.is_external(entry.name):
            flags.append(UNUSED_SECRET)
            self.findings.append(
                SecretFinding(
                    UNUSED_SECRET,
                    lane,
                    entry.name,
                    f"{made[0].kind} {made[0].name} creates Secret {entry.name} in "
                    f"namespace {lane}, which nothing reads",
                    made[0].location,
                )
            )
        for producer in entry.producers:
            if not producer.over_broad:
                continue
            if OVER_BROAD_SCOPE not in flags:
                flags.append(OVER_BROAD_SCOPE)
            where = producer.scope_location or producer.location
            if where not in broad_seen:
                broad_seen.add(where)
                self.findings.append(
                    SecretFinding(
                        OVER_BROAD_SCOPE,
                        lane,
                        entry.name,
                        _broad_message(producer, entry),
                        where,
                    )
                )
        return flags


def _broad_message(producer: Producer, entry: _Entry) -> str:
    if producer.kind == "ExternalSecret":
        return (
            f"ExternalSecret {producer.name} copies every secret its store finds into "
            f"{entry.name} (dataFrom.find with no name, path or tags)"
        )
    what = "the whole project" if producer.scope == "root" else "a folder and every folder below it"
    return (
        f"InfisicalSecret {producer.name} reads {what} ({producer.source}, about "
        f"{entry.breadth} app scope{'s' if entry.breadth != 1 else ''}) into {entry.name}; "
        "read only its app's folder"
    )


def _strings(node: Any) -> Iterator[str]:
    """Every string in a document, depth first (fast: no paths)."""
    stack = [node]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is str:
            yield current
        elif kind is list or isinstance(current, list):
            stack.extend(current)
        elif isinstance(current, dict | Mapping):
            stack.extend(current.values())
        elif isinstance(current, str):
            yield current


def _path_of(node: Any, text: str) -> tuple[str | int, ...]:
    """The path of the first string equal to ``text`` (for its position)."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), node)]
    while stack:
        path, current = stack.pop()
        if isinstance(current, str):
            if current == text:
                return path
        elif isinstance(current, dict | Mapping):
            stack.extend(((*path, str(k)), v) for k, v in current.items())
        elif isinstance(current, list):
            stack.extend(((*path, i), v) for i, v in enumerate(current))
    return ()


# ------------------------------------------------------------------ rendering


def percent(value: float | None) -> str:
    """``67%``, or ``-`` for no figure."""
    return "-" if value is None else f"{round(value * 100):d}%"


def _relative(reduction: float) -> str:
    if reduction >= 0:
        return f"{percent(reduction)} below shared"
    return f"{percent(-reduction)} above shared"


def exposure_line(ns: NamespaceSecrets) -> str:
    """One sentence of exposure figures for a namespace."""
    apps = f"{len(ns.apps)} app{'s' if len(ns.apps) != 1 else ''}"
    secrets = f"{len(ns.produced)} secret{'s' if len(ns.produced) != 1 else ''}"
    figure = (
        f"exposure {ns.exposure} app-secret pair{'s' if ns.exposure != 1 else ''} "
        f"(least privilege {ns.least_privilege}, one shared namespace secret {ns.shared})"
    )
    tail = ""
    if ns.reduction is not None:
        tail = f": {_relative(ns.reduction)}"
    return f"{apps}, {secrets}; {figure}{tail}"


def _readers_text(secret: MappedSecret) -> str:
    if not secret.readers:
        return "-"
    parts: dict[str, list[str]] = {}
    for r in secret.readers:
        who = r.consumer
        if r.app:
            ns, _, app = r.app.partition("/")
            who = app if ns == secret.namespace else r.app
        usages = parts.setdefault(who, [])
        if r.usage not in usages:
            usages.append(r.usage)
    return ", ".join(f"{who} ({', '.join(u)})" for who, u in parts.items())


def _producer_text(secret: MappedSecret) -> tuple[str, str]:
    if not secret.producers:
        return ("(external)" if secret.external else "(none)", "-")
    kinds = "; ".join(f"{p.kind} {p.name}" for p in secret.producers)
    sources = "; ".join(dict.fromkeys(p.source for p in secret.producers))
    return kinds, sources


def to_text(smap: SecretsMap, *, width: int | None = None, legend: bool = True) -> str:
    """The map as tables, one per namespace, then the findings and overall figures.

    With ``width`` (the terminal's, from the CLI) tables fit in that many cells: the
    widest columns are cut, with an ellipsis. Without, cells are cut at 48 only.
    ``legend``: end with the line explaining the APPS column.
    """
    where = f"cluster {smap.cluster}" if smap.cluster else "the repository"
    lines: list[str] = [] if smap.namespaces else [f"No Secrets in {where}.", ""]
    for ns in smap.namespaces:
        lines.append(one_line(f"{ns.namespace}  ({exposure_line(ns)})"))
        rows = [("PRODUCER", "SOURCE", "SECRET", "READ BY", "APPS", "FLAGS")]
        for s in ns.secrets:
            kinds, sources = _producer_text(s)
            apps = f"{len(s.reader_apps)}/{s.apps_in_namespace}" if s.counted else "-"
            if s.counted and s.breadth > 1:
                apps += f" x{s.breadth}"
            # Names and paths come from the repository: a line break in one must not
            # start a line of its own (a forged "::error" annotation in CI).
            kinds, sources, name, read = map(one_line, (kinds, sources, s.name, _readers_text(s)))
            rows.append((kinds, sources, name, read, apps, ", ".join(s.flags)))
        widths = _fit([min(max(len(r[i]) for r in rows), 48) for i in range(len(rows[0]))], width)
        for row in rows:
            cells = [
                (c if len(c) <= widths[i] else c[: widths[i] - 1] + "…").ljust(widths[i])
                for i, c in enumerate(row)
            ]
            lines.append(("  " + "  ".join(cells)).rstrip())
        lines.append("")
    if smap.findings:
        lines.append(f"{len(smap.findings)} finding{'s' if len(smap.findings) != 1 else ''}:")
        for f in smap.findings:
            lines.append(one_line(f"  {f.location}: [{f.kind}] {f.message}"))
        lines.append("")
    lines.append(
        f"Overall: exposure {smap.exposure} app-secret pairs, least privilege "
        f"{smap.least_privilege}, one shared secret per namespace {smap.shared}"
        + (f": {_relative(smap.reduction)}." if smap.reduction is not None else ".")
    )
    if legend:
        lines.append(_APPS_LEGEND)
    return "\n".join(lines) + "\n"


_APPS_LEGEND = (
    "APPS: the apps that read the Secret / the apps of its namespace, which could all "
    "mount it (xN: it holds N apps' secrets)."
)


def clusters_to_text(maps: Sequence[SecretsMap], *, width: int | None = None) -> str:
    """Several clusters' maps (:func:`to_text` each), one section per cluster."""
    if len(maps) == 1:
        return to_text(maps[0], width=width)
    parts = []
    for smap in maps:
        title = one_line(f"Cluster {smap.cluster}")
        parts.append(f"{title}\n{'=' * len(title)}\n\n" + to_text(smap, width=width, legend=False))
    return "\n".join(parts) + _APPS_LEGEND + "\n"


def _fit(widths: list[int], width: int | None, narrowest: int = 6) -> list[int]:
    """Column widths that fit a table (2-space margin and gaps) into ``width`` cells.

    The widest column gives up a cell at a time, down to ``narrowest``; cut cells end
    with an ellipsis.
    """
    widths = list(widths)
    while width is not None and 2 + sum(widths) + 2 * (len(widths) - 1) > width:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= narrowest:
            break
        widths[widest] -= 1
    return widths


def to_dict(smap: SecretsMap) -> dict[str, Any]:
    """The map as JSON-ready data (see docs/graph.md)."""

    def loc(location: Location) -> dict[str, Any]:
        return {"path": location.path, "line": location.line}

    return {
        "version": JSON_VERSION,
        "namespaces": [
            {
                "namespace": ns.namespace,
                "apps": list(ns.apps),
                "exposure": ns.exposure,
                "least_privilege": ns.least_privilege,
                "shared": ns.shared,
                "reduction": None if ns.reduction is None else round(ns.reduction, 4),
                "secrets": [
                    {
                        "name": s.name,
                        "producers": [
                            {
                                "kind": p.kind,
                                "name": p.name,
                                "source": p.source,
                                "scope": p.scope,
                                "keys": list(p.keys) if p.keys is not None else None,
                                "app": p.app,
                                **loc(p.location),
                            }
                            for p in s.producers
                        ],
                        "readers": [
                            {
                                "app": r.app,
                                "consumer": r.consumer,
                                "how": r.how,
                                "usage": r.usage,
                                "optional": r.optional,
                                **loc(r.location),
                            }
                            for r in s.readers
                        ],
                        "reader_apps": list(s.reader_apps),
                        "apps_in_namespace": s.apps_in_namespace,
                        "breadth": s.breadth,
                        "exposure": s.exposure,
                        "least_privilege": s.least_privilege,
                        "external": s.external,
                        "flags": list(s.flags),
                    }
                    for s in ns.secrets
                ],
            }
            for ns in smap.namespaces
        ],
        "findings": [
            {
                "kind": f.kind,
                "namespace": f.namespace,
                "secret": f.secret,
                "message": f.message,
                **loc(f.location),
            }
            for f in smap.findings
        ],
        "totals": {
            "exposure": smap.exposure,
            "least_privilege": smap.least_privilege,
            "shared": smap.shared,
            "reduction": None if smap.reduction is None else round(smap.reduction, 4),
        },
    }


def to_json(smap: SecretsMap) -> str:
    """:func:`to_dict` as indented JSON, newline-terminated."""
    return json.dumps(to_dict(smap), indent=2) + "\n"


def clusters_to_dict(maps: Sequence[SecretsMap]) -> dict[str, Any]:
    """Several clusters' maps: ``{"version", "clusters": [{"cluster", ...to_dict}], "totals"}``.

    One map is :func:`to_dict` unchanged (with ``cluster`` set when it has one).
    """
    if len(maps) == 1:
        return {**to_dict(maps[0]), "cluster": maps[0].cluster}
    exposure = sum(m.exposure for m in maps)
    shared = sum(m.shared for m in maps)
    clusters = []
    for smap in maps:
        data = to_dict(smap)
        del data["version"]
        clusters.append({"cluster": smap.cluster, **data})
    return {
        "version": JSON_VERSION,
        "clusters": clusters,
        "totals": {
            "exposure": exposure,
            "least_privilege": sum(m.least_privilege for m in maps),
            "shared": shared,
            "reduction": round(1 - exposure / shared, 4) if shared else None,
        },
    }
