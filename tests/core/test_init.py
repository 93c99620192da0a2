"""``homelab-kit init`` and homelab_kit.conventions: conventions detected from what a
repository does consistently, written to a configuration that lints clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import homelab_kit
from homelab_kit.config import load_config
from homelab_kit.conventions import Conventions, detect, render_config
from homelab_kit.lint import registered_checks
from homelab_kit.plugins import PluginManager
from homelab_kit.testing import write_tree
from tests.conftest import PROJECT_ROOT, corpus_path

CHECKS = registered_checks(PluginManager(autoload=False))


def _init(root: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "homelab_kit", "init", *flags, str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _detect(root: Path) -> Conventions:
    return detect(homelab_kit.load(root), CHECKS)


def _onedr0p_style_app(name: str) -> dict[str, str]:
    """An app as onedr0p lays it out: OCIRepository in its own file, inline values, no wait."""
    app = f"kubernetes/apps/default/{name}"
    return {
        f"{app}/ks.yaml": f"""\
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: default
spec:
  interval: 1h
  path: ./{app}/app
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
""",
        f"{app}/app/kustomization.yaml": """\
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ./ocirepository.yaml
  - ./helmrelease.yaml
""",
        f"{app}/app/ocirepository.yaml": f"""\
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: {name}
spec:
  interval: 15m
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
  ref:
    tag: 4.2.0
""",
        f"{app}/app/helmrelease.yaml": f"""\
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: {name}
  values:
    replicas: 1
""",
    }


def _onedr0p_style(root: Path, apps: int = 3) -> Path:
    files: dict[str, str] = {}
    for number in range(apps):
        files.update(_onedr0p_style_app(f"app{number}"))
    return write_tree(root, files)


# --------------------------------------------------------------------------- detection


def test_the_reference_cluster_follows_every_convention_of_the_guide() -> None:
    found = _detect(PROJECT_ROOT)
    assert found.not_followed == ()
    assert found.guide_style
    assert found.secrets_backend == "Infisical"
    assert found.values == {"generated ConfigMap": 20}
    assert found.configuration() == {"preset": "homelab-kit"}


def test_an_onedr0p_style_repository_gets_its_own_conventions(tmp_path: Path) -> None:
    found = _detect(_onedr0p_style(tmp_path))
    placement = found.get("helm-chart-source-placement")
    assert placement is not None
    assert (placement.options, placement.follows, placement.total) == (
        {"placement": "folder"},
        3,
        3,
    )
    wait = found.get("flux-ks-wait")
    assert wait is not None
    assert (wait.consistent, wait.follows, wait.total) == (False, 0, 3)
    assert wait.choice.startswith("only where something depends on it")
    assert found.values == {"inline": 3}
    assert not found.guide_style
    data = found.configuration()
    assert data["preset"] == "recommended"
    assert "helm-chart-source-placement" in data["extend-select"]
    assert "flux-ks-wait" not in data["extend-select"]
    assert data["checks"] == {"helm-chart-source-placement": {"placement": "folder"}}


def test_exceptions_are_listed_and_a_few_do_not_break_consistency(tmp_path: Path) -> None:
    root = _onedr0p_style(tmp_path, apps=10)
    # One app writes its file without the document start: 1 exception in 40 files.
    odd = root / "kubernetes/apps/default/app3/app/helmrelease.yaml"
    odd.write_text(odd.read_text().removeprefix("---\n"))
    start = _detect(root).get("yaml-document-start")
    assert start is not None
    assert start.consistent
    assert (start.follows, start.total) == (39, 40)
    assert start.exceptions == ("kubernetes/apps/default/app3/app/helmrelease.yaml:1",)


def test_sops_files_where_the_repository_keeps_them_are_allowlisted(tmp_path: Path) -> None:
    sops = "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nsops:\n  version: 3.8.1\n"
    files = {
        f"kubernetes/apps/{ns}/{app}/app/secret.sops.yaml": sops
        for ns, app in (("network", "dns"), ("media", "sonarr"))
    }
    root = write_tree(tmp_path, files)
    found = _detect(root)
    assert found.sops_allowlist is not None
    assert "kubernetes/apps/*/*/app/*.sops.yaml" in found.sops_allowlist
    assert found.secrets["SOPS"] == 2


# --------------------------------------------------------------------------- the command


def test_init_writes_a_configuration_that_lints_clean(tmp_path: Path) -> None:
    root = _onedr0p_style(tmp_path)
    before = {d.check_id for d in homelab_kit.lint(root).diagnostics}
    result = _init(root)
    assert result.returncode == 0, result.stderr
    assert "chart source placement: in its own file beside the HelmRelease" in result.stdout
    assert "3/3 HelmReleases" in result.stdout
    assert "Wrote .homelab-kit.yaml: preset recommended" in result.stdout
    config = load_config(root)  # no configuration error
    assert config.preset == "recommended"
    after = homelab_kit.lint(root).diagnostics
    categories = {c.id: c.category for c in CHECKS}
    assert [d for d in after if categories.get(d.check_id) == "convention"] == []
    assert {d.check_id for d in after} <= before


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    root = _onedr0p_style(tmp_path)
    mine = "---\n# my settings\nmissing-schema: ignore\napps-root: kubernetes/apps\n"
    (root / ".homelab-kit.yaml").write_text(mine)
    refused = _init(root)
    assert refused.returncode == 2
    assert "exists; `homelab-kit init --force` rewrites it" in refused.stderr
    assert (root / ".homelab-kit.yaml").read_text() == mine
    forced = _init(root, "--force")
    assert forced.returncode == 0, forced.stderr
    text = (root / ".homelab-kit.yaml").read_text()
    assert "# my settings\nmissing-schema: ignore\napps-root: kubernetes/apps\n" in text
    assert "preset: recommended" in text
    assert load_config(root).missing_schema == "ignore"


def test_dry_run_prints_the_file_and_writes_nothing(tmp_path: Path) -> None:
    root = _onedr0p_style(tmp_path)
    result = _init(root, "--dry-run")
    assert result.returncode == 0
    assert "placement: folder" in result.stdout
    assert not (root / ".homelab-kit.yaml").exists()


def test_render_config_comments_each_choice(tmp_path: Path) -> None:
    text = render_config(_detect(_onedr0p_style(tmp_path)))
    assert "  - helm-chart-source-placement  # chart source placement: 3/3 HelmReleases" in text


# --------------------------------------------------------------------------- corpora


def test_the_guides_own_repository_gets_the_guides_preset() -> None:
    found = _detect(corpus_path("yamshy__homelab"))
    data = found.configuration()
    assert data["preset"] == "homelab-kit"
    # What it does not do consistently is left out, not enforced.
    assert "flux-ks-wait" in data["ignore"]
    assert "helm-chart-source-placement" not in data["ignore"]


@pytest.mark.parametrize("name", ["onedr0p__home-ops", "bjw-s-labs__home-ops"])
def test_onedr0p_style_corpora_get_their_conventions(name: str) -> None:
    found = _detect(corpus_path(name))
    data = found.configuration()
    assert data["preset"] == "recommended"
    assert data["checks"]["helm-chart-source-placement"] == {"placement": "folder"}
    assert found.secrets_backend == "External Secrets"
    assert "flux-ks-wait" not in data.get("extend-select", [])


def test_force_refuses_to_lose_a_file_it_cannot_read(tmp_path: Path) -> None:
    root = _onedr0p_style(tmp_path)
    broken = "preset: [\n# my notes\n"
    (root / ".homelab-kit.yaml").write_text(broken)
    result = _init(root, "--force")
    assert result.returncode == 2
    assert "not valid YAML, so its other keys cannot be kept" in result.stderr
    assert "Traceback" not in result.stderr
    assert (root / ".homelab-kit.yaml").read_text() == broken


def test_init_never_follows_a_symbolic_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("secret: value\n")
    root = _onedr0p_style(tmp_path / "repo")
    (root / ".homelab-kit.yaml").symlink_to(outside)
    result = _init(root, "--force")
    assert result.returncode == 2
    assert "is a symbolic link" in result.stderr
    assert "secret" not in result.stdout + result.stderr
    assert outside.read_text() == "secret: value\n"
