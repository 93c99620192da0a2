"""Native kinds, validated with the strict schemas of the target Kubernetes version."""

from __future__ import annotations

import pytest

from homelab_kit.errors import HomelabKitError
from homelab_kit.schema import (
    SchemaRegistry,
    SchemaViolation,
    available_versions,
    normalize_version,
    validate,
)
from homelab_kit.yaml import parse_text

from .conftest import found

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namspace: default
  annotations:
    replicas: 3
spec:
  replicas: "3"
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
          ports:
            - containerPort: http
          resources:
            limits: {cpu: 1, memory: 1Gi}
        - image: sidecar
          env:
            - name: A
              value: 5
"""


def test_deployment_violations_point_at_the_offending_line_and_column(
    registry: SchemaRegistry,
) -> None:
    assert found(DEPLOYMENT, registry) == [
        (5, 3, "unknown-field", "unknown field 'metadata.namspace' (did you mean 'namespace'?)"),
        (7, 15, "type", "metadata.annotations.replicas: expected string, got integer 3"),
        (9, 13, "type", "spec.replicas: expected integer, got string '3'"),
        (
            20,
            30,
            "type",
            "spec.template.spec.containers[0].ports[0].containerPort: "
            "expected integer, got string 'http'",
        ),
        (
            23,
            11,
            "required",
            "spec.template.spec.containers[1]: missing required field 'name'",
        ),
        (
            26,
            22,
            "type",
            "spec.template.spec.containers[1].env[0].value: expected string, got integer 5",
        ),
    ]


def test_a_valid_deployment_has_no_violations(registry: SchemaRegistry) -> None:
    text = DEPLOYMENT.replace("  namspace: default\n", "").replace("replicas: 3", 'replicas: "3"')
    text = text.replace('replicas: "3"\n  selector', "replicas: 3\n  selector")
    text = text.replace("containerPort: http", "containerPort: 80")
    text = text.replace("- image: sidecar", "- name: sidecar\n          image: sidecar")
    text = text.replace("value: 5", 'value: "5"')
    assert found(text, registry) == []


@pytest.mark.parametrize(
    ("target_port", "expected"),
    [
        ("8080", []),
        ("http", []),
        ("null", []),  # kubernetes-validate's oneOf[string|null, integer|null] fails here
        ("~", []),
        (
            "true",
            [
                (
                    9,
                    19,
                    "type",
                    "spec.ports[0].targetPort: expected string or integer, got boolean true",
                )
            ],
        ),
        (
            "[80]",
            [(9, 19, "type", "spec.ports[0].targetPort: expected string or integer, got a list")],
        ),
    ],
)
def test_int_or_string(registry: SchemaRegistry, target_port: str, expected: list[object]) -> None:
    text = f"""\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {{app: web}}
  ports:
    - port: 80
      targetPort: {target_port}
"""
    assert found(text, registry) == expected


def test_quantities_accept_numbers_and_strings(registry: SchemaRegistry) -> None:
    text = """\
apiVersion: v1
kind: LimitRange
metadata: {name: limits}
spec:
  limits:
    - type: Container
      default: {cpu: 0.5, memory: 512Mi}
      max: {cpu: true}
"""
    assert found(text, registry) == [
        (8, 18, "type", "spec.limits[0].max.cpu: expected string or number, got boolean true")
    ]


def test_secret_values_never_reach_a_message(registry: SchemaRegistry) -> None:
    text = """\
apiVersion: v1
kind: Secret
metadata: {name: s}
stringData:
  password: 123456
"""
    [(line, column, code, message)] = found(text, registry)
    assert (line, column, code) == (5, 13, "type")
    assert "123456" not in message
    assert message == "stringData.password: expected string, got an integer"


def test_sops_metadata_and_ciphertext_are_not_judged(registry: SchemaRegistry) -> None:
    text = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
    - port: ENC[AES256_GCM,data:Tg==,iv:x,tag:y,type:int]
sops:
  age:
    - recipient: age1xyz
  lastmodified: "2025-01-01T00:00:00Z"
  version: 3.9.0
"""
    assert found(text, registry) == []


def test_objects_without_type_meta(registry: SchemaRegistry) -> None:
    assert found("resources: [a.yaml]\n", registry) == [
        (1, 1, "required", "not a Kubernetes object: missing 'apiVersion' and 'kind'")
    ]
    assert found("apiVersion: v1\nmetadata: {}\n", registry) == [
        (1, 1, "required", "not a Kubernetes object: missing 'kind'")
    ]
    assert found("apiVersion: v1\nkind: 5\n", registry) == [
        (2, 7, "type", "kind: expected string, got integer 5")
    ]
    assert found("- a\n- b\n", registry) == [
        (1, 1, "type", "expected a Kubernetes object (a mapping), got a list")
    ]


def test_kinds_without_a_schema(registry: SchemaRegistry) -> None:
    assert found("apiVersion: example.com/v1\nkind: Widget\n", registry) == [
        (
            2,
            7,
            "no-schema",
            "no schema for Widget (example.com/v1): no CRD or schema location provides it",
        )
    ]
    # resource.k8s.io/v1 is served from Kubernetes 1.34 on.
    text = "apiVersion: resource.k8s.io/v1\nkind: ResourceClaimTemplate\nmetadata: {name: x}\n"
    assert found(text, registry) == [
        (
            2,
            7,
            "no-schema",
            "no schema for ResourceClaimTemplate (resource.k8s.io/v1): "
            "Kubernetes 1.33 does not serve it",
        )
    ]
    assert found(text, SchemaRegistry("1.34")) == [
        (1, 1, "required", "missing required field 'spec'")
    ]


def test_validators_are_compiled_once_and_reused(registry: SchemaRegistry) -> None:
    first = registry.validator_for("apps/v1", "Deployment")
    assert first is not None
    assert first.source == "kubernetes 1.33"
    assert registry.validator_for("apps/v1", "Deployment") is first
    assert SchemaRegistry("1.33").validator_for("apps/v1", "Deployment") is first
    assert registry.validator_for("apps/v1", "NoSuchKind") is None


def test_results_are_sorted_and_stable(registry: SchemaRegistry) -> None:
    [document], _ = parse_text(DEPLOYMENT)
    first = validate(document.data, registry)
    assert first == validate(document.data, registry)
    positions = [v.position(document.data) for v in first]
    assert positions == sorted(positions)  # type: ignore[type-var]


def test_plain_dicts_validate_too(registry: SchemaRegistry) -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": 1}}
    assert validate(obj, registry) == [
        SchemaViolation(("data", "a"), "data.a: expected string, got integer 1", "type")
    ]


@pytest.mark.parametrize(
    ("given", "normalised"), [("v1.33.4", "1.33"), ("1.33", "1.33"), ("1.34.0-rc.1", "1.34")]
)
def test_version_normalisation(given: str, normalised: str) -> None:
    assert normalize_version(given) == normalised


@pytest.mark.parametrize("given", ["1.20.0", "v2.0", "banana"])
def test_unknown_versions_list_the_available_ones(given: str) -> None:
    with pytest.raises(HomelabKitError) as caught:
        SchemaRegistry(given)
    assert available_versions()[0] in str(caught.value)
    assert available_versions()[-1] in str(caught.value)


def test_validate_stream_reports_yaml_problems_too(registry: SchemaRegistry) -> None:
    text = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  name: b
data:
  key: 1
---
apiVersion: v1
kind: Namespace
metadata: {name: ns, labelz: {}}
"""
    assert found(text, registry) == [
        (5, 3, "duplicate-key", "duplicate key 'name' (first at line 4)"),
        (7, 8, "type", "data.key: expected string, got an integer"),
        (11, 22, "unknown-field", "unknown field 'metadata.labelz' (did you mean 'labels'?)"),
    ]
