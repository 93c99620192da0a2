"""Comparing the desired state of every cluster at two revisions, object by object.

An object is identified by its cluster, API group, kind, namespace and name (the
version is not part of it: ``v2beta2`` -> ``v2`` is a change, not a replacement).
Objects are compared as Flux applies them, keys sorted, so key order and
formatting never show; HelmReleases with their values merged as Helm receives
them (:mod:`homelab_kit.diff.values`).

Secret values never leave this module: a Secret's values, and every HelmRelease
value that came from a Secret, are replaced by ``<secret value>`` (``<secret
value, changed>`` on the side where it changed) before a diff is made, a
SOPS-encrypted document is reported only as changed, and as a last guard every
line is scrubbed of any value a Secret of either revision holds.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from homelab_kit.diff.values import Path, merged_values, secret_entries
from homelab_kit.location import Location
from homelab_kit.model.clusters import Cluster, DesiredObject, KsKey
from homelab_kit.model.secrets import is_sops_document
from homelab_kit.yaml import parse_text

SECRET = "<secret value>"
SECRET_CHANGED = "<secret value, changed>"
REDACTED = "<redacted>"
BOOTSTRAP = "(bootstrap)"
_HELM_GROUP = "helm.toolkit.fluxcd.io"
_MIN_SCRUBBED = 4  # shorter secret values are masked where they sit, not searched for

ObjectKey = tuple[str, str, str | None, str]  # group, kind, namespace, name


@attrs.frozen(order=True)
class ObjectChange:
    """One object added, removed or changed in one cluster.

    ``kustomization`` is the Flux Kustomization applying it (``namespace/name``, or
    ``(bootstrap)``); ``source`` where it is written (at head; at base when
    removed); ``notes`` one-line remarks (a chart version, the keys of a Secret
    that changed); ``diff`` the unified diff lines of a changed object.  Neither
    ever holds a secret value.
    """

    cluster: str
    kustomization: str
    status: str  # "added", "removed" or "changed"
    kind: str
    namespace: str | None
    name: str
    api_version: str = attrs.field(order=False)
    source: Location = attrs.field(order=False)
    notes: tuple[str, ...] = attrs.field(default=(), order=False)
    diff: tuple[str, ...] = attrs.field(default=(), order=False, repr=False)

    @property
    def title(self) -> str:
        """``Kind namespace/name`` (``Kind name`` when cluster-scoped)."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


@attrs.frozen
class BuildError:
    """A Flux Kustomization that cannot be built at head (and could at base, or differently)."""

    cluster: str
    kustomization: str
    message: str
    source: Location


@attrs.frozen
class DiffResult:
    """What every cluster would apply differently at ``head`` than at ``base``."""

    base: str
    head: str
    changes: tuple[ObjectChange, ...]
    errors: tuple[BuildError, ...] = ()
    clusters: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """``{"added": n, "removed": n, "changed": n}``."""
        out = {"added": 0, "removed": 0, "changed": 0}
        for change in self.changes:
            out[change.status] += 1
        return out

    def groups(self) -> list[tuple[str, str, list[ObjectChange]]]:
        """Changes grouped by (cluster, Kustomization), in order."""
        out: list[tuple[str, str, list[ObjectChange]]] = []
        for change in self.changes:
            if not out or out[-1][:2] != (change.cluster, change.kustomization):
                out.append((change.cluster, change.kustomization, []))
            out[-1][2].append(change)
        return out


def compare(
    base: Sequence[Cluster],
    head: Sequence[Cluster],
    *,
    base_label: str,
    head_label: str,
) -> DiffResult:
    """Compare the clusters of two revisions (matched by name)."""
    before = {c.name: c for c in base}
    after = {c.name: c for c in head}
    names = sorted(set(before) | set(after))
    scrub = _Scrubber(c for clusters in (base, head) for c in clusters)
    changes: list[ObjectChange] = []
    errors: list[BuildError] = []
    for name in names:
        found, failed = _compare_cluster(name, before.get(name), after.get(name), scrub)
        changes += found
        errors += failed
    return DiffResult(base_label, head_label, tuple(sorted(changes)), tuple(errors), tuple(names))


# --------------------------------------------------------------------------- one cluster


class _Side:
    """One cluster at one revision: its objects by identity, and a lookup for valuesFrom."""

    def __init__(self, cluster: Cluster | None) -> None:
        self.objects: dict[tuple[Any, ...], DesiredObject] = {}
        self.by_name: dict[tuple[str, str | None, str], Mapping[str, Any]] = {}
        self.failed: dict[KsKey, tuple[str, ...]] = {}
        self.sources: dict[KsKey, Location] = {}
        if cluster is None:
            return
        for ks in cluster.kustomizations:
            self.sources[ks.key] = ks.source
            if ks.errors:
                self.failed[ks.key] = ks.errors
        for obj in cluster.objects:
            key: tuple[Any, ...] = (obj.group, obj.kind, obj.namespace, obj.name)
            if key in self.objects:  # applied twice (a conflict Flux reports): keep both
                key = (*key, obj.applied_by)
            self.objects[key] = obj
            self.by_name.setdefault((obj.kind, obj.namespace, obj.name), obj.data)

    def lookup(self, kind: str, namespace: str | None, name: str) -> Mapping[str, Any] | None:
        return self.by_name.get((kind, namespace, name))


def _compare_cluster(
    name: str, base: Cluster | None, head: Cluster | None, scrub: _Scrubber
) -> tuple[list[ObjectChange], list[BuildError]]:
    before, after = _Side(base), _Side(head)
    skipped = set(before.failed) | set(after.failed)
    errors = [
        BuildError(name, _ks_label(key), message, after.sources.get(key, Location("")))
        for key, messages in after.failed.items()
        for message in messages
        if message not in before.failed.get(key, ())
    ]
    changes: list[ObjectChange] = []
    added: list[DesiredObject] = []
    removed: list[DesiredObject] = []
    for key in before.objects.keys() | after.objects.keys():
        old, new = before.objects.get(key), after.objects.get(key)
        if (old is not None and old.applied_by in skipped) or (
            new is not None and new.applied_by in skipped
        ):
            continue  # a Kustomization that did not build: its objects are not known
        if old is None and new is not None:
            added.append(new)
        elif new is None and old is not None:
            removed.append(old)
        elif old is not None and new is not None:
            found = _changed(name, old, new, before, after, scrub)
            if found is not None:
                changes.append(found)
    for old, new in _rehashed(removed, added):
        removed.remove(old)
        added.remove(new)
        found = _changed(name, old, new, before, after, scrub, force=True)
        if found is not None:
            note = f"name: {old.name} -> {new.name} (a generated name, its content hash)"
            changes.append(attrs.evolve(found, notes=(note, *found.notes)))
    changes += [_change(name, "added", new, _added_notes(new, after)) for new in added]
    changes += [_change(name, "removed", old) for old in removed]
    return changes, errors


_HASHED = re.compile(r"^(.+)-[a-z0-9]{10}$")


def _rehashed(
    removed: Sequence[DesiredObject], added: Sequence[DesiredObject]
) -> list[tuple[DesiredObject, DesiredObject]]:
    """Generated ConfigMaps and Secrets whose name changed only by kustomize's content hash.

    Paired only where exactly one object of that kind, namespace, stem and
    Kustomization left and exactly one came.
    """

    def stems(objects: Sequence[DesiredObject]) -> dict[tuple[Any, ...], list[DesiredObject]]:
        out: dict[tuple[Any, ...], list[DesiredObject]] = {}
        for obj in objects:
            match = _HASHED.match(obj.name)
            if match and obj.kind in ("ConfigMap", "Secret") and obj.group == "":
                out.setdefault((obj.kind, obj.namespace, match[1], obj.applied_by), []).append(obj)
        return out

    gone, came = stems(removed), stems(added)
    return [
        (gone[key][0], came[key][0])
        for key in gone.keys() & came.keys()
        if len(gone[key]) == 1 and len(came[key]) == 1
    ]


def _ks_label(key: KsKey | None) -> str:
    return BOOTSTRAP if key is None else f"{key[0]}/{key[1]}"


def _change(
    cluster: str,
    status: str,
    obj: DesiredObject,
    notes: Sequence[str] = (),
    diff: Sequence[str] = (),
) -> ObjectChange:
    return ObjectChange(
        cluster=cluster,
        kustomization=_ks_label(obj.applied_by),
        status=status,
        kind=obj.kind,
        namespace=obj.namespace,
        name=obj.name,
        api_version=obj.api_version,
        source=obj.source,
        notes=tuple(notes),
        diff=tuple(diff),
    )


def _added_notes(obj: DesiredObject, side: _Side) -> list[str]:
    if obj.group == _HELM_GROUP and obj.kind == "HelmRelease":
        chart = _chart(obj, side)
        return [f"chart: {chart}"] if chart else []
    return []


def _changed(
    cluster: str,
    old: DesiredObject,
    new: DesiredObject,
    before: _Side,
    after: _Side,
    scrub: _Scrubber,
    *,
    force: bool = False,
) -> ObjectChange | None:
    is_release = new.group == _HELM_GROUP and new.kind == "HelmRelease"
    if not is_release and old.data == new.data and not force:
        return None
    if is_sops_document(old.data) or is_sops_document(new.data):
        return _change(cluster, "changed", new, ["SOPS-encrypted: changed (content not shown)"])
    notes: list[str] = []
    a, b = _plain(old.data), _plain(new.data)
    if new.kind == "Secret" and new.group == "":
        a, b, keys = _mask_secret(old.data, new.data, a, b)
        if keys:
            notes.append(keys)
    if is_release:
        a, b, release_notes = _mask_release(old, new, before, after, a, b)
        notes += release_notes
    if a == b and not force and not any(n.startswith("chart") for n in notes):
        return None
    lines = [scrub(line) for line in _unified(a, b)] if a != b else []
    return _change(cluster, "changed", new, [scrub(n) for n in notes], lines)


def _unified(a: Any, b: Any) -> list[str]:
    from homelab_kit.render.cli import dump_yaml

    before = dump_yaml([_sorted(a)]).removeprefix("---\n").splitlines()
    after = dump_yaml([_sorted(b)]).removeprefix("---\n").splitlines()
    return list(difflib.unified_diff(before, after, "base", "head", n=3, lineterm=""))


# --------------------------------------------------------------------------- normalising


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _mask_secret(
    old: Mapping[str, Any], new: Mapping[str, Any], a: dict[str, Any], b: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Both Secrets with every value masked, and which keys changed (names only)."""
    was, now = secret_entries(old), secret_entries(new)
    for side, entries, other in ((a, was, None), (b, now, was)):
        for field in ("data", "stringData"):
            values = side.get(field)
            if not isinstance(values, dict):
                continue
            for key in values:
                differs = other is not None and key in other and other[key] != entries.get(key)
                values[key] = SECRET_CHANGED if differs else SECRET
    added = sorted(set(now) - set(was))
    removed = sorted(set(was) - set(now))
    changed = sorted(k for k in set(now) & set(was) if now[k] != was[k])
    parts = [
        f"{label}: {', '.join(keys)}"
        for label, keys in (
            ("keys added", added),
            ("keys removed", removed),
            ("keys changed", changed),
        )
        if keys
    ]
    return a, b, "; ".join(parts)


def _mask_release(
    old: DesiredObject,
    new: DesiredObject,
    before: _Side,
    after: _Side,
    a: dict[str, Any],
    b: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Both HelmReleases with their merged values, Secret-sourced values masked; notes."""
    old_values, old_secret, _ = merged_values(old.data, old.namespace, before.lookup)
    new_values, new_secret, notes = merged_values(new.data, new.namespace, after.lookup)
    secret_paths = old_secret | new_secret
    for path in secret_paths:
        was, was_there = _at(old_values, path)
        now, now_there = _at(new_values, path)
        if was_there:
            _put(old_values, path, SECRET)
        if now_there:
            _put(new_values, path, SECRET_CHANGED if was_there and was != now else SECRET)
    for side, values in ((a, old_values), (b, new_values)):
        spec = side.setdefault("spec", {})
        if isinstance(spec, dict):
            spec["values"] = _plain(values)
    old_chart, new_chart = _chart(old, before), _chart(new, after)
    if old_chart != new_chart:
        notes.insert(0, _chart_note(old_chart, new_chart))
    return a, b, notes


def _at(tree: Any, path: Path) -> tuple[Any, bool]:
    node = tree
    for part in path:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]  # type: ignore[index]
        else:
            return None, False
    return node, True


def _put(tree: Any, path: Path, value: Any) -> None:
    if not path:
        return
    parent, there = _at(tree, path[:-1])
    if there and isinstance(parent, (dict, list)):
        parent[path[-1]] = value  # type: ignore[index]


def _chart_note(old: str | None, new: str | None) -> str:
    """``chart NAME: 1.0.0 -> 1.1.0`` (both names when the chart itself changed)."""
    old_name, _, old_version = (old or "(none) ").rpartition(" ")
    new_name, _, new_version = (new or "(none) ").rpartition(" ")
    if old_name == new_name:
        return f"chart {new_name}: {old_version} -> {new_version}"
    return f"chart: {old or '(none)'} -> {new or '(none)'}"


def _chart(release: DesiredObject, side: _Side) -> str | None:
    """``name version`` of the chart a HelmRelease installs (through chartRef too)."""
    spec = release.get("spec", "chart", "spec")
    if isinstance(spec, Mapping):
        return f"{spec.get('chart')} {spec.get('version') or '(latest)'}"
    ref = release.get("spec", "chartRef")
    if not isinstance(ref, Mapping):
        return None
    kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
    namespace = ref.get("namespace") or release.namespace
    source = side.lookup(kind, namespace, name)
    if source is None:
        return f"{kind}/{name}"
    source_spec = source.get("spec")
    source_spec = source_spec if isinstance(source_spec, Mapping) else {}
    if kind == "OCIRepository":
        ref_spec = source_spec.get("ref")
        ref_spec = ref_spec if isinstance(ref_spec, Mapping) else {}
        version = ref_spec.get("tag") or ref_spec.get("semver") or ref_spec.get("digest")
        return f"{source_spec.get('url')} {version or '(latest)'}"
    return f"{source_spec.get('chart')} {source_spec.get('version') or '(latest)'}"


class _Scrubber:
    """Removes from a line every value a Secret of either revision holds (a last guard)."""

    def __init__(self, clusters: Iterable[Cluster]) -> None:
        values: set[str] = set()
        for cluster in clusters:
            for obj in cluster.objects:
                if obj.kind == "Secret" and obj.group == "" and not is_sops_document(obj.data):
                    for value in secret_entries(obj.data).values():
                        if value is not None:
                            values.update(_pieces(value))
        self.values = sorted(values, key=len, reverse=True)

    def __call__(self, line: str) -> str:
        for value in self.values:
            if value in line:
                line = line.replace(value, REDACTED)
        return line


def _pieces(value: str) -> set[str]:
    """What to search for of one secret value: itself, and each scalar of a YAML document in it."""
    found = {value.strip()}
    if "\n" in value:
        documents, problems = parse_text(value, "<secret>")
        if not problems:
            stack = [d.data for d in documents]
            while stack:
                node = stack.pop()
                if isinstance(node, Mapping):
                    stack.extend(node.values())
                elif isinstance(node, list):
                    stack.extend(node)
                elif node is not None and not isinstance(node, bool):
                    found.add(str(node).strip())
    return {p for p in found if len(p) >= _MIN_SCRUBBED}
