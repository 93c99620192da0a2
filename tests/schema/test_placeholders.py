"""Flux ${VAR} placeholders: substituted when known, never a false error when not."""

from __future__ import annotations

import pytest

from homelab_kit.schema import SchemaRegistry, validate
from homelab_kit.schema.placeholders import is_opaque, reinterpret, substitute

from .conftest import found

RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: ${APP}
  namespace: ${NAMESPACE:=default}
spec:
  interval: ${INTERVAL}
  maxHistory: ${MAX_HISTORY}
  suspend: ${SUSPEND}
  timeout: ${TIMEOUT:=5m}
  chartRef:
    kind: ${SOURCE_KIND}
    name: ${APP}
  ${EXTRA_FIELD}: true
"""


@pytest.mark.parametrize(
    ("value", "variables", "expected"),
    [
        ("${A}", {"A": "1"}, "1"),
        ("${A}-${B}", {"A": "x", "B": "y"}, "x-y"),
        ("${A}", {}, None),
        ("${A}", None, None),
        ("${A:=5}", {}, "5"),
        ("${A:-5}", {"A": ""}, "5"),
        ("${A:=5}", {"A": "7"}, "7"),
        ("${A/x/y}", {"A": "x"}, None),  # bash replacement: left unresolved
        ("plain", None, "plain"),
        ("$A", {"A": "1"}, "$A"),  # Flux substitutes only the braced form
        ("ENC[AES256_GCM,data:abc,type:str]", {}, None),
    ],
)
def test_substitute(value: str, variables: dict[str, str] | None, expected: str | None) -> None:
    assert substitute(value, variables) == expected


def test_helpers() -> None:
    assert is_opaque("${A}")
    assert is_opaque("ENC[x]")
    assert not is_opaque("plain")
    assert reinterpret("5") == 5
    assert reinterpret("true") is True
    assert reinterpret("5m") == "5m"
    assert reinterpret("{a: 1}") is None


def test_unresolved_placeholders_never_produce_errors(registry: SchemaRegistry) -> None:
    assert found(RELEASE, registry) == []


def test_known_variables_are_substituted_and_judged(registry: SchemaRegistry) -> None:
    variables = {
        "APP": "grafana",
        "INTERVAL": "1h",
        "MAX_HISTORY": "three",
        "SUSPEND": "false",
        "SOURCE_KIND": "Git",
        "EXTRA_FIELD": "suspnd",
    }
    assert found(RELEASE, registry, variables) == [
        (
            8,
            15,
            "type",
            "spec.maxHistory: expected integer, got string 'three' after substituting variables",
        ),
        (
            12,
            11,
            "enum",
            "spec.chartRef.kind: must be one of OCIRepository, HelmChart, ExternalArtifact; "
            "got 'Git'",
        ),
        (14, 3, "unknown-field", "unknown field 'spec.suspnd' (did you mean 'suspend'?)"),
    ]


def test_substituted_values_are_reparsed_like_flux_does(registry: SchemaRegistry) -> None:
    variables = {"APP": "a", "INTERVAL": "1h", "MAX_HISTORY": "3", "SUSPEND": "true"}
    variables |= {"SOURCE_KIND": "OCIRepository", "EXTRA_FIELD": "persistentClient"}
    assert found(RELEASE, registry, variables) == []


def test_placeholders_in_apiversion_or_kind(registry: SchemaRegistry) -> None:
    obj = {"apiVersion": "${GROUP}/v1", "kind": "Widget", "spec": {}}
    [violation] = validate(obj, registry)
    assert violation.code == "no-schema"
    assert "placeholder" in violation.message
    resolved = validate(obj, registry, variables={"GROUP": "apps"})
    assert [v.code for v in resolved] == ["no-schema"]


def test_placeholder_strings_in_string_fields_are_checked_after_substitution(
    registry: SchemaRegistry,
) -> None:
    text = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: app}
spec:
  interval: ${INTERVAL}
  url: ${REGISTRY}/app
"""
    assert found(text, registry) == []
    assert found(text, registry, {"INTERVAL": "1 hour", "REGISTRY": "oci://ghcr.io"}) == [
        (
            5,
            13,
            "pattern",
            "spec.interval: '1 hour' does not match the pattern ^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$",
        )
    ]
