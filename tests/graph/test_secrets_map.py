"""The secrets map: producers, sources, readers, flags and exposure figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import homelab_kit
from homelab_kit.secrets_map import (
    MISSING_PRODUCER,
    OVER_BROAD_SCOPE,
    UNUSED_SECRET,
    SecretsMap,
    build_secrets_map,
    to_dict,
    to_json,
    to_text,
)
from homelab_kit.testing import write_tree

from .conftest import infisical, secrets_tree


@pytest.fixture(scope="module")
def reference_map() -> SecretsMap:
    root = Path(__file__).resolve().parents[2]
    return build_secrets_map(homelab_kit.load(root))


@pytest.fixture
def fixture_map(secrets_repo: Path) -> SecretsMap:
    return build_secrets_map(homelab_kit.load(secrets_repo))


def test_reference_cluster_media(reference_map: SecretsMap) -> None:
    media = reference_map.namespace("media")
    assert media is not None
    assert media.apps == ("jellyfin", "radarr", "sonarr")
    sonarr = next(s for s in media.secrets if s.name == "sonarr-secret")
    (producer,) = sonarr.producers
    assert (producer.kind, producer.name, producer.source, producer.scope) == (
        "InfisicalSecret",
        "sonarr-secrets",
        "homelab/prod:/sonarr",
        "app",
    )
    assert producer.location.path == "kubernetes/apps/media/secrets/sonarr-secrets.yaml"
    assert [(r.app, r.consumer, r.usage) for r in sonarr.readers] == [
        ("media/sonarr", "HelmRelease sonarr", "envFrom")
    ]
    assert sonarr.reader_apps == ("media/sonarr",)
    assert (sonarr.apps_in_namespace, sonarr.breadth, sonarr.exposure) == (3, 1, 1)
    # the namespace pattern: each app reads its own Secret only
    assert (media.exposure, media.least_privilege, media.shared) == (2, 2, 6)
    assert media.reduction == pytest.approx(2 / 3)


def test_reference_cluster_has_no_findings(reference_map: SecretsMap) -> None:
    assert reference_map.findings == ()
    # every app-scoped InfisicalSecret: exposure equals least privilege everywhere
    assert reference_map.exposure == reference_map.least_privilege
    assert reference_map.shared > reference_map.exposure
    network = reference_map.namespace("network")
    assert network is not None
    usages = {s.name: {r.usage for r in s.readers} for s in network.secrets}
    assert usages["cloudflare-tunnel-secret"] == {"key reference"}
    assert usages["tailscale-operator-secret"] == {"values"}


def test_bootstrap_secrets_are_not_counted(reference_map: SecretsMap) -> None:
    system = reference_map.namespace("infisical-system")
    assert system is not None
    credentials = next(s for s in system.secrets if s.name == "universal-auth-credentials")
    assert credentials.external
    assert not credentials.counted
    assert {r.usage for r in credentials.readers} == {"credentials"}
    assert credentials.reader_apps == ()  # the operator reads it, not an app
    assert system.shared == 0
    assert system.reduction is None


def test_flags_missing_unused_over_broad(fixture_map: SecretsMap) -> None:
    found = [(f.kind, f.secret, f.location.path, f.location.line) for f in fixture_map.findings]
    media = "kubernetes/apps/media"
    assert found == [
        (OVER_BROAD_SCOPE, "everything", f"{media}/secrets/everything-secrets.yaml", 12),
        (UNUSED_SECRET, "lidarr-secret", f"{media}/secrets/lidarr-secrets.yaml", 1),
        (MISSING_PRODUCER, "missing-secret", f"{media}/sonarr/app/deployment.yaml", 20),
        (UNUSED_SECRET, "sonarr-extra", f"{media}/sonarr/app/secret.yaml", 1),
    ]
    ns = fixture_map.namespace("media")
    assert ns is not None
    flags = {s.name: s.flags for s in ns.secrets}
    assert flags == {
        "everything": (OVER_BROAD_SCOPE,),
        "lidarr-secret": (UNUSED_SECRET,),
        "missing-secret": (MISSING_PRODUCER,),
        "sonarr-extra": (UNUSED_SECRET,),
        "sonarr-secret": (),
    }


def test_exposure_of_an_over_broad_secret(fixture_map: SecretsMap) -> None:
    ns = fixture_map.namespace("media")
    assert ns is not None
    assert ns.apps == ("jellyfin", "radarr", "sonarr")
    everything = next(s for s in ns.secrets if s.name == "everything")
    assert everything.producers[0].scope == "root"
    assert everything.reader_apps == ("media/radarr",)
    assert everything.breadth == 3  # the project root: every app's scope
    assert everything.exposure == 3
    assert everything.least_privilege == 1
    # everything 1x3 + sonarr-secret 1; the pattern would expose 2; shared 3 apps x 4 secrets
    assert (ns.exposure, ns.least_privilege, ns.shared) == (4, 2, 12)
    assert ns.reduction == pytest.approx(1 - 4 / 12)


def test_recursive_folder_is_over_broad(tmp_path: Path) -> None:
    tree = secrets_tree()
    tree["kubernetes/apps/media/secrets/everything-secrets.yaml"] = infisical(
        "everything-secrets", "/media", "everything", recursive=True
    )
    tree["kubernetes/apps/media/secrets/lidarr-secrets.yaml"] = infisical(
        "lidarr-secrets", "/media/lidarr", "lidarr-secret"
    )
    smap = build_secrets_map(homelab_kit.load(write_tree(tmp_path, tree)))
    ns = smap.namespace("media")
    assert ns is not None
    everything = next(s for s in ns.secrets if s.name == "everything")
    assert everything.producers[0].scope == "recursive"
    assert everything.breadth == 2  # /media and /media/lidarr below it
    assert OVER_BROAD_SCOPE in everything.flags
    (finding,) = [f for f in smap.findings if f.kind == OVER_BROAD_SCOPE]
    assert "every folder below it" in finding.message


def test_optional_and_external_readers_are_not_missing(tmp_path: Path) -> None:
    tree = secrets_tree()
    deployment = "kubernetes/apps/media/sonarr/app/deployment.yaml"
    tree[deployment] = tree[deployment].replace(
        "                  key: api-key\n",
        "                  key: api-key\n                  optional: true\n",
    )
    smap = build_secrets_map(homelab_kit.load(write_tree(tmp_path, tree)))
    assert MISSING_PRODUCER not in {f.kind for f in smap.findings}
    smap = build_secrets_map(
        homelab_kit.load(write_tree(tmp_path, secrets_tree())), external=("missing-*",)
    )
    assert MISSING_PRODUCER not in {f.kind for f in smap.findings}


def test_text_table(fixture_map: SecretsMap) -> None:
    text = to_text(fixture_map)
    assert text.splitlines()[0].startswith("infisical-system")
    media = text[text.index("\nmedia") :]
    header = media.splitlines()[2]
    assert header.split() == ["PRODUCER", "SOURCE", "SECRET", "READ", "BY", "APPS", "FLAGS"]
    assert "3 apps, 4 secrets; exposure 4 app-secret pairs" in media
    assert "67% below shared" in media
    row = next(line for line in media.splitlines() if "sonarr-secrets" in line)
    assert row.split() == [
        "InfisicalSecret",
        "sonarr-secrets",
        "homelab/prod:/sonarr",
        "sonarr-secret",
        "sonarr",
        "(envFrom)",
        "1/3",
    ]
    assert "[missing-producer]" in text
    assert "kubernetes/apps/media/sonarr/app/deployment.yaml:20:25" in text


def test_json(fixture_map: SecretsMap) -> None:
    data = json.loads(to_json(fixture_map))
    assert data == to_dict(fixture_map)
    assert data["version"] == 1
    assert data["totals"] == {
        "exposure": 4,
        "least_privilege": 2,
        "shared": 12,
        "reduction": 0.6667,
    }
    media = next(ns for ns in data["namespaces"] if ns["namespace"] == "media")
    sonarr = next(s for s in media["secrets"] if s["name"] == "sonarr-secret")
    assert sonarr["producers"][0]["source"] == "homelab/prod:/sonarr"
    assert sonarr["readers"][0]["usage"] == "envFrom"
    extra = next(s for s in media["secrets"] if s["name"] == "sonarr-extra")
    assert extra["producers"][0]["keys"] == ["EXTRA_TOKEN"]  # key names, never values
    assert {f["kind"] for f in data["findings"]} == {
        MISSING_PRODUCER,
        UNUSED_SECRET,
        OVER_BROAD_SCOPE,
    }


def test_substitution_and_values_readers(tmp_path: Path) -> None:
    tree = secrets_tree()
    ks = "kubernetes/apps/media/jellyfin/ks.yaml"
    tree[ks] += "  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: jf-vars\n"
    vars_file = "kubernetes/apps/media/secrets/jf-vars.yaml"
    tree[vars_file] = infisical("jf-vars", "/jellyfin", "jf-vars")
    tree["kubernetes/apps/media/secrets/kustomization.yaml"] += "  - ./jf-vars.yaml\n"
    smap = build_secrets_map(homelab_kit.load(write_tree(tmp_path, tree)))
    ns = smap.namespace("media")
    assert ns is not None
    jf = next(s for s in ns.secrets if s.name == "jf-vars")
    assert [(r.app, r.usage) for r in jf.readers] == [("media/jellyfin", "substitution")]
