"""CustomResourceDefinitions to strict schemas, the schema cache and source precedence."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from homelab_kit.errors import HomelabKitError
from homelab_kit.schema import SchemaRegistry, crd_schemas, strict_schema, write_cache
from homelab_kit.schema import crd as crd_module
from homelab_kit.schema.crd import cache_path, content_hash, converted_crd_schemas
from homelab_kit.yaml import parse_text

from .conftest import found

WIDGET_CRD = r"""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1alpha1
      served: false
      storage: false
      schema:
        openAPIV3Schema: {type: object}
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            apiVersion: {type: string}
            kind: {type: string}
            metadata: {type: object}
            spec:
              type: object
              required: [size, mode]
              oneOf:
                - properties: {selector: {}}
                  required: [selector]
                - properties: {nodeName: {}}
                  required: [nodeName]
              properties:
                size:
                  x-kubernetes-int-or-string: true
                  anyOf: [{type: integer}, {type: string}]
                mode:
                  type: string
                  enum: [fast, slow]
                  default: fast
                selector: {type: object, additionalProperties: {type: string}}
                nodeName: {type: string}
                owner:
                  type: string
                  nullable: true
                label:
                  type: string
                  pattern: '^\PC*$'
                greek:
                  type: string
                  pattern: '^\p{Greek}+$'
                config:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
                  properties:
                    replicas: {type: integer}
                template:
                  type: object
                  x-kubernetes-embedded-resource: true
                  properties:
                    spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""


def _crd() -> Any:
    [document], problems = parse_text(WIDGET_CRD)
    assert not problems
    return document.data


WIDGET = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  size: {size}
  selector: {{app: w}}
  owner: null
  label: {label}
  greek: abc
  config:
    anything: [1, 2]
    replicas: many
  template:
    apiVersion: v1
    kind: Pod
    metadata: {{name: p}}
    spec: {{containers: []}}
"""


def test_conversion_per_served_version() -> None:
    [schema] = crd_schemas(_crd())
    assert (schema.group, schema.kind, schema.version) == ("example.com", "Widget", "v1")
    assert schema.api_version == "example.com/v1"
    root = schema.schema
    assert root["additionalProperties"] is False  # a strict root: `sepc:` is caught
    spec = root["properties"]["spec"]
    assert spec["additionalProperties"] is False
    assert spec["required"] == ["size"]  # mode has a default: the API server fills it in
    assert spec["properties"]["size"]["type"] == ["integer", "string"]
    assert "anyOf" not in spec["properties"]["size"]
    assert spec["properties"]["owner"]["type"] == ["string", "null"]
    assert "additionalProperties" not in spec["properties"]["config"]
    assert all("additionalProperties" not in branch for branch in spec["oneOf"])
    assert root["x-kubernetes-group-version-kind"] == [
        {"group": "example.com", "kind": "Widget", "version": "v1"}
    ]


REPLICAS_ERROR = (13, 15, "type", "spec.config.replicas: expected integer, got string 'many'")


@pytest.mark.parametrize(
    ("size", "label", "expected"),
    [
        ("3", "ok", [REPLICAS_ERROR]),
        ("50%", "ok", [REPLICAS_ERROR]),
        (
            "true",
            "ok",
            [
                (6, 9, "type", "spec.size: expected string or integer, got boolean true"),
                REPLICAS_ERROR,
            ],
        ),
        # Cilium's RE2 pattern `^\\PC*$` (no control characters), translated for Python.
        (
            "3",
            '"bell\\a"',
            [
                (9, 10, "pattern", "spec.label: 'bell\\x07' does not match the pattern ^\\PC*$"),
                REPLICAS_ERROR,
            ],
        ),
    ],
)
def test_validation_against_a_converted_crd(
    size: str, label: str, expected: list[tuple[int, int, str, str]]
) -> None:
    registry = SchemaRegistry("1.33", crds=[_crd()])
    assert found(WIDGET.format(size=size, label=label), registry) == expected
    validator = registry.validator_for("example.com/v1", "Widget")
    assert validator is not None
    assert validator.source == "CRD widgets.example.com"
    assert any("\\p{Greek}" in note for note in registry.notes)  # skipped, not a crash
    assert registry.validator_for("example.com/v1alpha1", "Widget") is None  # not served


def test_converted_crd_is_strict_at_the_root_and_in_metadata() -> None:
    registry = SchemaRegistry("1.33", crds=[_crd()])
    text = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
  labls: {}
sepc:
  size: 1
"""
    assert found(text, registry) == [
        (5, 3, "unknown-field", "unknown field 'metadata.labls' (did you mean 'labels'?)"),
        (6, 1, "unknown-field", "unknown field 'sepc' (did you mean 'spec'?)"),
    ]


def test_oneof_branches_do_not_reject_sibling_fields() -> None:
    registry = SchemaRegistry("1.33", crds=[_crd()])
    text = "apiVersion: example.com/v1\nkind: Widget\nspec: {size: 1, nodeName: n}\n"
    assert found(text, registry) == []
    text = "apiVersion: example.com/v1\nkind: Widget\nspec: {size: 1}\n"
    assert found(text, registry) == [
        (3, 1, "required", "spec: missing one of the fields 'selector', 'nodeName'")
    ]


def test_preserve_unknown_fields_wins_over_a_mistaken_strict_flag() -> None:
    schema = strict_schema(
        {
            "type": "object",
            "properties": {
                "values": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": True,
                    "additionalProperties": False,
                    "properties": {"known": {"type": "string"}},
                }
            },
        }
    )
    assert "additionalProperties" not in schema["properties"]["values"]
    assert schema["additionalProperties"] is False


def test_legacy_v1beta1_crds_and_versions_without_schema() -> None:
    legacy = {
        "apiVersion": "apiextensions.k8s.io/v1beta1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {
            "group": "example.com",
            "version": "v1",
            "names": {"kind": "Gadget"},
            "validation": {
                "openAPIV3Schema": {
                    "properties": {"spec": {"properties": {"n": {"type": "integer"}}}}
                }
            },
        },
    }
    [schema] = crd_schemas(legacy)
    assert schema.schema["properties"]["spec"]["properties"]["n"] == {"type": "integer"}
    open_crd = dict(legacy)
    open_crd["spec"] = {**legacy["spec"], "validation": None}
    [anything] = crd_schemas(open_crd)
    assert anything.schema["x-kubernetes-preserve-unknown-fields"] is True
    with pytest.raises(HomelabKitError):
        crd_schemas({"kind": "ConfigMap"})


def test_write_cache_uses_kubeconform_names_and_atomic_writes(tmp_path: Path) -> None:
    [schema] = crd_schemas(_crd())
    path = write_cache(schema.schema, "example.com", "Widget", "v1", tmp_path)
    assert path == tmp_path / "example.com" / "widget_v1.json"
    assert json.loads(path.read_text(encoding="utf-8")) == schema.schema
    stamp = path.stat().st_mtime_ns
    os.utime(path, ns=(stamp - 10**9, stamp - 10**9))
    assert write_cache(schema.schema, "example.com", "Widget", "v1", tmp_path) == path
    assert path.stat().st_mtime_ns == stamp - 10**9  # same content: not rewritten
    assert sorted(p.name for p in path.parent.iterdir()) == ["widget_v1.json"]  # no temp files
    with pytest.raises(HomelabKitError):
        cache_path(tmp_path, "../evil", "Widget", "v1")


def test_the_cache_is_a_schema_source(tmp_path: Path) -> None:
    [schema] = crd_schemas(_crd())
    write_cache(schema.schema, "example.com", "Widget", "v1", tmp_path)
    registry = SchemaRegistry("1.33", cache_dir=tmp_path)
    validator = registry.validator_for("example.com/v1", "Widget")
    assert validator is not None
    assert validator.source.startswith("cache ")
    # Repository CRDs come before the cache.
    registry = SchemaRegistry("1.33", cache_dir=tmp_path, crds=[_crd()])
    validator = registry.validator_for("example.com/v1", "Widget")
    assert validator is not None
    assert validator.source == "CRD widgets.example.com"


def test_conversions_are_cached_by_content_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crd = _crd()
    crd_module._CONVERTED.clear()
    first = converted_crd_schemas(crd, tmp_path)
    stored = tmp_path / "converted" / f"{content_hash(crd)}.json"
    assert stored.is_file()
    crd_module._CONVERTED.clear()

    def no_conversion(_: object) -> list[object]:
        raise AssertionError("converted again")

    monkeypatch.setattr(crd_module, "crd_schemas", no_conversion)
    again = converted_crd_schemas(crd, tmp_path)
    assert [(s.version, s.schema) for s in again] == [(s.version, s.schema) for s in first]


def test_broken_crds_never_stop_validation() -> None:
    broken = {"kind": "CustomResourceDefinition", "spec": {"group": "x.io", "names": {"kind": "X"}}}
    registry = SchemaRegistry("1.33", crds=[broken, {"spec": "nonsense"}])
    assert registry.validator_for("x.io/v1", "X") is None


@pytest.mark.parametrize(
    ("catalog_file", "kind"),
    [
        ("cilium.io/ciliumnetworkpolicy_v2.json", "CiliumNetworkPolicy"),
        ("postgresql.cnpg.io/cluster_v1.json", "Cluster"),
        ("gateway.networking.k8s.io/httproute_v1.json", "HTTPRoute"),
        ("monitoring.coreos.com/prometheusrule_v1.json", "PrometheusRule"),
    ],
)
def test_real_crd_schemas_convert_and_compile(catalog: Path, catalog_file: str, kind: str) -> None:
    """Real-world CRD schemas (Cilium's RE2 patterns, CNPG's size), wrapped back into CRDs."""
    group, name = catalog_file.split("/")
    version = name.rsplit("_", 1)[1].removesuffix(".json")
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{kind.lower()}s.{group}"},
        "spec": {
            "group": group,
            "names": {"kind": kind},
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "schema": {
                        "openAPIV3Schema": json.loads(
                            (catalog / catalog_file).read_text(encoding="utf-8")
                        )
                    },
                }
            ],
        },
    }
    registry = SchemaRegistry("1.34", crds=[crd])
    text = f"apiVersion: {group}/{version}\nkind: {kind}\nmetadata: {{name: x}}\nsepc: {{}}\n"
    typo = (4, 1, "unknown-field", "unknown field 'sepc' (did you mean 'spec'?)")
    assert typo in found(text, registry)
