"""benchmarks/schema_coverage.py: the before/after figures docs/schemas.md quotes."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from .conftest import CORPORA, PROJECT_ROOT, shared_path


def _coverage() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_schema_coverage", PROJECT_ROOT / "benchmarks" / "schema_coverage.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reference_cluster_has_a_schema_for_every_kind_with_the_bundle() -> None:
    coverage = _coverage()
    before = coverage.missing_objects(PROJECT_ROOT, bundled=False)
    assert coverage.missing_objects(PROJECT_ROOT, bundled=True) == {}
    # Gateway API, cert-manager and Cilium kinds: only the bundle knows them
    assert before == {
        ("gateway.networking.k8s.io/v1", "HTTPRoute"): 6,
        ("gateway.networking.k8s.io/v1", "Gateway"): 2,
        ("cert-manager.io/v1", "ClusterIssuer"): 1,
        ("cert-manager.io/v1", "Certificate"): 1,
        ("cilium.io/v2", "CiliumLoadBalancerIPPool"): 1,
        ("cilium.io/v2alpha1", "CiliumL2AnnouncementPolicy"): 1,
    }


def test_a_corpus_keeps_only_the_kinds_no_catalog_group_holds() -> None:
    coverage = _coverage()
    root = shared_path(CORPORA / "yamshy__homelab")
    assert coverage.missing(root, bundled=False) == (
        {
            ("cert-manager.io/v1", "Certificate"),
            ("cert-manager.io/v1", "ClusterIssuer"),
            ("cilium.io/v2alpha1", "CiliumL2AnnouncementPolicy"),
            ("cilium.io/v2alpha1", "CiliumLoadBalancerIPPool"),
            ("externaldns.k8s.io/v1alpha1", "DNSEndpoint"),
            ("gateway.networking.k8s.io/v1", "Gateway"),
            ("gateway.networking.k8s.io/v1", "HTTPRoute"),
            ("image.toolkit.fluxcd.io/v1beta2", "ImagePolicy"),
            ("image.toolkit.fluxcd.io/v1beta2", "ImageRepository"),
            ("image.toolkit.fluxcd.io/v1beta2", "ImageUpdateAutomation"),
            ("notification.toolkit.fluxcd.io/v1", "Receiver"),
            ("tailscale.com/v1alpha1", "ProxyClass"),
        },
        14,
    )
    # ExternalDNS's group is not in the catalog copy the bundle is generated from
    assert coverage.missing_objects(root, bundled=True) == {
        ("externaldns.k8s.io/v1alpha1", "DNSEndpoint"): 1
    }
