"""Validate manifest files resource by resource, as kubeconform reports them.

:func:`check_text` turns the text of one file (or standard input) into
:class:`Resource` results: each object of the stream, each item of a ``v1`` ``List``,
with a status: ``valid``, ``invalid`` (a schema violation or a duplicate key),
``error`` (unreadable YAML, no apiVersion/kind, a rejected kind, a missing schema when
that is an error) or ``skipped`` (a kind to skip, a missing schema when that is not an
error).  :class:`Policy` holds the choices (kubeconform's ``-skip``, ``-reject``,
``-ignore-missing-schemas``).  ``homelab-kit validate`` prints them
(:mod:`homelab_kit.schema.output`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import attrs

from homelab_kit.schema.registry import SchemaRegistry
from homelab_kit.schema.validate import is_list, list_items, validate
from homelab_kit.yaml import parse_text

Status = Literal["valid", "invalid", "error", "skipped"]
Severity = Literal["error", "warning"]


@attrs.frozen
class Problem:
    """One thing wrong with a resource: where, how bad, what (a schema or YAML code)."""

    line: int
    column: int
    severity: Severity
    code: str
    message: str


@attrs.frozen
class Resource:
    """One resource of a file and its verdict.

    ``api_version``/``kind``/``name``/``namespace`` are ``""`` when the object does not
    say; ``schema`` is where its schema came from (``""`` when none was used).
    """

    file: str
    line: int
    status: Status
    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    schema: str = ""
    problems: tuple[Problem, ...] = ()

    @property
    def title(self) -> str:
        """``Kind name`` as kubeconform names a resource."""
        return " ".join(part for part in (self.kind, self.name) if part) or "resource"

    @property
    def reference(self) -> str:
        """``apiVersion/Kind/namespace/name``, as kubeconform's TAP output names it."""
        return f"{self.api_version}/{self.kind}/{self.namespace}/{self.name}"


@attrs.frozen
class Policy:
    """What to do with kinds: skip or reject some, and how a missing schema counts.

    ``skip``/``reject`` entries are a kind (``Deployment``) or an apiVersion and kind
    (``apps/v1/Deployment``, ``v1/ReplicationController``).
    """

    missing_schema: Literal["error", "warning", "ignore"] = "error"
    skip: frozenset[str] = frozenset()
    reject: frozenset[str] = frozenset()
    variables: Mapping[str, str] | None = None

    def matches(self, names: frozenset[str], api_version: str, kind: str) -> bool:
        return kind in names or f"{api_version}/{kind}" in names


def check_text(file: str, text: str, registry: SchemaRegistry, policy: Policy) -> list[Resource]:
    """Every resource of ``text`` (the contents of ``file``), in order.

    A YAML problem belongs to the document it is in: a syntax error makes that document
    an ``error``, a duplicate key makes it ``invalid`` (kubeconform ``-strict``).
    """
    documents, yaml_problems = parse_text(text)
    per_document: dict[int, list[Problem]] = {}
    orphans: list[Problem] = []
    for problem in yaml_problems:
        owner = next(
            (d.index for d in documents if d.start_line <= problem.line <= d.end_line), None
        )
        item = Problem(problem.line, problem.column, "error", problem.code, problem.message)
        if owner is None:
            orphans.append(item)
        else:
            per_document.setdefault(owner, []).append(item)
    results: list[Resource] = []
    if orphans:
        results.append(Resource(file, orphans[0].line, "error", problems=tuple(orphans)))
    for document in documents:
        yaml_found = per_document.get(document.index, [])
        if document.data is None:
            if yaml_found:
                results.append(
                    Resource(
                        file,
                        document.start_line,
                        _yaml_status(yaml_found),
                        problems=tuple(yaml_found),
                    )
                )
            continue
        objects = list(_objects(document.data))
        for index, obj in enumerate(objects):
            # YAML problems are reported once, on the document's first resource.
            extra = yaml_found if index == 0 else []
            results.append(_check_object(file, obj, document.start_line, registry, policy, extra))
        if not objects and yaml_found:
            results.append(
                Resource(
                    file, document.start_line, _yaml_status(yaml_found), problems=tuple(yaml_found)
                )
            )
    return results


def _objects(data: Any) -> Iterator[Any]:
    """The resources of a document: itself, or the items of a List."""
    if is_list(data):
        yield from list_items(data)
    else:
        yield data


def _yaml_status(problems: Sequence[Problem]) -> Status:
    return "error" if any(p.code == "syntax" for p in problems) else "invalid"


def _position(obj: Any, fallback: int) -> tuple[int, int]:
    line = getattr(obj, "line", None)
    column = getattr(obj, "column", None)
    if isinstance(line, int) and line > 0:
        return line, column if isinstance(column, int) and column > 0 else 1
    return fallback, 1


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _check_object(
    file: str,
    obj: Any,
    start_line: int,
    registry: SchemaRegistry,
    policy: Policy,
    yaml_problems: Sequence[Problem],
) -> Resource:
    line, column = _position(obj, start_line)
    if not isinstance(obj, Mapping):
        problem = Problem(line, column, "error", "type", "expected a Kubernetes object (a mapping)")
        return Resource(file, line, "error", problems=(problem, *yaml_problems))
    metadata = obj.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    api_version, kind = _text(obj.get("apiVersion")), _text(obj.get("kind"))
    base = Resource(
        file,
        line,
        "valid",
        api_version,
        kind,
        _text(metadata.get("name")) or _text(metadata.get("generateName")),
        _text(metadata.get("namespace")),
    )
    if api_version and kind and policy.matches(policy.skip, api_version, kind):
        return attrs.evolve(base, status="skipped")
    if api_version and kind and policy.matches(policy.reject, api_version, kind):
        problem = Problem(line, column, "error", "rejected", f"prohibited resource kind {kind}")
        return attrs.evolve(base, status="error", problems=(problem,))
    problems: list[Problem] = list(yaml_problems)
    status: Status = _yaml_status(problems) if problems else "valid"
    validator = registry.validator_for(api_version, kind) if api_version and kind else None
    for violation in validate(obj, registry, variables=policy.variables):
        where = violation.position(obj) or (line, column)
        if violation.code == "no-schema":
            if policy.missing_schema == "ignore":
                status = "skipped" if status == "valid" else status
                continue
            severity: Severity = "error" if policy.missing_schema == "error" else "warning"
            problems.append(Problem(*where, severity, violation.code, violation.message))
            if severity == "error":
                status = "error"
            elif status == "valid":
                status = "skipped"
            continue
        if violation.code == "required" and violation.path == ():
            problems.append(Problem(*where, "error", violation.code, violation.message))
            status = "error"  # not a Kubernetes object: no apiVersion or kind
            continue
        advisory = validator is not None and validator.advisory
        severity = "warning" if advisory else "error"
        problems.append(Problem(*where, severity, violation.code, violation.message))
        if not advisory and status == "valid":
            status = "invalid"
    schema = validator.source if validator is not None else ""
    return attrs.evolve(base, status=status, schema=schema, problems=tuple(problems))


def summary_counts(resources: Sequence[Resource]) -> dict[str, int]:
    """Resources per status (``valid``, ``invalid``, ``error``, ``skipped``)."""
    counts = {"valid": 0, "invalid": 0, "error": 0, "skipped": 0}
    for resource in resources:
        counts[resource.status] += 1
    return counts
