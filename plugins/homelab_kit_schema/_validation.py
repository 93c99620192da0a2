"""Validate a repository once and share the findings between the schema checks.

Both ``schema-invalid`` and ``schema-missing`` read :func:`outcome`, which builds one
:class:`~homelab_kit.schema.SchemaRegistry` per repository (one compiled validator per
``(apiVersion, kind)``, reused), indexes the Flux variables once, and validates every
document in a single pass: linear in the number of documents.

A document some cluster deploys is validated as Flux applies it: each distinct copy
of its object in the clusters' desired state (patches, ``replacements``,
``namePrefix``, substitution done; :mod:`homelab_kit.model.clusters`), once per
distinct content.  A violation is reported where the user edits it: the patch or
substitution that set the field (its provenance), else the field in the document.
Documents no cluster builds (not deployed, a failed build, no cluster at all) are
validated as written.
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from homelab_kit import DocumentRef, HomelabKitError, Location, Repo
from homelab_kit.cache import cache_directory
from homelab_kit.lint.reuse import ObjectResults, per_object
from homelab_kit.model.applied_fields import written_path
from homelab_kit.model.clusters import ClusterKustomization, DesiredObject, KsKey
from homelab_kit.model.patches import applied_copies_by_cluster
from homelab_kit.render._docs import canonical_json
from homelab_kit.schema import SchemaRegistry, SchemaViolation, available_versions, validate
from homelab_kit.schema.locations import is_remote
from homelab_kit.schema.validate import describe_object, is_list, list_items
from homelab_kit_schema._patched import PatchedKinds

_KUSTOMIZE = "kustomize.config.k8s.io"
_CRD_GROUP = "apiextensions.k8s.io"

# A label naming the Flux Kustomization whose variables were used, and the variables.
VariableSet = tuple[str, Mapping[str, str]]


@attrs.frozen
class Finding:
    """One schema problem: where, what (one sentence), and whether a schema was missing.

    ``kind`` names what had no schema (``Certificate (cert-manager.io/v1)``) when
    ``missing``, so ``schema-missing`` can report each kind once.
    ``advisory`` findings come from a bundled schema, a snapshot of one release of the
    operator that may not be the release the cluster runs.  ``cluster`` names the
    cluster whose copy of the object is wrong when the repository has several and
    the others' copies are not (None otherwise).
    """

    location: Location
    message: str
    missing: bool
    kind: str = ""
    advisory: bool = False
    cluster: str | None = None


@attrs.frozen
class Outcome:
    """Everything the schema checks report for one repository."""

    findings: tuple[Finding, ...]


_last: list[tuple[weakref.ref[Repo], Outcome]] = []


def outcome(repo: Repo) -> Outcome:
    """The schema findings of ``repo``, computed once however many checks ask."""
    if _last and _last[0][0]() is repo:
        return _last[0][1]
    result = Outcome(tuple(_validate_repo(repo)))
    _last[:] = [(weakref.ref(repo), result)]
    return result


# --------------------------------------------------------------------------- the pass


def _validate_repo(repo: Repo) -> Iterator[Finding]:
    version = repo.settings.kubernetes_version
    crds = [
        doc
        for doc in repo.documents
        if doc.data.get("kind") == "CustomResourceDefinition" and doc.group == _CRD_GROUP
    ]
    try:
        registry = _registry(repo, version, crds)
    except HomelabKitError as exc:
        # Unreadable, or older than any schemas: a configuration error, never silenced.
        yield Finding(_version_location(repo), f"{exc}; nothing was validated", False)
        return
    if version is not None and _minor(version) != _minor(registry.kubernetes_version):
        message = (
            f"no Kubernetes schemas for version {version} yet: "
            f"validated against the newest available, {registry.kubernetes_version}"
        )
        yield Finding(_version_location(repo), message, True)
    variables = _FluxVariables(repo)
    # Only for a missing field of a document judged as written: indexed on first use.
    patched = functools.cache(lambda: PatchedKinds(repo))
    # A patch file is judged on its own; its violations are not repeated on the
    # objects it patches (they point at the same line).
    in_patches: set[tuple[str, int, str]] = set()
    for doc in repo.patch_documents:
        if _is_object(doc.data):
            yield from _patch(doc, registry, in_patches)
    applied = _AppliedCopies(repo, registry, in_patches, crds)
    for doc in repo.documents:
        if not _is_object(doc.data):
            continue
        copies = applied.copies(doc)
        if copies:
            yield from applied.findings(doc, copies)
        else:
            yield from _object(doc, doc.data, registry, variables.of(doc.path), patched)
    for kfile in repo.kustomize_files:
        yield from _kustomize_file(kfile.doc, registry, applied.kept)
    for warning in registry.warnings:  # a location missing, misspelt or unreachable
        yield Finding(_config_location(repo), warning, True)


_VERSION = re.compile(r"\s*v?(\d+)\.(\d+)")


def _minor(version: str) -> tuple[int, int] | None:
    """``(1, 33)`` for ``v1.33.4``; None when unreadable."""
    match = _VERSION.match(version)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _registry(repo: Repo, version: str | None, crds: Sequence[DocumentRef]) -> SchemaRegistry:
    """The registry for ``version``: the newest schemas when it is unset or newer;
    ``crds``: the repository's CustomResourceDefinition documents."""
    versions = available_versions()
    newest = versions[-1] if versions else "unknown"
    target, known = _minor(version or ""), _minor(newest)
    if version is None or (target is not None and known is not None and target > known):
        version = newest
    settings = repo.settings
    locations = [
        loc if is_remote(loc) or Path(loc).is_absolute() else str(repo.root / loc)
        for loc in settings.schema_locations
    ]
    cache_dir = cache_directory(settings.cache_dir) / "schemas"
    return SchemaRegistry(
        version,
        locations=locations,
        crds=[doc.data for doc in crds],
        cache_dir=cache_dir,
        bundled=settings.bundled_schemas,
        strict_locations=False,  # a bad location is a warning; the rest is validated
    )


def _version_location(repo: Repo) -> Location:
    """Where the Kubernetes version comes from: talenv.yaml's kubernetesVersion, if it does."""
    talos = repo.talos
    if (
        talos is not None
        and talos.env_path
        and talos.kubernetes_version == repo.settings.kubernetes_version
    ):
        for doc in repo.documents_in(talos.env_path):
            return doc.location("kubernetesVersion")
    return Location(".")


def _config_location(repo: Repo) -> Location:
    """Where schema locations are configured: the configuration file, if there is one."""
    return (
        Location(".homelab-kit.yaml")
        if (repo.root / ".homelab-kit.yaml").is_file()
        else Location(".")
    )


def _is_object(data: Mapping[str, Any]) -> bool:
    """A Kubernetes object: both apiVersion and kind, and not a Talos or kustomize config.

    The core group only ever had ``v1``: a group-less ``v1alpha1`` is a Talos machine
    config document, ``builtin`` a kustomize transformer configuration, and ``v1``
    ``Config`` a kubeconfig (a client file, often SOPS-encrypted in bootstrap/).  An
    apiVersion or kind holding a ``${VAR}`` cannot be matched to a schema before Flux runs.
    """
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if api_version is None or api_version == "" or kind is None or kind == "":
        return False
    if api_version == "v1" and kind == "Config":
        return False
    if isinstance(api_version, str):
        if "/" not in api_version and api_version != "v1":
            return False
        if "${" in api_version:
            return False
    return not (isinstance(kind, str) and "${" in kind)


# --------------------------------------------------------------------------- applied objects

Copies = Sequence[tuple[str, DesiredObject]]  # (cluster name, the object as it applies it)


@attrs.define
class _Seen:
    """One violation found in some copies: the objects, clusters and Kustomizations it was in."""

    violation: SchemaViolation
    substituted: bool
    objects: dict[str, None] = attrs.field(factory=dict)
    clusters: dict[str, None] = attrs.field(factory=dict)
    applied_by: dict[str, None] = attrs.field(factory=dict)
    advisory: bool = False


class _AppliedCopies:
    """The objects the clusters apply, by the document each was written in, and their findings.

    Each distinct content of a document's object is validated once.  A violation
    found at the same place with the same words in several copies is one finding; it
    names its cluster only when the repository has several and not every one of them
    has it, and the Flux Kustomizations whose copies have it when others' do not.
    """

    def __init__(
        self,
        repo: Repo,
        registry: SchemaRegistry,
        in_patches: set[tuple[str, int, str]],
        crds: Sequence[DocumentRef],
    ) -> None:
        self._repo = repo
        self._registry = registry
        self._in_patches = in_patches
        self._clusters = frozenset(c.name for c in repo.clusters)
        self._secret_variables: dict[tuple[str, tuple[str | None, str] | None], bool] = {}
        # Each copy's violations, kept across runs by what the copy is (lint's cache).
        self.kept = per_object(repo, "homelab-kit-schema/validate", _context(repo, registry, crds))
        # Each cluster's Flux Kustomizations by key (the first of a key, as
        # ``Cluster.kustomization`` answers), indexed once: that method scans them all.
        self._kustomizations: dict[tuple[str, KsKey], ClusterKustomization] = {}
        for cluster in repo.clusters:
            for ks in cluster.kustomizations:
                self._kustomizations.setdefault((cluster.name, ks.key), ks)

    def copies(self, doc: DocumentRef) -> Copies:
        """The copies of ``doc``'s object the clusters apply; none for a List (judged as
        written) or an object no cluster applies."""
        if is_list(doc.data):
            return ()
        return applied_copies_by_cluster(self._repo, doc)  # the index other checks share

    def findings(self, doc: DocumentRef, copies: Copies) -> Iterator[Finding]:
        """The findings of ``doc``, from its applied ``copies``."""
        if len(copies) == 1:  # the usual case: no contents to tell apart
            cluster, obj = copies[0]
            judged = self._judged(cluster, obj)
            if not judged[0]:
                return
            groups = [(cluster, obj, {cluster: None}, {_label(obj.applied_by): None}, judged)]
        else:
            contents: dict[str, tuple[str, DesiredObject, dict[str, None], dict[str, None]]] = {}
            for cluster, obj in copies:
                entry = contents.setdefault(canonical_json(obj.data), (cluster, obj, {}, {}))
                entry[2][cluster] = None
                entry[3][_label(obj.applied_by)] = None
            groups = [(*entry, self._judged(entry[0], entry[1])) for entry in contents.values()]
        seen: dict[tuple[Location, str], _Seen] = {}
        for cluster, obj, in_clusters, labels, (violations, advisory) in groups:
            for violation in violations:
                where, substituted = self._where(doc, cluster, obj, violation)
                if (where.path, where.line, violation.message) in self._in_patches:
                    continue
                entry = seen.setdefault((where, violation.message), _Seen(violation, substituted))
                entry.objects[describe_object(obj.data)] = None
                entry.clusters.update(in_clusters)
                entry.applied_by.update(labels)
                entry.advisory = entry.advisory or advisory
        every_ks = {label for _, _, _, labels, _ in groups for label in labels}
        for (where, text), entry in seen.items():
            yield from self._finding(doc, where, text, entry, every_ks)

    def _judged(self, cluster: str, obj: DesiredObject) -> tuple[list[SchemaViolation], bool]:
        """:meth:`_validate` of ``obj``, kept across runs."""
        redact = self._reads_secrets(cluster, obj)
        return self.kept.get(obj, functools.partial(self._validate, obj, redact), redact)

    def _validate(self, obj: DesiredObject, redact: bool) -> tuple[list[SchemaViolation], bool]:
        """``obj``'s violations, and whether its schema is a bundled one (asked only
        when it has any: the flag is read with them)."""
        found = validate(obj.data, self._registry, redact=redact)
        return found, bool(found) and _is_advisory(self._registry, obj.data)

    def _finding(
        self, doc: DocumentRef, where: Location, text: str, entry: _Seen, every_ks: set[str]
    ) -> Iterator[Finding]:
        objects = list(entry.objects)
        what = objects[0] if len(objects) == 1 else describe_object(doc.data)
        message = f"{what}: {text}"
        if entry.substituted:
            message += " after substituting variables"
        if set(entry.applied_by) < every_ks:
            how = "with the variables of" if entry.substituted else "as applied by"
            message += f" ({how} Kustomization {', '.join(entry.applied_by)})"
        if entry.violation.code == "no-schema":
            if _is_native_group(self._registry, str(doc.data.get("apiVersion"))):
                yield Finding(where, message, False)
            else:
                kind = f"{doc.data.get('kind')} ({doc.data.get('apiVersion')})"
                yield Finding(where, message, True, kind)
            return
        clusters = self._clusters
        named = list(entry.clusters) if len(clusters) > 1 and set(entry.clusters) < clusters else []
        for cluster in named or [None]:
            yield Finding(where, message, False, advisory=entry.advisory, cluster=cluster)

    def _reads_secrets(self, cluster: str, obj: DesiredObject) -> bool:
        """Whether ``obj`` may hold values substituted from a Secret: never quote its values."""
        key = (cluster, obj.applied_by)
        if key not in self._secret_variables:
            ks = self._kustomization(cluster, obj)
            refs = ks.object.get("spec", "postBuild", "substituteFrom") if ks else None
            self._secret_variables[key] = any(
                isinstance(ref, Mapping) and ref.get("kind") == "Secret"
                for ref in (refs if isinstance(refs, list) else ())
            )
        return self._secret_variables[key]

    def _kustomization(self, cluster: str, obj: DesiredObject) -> ClusterKustomization | None:
        """The Flux Kustomization of ``cluster`` that applies ``obj``."""
        if obj.applied_by is None:
            return None
        namespace, name = obj.applied_by
        return self._kustomizations.get((cluster, (namespace or "flux-system", name)))

    def _where(
        self, doc: DocumentRef, cluster: str, obj: DesiredObject, violation: SchemaViolation
    ) -> tuple[Location, bool]:
        """Where to fix ``violation`` of the applied ``obj``, and whether a ``${VAR}`` made it.

        The ``${VAR}`` that substitution filled the field from, else the patch or
        replacement that set it, else the field in the document (its nearest written
        parent, else the document's start).
        """
        made = obj.provenance.substituted(violation.path)
        if made and made[0].reference.line and not violation.at_key:  # the ${VAR} itself
            return made[0].reference, True
        changed = obj.provenance.changed_by(violation.path)
        if changed is not None and changed.line > 0:
            return changed, False
        if changed is not None:  # folded in from a Flux Kustomization's spec.patches
            found = self._flux_patch(cluster, obj, violation.path)
            if found is not None:
                return found, False
        written = written_path(doc.data, obj.data, violation.path)
        value = doc.get(*written) if written == violation.path else None
        substituted = isinstance(value, str) and "${" in value and not violation.at_key
        return _where(doc, doc.data, attrs.evolve(violation, path=written)), substituted

    def _flux_patch(
        self, cluster: str, obj: DesiredObject, path: tuple[str | int, ...]
    ) -> Location | None:
        """The ``spec.patches`` entry of the Flux Kustomization applying ``obj`` that set ``path``.

        The first entry whose text names the field, else the list.
        """
        ks = self._kustomization(cluster, obj)
        if ks is None:
            return None
        written = next(
            (d for d in self._repo.documents_in(ks.source.path) if d.location() == ks.source),
            None,
        )
        patches = written.get("spec", "patches") if written is not None else None
        if written is None or not isinstance(patches, list):
            return None
        leaf = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
        for index, item in enumerate(patches):
            text = item.get("patch") if isinstance(item, Mapping) else None
            if isinstance(text, str) and leaf and re.search(rf"\b{re.escape(leaf)}\b", text):
                return written.location("spec", "patches", index, "patch")
        return written.location("spec", "patches")


def _context(repo: Repo, registry: SchemaRegistry, crds: Sequence[DocumentRef]) -> str | None:
    """What an object's violations depend on besides the object: the schemas (the
    version, the bundled ones, the CRDs by their files).  None (validate every time)
    with configured schema locations, whose content is not keyed."""
    if repo.settings.schema_locations:
        return None
    keys: list[str] = []
    for doc in crds:
        sha = repo.files[doc.path].sha256
        if not sha:
            return None
        keys.append(f"{doc.path}:{doc.index}:{sha}")
    return repr((registry.kubernetes_version, repo.settings.bundled_schemas, keys))


def _label(key: tuple[str | None, str] | None) -> str:
    if key is None:
        return ""
    namespace, name = key
    return f"{namespace}/{name}" if namespace else name


# --------------------------------------------------------------------------- objects


def _object(
    doc: DocumentRef,
    data: Mapping[str, Any],
    registry: SchemaRegistry,
    variable_sets: Sequence[VariableSet],
    patched: Callable[[], PatchedKinds],
) -> Iterator[Finding]:
    if is_list(data):
        for item in list_items(data):
            if isinstance(item, Mapping) and _is_object(item):
                yield from _object(doc, item, registry, variable_sets, patched)
        return
    what = describe_object(data)
    completed: bool | None = None  # asked at the first missing field
    advisory = _is_advisory(registry, data)
    for violation, label in _violations(data, registry, variable_sets):
        if violation.code == "required":
            if completed is None:
                completed = patched().may_complete(doc.path, data.get("kind"))
            if completed:
                continue  # a patch may add the field before the object is applied
        message = f"{what}: {violation.message}"
        if label is not None:
            message += f" (with the variables of Kustomization {label})"
        if violation.code != "no-schema":
            yield Finding(_where(doc, data, violation), message, False, advisory=advisory)
        elif _is_native_group(registry, str(data.get("apiVersion"))):
            # The API server serves no such kind: it rejects the object outright.
            yield Finding(_where(doc, data, violation), message, False)
        else:
            kind = f"{data.get('kind')} ({data.get('apiVersion')})"
            yield Finding(_where(doc, data, violation), message, True, kind)


def _is_advisory(registry: SchemaRegistry, data: Mapping[str, Any]) -> bool:
    """Whether ``data``'s schema is a bundled one (asked after validation: cached)."""
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return False
    validator = registry.validator_for(api_version, kind)
    return validator is not None and validator.advisory


def _is_native_group(registry: SchemaRegistry, api_version: str) -> bool:
    """Whether ``api_version`` is a built-in API group's (asked once per apiVersion)."""
    known = _native_groups.setdefault(registry.kubernetes_version, {})
    if api_version not in known:
        known[api_version] = registry.is_native_group(api_version)
    return known[api_version]


_native_groups: dict[str, dict[str, bool]] = {}


def _violations(
    data: Mapping[str, Any],
    registry: SchemaRegistry,
    variable_sets: Sequence[VariableSet],
) -> list[tuple[SchemaViolation, str | None]]:
    """Violations of ``data``, each with the Kustomization whose variables alone caused it.

    A document several Flux Kustomizations deploy is validated once per distinct set of
    variables only when its verdict depends on them (a failing value held a ``${VAR}``);
    otherwise one pass answers for all of them.
    """
    if not variable_sets:
        return [(v, None) for v in validate(data, registry)]
    first = _Recording(variable_sets[0][1])
    found = validate(data, registry, variables=first)
    if not first.used or len(variable_sets) == 1:
        return [(v, None) for v in found]
    per_set = [found] + [validate(data, registry, variables=s) for _, s in variable_sets[1:]]
    everywhere = set(found).intersection(*per_set[1:])
    out: list[tuple[SchemaViolation, str | None]] = []
    seen: set[SchemaViolation] = set()
    for (label, _), violations in zip(variable_sets, per_set, strict=True):
        for violation in violations:
            if violation not in seen:
                seen.add(violation)
                out.append((violation, None if violation in everywhere else label))
    return out


def _kustomize_file(
    doc: DocumentRef, registry: SchemaRegistry, kept: ObjectResults | None = None
) -> Iterator[Finding]:
    """A kustomization.yaml; kustomize defaults a missing apiVersion and kind.

    ``kept``: its violations kept across runs (by the file's content).
    """
    data = doc.data
    kind = data.get("kind") or "Kustomization"
    api_version = data.get("apiVersion") or (
        f"{_KUSTOMIZE}/v1alpha1" if kind == "Component" else f"{_KUSTOMIZE}/v1beta1"
    )
    if not isinstance(kind, str) or not isinstance(api_version, str):
        violations = validate(data, registry)  # reports the non-string apiVersion or kind
    else:
        validator = registry.validator_for(api_version, kind)
        if validator is None:
            message = f"kustomize {kind}: no schema for apiVersion {api_version!r}"
            yield Finding(
                doc.location("apiVersion"), message, True, f"kustomize {kind} ({api_version})"
            )
            return
        violations = (
            kept.get(doc, functools.partial(validator.validate, data), "kustomize")
            if kept is not None
            else validator.validate(data)
        )
    for violation in violations:
        what = f"kustomize {kind}" if isinstance(kind, str) else "kustomization"
        yield Finding(_where(doc, data, violation), f"{what}: {violation.message}", False)


def _patch(
    doc: DocumentRef, registry: SchemaRegistry, reported: set[tuple[str, int, str]]
) -> Iterator[Finding]:
    """A kustomize patch: a partial object, judged on what it sets.

    Missing required fields are expected; a kind without schema is reported on the
    patched object, not here; strategic-merge directives (``$patch``,
    ``$setElementOrder/...``, ``$retainKeys``) and ``null`` (delete this field) are
    patch syntax, not fields.
    """
    what = f"patch of {describe_object(doc.data)}"
    advisory = _is_advisory(registry, doc.data)
    for violation in validate(doc.data, registry, partial=True):
        if violation.code == "no-schema":
            continue
        if violation.code == "unknown-field" and _is_directive(violation.path[-1:]):
            continue
        if violation.code == "type" and doc.get(*violation.path) is None:
            continue
        message = f"{what}: {violation.message}"
        where = _where(doc, doc.data, violation)
        reported.add((where.path, where.line, violation.message))
        yield Finding(where, message, False, advisory=advisory)


def _is_directive(last: tuple[str | int, ...]) -> bool:
    return (
        bool(last)
        and isinstance(last[0], str)
        and last[0].startswith("$")
        and not (last[0].startswith("${"))
    )


def _where(doc: DocumentRef, root: Mapping[str, Any], violation: SchemaViolation) -> Location:
    position = violation.position(root)
    if position is None:
        return Location(doc.path, doc.start_line, 1)
    return Location(doc.path, position[0], position[1])


# --------------------------------------------------------------------------- variables


class _Recording(Mapping[str, str]):
    """Flux variables that remember whether validation consulted them.

    The validator substitutes only values that fail as written; when it never looked
    a variable up, every other set of variables gives the same verdict.
    """

    __slots__ = ("_data", "used")

    def __init__(self, data: Mapping[str, str]) -> None:
        self._data = data
        self.used = False

    def __getitem__(self, key: str) -> str:
        self.used = True
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        self.used = True
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class _FluxVariables:
    """The ``postBuild`` variables each Flux Kustomization substitutes, indexed once
    (when first asked for).

    A Kustomization's variables are its ``substituteFrom`` ConfigMaps found in the
    repository (in order, later ones winning), then its inline ``substitute`` (which
    wins, as in Flux).  Secrets are never read.  A Kustomization without
    ``postBuild`` substitutes nothing, so its files get no variables: placeholders
    there are never judged.
    """

    def __init__(self, repo: Repo) -> None:
        self._repo = repo
        self._by_path: dict[str, tuple[VariableSet, ...]] = {}

    @functools.cached_property
    def _by_ks(self) -> dict[tuple[str | None, str], tuple[Mapping[str, str], frozenset[Any]]]:
        """Each Kustomization's variables (indexed when a document it deploys is asked
        about: none may be, when the clusters build every document)."""
        repo = self._repo
        configmaps: dict[tuple[str | None, str], dict[str, str]] = {}
        for doc in repo.documents:
            if doc.kind == "ConfigMap" and doc.api_version == "v1" and doc.name:
                data = {
                    str(key): value
                    for key, value in doc.map_at("data").items()
                    if isinstance(value, str)
                }
                # A ConfigMap in a component lands in every namespace that includes it.
                landed = (
                    (doc.namespace,) if doc.namespace else repo.all_namespaces_of_file(doc.path)
                )
                for namespace in landed or (None,):
                    configmaps[(namespace, doc.name)] = data
        by_ks: dict[tuple[str | None, str], tuple[Mapping[str, str], frozenset[Any]]] = {}
        for ks in repo.kustomizations:
            if ks.doc.get("spec", "postBuild") is None:
                continue
            merged: dict[str, str] = {}
            for source in ks.substitute_from:
                if source.kind == "ConfigMap":
                    merged.update(configmaps.get((ks.namespace, source.name), {}))
            merged.update(ks.substitute)
            by_ks[ks.key] = (merged, frozenset(merged.items()))
        return by_ks

    def of(self, path: str) -> tuple[VariableSet, ...]:
        """The distinct variable sets the Kustomizations deploying ``path`` apply."""
        found = self._by_path.get(path)
        if found is not None:
            return found
        sets: list[VariableSet] = []
        seen: set[frozenset[Any]] = set()
        for key in self._repo.deployed_by.get(path, ()):
            entry = self._by_ks.get(key)  # (indexed here, on first use)
            if entry is None or entry[1] in seen:
                continue
            variables, identity = entry
            seen.add(identity)
            namespace, name = key
            sets.append((f"{namespace}/{name}" if namespace else name, variables))
        result = tuple(sets)
        self._by_path[path] = result
        return result
