"""``add-secret`` writes the Secret into the namespace Flux applies the app to.

An app's folder name is not always its namespace: its Flux Kustomization's
``targetNamespace`` or a kustomization.yaml ``namespace:`` may put it elsewhere
(vrozaksen__home-ops keeps ``observability`` apps in an ``exporters`` folder).  The
InfisicalSecret must create the Secret where the app reads it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from homelab_kit import load
from homelab_kit.scaffold import plan_add_secret, plan_new_app
from homelab_kit.scaffold.plan import Plan
from homelab_kit.secrets_map import build_secrets_map
from homelab_kit.yaml import parse_text
from tests.conftest import CORPORA

APP = "kubernetes/apps/default/exporter"


def _infisical(plan: Plan) -> tuple[str, dict]:
    """The path and document of the one InfisicalSecret the plan creates."""
    found = []
    for create in plan.creates:
        docs, _ = parse_text(create.text, create.path)
        found += [
            (create.path, d.data)
            for d in docs
            if isinstance(d.data, dict) and d.data.get("kind") == "InfisicalSecret"
        ]
    assert len(found) == 1, [c.path for c in plan.creates]
    return found[0]


def _secret_namespace(doc: dict) -> str:
    spec = doc["spec"]
    refs = spec.get("managedSecretReference") or spec["managedKubeSecretReferences"][0]
    return refs["secretNamespace"] if isinstance(refs, dict) else refs[0]["secretNamespace"]


def _new_app(repo: Path) -> None:
    plan_new_app(
        repo,
        "default/exporter",
        chart="oci://ghcr.io/a/b",
        version="1.0.0",
        image="ghcr.io/a/b:1.0.0",
    ).apply()


def _move_to_observability(repo: Path, how: str) -> None:
    ks = repo / APP / "ks.yaml"
    text = ks.read_text(encoding="utf-8")
    assert "targetNamespace: *namespace" in text
    if how == "targetNamespace":
        ks.write_text(text.replace("targetNamespace: *namespace", "targetNamespace: observability"))
        return
    # no targetNamespace: the app folder's kustomization.yaml sets the namespace
    ks.write_text(text.replace("  targetNamespace: *namespace\n", ""))
    kfile = repo / APP / "app/kustomization.yaml"
    kfile.write_text(
        kfile.read_text(encoding="utf-8").replace(
            "resources:", "namespace: observability\nresources:"
        )
    )


@pytest.mark.parametrize("how", ["targetNamespace", "kustomization namespace"])
def test_the_secret_lands_where_flux_applies_the_app(repo: Path, how: str) -> None:
    _new_app(repo)
    _move_to_observability(repo, how)
    plan = plan_add_secret(repo, "default/exporter")
    path, doc = _infisical(plan)
    assert path == "kubernetes/apps/default/secrets/exporter-secrets.yaml"  # the folder's
    assert _secret_namespace(doc) == "observability"
    assert doc["metadata"]["namespace"] == "default"  # where the secrets folder lives
    assert any("Secret observability/exporter-secret" in s for s in plan.next_steps)
    plan.apply()
    lane = build_secrets_map(load(repo)).namespace("observability")
    assert lane is not None
    secret = next(s for s in lane.secrets if s.name == "exporter-secret")
    assert secret.producers
    assert "default/exporter" in secret.reader_apps
    assert plan_add_secret(repo, "default/exporter").empty  # and only once


def test_the_folder_namespace_when_nothing_else_sets_one(repo: Path) -> None:
    _new_app(repo)
    _, doc = _infisical(plan_add_secret(repo, "default/exporter"))
    assert _secret_namespace(doc) == "default"


@pytest.mark.corpora
def test_vrozaksen_exporters_live_in_observability(tmp_path: Path) -> None:
    """vrozaksen__home-ops: exporters/speedtest-exporter's ks.yaml sets
    targetNamespace observability; its InfisicalSecret sits beside the HelmRelease."""
    source = CORPORA / "vrozaksen__home-ops"
    if not source.is_dir():
        pytest.skip(f"{source} is absent (../shared/corpora)")
    root = tmp_path / source.name
    shutil.copytree(source, root, symlinks=True)
    (root / ".git").mkdir()
    path, doc = _infisical(plan_add_secret(root, "exporters/speedtest-exporter"))
    assert path == (
        "kubernetes/platform/observability/exporters/speedtest-exporter/infisicalsecret.yaml"
    )
    assert _secret_namespace(doc) == "observability"
    assert doc["metadata"]["namespace"] == "observability"


def test_new_app_follows_the_namespace_its_neighbours_are_applied_to(repo: Path) -> None:
    """A folder whose ks.yaml live in flux-system and apply their apps to
    observability: a new app there does the same, and its Secret goes there."""
    new = {"chart": "oci://ghcr.io/a/b", "version": "1.0.0", "image": "ghcr.io/a/b:1.0.0"}
    plan_new_app(repo, "exporters/one", **new).apply()
    ks = repo / "kubernetes/apps/exporters/one/ks.yaml"
    text = ks.read_text(encoding="utf-8")
    assert "namespace: &namespace exporters" in text
    text = text.replace("namespace: &namespace exporters", "namespace: flux-system")
    ks.write_text(text.replace("targetNamespace: *namespace", "targetNamespace: observability"))
    plan = plan_new_app(repo, "exporters/two", **new, secrets=True)
    _, doc = _infisical(plan)
    assert _secret_namespace(doc) == "observability"
    assert any("Secret observability/two-secret" in s for s in plan.next_steps)
    plan.apply()
    docs, _ = parse_text((repo / "kubernetes/apps/exporters/two/ks.yaml").read_text(), "ks.yaml")
    written = next(d.data for d in docs if isinstance(d.data, dict))
    assert written["metadata"]["namespace"] == "flux-system"
    assert written["spec"]["targetNamespace"] == "observability"
    lane = build_secrets_map(load(repo)).namespace("observability")
    assert lane is not None
    secret = next(s for s in lane.secrets if s.name == "two-secret")
    assert secret.producers
    assert "exporters/two" in secret.reader_apps
