"""The bundled CRD schemas: where they come from, how the registry uses them, what lint says."""

from __future__ import annotations

import json
import zipfile
from importlib import resources
from pathlib import Path

from homelab_kit.schema import SchemaRegistry, validate_stream
from homelab_kit.schema.crds import bundle
from homelab_kit.schema.registry import bundled_kinds, bundled_schema
from homelab_kit.testing import YamlTree, lint_path

from .conftest import found

CRDS = resources.files("homelab_kit.schema") / "crds"

CERTIFICATE = """\
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: wildcard
  namespace: network
spec:
  secretName: wildcard-tls
  issuerRef: {name: letsencrypt, kind: ClusterIssuer}
  dnsName: ["*.example.com"]
"""


def test_the_bundle_records_its_source_commit_and_licence() -> None:
    with zipfile.ZipFile(CRDS / bundle.BUNDLE_NAME) as archive:  # type: ignore[arg-type]
        manifest = json.loads(archive.read(bundle.MANIFEST_NAME))
    assert manifest["source"] == "https://github.com/datreeio/CRDs-catalog"
    assert manifest["commit"] == bundle.SOURCE_COMMIT
    assert manifest["license"] == "MIT"
    licence = (CRDS / manifest["license_file"]).read_text(encoding="utf-8")
    assert licence.startswith("MIT License")
    assert "datree" in licence
    assert manifest["schemas"] == len(bundled_kinds()) > 150


def test_the_bundle_is_small() -> None:
    """Compressed: the install grows by well under a megabyte."""
    assert (CRDS / bundle.BUNDLE_NAME).stat().st_size < 400_000  # type: ignore[attr-defined]


def test_the_bundle_is_what_the_generator_writes_from_the_catalog(catalog: Path) -> None:
    assert bundle.main(["--check", str(catalog)]) == 0


def test_descriptions_go_but_a_property_named_description_stays() -> None:
    schema = {
        "description": "a note",
        "properties": {
            "description": {"type": "string", "description": "a field"},
            "items": {"type": "array", "items": {"description": "x", "type": "string"}},
        },
        "anyOf": [{"description": "y", "required": ["description"]}],
    }
    assert bundle.without_descriptions(schema) == {
        "properties": {
            "description": {"type": "string"},
            "items": {"type": "array", "items": {"type": "string"}},
        },
        "anyOf": [{"required": ["description"]}],
    }


def test_the_survey_counts_api_groups(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "kubernetes/a.yaml": CERTIFICATE + "---\napiVersion: 'cert-manager.io/v1'\nkind: X\n",
            "kubernetes/b.yml": "apiVersion: apps/v1\nkind: Deployment\n",
        }
    )
    assert bundle.survey(root) == {"cert-manager.io": 2}


def test_a_bundled_kind_is_validated_strictly_and_marked_advisory() -> None:
    registry = SchemaRegistry("v1.33.4")
    validator = registry.validator_for("cert-manager.io/v1", "Certificate")
    assert validator is not None
    assert validator.advisory
    assert validator.source == "bundled catalog cert-manager.io/certificate_v1.json"
    assert found(CERTIFICATE, registry) == [
        (9, 3, "unknown-field", "unknown field 'spec.dnsName' (did you mean 'dnsNames'?)")
    ]
    # the catalog's open root is closed, and metadata is the strict ObjectMeta
    text = CERTIFICATE.replace("  dnsName:", "  dnsNames:") + "sepc: {}\n"
    text = text.replace("  namespace: network", "  namspace: network")
    assert [(line, code) for line, _, code, _ in found(text, registry)] == [
        (5, "unknown-field"),
        (10, "unknown-field"),
    ]


def test_go_re2_patterns_of_the_catalog_compile() -> None:
    """Cilium's ``^\\PC*$`` (no control characters) is translated, not skipped."""
    registry = SchemaRegistry("v1.33.4")
    policy = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p}
spec:
  endpointSelector: {}
  ingress: [{fromEndpoints: [{}]}]
  log: {value: "%s"}
"""
    assert found(policy % "fine text", registry) == []
    bad = found(policy % "bell\\a", registry)
    assert [(line, code) for line, _, code, _ in bad] == [(7, "pattern")]
    assert not [n for n in registry.notes if "PC" in n]


def test_repository_crds_and_locations_win_over_the_bundle(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"spec": {"type": "object"}}}
    (tmp_path / "cert-manager.io").mkdir()
    (tmp_path / "cert-manager.io" / "certificate_v1.json").write_text(json.dumps(schema))
    registry = SchemaRegistry("v1.33.4", locations=[str(tmp_path)])
    validator = registry.validator_for("cert-manager.io/v1", "Certificate")
    assert validator is not None
    assert not validator.advisory
    assert validator.source == str(tmp_path / "cert-manager.io" / "certificate_v1.json")


def test_bundled_false_leaves_the_kind_without_schema() -> None:
    registry = SchemaRegistry("v1.33.4", bundled=False)
    assert registry.validator_for("cert-manager.io/v1", "Certificate") is None
    assert bundled_schema("cert-manager.io", "v1", "Certificate") is not None
    assert bundled_schema("cert-manager.io", "v9", "Certificate") is None
    assert [v.code for v in validate_stream(CERTIFICATE, registry)] == ["no-schema"]


def test_lint_reports_bundled_findings_as_warnings(yaml_tree: YamlTree) -> None:
    root = yaml_tree({"kubernetes/apps/network/certs/app/certificate.yaml": CERTIFICATE})
    result = lint_path(root, select=["schema-*"])
    assert [
        (d.location.line, d.location.column, d.check_id, str(d.severity), d.message)
        for d in result.diagnostics
    ] == [
        (
            9,
            3,
            "schema-invalid-bundled",
            "warning",
            "Certificate wildcard: unknown field 'spec.dnsName' (did you mean 'dnsNames'?)",
        )
    ]


def test_a_committed_crd_makes_the_same_finding_an_error(yaml_tree: YamlTree) -> None:
    crd = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: certificates.cert-manager.io}
spec:
  group: cert-manager.io
  names: {kind: Certificate, plural: certificates}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                secretName: {type: string}
                dnsNames: {type: array, items: {type: string}}
                issuerRef: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""
    root = yaml_tree(
        {
            "kubernetes/apps/network/certs/app/certificate.yaml": CERTIFICATE,
            "kubernetes/crds/certificate.yaml": crd,
        }
    )
    result = lint_path(root, select=["schema-*"])
    assert [(d.location.line, d.check_id) for d in result.diagnostics] == [(9, "schema-invalid")]
