"""``homelab-kit schemas pull``: the cluster's CRDs become strict schemas in the cache."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from homelab_kit.cluster import ClusterOptions, connect, pull_schemas
from homelab_kit.cluster.cli import schemas_pull
from homelab_kit.schema import SchemaRegistry
from homelab_kit.schema.catalog import available_versions

from .fakeapi import FakeApiServer
from .objects import crd, flux_crds

CERTIFICATE_SPEC = {
    "type": "object",
    "properties": {
        "secretName": {"type": "string"},
        "dnsNames": {"type": "array", "items": {"type": "string"}},
        "issuerRef": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "kind": {"type": "string"}},
            "required": ["name"],
        },
    },
    "required": ["secretName", "issuerRef"],
}


@pytest.fixture
def crds(fake_api: FakeApiServer) -> FakeApiServer:
    """Flux's CRDs and cert-manager's Certificate (which homelab-kit has no schema for)."""
    fake_api.add(
        *flux_crds(),
        crd("cert-manager.io", "Certificate", "certificates", ["v1"], spec=CERTIFICATE_SPEC),
    )
    return fake_api


def test_every_served_version_is_written_strict(
    crds: FakeApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "schemas"
    with connect(ClusterOptions(str(kubeconfig))) as cluster:
        paths = pull_schemas(cluster, cache)
    assert [p.relative_to(cache).as_posix() for p in paths] == [
        "cert-manager.io/certificate_v1.json",
        "helm.toolkit.fluxcd.io/helmrelease_v2.json",
        "helm.toolkit.fluxcd.io/helmrelease_v2beta2.json",
        "kustomize.toolkit.fluxcd.io/kustomization_v1.json",
        "kustomize.toolkit.fluxcd.io/kustomization_v1beta2.json",
        "source.toolkit.fluxcd.io/gitrepository_v1.json",
        "source.toolkit.fluxcd.io/gitrepository_v1beta2.json",
        "source.toolkit.fluxcd.io/ocirepository_v1.json",
        "source.toolkit.fluxcd.io/ocirepository_v1beta2.json",
    ]
    schema = json.loads((cache / "cert-manager.io/certificate_v1.json").read_text())
    assert schema["additionalProperties"] is False
    assert schema["properties"]["spec"]["additionalProperties"] is False
    assert schema["x-kubernetes-group-version-kind"] == [
        {"group": "cert-manager.io", "kind": "Certificate", "version": "v1"}
    ]


def test_lint_finds_the_pulled_schemas_offline(
    crds: FakeApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    versions = available_versions()
    if not versions:
        pytest.skip("kubernetes-validate (the native schemas) is not installed")
    cache = tmp_path / "schemas"
    with connect(ClusterOptions(str(kubeconfig))) as cluster:
        pull_schemas(cluster, cache)
    crds.stop()  # offline from here on
    registry = SchemaRegistry(versions[-1], cache_dir=cache)
    validator = registry.validator_for("cert-manager.io/v1", "Certificate")
    assert validator is not None
    assert "cache" in validator.source
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "wildcard"},
        "spec": {"secretName": "wildcard-tls", "issuerRef": {"name": "letsencrypt"}, "dnsName": []},
    }
    (violation,) = validator.validate(certificate)
    assert "dnsName" in violation.message


def test_pulling_again_rewrites_nothing(
    crds: FakeApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    with connect(ClusterOptions(str(kubeconfig))) as cluster:
        first = pull_schemas(cluster, tmp_path)
        stamps = {p: p.stat().st_mtime_ns for p in first}
        again = pull_schemas(cluster.api_client, tmp_path)  # a bare kubernetes ApiClient works too
    assert again == first
    assert {p: p.stat().st_mtime_ns for p in again} == stamps


def test_a_crd_that_cannot_be_converted_is_skipped(
    crds: FakeApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    broken = crd("example.com", "Widget", "widgets", ["v1"])
    broken["spec"]["versions"][0]["name"] = "../v1"
    crds.objects[("apiextensions.k8s.io", "customresourcedefinitions")][(None, "widgets")] = broken
    skipped: list[tuple[str, str]] = []
    with connect(ClusterOptions(str(kubeconfig))) as cluster:
        paths = pull_schemas(cluster, tmp_path, on_skip=lambda *args: skipped.append(args))
    assert len(paths) == 9
    assert skipped == [
        ("widgets.example.com", "cannot cache a schema named 'example.com'/'Widget'/'../v1'")
    ]


def test_the_command(crds: FakeApiServer, kubeconfig: Path, tmp_path: Path) -> None:
    group = click.Group("schemas", commands=[schemas_pull])
    result = CliRunner().invoke(
        group,
        ["pull", "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "c")],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "cert-manager.io/certificate_v1.json"
    assert lines[-1] == f"9 schemas in {tmp_path / 'c'}"
