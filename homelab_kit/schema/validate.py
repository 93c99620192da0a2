"""Validate Kubernetes objects against their schemas, with positions people can use.

::

    registry = SchemaRegistry("v1.33.4", crds=crd_documents)
    for violation in validate(document.data, registry, variables={"APP": "grafana"}):
        line, column = violation.position(document.data) or (0, 0)
        print(f"{line}:{column}: {violation.message}")

:func:`validate_stream` does the same for the text of a multi-document YAML file
(what ``homelab-kit validate FILE|-`` prints).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeGuard

import attrs

from homelab_kit.schema.compiler import Check, Context, describe, kind_of
from homelab_kit.schema.placeholders import substitute
from homelab_kit.schema.violation import SchemaViolation
from homelab_kit.yaml import YMap, parse_text

if TYPE_CHECKING:
    from homelab_kit.schema.registry import SchemaRegistry


@attrs.frozen
class Validator:
    """The compiled schema of one kind.

    ``source`` says where the schema came from (``kubernetes 1.33``,
    ``homelab-kit helm.toolkit.fluxcd.io_helmrelease_v2.json``, ``CRD <name>``,
    ``bundled catalog <group>/<kind>_<version>.json`` or a file path); ``schema`` is the
    JSON schema itself.  ``advisory`` marks a schema that may not match the
    operator release the cluster runs (a bundled one): its violations may be fields
    added or changed since.
    """

    api_version: str
    kind: str
    source: str
    schema: Mapping[str, Any] = attrs.field(repr=False, eq=False)
    check: Check = attrs.field(repr=False, eq=False)
    advisory: bool = False

    def validate(
        self, obj: Any, variables: Mapping[str, str] | None = None, *, redact: bool = False
    ) -> list[SchemaViolation]:
        """Every violation of ``obj``, sorted by position (then path and message).

        With ``redact`` (always for a Secret) messages describe values by type only.
        """
        secret = self.kind == "Secret" and self.api_version == "v1"
        ctx = Context(variables, redact=redact or secret)
        try:
            self.check(obj, None, ctx)
        except RecursionError:
            ctx.errors.append(
                SchemaViolation((), "the object is nested too deeply to validate", "other")
            )
        return _sorted(ctx.errors, obj)


def _sorted(violations: list[SchemaViolation], root: Any) -> list[SchemaViolation]:
    if len(violations) < 2:  # most objects: nothing to order, no position to look up
        return violations
    unique = list(dict.fromkeys(violations))
    located = isinstance(root, YMap)

    def key(violation: SchemaViolation) -> tuple[Any, ...]:
        position = violation.position(root) if located else None
        return (
            position or (0, 0),
            tuple((0, p) if isinstance(p, int) else (1, str(p)) for p in violation.path),
            violation.code,
            violation.message,
        )

    return sorted(unique, key=key)


def validate(
    obj: Any,
    registry: SchemaRegistry,
    *,
    variables: Mapping[str, str] | None = None,
    partial: bool = False,
    redact: bool = False,
) -> list[SchemaViolation]:
    """Validate one parsed Kubernetes object; return its violations, sorted.

    With ``redact=True`` no message quotes a value (an object that may hold values
    substituted from a Secret); a Secret's values are never quoted anyway.

    With ``partial=True`` the object is a patch (a kustomize or Flux ``patches``
    entry): missing required fields are not reported, everything else is.

    * A top-level ``sops`` key (SOPS metadata) is ignored, and SOPS ciphertext values
      are never judged.
    * ``variables`` are Flux ``postBuild`` substitutions: known ``${VAR}`` placeholders
      are replaced before a value is judged; unknown ones never cause an error.
    * An object without ``apiVersion``/``kind`` gives one ``required`` violation; a kind
      without any schema gives one ``no-schema`` violation (callers decide whether that
      is a warning, an error or nothing).
    """
    if not isinstance(obj, (dict, Mapping)):  # dict first: no ABC check for YMap and dict
        found = kind_of(obj)
        what = {"a": "a list", "s": "a string", "n": "an empty document"}.get(found, "a scalar")
        return [
            SchemaViolation((), f"expected a Kubernetes object (a mapping), got {what}", "type")
        ]
    if "sops" in obj and isinstance(obj.get("sops"), Mapping):
        obj = _without_sops(obj)
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if _plain(api_version) and _plain(kind) and (api_version != "v1" or kind != "List"):
        # The usual object: its kind's validator, without the checks below for the rest.
        validator = registry.validator_for(api_version, kind)
        if validator is not None:
            violations = validator.validate(obj, variables, redact=redact)
            return [v for v in violations if v.code != "required"] if partial else violations
    if is_list(obj):
        return _validate_list(obj, registry, variables, partial)
    type_meta: dict[str, str] = {}
    problems: list[SchemaViolation] = []
    for field in ("apiVersion", "kind"):
        value = obj.get(field)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            problems.append(
                SchemaViolation(
                    (field,), f"{field}: expected string, got {describe(value)}", "type"
                )
            )
            continue
        resolved = substitute(value, variables)
        if resolved is None:
            return [
                SchemaViolation(
                    (field,),
                    f"{field} {value!r} holds a placeholder; the object was not validated",
                    "no-schema",
                )
            ]
        type_meta[field] = resolved
    if problems:
        return problems
    missing = [f for f in ("apiVersion", "kind") if f not in type_meta]
    if missing:
        names = " and ".join(repr(m) for m in missing)
        return [SchemaViolation((), f"not a Kubernetes object: missing {names}", "required", True)]
    api_version, kind = type_meta["apiVersion"], type_meta["kind"]
    validator = registry.validator_for(api_version, kind)
    if validator is None:
        if registry.is_native_group(api_version):
            reason = f"Kubernetes {registry.kubernetes_version} does not serve it"
        else:
            reason = "no CRD or schema location provides it"
        return [
            SchemaViolation(
                ("kind",), f"no schema for {kind} ({api_version}): {reason}", "no-schema"
            )
        ]
    violations = validator.validate(obj, variables, redact=redact)
    if partial:
        violations = [v for v in violations if v.code != "required"]
    return violations


def _plain(value: Any) -> TypeGuard[str]:
    """A non-empty string that is neither a placeholder nor SOPS ciphertext."""
    return (
        value.__class__ is str
        and value != ""
        and "${" not in value
        and not (value.startswith("ENC[") and value.endswith("]"))
    )


def is_list(obj: Any) -> bool:
    """Whether ``obj`` is a ``v1`` ``List`` (as kubectl writes): its items are the objects."""
    return (
        isinstance(obj, (dict, Mapping))
        and obj.get("apiVersion") == "v1"
        and obj.get("kind") == "List"
    )


def list_items(obj: Mapping[str, Any]) -> list[Any]:
    """The ``items`` of a List (none when absent or not a list)."""
    items = obj.get("items")
    return items if isinstance(items, list) else []


def describe_object(obj: Mapping[str, Any]) -> str:
    """``Kind name`` (or just the kind) of an object, as messages name it."""
    kind = obj.get("kind")
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, (dict, Mapping)) else None
    kind_text = kind if isinstance(kind, str) and kind else "object"
    return f"{kind_text} {name}" if isinstance(name, str) and name else kind_text


def _validate_list(
    obj: Mapping[str, Any],
    registry: SchemaRegistry,
    variables: Mapping[str, str] | None,
    partial: bool,
) -> list[SchemaViolation]:
    """Every item of a List, validated as an object of its own; paths lead from the List."""
    items = obj.get("items")
    if items is None:
        return []
    if not isinstance(items, list):
        return [
            SchemaViolation(("items",), f"items: expected array, got {describe(items)}", "type")
        ]
    found: list[SchemaViolation] = []
    for index, item in enumerate(items):
        what = f"items[{index}]"
        if isinstance(item, Mapping):
            what += f" ({describe_object(item)})"
        for violation in validate(item, registry, variables=variables, partial=partial):
            found.append(
                attrs.evolve(
                    violation,
                    path=("items", index, *violation.path),
                    message=f"{what}: {violation.message}",
                )
            )
    return found


def _without_sops(obj: Mapping[Any, Any]) -> Mapping[Any, Any]:
    if isinstance(obj, YMap):
        copy = YMap(obj.line, obj.column)
        for key, value in obj.items():
            if key != "sops":
                copy[key] = value
                if key in obj.marks:
                    copy.marks[key] = obj.marks[key]
        return copy
    return {k: v for k, v in obj.items() if k != "sops"}


@attrs.frozen(order=True)
class StreamViolation:
    """A violation in a YAML stream: which document, where, and what.

    ``code`` is a :class:`SchemaViolation` code, or the YAML reader's problem code
    (``syntax``, ``duplicate-key``...) for a problem with the YAML itself.
    """

    line: int
    column: int
    document: int
    message: str
    code: str
    path: tuple[Any, ...] = attrs.field(default=(), order=False)


def validate_stream(
    text: str,
    registry: SchemaRegistry,
    *,
    variables: Mapping[str, str] | None = None,
) -> list[StreamViolation]:
    """Validate every document of a YAML stream; YAML problems are reported too.

    Empty documents are skipped.  The result is sorted by line and column.
    """
    documents, problems = parse_text(text)
    found = [StreamViolation(p.line, p.column, -1, p.message, p.code) for p in problems]
    for document in documents:
        if document.data is None:
            continue
        for violation in validate(document.data, registry, variables=variables):
            position = violation.position(document.data) or (document.start_line, 1)
            found.append(
                StreamViolation(
                    position[0],
                    position[1],
                    document.index,
                    violation.message,
                    violation.code,
                    violation.path,
                )
            )
    for index, item in enumerate(found):
        if item.document == -1:
            owner = next((d.index for d in documents if d.start_line <= item.line <= d.end_line), 0)
            found[index] = attrs.evolve(item, document=owner)
    return sorted(found)
