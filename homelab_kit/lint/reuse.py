"""Check results kept across runs: a check whose inputs did not change is not run again.

A check declares what it reads with its module's ``SCOPE`` (``Check.scope``):

- ``"file"``: its findings about a file depend on that file alone (its documents,
  problems, suppressions).  It runs only over the files whose content changed (a
  repository restricted to them); every other file keeps the findings it had.
- a tuple of :class:`~homelab_kit.model.repo.Repo` field names (``("helm_releases",
  "oci_repositories")``): it reads those fields (and ``apps_root`` and ``settings``)
  and nothing else; never the desired state (``Repo.clusters``, ``is_deployed``),
  which the renderer builds from the disk as well.  Its findings are kept whole while each field has
  the same content.
- None (the default, and every check written before scopes): it runs every time.

A declaration is enforced, not trusted: a scoped check runs over a copy of the
repository whose other fields raise :class:`OutOfScope` (a ``BaseException``, so a
check's own ``except Exception`` does not swallow it) on any use.  A check that
reaches outside its scope is run again over the whole repository and its findings
are not kept, so a wrong declaration costs time, never a finding.

Each result is kept under a key made of the tool's and plugins' versions, the
configuration, the check's options and the content of what it read: the field's
files' SHA-256 for ``files``, ``documents`` and ``patch_documents``, the pickled
value for any other field (a document or file in it by its file's SHA-256).  A
field whose content cannot be keyed (a value that does not pickle) makes the check
run, unkept.

A check whose findings depend on each cluster's desired state runs every time, but
may keep what it works out about each object: :func:`per_object` gives it a table
kept across runs, keyed by what the object is (see :class:`ObjectResults`), so that
after one change only the changed objects are worked out again.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import pickle
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from homelab_kit.diagnostic import Diagnostic
from homelab_kit.model.base import DocumentRef
from homelab_kit.model.kept import REUSE
from homelab_kit.model.repo import Repo
from homelab_kit.yaml import YamlFile

if TYPE_CHECKING:
    from homelab_kit.model.clusters import ClusterKustomization

FILE = "file"
# What every scope may read: the configuration (part of every key).  Not ``root``: a
# check that reads the disk through it reads what no digest covers.
ALWAYS = frozenset({"apps_root", "settings"})
# Memoised in a Repo, built from the disk as well as its fields (the renderer reads
# files the loader did not parse): never in scope.
_DESIRED_STATE = ("_clusters", "_deployed")
# What a "file" scope reads, restricted to the changed files.
FILE_FIELDS = ("files", "documents", "patch_documents")
# Where the kept results hold the files' signatures (no check ID has a ``#``).
SIGNATURES = "#signatures"
# Where they hold the tables of results per object (:func:`per_object`).
OBJECTS = "#objects"
# Where a Repo being linted with a cache holds its Reuse (``Repo._memo``): the slot
# the model reads its own tables from (homelab_kit.model.kept).
_REUSE = REUSE

T = TypeVar("T")
_ABSENT = object()  # not in a stored table

Outcome = tuple[bool, list[Diagnostic]]  # (crashed, its diagnostics or the internal error)


class OutOfScope(BaseException):
    """A scoped check used a part of the repository its ``SCOPE`` does not name."""


class _Forbidden:
    """Stands in for a field outside a check's scope: every use raises."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "name", name)

    def _deny(self, *args: Any, **kwargs: Any) -> Any:
        raise OutOfScope(object.__getattribute__(self, "name"))

    def __getattr__(self, attribute: str) -> Any:
        raise OutOfScope(object.__getattribute__(self, "name"))

    __iter__ = __len__ = __getitem__ = __contains__ = __bool__ = __call__ = _deny
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = _deny
    __truediv__ = __rtruediv__ = __add__ = __radd__ = __mod__ = __or__ = __ror__ = _deny
    __and__ = __rand__ = __sub__ = __rsub__ = __fspath__ = __index__ = __int__ = _deny
    __str__ = __repr__ = __format__ = __reversed__ = __enter__ = __setattr__ = _deny


def field_names() -> tuple[str, ...]:
    """Every field of :class:`Repo` a scope may name."""
    return tuple(f.name for f in attrs.fields(Repo) if not f.name.startswith("_"))


def validate_scope(scope: Any) -> str | None:
    """Why ``scope`` is not a valid ``SCOPE``, or None when it is."""
    if scope is None or scope == FILE:
        return None
    if not isinstance(scope, tuple) or not all(isinstance(s, str) for s in scope):
        return f"SCOPE must be None, {FILE!r} or a tuple of Repo field names, not {scope!r}"
    unknown = sorted(set(scope) - set(field_names()))
    if unknown:
        return f"SCOPE names {', '.join(unknown)}, which are not Repo fields"
    return None


class Reuse:
    """The check results of one run: answered from the stored ones where still valid.

    :param repo: the loaded repository.
    :param stored: what :meth:`kept` returned on the previous run (or anything else:
        ignored).
    :param salt: what every result depends on besides the check (tool and plugin
        versions, the configuration).
    """

    def __init__(self, repo: Repo, stored: Any, salt: str) -> None:
        self.repo = repo
        self._stored: Mapping[str, Any] = stored if isinstance(stored, dict) else {}
        self._salt = salt
        self._digests: dict[str, str | None] = {}
        self._scoped: dict[tuple[str, ...], Repo] = {}
        self._signatures: dict[str, Any] | None = None
        self._by_paths: dict[frozenset[str], Repo] = {}
        self.kept: dict[str, Any] = {}
        self.reused = 0  # checks answered wholly from the stored results
        self.ran = 0  # checks (or a file-scoped check's changed files) run
        self.tables: dict[str, ObjectResults] = {}  # per_object's, by table key
        # Names of the desired state's objects covering their provenance (see
        # :func:`placed_names`): worked out on first use.
        self._placed: dict[int, tuple[Mapping[str, Any], str | None]] | None = None
        # Tables check processes used (see :meth:`share`): by table key, each one's
        # pickled values (None: they did not pickle), values reused, values worked out.
        self.returned: dict[str, list[tuple[bytes | None, int, int]]] = {}
        repo._memo[_REUSE] = self

    # ------------------------------------------------------------------ per object

    def per_object(self, name: str, context: str, provenance: bool = False) -> ObjectResults:
        """The table ``name`` under ``context`` (see :func:`per_object`)."""
        salted = f"{self._salt}\0{name}\0{context}\0{'placed' if provenance else ''}"
        table = hashlib.sha256(salted.encode("utf-8", "surrogatepass")).hexdigest()
        found = self.tables.get(table)
        if found is None:
            stored = self._stored.get(OBJECTS)
            payload = stored.get(table) if isinstance(stored, dict) else None
            identities = self.placed_names() if provenance else self.built_names()
            found = self.tables[table] = ObjectResults(
                self.repo, identities, _loaded(payload), placed=provenance
            )
        return found

    def built_names(self) -> Mapping[int, tuple[Mapping[str, Any], str | None]]:
        """What the build session named each built object (by the id of its data)."""
        from homelab_kit.lint import OBJECT_IDENTITIES

        found = self.repo._memo.get(OBJECT_IDENTITIES)
        return found if isinstance(found, dict) else {}

    def placed_names(self) -> Mapping[int, tuple[Mapping[str, Any], str | None]]:
        """Each built object's name covering its provenance too (:func:`placed_names`)."""
        if self._placed is None:
            self._placed = placed_names(self.repo, self.built_names())
        return self._placed

    def keep_tables(self) -> None:
        """Put every table used this run, here or in a check process, in :attr:`kept`
        (only the objects asked about, so that what no longer exists is dropped)."""
        tables: dict[str, bytes] = {}
        for table in {**self.tables, **self.returned}:
            found = self._table_payload(table)
            if found is not None:
                tables[table] = found
        if tables:
            self.kept[OBJECTS] = tables

    def _table_payload(self, table: str) -> bytes | None:
        """The pickled values of ``table`` this run, from this process and the check
        processes (None: nothing that pickles).  A table one process alone used is
        kept as that process pickled it."""
        from homelab_kit.yaml.reader import dumps_parsed

        here = self.tables.get(table)
        payloads = [p for p, _, _ in self.returned.get(table, ()) if p is not None]
        if here is None and len(payloads) == 1:
            return payloads[0]
        values: dict[str, Any] = {}
        for payload in payloads:
            values.update(_loaded(payload))
        if here is not None:
            values.update(here.kept)
        try:
            return dumps_parsed(values) if values or here is not None else None
        except Exception:  # a value that does not pickle: not kept, worked out again
            return None

    def object_counts(self) -> tuple[int, int]:
        """(values reused, values worked out) of every table this run, in this process
        and in the check processes."""
        reused = sum(t.reused for t in self.tables.values())
        computed = sum(t.computed for t in self.tables.values())
        for parts in self.returned.values():
            reused += sum(r for _, r, _ in parts)
            computed += sum(c for _, _, c in parts)
        return reused, computed

    # ------------------------------------------------------------------ check processes

    def forked(self) -> None:
        """In a forked check process, before each group of checks: record from now
        on only what this group does.

        What it keeps (:meth:`share`) is merged by the process that forked this one
        (:meth:`merge`), so the next run reuses what it would had every check run
        in one process.  A table already read keeps its stored values (not read
        again) and starts with nothing asked about.
        """
        self.kept = {}
        self.reused = self.ran = 0
        self.returned = {}
        self.tables = {
            key: ObjectResults(t._repo, t._identities, t._stored, placed=t.placed)
            for key, t in self.tables.items()
        }

    def share(self) -> dict[str, Any]:
        """What this check process kept since :meth:`forked`, for :meth:`merge`.

        A table whose values do not pickle goes back without them: they are worked
        out again next run, as they are when one process cannot keep them.
        """
        from homelab_kit.yaml.reader import dumps_parsed

        tables: dict[str, tuple[bytes | None, int, int]] = {}
        for key, table in self.tables.items():
            if not (table.kept or table.reused or table.computed):
                continue  # read before the fork, not used here
            try:
                payload: bytes | None = dumps_parsed(table.kept)
            except Exception:
                payload = None
            tables[key] = (payload, table.reused, table.computed)
        try:
            kept: bytes | None = dumps_parsed(self.kept)
        except Exception:  # a scoped check's finding that does not pickle: run again
            kept = None
        return {"kept": kept, "reused": self.reused, "ran": self.ran, "tables": tables}

    def merge(self, shared: Any) -> None:
        """Add what a check process kept (its :meth:`share`) to this run's."""
        if not isinstance(shared, dict):
            return
        kept = _loaded(shared.get("kept"))
        for key, value in kept.items():
            if key != OBJECTS:
                self.kept[key] = value
        self.reused += int(shared.get("reused", 0))
        self.ran += int(shared.get("ran", 0))
        tables = shared.get("tables")
        for key, part in (tables if isinstance(tables, dict) else {}).items():
            self.returned.setdefault(key, []).append(part)

    # ------------------------------------------------------------------ running

    def run(self, check: Any, options: Any, run: Callable[[Repo], Outcome]) -> Outcome:
        """The outcome of ``check``: stored, or ``run`` over the repository it may read."""
        scope = check.scope
        if scope is None or validate_scope(scope) is not None:
            return run(self.repo)
        key = self._key(check, options, () if scope == FILE else scope)
        if key is None:
            return run(self.repo)
        if scope == FILE:
            return self._per_file(check.id, key, run)
        stored = self._stored.get(check.id)
        if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key:
            self.kept[check.id] = stored
            self.reused += 1
            return False, list(stored[1])
        self.ran += 1
        try:
            outcome = run(self._restricted(scope))
        # A check's own errors come back as its outcome; an Exception here is the
        # restricted copy that could not be made: the whole repository, unkept.
        except (OutOfScope, Exception):
            return run(self.repo)  # reached beyond its declaration: run whole, keep nothing
        if not outcome[0]:
            self.kept[check.id] = (key, tuple(outcome[1]))
        return outcome

    def _per_file(self, check_id: str, key: str, run: Callable[[Repo], Outcome]) -> Outcome:
        """A file-scoped check over the files whose signature changed since its last run.

        Kept: the check's findings by file; the files' signatures are kept once for
        every file-scoped check (``SIGNATURES``), as this run saw them.
        """
        stored = self._stored.get(check_id)
        before_signatures = self._stored.get(SIGNATURES)
        before: Mapping[str, Any] | None = None
        if (
            isinstance(stored, tuple)
            and len(stored) == 2
            and stored[0] == key
            and isinstance(stored[1], dict)
            and isinstance(before_signatures, dict)
        ):
            before = stored[1]
        signatures = self._file_signatures()
        if before is None:
            changed = set(signatures)
        else:
            changed = {
                path
                for path, signature in signatures.items()
                if signature is None or before_signatures.get(path) != signature  # type: ignore[union-attr]
            }
        found: list[Diagnostic] = []
        if changed:
            self.ran += 1
            try:
                crashed, found = run(self._files_only(changed))
            except (OutOfScope, Exception):
                return run(self.repo)
            if crashed:
                return crashed, found
            if any(d.location.path not in changed for d in found):
                return run(self.repo)  # a finding about another file: not file-scoped
        else:
            self.reused += 1
        by_path: dict[str, list[Diagnostic]] = {}
        for diag in found:
            by_path.setdefault(diag.location.path, []).append(diag)
        table = {p: tuple(d) for p, d in by_path.items() if signatures.get(p) is not None}
        out = list(found)
        if before is not None:
            for path, diags in before.items():
                if path in signatures and path not in changed:
                    table[path] = diags
                    out += diags
        self.kept[check_id] = (key, table)
        self.kept[SIGNATURES] = signatures
        return False, out

    # ------------------------------------------------------------------ keys

    def _key(self, check: Any, options: Any, fields: tuple[str, ...]) -> str | None:
        h = hashlib.sha256()
        for part in (self._salt, check.id, check.plugin, repr(options)):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        for name in sorted(set(fields)):
            digest = self._digest(name)
            if digest is None:
                return None
            h.update(f"{name}\0{digest}\0".encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    def _digest(self, name: str) -> str | None:
        if name not in self._digests:
            self._digests[name] = _digest(self.repo, name)
        return self._digests[name]

    def _file_signatures(self) -> dict[str, Any]:
        """Per file, what a file-scoped check's findings about it depend on: its content
        and which of its documents are objects and which patches (None: unknown)."""
        if self._signatures is None:
            documents: dict[str, list[int]] = {}
            patches: dict[str, list[int]] = {}
            for doc in self.repo.documents:
                documents.setdefault(doc.path, []).append(doc.index)
            for doc in self.repo.patch_documents:
                patches.setdefault(doc.path, []).append(doc.index)
            self._signatures = {
                path: (
                    (yfile.sha256, tuple(documents.get(path, ())), tuple(patches.get(path, ())))
                    if yfile.sha256
                    else None
                )
                for path, yfile in self.repo.files.items()
            }
        return self._signatures

    # ------------------------------------------------------------------ restricted repos

    def _restricted(self, scope: tuple[str, ...]) -> Repo:
        """The repository with every field outside ``scope`` forbidden (one per scope, so
        checks of the same scope share its indexes)."""
        allowed = frozenset(scope) | ALWAYS
        key = tuple(sorted(allowed))
        if key not in self._scoped:
            forbidden: dict[str, Any] = {
                name: _Forbidden(name) for name in field_names() if name not in allowed
            }
            self._scoped[key] = _without_desired_state(attrs.evolve(self.repo, **forbidden))
        return self._scoped[key]

    def _files_only(self, paths: set[str]) -> Repo:
        """The repository restricted to ``paths``: their files and documents, nothing else
        (one per set of paths: file-scoped checks usually share theirs)."""
        key = frozenset(paths)
        if key not in self._by_paths:
            self._by_paths[key] = self._restrict_to(paths)
        return self._by_paths[key]

    def _restrict_to(self, paths: set[str]) -> Repo:
        repo = self.repo
        forbidden: dict[str, Any] = {
            name: _Forbidden(name)
            for name in field_names()
            if name not in ALWAYS and name not in FILE_FIELDS
        }
        restricted = attrs.evolve(
            repo,
            **forbidden,
            files={p: f for p, f in repo.files.items() if p in paths},
            documents=tuple(d for d in repo.documents if d.path in paths),
            patch_documents=tuple(d for d in repo.patch_documents if d.path in paths),
        )
        return _without_desired_state(restricted)


def _without_desired_state(repo: Repo) -> Repo:
    for name in _DESIRED_STATE:
        repo._memo[name] = _Forbidden("clusters")
    return repo


def _digest(repo: Repo, name: str) -> str | None:
    """The content of ``repo``'s field ``name`` as a hex digest; None when it cannot be keyed."""
    h = hashlib.sha256()
    if name == "files":
        for path, yfile in repo.files.items():
            if not yfile.sha256:
                return None
            h.update(f"{path}\0{yfile.sha256}\0".encode("utf-8", "surrogatepass"))
        return h.hexdigest()
    if name in ("documents", "patch_documents"):
        # A document is its file's content at an index: the file's SHA-256 says it all.
        for doc in getattr(repo, name):
            found = repo.files.get(doc.path)
            if found is None or not found.sha256:
                return None
            h.update(f"{doc.path}\0{doc.index}\0{found.sha256}\0".encode("utf-8", "surrogatepass"))
        return h.hexdigest()
    value = getattr(repo, name)
    if isinstance(value, set | frozenset):
        value = sorted(value, key=repr)
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, 5)
    # A document or file is its file's content: keyed by its SHA-256, not pickled.
    shas = {path: yfile.sha256 for path, yfile in repo.files.items()}
    pickler.dispatch_table = {
        **copyreg.dispatch_table,
        DocumentRef: lambda d: (tuple, ((d.path, d.index, d.start_line, shas.get(d.path)),)),
        YamlFile: lambda f: (tuple, ((f.path, f.sha256 or None),)),
    }
    # No memo: equal values give equal bytes however their objects are shared.
    pickler.fast = True
    try:
        pickler.dump(value)
    except Exception:
        return None
    h.update(buffer.getvalue())
    return h.hexdigest()


# What a cluster's build looks up by name for ``postBuild.substituteFrom``.
_SOURCE_KINDS = frozenset({"ConfigMap", "Secret"})


def placed_names(
    repo: Repo, built: Mapping[int, tuple[Mapping[str, Any], str | None]]
) -> dict[int, tuple[Mapping[str, Any], str | None]]:
    """Each built object of every cluster named by what it is *and* where its fields
    are placed (its provenance), by the id of its data.

    ``built`` names an object by its build alone (the Flux Kustomization's key and
    the files and folders the build read: :class:`homelab_kit.build_cache.BuildSession`),
    which fixes the object's content and the provenance kustomize records.  What
    the model adds after the build depends on more: a field a Flux Kustomization's
    ``spec.patches`` or ``targetNamespace`` set is placed in the file that Kustomization
    was written in, or in its parent's patch, up the chain
    (:mod:`homelab_kit.model.spec_origins`,
    :func:`~homelab_kit.model.applied_fields.flux_patch_location`); a ``${VAR}`` it
    filled names the ``substituteFrom`` ConfigMap or Secret key it came from
    (:mod:`homelab_kit.model.substituted`); and values name the cluster.  So an
    object's name here also covers the name of the Flux Kustomization that built it,
    as its parent's build made it (the file it is written in is one that build read),
    and the names of the ConfigMaps and Secrets of the names its ``substituteFrom``
    lists built before it, recursively up to the cluster's entry point, whose
    objects are named by the cluster, the file they are written in (its SHA-256) and
    their place in it.  A change to a parent's patch, to the lines of a Flux
    Kustomization's file or to a ``substituteFrom`` source renames every object whose
    provenance it may move.  An object of a build ``built`` does not name (a binary's,
    a failed one), of a Kustomization so built, or whose data two clusters share,
    is named None: its values are always worked out.
    """
    out: dict[int, tuple[Mapping[str, Any], str | None]] = {}
    shared: set[int] = set()

    def named(data: Mapping[str, Any], name: str | None) -> None:
        if id(data) in out:  # one data in two clusters' objects: named in neither
            shared.add(id(data))
        out[id(data)] = (data, name)

    for cluster in repo.clusters:
        # by the id of each object's data: its name (None: it has none)
        names: dict[int, str | None] = {}
        # ConfigMaps and Secrets so far, by metadata name and namespace (None: none
        # written, so any): their names, in build order
        sources: dict[tuple[str, str | None], list[str | None]] = {}
        for obj in cluster.objects:
            if obj.applied_by is not None:
                continue  # built by a Flux Kustomization: named below
            names[id(obj.data)] = _seed_name(repo, cluster.name, cluster.entry, obj)
            named(obj.data, names[id(obj.data)])
            if obj.kind in _SOURCE_KINDS:
                sources.setdefault((obj.name, obj.namespace), []).append(names[id(obj.data)])
        for ks in cluster.kustomizations:
            context = _built_by(names.get(id(ks.object.data)), ks, sources)
            # One build names its objects "<build>:<number>": the build and the context
            # hashed once (short names: every kept value's key holds one).
            prefixes: dict[str, str] = {}
            for obj in ks.objects:
                data = obj.data
                key = id(data)
                name: str | None = None
                found = built.get(key)
                if context is not None and found is not None and found[0] is data and found[1]:
                    made, _, number = found[1].rpartition(":")
                    prefix = prefixes.get(made)
                    if prefix is None:
                        text = f"{made}\0{context}".encode("utf-8", "surrogatepass")
                        prefix = prefixes[made] = hashlib.sha256(text).hexdigest()[:32]
                    name = f"{prefix}:{number}"
                names[key] = name
                if key in out:
                    shared.add(key)
                out[key] = (data, name)
                if obj.kind in _SOURCE_KINDS:
                    sources.setdefault((obj.name, obj.namespace), []).append(name)
    for key in shared:
        out[key] = (out[key][0], None)
    return out


def _seed_name(repo: Repo, cluster: str, entry: str, obj: Any) -> str:
    """A cluster's own object (an entry point's, applied by bootstrap): the cluster, and
    the content of the file it is written in at its place (its data is that file's)."""
    source = obj.source
    found = repo.files.get(source.path)
    sha = found.sha256 if found is not None and found.sha256 else ""
    text = f"{cluster}\0{entry}\0{source.path}\0{source.line}\0{source.column}\0{sha}"
    if not sha:  # not a file's document (bootstrap's synthetic Kustomization): its content
        text += f"\0{obj.data!r}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _built_by(
    name: str | None,
    ks: ClusterKustomization,
    sources: Mapping[tuple[str, str | None], list[str | None]],
) -> str | None:
    """What every object a Flux Kustomization builds is named by besides its build: the
    Kustomization's own name and the names of the ``substituteFrom`` sources built
    before it in its namespace or of none (None: one of them has no name)."""
    if name is None:
        return None
    refs = ks.object.get("spec", "postBuild", "substituteFrom")
    if not isinstance(refs, list) or not refs:
        return name
    parts = [name]
    wanted = {r.get("name") for r in refs if isinstance(r, Mapping)}
    for source in sorted(n for n in wanted if isinstance(n, str)):
        for namespace in (ks.namespace, None):
            for found in sources.get((source, namespace), ()):
                if found is None:
                    return None
                parts.append(found)
    return "\0".join(parts)


def _loaded(payload: Any) -> dict[str, Any]:
    """A stored table, read back by the cache's restricted unpickler ({} if it cannot be)."""
    if not isinstance(payload, bytes):
        return {}
    from homelab_kit.cache import loads_models

    try:
        table = loads_models(payload)
    except Exception:  # a value of a class the unpickler refuses: worked out again
        return {}
    return table if isinstance(table, dict) else {}


class ObjectResults:
    """What a check worked out about each object, kept across runs by what the object is.

    An object is named by what made it: an object a Flux Kustomization build produced,
    by the build's inputs and the content of every file and folder it read (so an
    unchanged build names its objects the same, positions included), and in a table
    of values that depend on its provenance, by that as well (:func:`placed_names`);
    a document read as written, by its file's SHA-256 and its place in the file.  An
    object named neither way (a binary's build, a failed one) is always worked out.

    Use it through :func:`per_object`; without a cache (``--no-cache``, library calls)
    every value is worked out, as if nothing were kept.
    """

    def __init__(
        self,
        repo: Repo | None,
        identities: Mapping[int, tuple[Mapping[str, Any], str | None]],
        stored: Mapping[str, Any],
        *,
        placed: bool = False,
    ) -> None:
        self._repo = repo
        self._identities = identities
        self._stored = stored
        # Whether objects are named by their provenance too (per_object's ``provenance``).
        self.placed = placed
        self.kept: dict[str, Any] = {}
        # Whether values are kept across runs (False without a cache: all worked out).
        self.keeps = repo is not None
        self.reused = 0  # values answered from the stored table
        self.computed = 0  # values worked out

    def get(self, subject: Any, compute: Callable[[], T], *extra: Hashable) -> T:
        """What ``compute()`` returns for ``subject``: kept from an earlier run when
        ``subject`` (and ``extra``) are the same, else worked out now (and kept).

        :param subject: a :class:`~homelab_kit.model.clusters.DesiredObject`, an
            :class:`~homelab_kit.model.applied.AppliedDocument` or a
            :class:`~homelab_kit.model.base.DocumentRef`: what ``compute`` judges.
        :param compute: a function of ``subject``'s content (``data``: the object
            as applied, positions included) and of ``extra`` only; it returns what
            the cache may hold (homelab-kit's value classes, standard types).
        :param extra: anything else the value depends on, by its ``repr``.
        """
        name = self.name(subject)
        if name is None:
            return compute()
        key = f"{name}\0{extra!r}" if extra else name
        stored = self._stored.get(key, _ABSENT)
        if stored is not _ABSENT:
            value = stored
            self.reused += 1
        else:
            value = compute()
            self.computed += 1
        self.kept[key] = value
        return value  # type: ignore[no-any-return]

    def name(self, subject: Any) -> str | None:
        """What ``subject`` is named by in this table (None: it has no name, and its
        values are always worked out).  For a value that depends on another object
        too: pass that object's name as an ``extra`` of :meth:`get`."""
        data = getattr(subject, "data", None)
        if data is None or self._repo is None:
            return None
        built = self._identities.get(id(data))  # (the data, its name)
        if built is None or built[0] is not data:
            # A document as read from its file is named by that file alone, which
            # does not say where the Flux Kustomizations above it place it: a table
            # by provenance works it out every run.
            return None if self.placed else self._written(subject, data)
        name = built[1]
        if name is None or not self.placed:
            return name
        # The same object read as another kind of subject (a document, a cluster's
        # applied copy) may be worked out otherwise: named apart.
        return f"{name}\0{type(subject).__name__}\0{getattr(subject, 'cluster', None)}"

    def _written(self, subject: Any, data: Any) -> str | None:
        """The name of a document as read from its file (None: it is not one)."""
        if not isinstance(subject, DocumentRef) or self._repo is None:
            return None
        found = self._repo.files.get(subject.path)
        if found is None or not found.sha256:
            return None
        index, documents = subject.index, found.documents
        if not (  # documents are in index order: the one at its index, else any
            0 <= index < len(documents) and documents[index].data is data
        ) and not any(d.index == index and d.data is data for d in documents):
            return None  # not the document as read from its file
        return f"{subject.path}\0{index}\0{found.sha256}"


def per_object(
    repo: Repo, name: str, context: str | None = "", *, provenance: bool = False
) -> ObjectResults:
    """A table of what a check works out per object, kept across runs of ``lint``.

    For a check that reads the desired state: it runs every time (its findings may
    depend on any object), but the costly part it works out for each object on its
    own (validating it against its schema, say) is kept by what the object is, so
    that after one change only the changed objects are worked out again.

    :param repo: the repository the check was given.
    :param name: the table's name: the check's ID, or a name its plugin's checks share.
    :param context: everything besides the object that every value depends on (a
        Kubernetes version, a digest of the CRDs); a table under another context
        starts empty.  The configuration and the plugins are always part of it.
        None: it cannot be said this run (every value is worked out, nothing kept).
    :param provenance: the values depend on where the object's fields are edited
        too (they hold locations from ``doc.location(...)``, a finding's place, the
        cluster's name): objects are then named by their provenance as well
        (:func:`placed_names`), so a parent's patch, a Flux Kustomization's file or
        a ``substituteFrom`` source changed works out again every object it may move.
        False (the default): by what the object is, which changes less often.
    :returns: the table (:meth:`ObjectResults.get`); without a cache, one that
        keeps nothing.

    >>> table = per_object(repo, "my-plugin/validate", context=version)  # doctest: +SKIP
    >>> table.get(obj, lambda: judge(obj.data))  # doctest: +SKIP
    """
    reuse = repo._memo.get(_REUSE)
    if context is not None and isinstance(reuse, Reuse) and reuse.repo is repo:
        return reuse.per_object(name, context, provenance)
    return ObjectResults(None, {}, {})
