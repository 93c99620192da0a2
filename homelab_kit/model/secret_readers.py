"""Who reads a Secret by name, as each cluster applies it.

Every place that reads a Secret by name (``envFrom``, ``secretKeyRef``, volumes,
``imagePullSecrets``, chart values, ``valuesFrom``, ``substituteFrom``, an
InfisicalSecret's ``credentialsRef``), read from the objects each cluster applies
(:mod:`homelab_kit.model.applied`): names after ``postBuild`` substitution, the
namespace Flux applies the reader to, the line to edit as its source.  What
creates them is :mod:`homelab_kit.model.secret_index`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from homelab_kit.location import Location
from homelab_kit.model.applied import AppliedDocument
from homelab_kit.model.base import DocumentRef
from homelab_kit.model.flux import HELM_GROUP, KUSTOMIZE_GROUP, HelmRelease
from homelab_kit.model.helm import ValuesSource
from homelab_kit.model.kept import PerObject, kept_per_object
from homelab_kit.model.patches import applied_copies_by_cluster
from homelab_kit.model.secret_index import (
    RELEASE_NAME,
    Namespaces,
    applied_names,
    applied_of_kinds,
    infisical_of,
    placed,
)
from homelab_kit.model.secrets import INFISICAL_GROUP, SecretConsumer
from homelab_kit.model.workloads import WORKLOAD_KINDS, pod_secret_consumers
from homelab_kit.yaml import parse_text

if TYPE_CHECKING:
    from homelab_kit.model.repo import Repo


@attrs.frozen
class SecretReader:
    """A place that reads a Secret by name, as a cluster applies it.

    ``names`` and ``namespaces`` are the applied object's (``None``: unknown, which
    matches any); ``source`` the line to edit (the written field, the ``${VAR}``
    reference, the patch line); ``cluster`` the cluster applying it (None: none
    known).
    """

    names: tuple[str, ...]
    namespaces: Namespaces
    how: str
    consumer: str
    optional: bool
    source: Location
    cluster: str | None = None


def reader_namespaces(repo: Repo, doc: AppliedDocument) -> Namespaces:
    """The namespace an applied object reads in (``(None,)``: unknown, matching any).

    The written stand-in reads where its Kustomization puts it, else as written.
    """
    if not doc.as_written:
        return (doc.namespace,)
    written = doc.written if doc.written is not None else doc
    return placed(repo, written, written.namespace) or (None,)


def applied_places(repo: Repo, doc: DocumentRef) -> tuple[tuple[str | None, Namespaces], ...]:
    """``(cluster, namespaces)`` of each cluster applying the object written at ``doc``.

    Where each cluster's build puts it; an object bootstrap applies (a cluster's
    entry point) or whose build failed is placed as written (its Kustomization's
    namespace, else its own; ``(None,)``: unknown) in each cluster applying its file,
    else with no cluster when it is deployed.  Empty for an object no cluster deploys.
    Remembered per document.
    """
    key = (doc.path, doc.index)
    places = repo.derived(_places)
    found = places.get(key)
    if found is None:
        copies = applied_copies_by_cluster(repo, doc)
        if copies:
            found = tuple(dict.fromkeys((c, (obj.namespace,)) for c, obj in copies))
        else:
            found = _unbuilt_places(repo, doc)
        places[key] = found
    return found


def _unbuilt_places(repo: Repo, doc: DocumentRef) -> tuple[tuple[str | None, Namespaces], ...]:
    where = placed(repo, doc, doc.namespace) or (None,)
    names = [c.name for c in repo.clusters if doc.path in c.files]
    if names:
        return tuple((name, where) for name in names)
    return ((None, where),) if repo.is_deployed(doc.path) else ()


def _places(repo: Repo) -> dict[tuple[str, int], tuple[tuple[str | None, Namespaces], ...]]:
    return {}


def secret_readers(repo: Repo) -> tuple[SecretReader, ...]:
    """Every place that reads a Secret by name, plus InfisicalSecret credentialsRef.

    Computed once per repository.

    :param repo: the loaded repository.
    :returns: the readers, names and namespaces expanded (shared: read-only).
    """
    return repo.derived(_secret_readers)


# The kinds _readers_of reads Secret names from.
_READER_KINDS = frozenset(("Kustomization", "HelmRelease", "InfisicalSecret", *WORKLOAD_KINDS))


def _secret_readers(repo: Repo) -> tuple[SecretReader, ...]:
    config_maps = {
        (d.cluster, d.namespace, d.name): d
        for d in applied_of_kinds(repo, ("ConfigMap",))
        if d.group == "" and not d.as_written
    }
    # With lint's cache, each built object's readers are kept by its name (its
    # provenance included: a reader's source is the line to edit); see kept_readers.
    kept = kept_per_object(repo, "homelab-kit/model/secret-readers")
    out: dict[SecretReader, None] = {}
    for doc in applied_of_kinds(repo, _READER_KINDS):
        found: Iterable[SecretReader] | None = None
        if kept is not None:
            found = _kept_readers(repo, doc, config_maps, kept)
        for reader in _readers_of(repo, doc, config_maps) if found is None else found:
            out.setdefault(reader)
    return tuple(out)


def _kept_readers(
    repo: Repo, doc: AppliedDocument, config_maps: Mapping[Any, AppliedDocument], kept: PerObject
) -> tuple[SecretReader, ...] | None:
    """The readers of ``doc`` kept from an earlier run, else worked out and kept; None
    when they cannot be kept (a document read as written: where it lands depends on
    the kustomizations above it, not on it).

    What they depend on besides ``doc`` itself: for a HelmRelease, the ConfigMaps its
    ``valuesFrom`` names as its cluster applies them (their names: what they are, and
    so the values files their builds read), and which of them exist.
    """
    if doc.as_written:
        return None
    inputs: list[str | None] = []
    if doc.kind == "HelmRelease":
        for item in doc.list_at("spec", "valuesFrom"):
            if not isinstance(item, Mapping) or item.get("kind") != "ConfigMap":
                continue
            name = item.get("name")
            if not isinstance(name, str) or not name:
                continue
            config_map = config_maps.get((doc.cluster, doc.namespace, name))
            named = kept.name(config_map) if config_map is not None else ""
            if named is None:
                return None
            inputs.append(named)
    return kept.get(doc, lambda: tuple(_readers_of(repo, doc, config_maps)), *inputs)


def _readers_of(
    repo: Repo, doc: AppliedDocument, config_maps: Mapping[Any, AppliedDocument]
) -> Iterator[SecretReader]:
    """The Secrets ``doc`` reads by name, as its cluster applies it."""
    group, kind = doc.group, doc.kind
    own = reader_namespaces(repo, doc)
    consumers: Iterable[SecretConsumer] = ()
    if group == KUSTOMIZE_GROUP and kind == "Kustomization":
        consumers = _references(
            doc, ("spec", "postBuild", "substituteFrom"), "substituteFrom", "Kustomization"
        )
    elif group == HELM_GROUP and kind == "HelmRelease":
        consumers = _release_consumers(repo, doc, config_maps)
    elif kind in WORKLOAD_KINDS and group in ("", "apps", "batch"):
        consumers = pod_secret_consumers(doc, None, f"{kind} {doc.name}")
    elif group == INFISICAL_GROUP and kind == "InfisicalSecret":
        infisical = infisical_of(repo, doc)
        if infisical.credentials_secret:
            ref = ("spec", "authentication", infisical.auth_method or "", "credentialsRef")
            where = (infisical.credentials_namespace,) if infisical.credentials_namespace else own
            yield SecretReader(
                (infisical.credentials_secret,),
                where,
                "credentialsRef",
                f"InfisicalSecret {infisical.name}",
                False,
                doc.location(*ref, "secretName"),
                doc.cluster,
            )
    for c in consumers:
        where = (c.namespace,) if c.namespace else own
        yield SecretReader(
            (c.secret_name,), where, c.how, c.consumer, c.optional, c.source, doc.cluster
        )


@attrs.frozen
class _Release:
    """What the Secret readers of a HelmRelease need of it."""

    name: str
    target_namespace: str | None
    values: Any = attrs.field(repr=False)
    config_maps: tuple[tuple[str, str], ...]  # valuesFrom ConfigMaps: (name, valuesKey)


def _references(
    doc: AppliedDocument, path: tuple[str, ...], how: str, kind: str
) -> Iterator[SecretConsumer]:
    """The Secrets a ``[{kind, name, optional}]`` list at ``path`` names."""
    for i, item in enumerate(doc.list_at(*path)):
        if not isinstance(item, Mapping) or item.get("kind") != "Secret":
            continue
        name = item.get("name")
        if isinstance(name, str) and name:
            yield SecretConsumer(
                name,
                None,
                how,
                f"{kind} {doc.name}",
                item.get("optional") is True,
                doc.location(*path, i),
            )


def _release_consumers(
    repo: Repo, doc: AppliedDocument, config_maps: Mapping[Any, AppliedDocument]
) -> Iterator[SecretConsumer]:
    """A HelmRelease's Secret readers: ``valuesFrom``, and what its values name.

    The values are the applied release's inline ``spec.values`` and the values
    files of the ConfigMaps its ``valuesFrom`` names, as the cluster applies those
    (substituted), located in the values file; what they name is read in the
    release's ``spec.targetNamespace`` when it sets one (where Helm installs the
    chart), ``valuesFrom`` in the release's own.  ``{{ .Release.Name }}`` is
    rendered; a name still holding a template is left out.
    """
    yield from _references(doc, ("spec", "valuesFrom"), "valuesFrom", "HelmRelease")
    hr = _Release(
        doc.name,
        doc.str_at("spec", "targetNamespace"),
        doc.get("spec", "values"),
        tuple(
            (item["name"], str(item.get("valuesKey") or "values.yaml"))
            for item in doc.list_at("spec", "valuesFrom")
            if isinstance(item, Mapping)
            and item.get("kind") == "ConfigMap"
            and isinstance(item.get("name"), str)
            and item["name"]
        ),
    )
    sources: list[ValuesSource] = []
    written: list[SecretConsumer] = []  # of values files read as written: to be labelled
    if isinstance(hr.values, Mapping) and hr.values:
        sources.append(ValuesSource(hr.name, None, "inline", doc, ("spec", "values")))
    if doc.as_written:  # the loader's values files of the release
        loaded = repo.derived(_releases_by_document).get(doc.written)
        if loaded is not None:
            sources.extend(repo.derived(_loaded_values).get((loaded.name, loaded.namespace), ()))
    else:
        for name, key in hr.config_maps:
            found = _values_document(repo, doc, name, key, config_maps)
            if isinstance(found, str):  # read as written: its readers, found once
                written.extend(repo.derived(_written_consumers, found))
            elif found is not None:
                sources.append(ValuesSource(hr.name, None, "configmap", found))
    release = doc.str_at("spec", "releaseName")
    if release is None:
        release = f"{hr.target_namespace}-{hr.name}" if hr.target_namespace else hr.name
    label = f"HelmRelease {hr.name}"
    consumers = [(c, label) for c in written]
    consumers.extend((c, c.consumer) for source in sources for c in source.secret_consumers())
    for c, consumer in consumers:  # the chart's objects read where Helm installs them
        name = c.secret_name
        if "{{" in name:
            name = RELEASE_NAME.sub(release, name)
            if "{{" in name:
                continue
        yield attrs.evolve(c, secret_name=name, namespace=hr.target_namespace, consumer=consumer)


def _loaded_values(repo: Repo) -> dict[tuple[str, str | None], list[ValuesSource]]:
    """The loader's values files (``repo.values``) by release name and namespace."""
    out: dict[tuple[str, str | None], list[ValuesSource]] = {}
    for v in repo.values:
        if v.origin == "configmap":
            out.setdefault((v.release, v.namespace), []).append(v)
    return out


def _releases_by_document(repo: Repo) -> dict[DocumentRef | None, HelmRelease]:
    return {hr.doc: hr for hr in repo.helm_releases}


def _values_document(
    repo: Repo,
    hr: AppliedDocument,
    name: str,
    key: str,
    config_maps: Mapping[Any, AppliedDocument],
) -> DocumentRef | str | None:
    """The values a ``valuesFrom`` ConfigMap holds, located in the file it was generated from.

    The ConfigMap is the one the release's cluster applies in its namespace; its
    text, substituted, is read again only when a Secret name in the values file
    holds ``${``; else the written file is what the cluster reads: its path.
    """
    cm = config_maps.get((hr.cluster, hr.namespace, name))
    if cm is None or cm.written is not None:
        return None  # a ConfigMap manifest: its values are not a file of their own
    base = applied_names(repo, cm)[0][-1]
    kfile = repo.kustomize_file(posixpath.dirname(cm.path))
    if kfile is None:
        return None
    for gen in kfile.generators:
        if gen.kind != "ConfigMap" or gen.name != base:
            continue
        for file_key, entry in zip(gen.file_keys, gen.files, strict=False):
            if file_key != key or entry.target is None:
                continue
            yfile = repo.files.get(entry.target)
            if not yfile or not yfile.documents or not isinstance(yfile.documents[0].data, dict):
                return None
            text = cm.get("data", key)
            if not isinstance(text, str) or not any(
                "${" in c.secret_name for c in repo.derived(_written_consumers, entry.target)
            ):
                return entry.target  # no Secret name to substitute: read as written
            written = DocumentRef.from_document(entry.target, yfile.documents[0])
            parsed, _ = parse_text(text, entry.target)
            data = parsed[0].data if parsed else None
            if not isinstance(data, Mapping):
                return None
            return AppliedDocument(
                entry.target, 0, data, written.start_line, written=written, cluster=hr.cluster
            )
    return None


def _written_consumers(repo: Repo, path: str) -> tuple[SecretConsumer, ...]:
    """The Secrets the values file ``path`` names, as written.

    What the loader read of it for a release whose values it is (that release's
    name and namespace given: only the names, how and where they are read count),
    else read here, with none.
    """
    loaded = repo.derived(_loaded_values_consumers).get(path)
    if loaded is not None:
        return loaded
    yfile = repo.files.get(path)
    if not yfile or not yfile.documents or not isinstance(yfile.documents[0].data, dict):
        return ()
    written = DocumentRef.from_document(path, yfile.documents[0])
    return tuple(ValuesSource("", None, "configmap", written).secret_consumers())


# What ValuesSource.secret_consumers finds.
_VALUES_READS = frozenset(("existingSecret", "envFrom", "secretKeyRef"))


def _loaded_values_consumers(repo: Repo) -> dict[str, tuple[SecretConsumer, ...]]:
    """The Secrets each values file of ``repo.values`` names, from ``repo.secret_consumers``.

    The loader read them for a release (:meth:`ValuesSource.secret_consumers`, its
    name and namespace given), as :func:`_written_consumers` would.  A file that
    also holds a HelmRelease (whose inline values share its path) is read again.
    """
    grouped: dict[tuple[str, str | None, str], dict[Any, SecretConsumer]] = {}
    for c in repo.secret_consumers:
        if c.how in _VALUES_READS and c.consumer.startswith("HelmRelease "):
            found = grouped.setdefault((c.consumer, c.namespace, c.source.path), {})
            # once each: a release reading the same file twice lists it twice
            found.setdefault((c.secret_name, c.how, c.optional, c.source), c)
    releases = {hr.doc.path for hr in repo.helm_releases}
    out: dict[str, tuple[SecretConsumer, ...]] = {}
    for vs in repo.values:
        path = vs.doc.path
        if vs.origin != "configmap" or path in out or path in releases:
            continue
        found = grouped.get((f"HelmRelease {vs.release}", vs.namespace, path), {})
        out[path] = tuple(found.values())
    return out
