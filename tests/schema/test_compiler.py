"""The closure compiler agrees with jsonschema, keyword by keyword."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import referencing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referencing.jsonschema import DRAFT202012

from homelab_kit.schema.compiler import Compiler, Context, compile_pattern
from homelab_kit.schema.violation import SchemaViolation

URI = "https://example.invalid/schema.json"

SCHEMAS: list[dict[str, Any]] = [
    {"type": "integer"},
    {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "minimum": 0},
            "b": {"type": ["string", "null"], "maxLength": 3, "minLength": 1},
        },
        "required": ["a"],
        "additionalProperties": False,
    },
    {
        "type": "array",
        "items": {
            "anyOf": [{"type": "string", "pattern": "^x"}, {"type": "integer", "multipleOf": 3}]
        },
        "minItems": 1,
        "maxItems": 4,
        "uniqueItems": True,
    },
    {"oneOf": [{"type": "object", "required": ["a"]}, {"type": "object", "required": ["b"]}]},
    {"not": {"type": "string"}, "enum": [1, "a", [1], {"k": 1}, None, True]},
    {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {"v": {"type": "integer"}, "next": {"$ref": "#/$defs/node"}},
                "additionalProperties": False,
            }
        },
        "$ref": "#/$defs/node",
    },
    {
        "type": "object",
        "patternProperties": {"^x": {"type": "boolean"}},
        "additionalProperties": {"type": "integer"},
        "propertyNames": {"maxLength": 2},
        "minProperties": 1,
        "maxProperties": 3,
        "dependentRequired": {"a": ["b"]},
    },
    {
        "if": {"type": "object", "required": ["a"]},
        "then": {"properties": {"a": {"const": 1}}},
        "else": {"type": ["array", "null"]},
    },
    {"allOf": [{"type": "number", "exclusiveMinimum": 0}, {"maximum": 10}]},
    {"prefixItems": [{"type": "string"}], "items": {"type": "integer"}, "contains": {"const": 0}},
    {"type": "object", "properties": {"n": {"type": "number", "exclusiveMaximum": 5}}},
    {"anyOf": [{"type": "integer"}, {"type": "string"}]},  # IntOrString
]

# JSON values; no strings that look like ${VAR} placeholders or SOPS ciphertext, which
# the validator deliberately never judges.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-20, 20)
    | st.floats(-20, 20, allow_nan=False)
    | st.text(alphabet="abx0", max_size=4)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["a", "b", "n", "v", "next", "xy", "abc"]), children, max_size=4
        )
    ),
    max_leaves=12,
)


def _compiled(schema: dict[str, Any]) -> Any:
    registry = referencing.Registry().with_resource(URI, DRAFT202012.create_resource(schema))
    return Compiler(registry).compile(schema, URI)


def _errors(check: Any, value: Any) -> list[SchemaViolation]:
    ctx = Context()
    check(value, None, ctx)
    return ctx.errors


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: ",".join(sorted(s)))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values)
def test_same_verdict_as_jsonschema(schema: dict[str, Any], value: Any) -> None:
    expected = jsonschema.Draft202012Validator(schema).is_valid(value)
    errors = _errors(_compiled(schema), value)
    assert (not errors) == expected, errors


def test_recursive_refs_compile_and_run() -> None:
    check = _compiled(SCHEMAS[5])
    deep: dict[str, Any] = {"v": 1}
    for _ in range(50):
        deep = {"v": 1, "next": deep}
    assert _errors(check, deep) == []
    deep["next"]["next"]["x"] = 1
    [error] = _errors(check, deep)
    assert error.path == ("next", "next", "x")
    assert error.code == "unknown-field"


def test_integral_floats_are_integers_and_booleans_are_not() -> None:
    check = _compiled({"type": "integer"})
    assert _errors(check, 3.0) == []
    [error] = _errors(check, True)
    assert error.message == "expected integer, got boolean true"


def test_oneof_reports_more_than_one_match() -> None:
    check = _compiled({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]})
    [error] = _errors(check, {"a": 1, "b": 2})
    assert error.message == "matches more than one of the allowed alternatives"


def test_pattern_translation() -> None:
    assert compile_pattern(r"^\PC*$") is not None
    assert compile_pattern(r"^(?i)(abort|warn)?$") is not None
    rx = compile_pattern(r"^[[:alpha:]]+\z")
    assert rx is not None
    assert rx.search("abc")
    assert compile_pattern(r"^\p{Greek}$") is None


@pytest.mark.parametrize(
    ("value", "valid"),
    [(["", 0], True), ([""], True), (["", "x"], False), ([0], False), (["", 0, 1], True)],
)
def test_items_after_prefix_items_only(value: list[Any], valid: bool) -> None:
    """Draft 2020-12: with ``prefixItems``, ``items`` judges only the items after them
    (hypothesis found ``['', 0]`` reported against ``items`` at ``[0]``)."""
    schema = {"prefixItems": [{"type": "string"}], "items": {"type": "integer"}}
    assert jsonschema.Draft202012Validator(schema).is_valid(value) is valid
    assert (not _errors(_compiled(schema), value)) is valid
