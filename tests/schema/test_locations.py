"""User schema locations: kubeconform templates and directories, tested on the CRD catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab_kit.errors import HomelabKitError
from homelab_kit.schema import SchemaRegistry

from .conftest import CATALOG_TEMPLATE, found

CERTIFICATE = """\
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: wildcard
sepc:
  secretName: wildcard-tls
"""

CILIUM_POLICY = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: allow-dns
spec:
  log:
    value: "no control characters here"
  endpointSelector: {}
  egress:
    - toEndpoints:
        - matchLabels:
            k8s-app: kube-dns
      toPorts:
        - ports:
            - port: "53"
              protocl: UDP
"""


def test_template_location(catalog_registry: SchemaRegistry, catalog: Path) -> None:
    validator = catalog_registry.validator_for("cert-manager.io/v1", "Certificate")
    assert validator is not None
    assert validator.source == str(catalog / "cert-manager.io" / "certificate_v1.json")
    # openapi2jsonschema leaves the root open; homelab-kit makes it strict.
    assert found(CERTIFICATE, catalog_registry) == [
        (5, 1, "unknown-field", "unknown field 'sepc' (did you mean 'spec'?)")
    ]


def test_directory_location(catalog: Path) -> None:
    registry = SchemaRegistry("1.34", locations=[catalog])
    validator = registry.validator_for("cert-manager.io/v1", "Certificate")
    assert validator is not None
    assert validator.source == str(catalog / "cert-manager.io" / "certificate_v1.json")


def test_re2_patterns_and_junctors_in_real_schemas(catalog_registry: SchemaRegistry) -> None:
    """Cilium's schema: `^\\PC*$` patterns and oneOf branches that only require a field."""
    assert found(CILIUM_POLICY, catalog_registry) == [
        (
            16,
            15,
            "unknown-field",
            "unknown field 'spec.egress[0].toPorts[0].ports[0].protocl' (did you mean 'protocol'?)",
        )
    ]
    bell = CILIUM_POLICY.replace("no control characters here", "bell\\a")
    assert (
        7,
        12,
        "pattern",
        "spec.log.value: 'bell\\x07' does not match the pattern ^\\PC*$",
    ) in found(bell, catalog_registry)


def test_builtin_schemas_come_before_locations(catalog_registry: SchemaRegistry) -> None:
    validator = catalog_registry.validator_for("helm.toolkit.fluxcd.io/v2", "HelmRelease")
    assert validator is not None
    assert validator.source.startswith("homelab-kit ")
    native = catalog_registry.validator_for("apps/v1", "Deployment")
    assert native is not None
    assert native.source == "kubernetes 1.34"


def test_locations_in_order_and_unreachable_remote_ones_dropped(
    catalog: Path, tmp_path: Path
) -> None:
    """Offline (as the test suite is), a remote location is one warning, not a failure."""
    empty = tmp_path / "empty"
    empty.mkdir()
    remote = "https://raw.githubusercontent.com/datreeio/CRDs-catalog/main/" + CATALOG_TEMPLATE
    registry = SchemaRegistry(
        "1.34", locations=[remote, "default", empty, f"{catalog}/{CATALOG_TEMPLATE}"]
    )
    validator = registry.validator_for("cert-manager.io/v1", "Certificate")
    assert validator is not None
    assert validator.source.startswith(str(catalog))
    assert registry.validator_for("cert-manager.io/v1", "NoSuchKind") is None
    assert [w.split(" not reachable")[0] for w in registry.warnings] == [
        f"schema location {remote}",
        "schema location default",
    ]


def test_unreadable_schema_files_are_noted_not_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "example.com"
    folder.mkdir()
    (folder / "widget_v1.json").write_text("{not json", encoding="utf-8")
    (folder / "gadget_v1.json").write_text("[]", encoding="utf-8")
    registry = SchemaRegistry("1.33", locations=[tmp_path])
    assert registry.validator_for("example.com/v1", "Widget") is None
    assert registry.validator_for("example.com/v1", "Gadget") is None
    assert len(registry.notes) == 2


def test_unknown_template_fields_and_missing_locations_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(HomelabKitError, match=r"unknown template field \.Nope"):
        SchemaRegistry("1.33", locations=[f"{tmp_path}/{{{{.Nope}}}}.json"])
    with pytest.raises(HomelabKitError, match="no such file or directory"):
        SchemaRegistry("1.33", locations=[str(tmp_path / "absent")])
    with pytest.raises(HomelabKitError, match="no such directory"):
        SchemaRegistry("1.33", locations=[f"{tmp_path}/absent/{{{{.Group}}}}.json"])
