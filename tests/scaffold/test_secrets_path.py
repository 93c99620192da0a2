"""The Infisical folder (``secretsPath``) a new InfisicalSecret syncs follows the
repository's InfisicalSecrets: ``<ns>``/``<app>`` patterns, the most common one
beside the app, else in its namespace, else in the repository; ``/<app>`` when none."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from homelab_kit.scaffold import plan_add_secret, plan_new_app
from homelab_kit.scaffold.plan import Plan
from tests.conftest import CORPORA

NEW = {
    "chart": "oci://ghcr.io/bjw-s-labs/helm/app-template",
    "version": "4.2.0",
    "image": "ghcr.io/example/app:1.0.0",
}


def _paths(plan: Plan) -> dict[str, str]:
    """The secretsPath of each InfisicalSecret the plan creates, by file."""
    out = {}
    for create in plan.creates:
        found = re.search(r"secretsPath: (\S+)", create.text)
        if found:
            out[create.path] = found.group(1).strip("\"'")
    return out


def _rewrite(repo: Path, namespaces: tuple[str, ...], path: str) -> None:
    """Make the InfisicalSecrets of ``namespaces`` sync ``path`` (<ns>, <app> filled)."""
    for namespace in namespaces:
        for file in (repo / "kubernetes/apps" / namespace / "secrets").glob("*-secrets.yaml"):
            app = file.name.removesuffix("-secrets.yaml")
            text = file.read_text(encoding="utf-8")
            filled = path.replace("<ns>", namespace).replace("<app>", app)
            file.write_text(
                re.sub(r"secretsPath: \S+", f"secretsPath: {filled}", text), encoding="utf-8"
            )


NAMESPACES = ("cert-manager", "default", "media", "network", "storage")


def test_the_guide_s_folder_when_the_repository_uses_it(repo: Path) -> None:
    plan = plan_new_app(repo, "media/bazarr", **NEW, secrets=True)
    assert _paths(plan) == {"kubernetes/apps/media/secrets/bazarr-secrets.yaml": "/bazarr"}


def test_the_repository_s_pattern_is_followed(repo: Path) -> None:
    _rewrite(repo, NAMESPACES, "/kubernetes/<ns>/<app>")
    plan = plan_new_app(repo, "media/bazarr", **NEW, secrets=True)
    assert _paths(plan) == {
        "kubernetes/apps/media/secrets/bazarr-secrets.yaml": "/kubernetes/media/bazarr"
    }
    assert any("folder /kubernetes/media/bazarr." in step for step in plan.next_steps)
    # a new namespace has none of its own: the repository's pattern
    plan = plan_new_app(repo, "books/kavita", **NEW, secrets=True)
    assert _paths(plan) == {
        "kubernetes/apps/books/secrets/kavita-secrets.yaml": "/kubernetes/books/kavita"
    }


def test_the_namespace_s_pattern_wins_over_the_repository_s(repo: Path) -> None:
    _rewrite(repo, ("media",), "/arr/<app>")
    media = plan_new_app(repo, "media/bazarr", **NEW, secrets=True)
    assert list(_paths(media).values()) == ["/arr/bazarr"]
    other = plan_new_app(repo, "default/echo2", **NEW, secrets=True)
    assert list(_paths(other).values()) == ["/echo2"]


def test_paths_with_variables_are_not_learnt(repo: Path) -> None:
    _rewrite(repo, NAMESPACES, "/${CLUSTER}/<app>")
    plan = plan_new_app(repo, "media/bazarr", **NEW, secrets=True)
    assert list(_paths(plan).values()) == ["/bazarr"]


def _corpus(name: str, tmp_path: Path) -> Path:
    source = CORPORA / name
    if not source.is_dir():
        pytest.skip(f"{source} is absent (../shared/corpora)")
    root = tmp_path / name
    shutil.copytree(source, root, symlinks=True)
    (root / ".git").mkdir()  # the repository root
    return root


@pytest.mark.corpora
def test_vrozaksen_keeps_kubernetes_namespace_app(tmp_path: Path) -> None:
    """vrozaksen__home-ops: /kubernetes/<ns>/<app> (53 of its 74 InfisicalSecrets);
    its ai/mcp/* apps keep /ai/mcp/<app>, which a new app beside them follows and
    one directly in ai/ does not."""
    root = _corpus("vrozaksen__home-ops", tmp_path)
    plan = plan_add_secret(root, "downloads/metube", provider="infisical")
    assert _paths(plan) == {
        "kubernetes/apps/downloads/metube/infisicalsecret.yaml": "/kubernetes/downloads/metube"
    }
    plan = plan_add_secret(root, "ai/text-embeddings-inference", provider="infisical")
    assert list(_paths(plan).values()) == ["/kubernetes/ai/text-embeddings-inference"]
    plan = plan_new_app(root, "ai/mcp-new", **NEW, secrets=True, provider="infisical")
    assert list(_paths(plan).values()) == ["/kubernetes/ai/mcp-new"]


@pytest.mark.corpora
def test_yamshy_syncs_the_root_folder(tmp_path: Path) -> None:
    """yamshy__homelab: every InfisicalSecret (17) syncs "/", so a new one does too."""
    root = _corpus("yamshy__homelab", tmp_path)
    plan = plan_add_secret(root, "media/jellyfin", provider="infisical")
    assert list(_paths(plan).values()) == ["/"]
