"""Repository-specific values: learnt from the repository, then config, then flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab_kit import load, load_config
from homelab_kit.errors import ConfigError
from homelab_kit.scaffold import parse_overrides, resolve_settings
from homelab_kit.testing import write_tree
from tests.conftest import corpus_path


def _settings(root: Path, **flags: str):  # type: ignore[no-untyped-def]
    return resolve_settings(load(root), load_config(root), flags)


def test_learnt_from_the_yamshy_corpus() -> None:
    s = _settings(corpus_path("yamshy__homelab"))
    assert (s.project_slug, s.env_slug) == ("homelab-0r-b1", "prod")
    assert (s.credentials_secret, s.credentials_namespace) == (
        "universal-auth-credentials",
        "kube-system",
    )
    assert s.host_api == "https://app.infisical.com/api"  # none written there: the default
    assert s.origin("project_slug") == "repository"
    assert s.origin("host_api") == "default"
    assert (s.source_kind, s.source_name, s.source_namespace) == (
        "GitRepository",
        "flux-system",
        "flux-system",
    )
    assert (s.operator_name, s.operator_namespace) == (
        "infisical-secrets-operator",
        "infisical-system",
    )
    assert s.components == ("../../components/common",)
    assert s.interval == "1h"
    assert s.resync_interval == 60


def test_config_beats_the_repository_and_flags_beat_config(repo: Path) -> None:
    config = repo / ".homelab-kit.yaml"
    text = config.read_text() if config.is_file() else "---\n"
    config.write_text(
        text + "scaffold:\n  projectSlug: from-config\n  sourceRef:\n    name: other\n"
        "  infisicalOperator: false\n"
    )
    s = _settings(repo)
    assert (s.project_slug, s.origin("project_slug")) == ("from-config", "config")
    assert s.source_name == "other"
    assert s.operator_name == ""
    s = _settings(repo, projectSlug="from-flag")
    assert (s.project_slug, s.origin("project_slug")) == ("from-flag", "flag")


def test_invalid_settings_are_errors(tmp_path: Path) -> None:
    write_tree(tmp_path, {"kubernetes/.keep": "", ".homelab-kit.yaml": "scaffold:\n  nope: 1\n"})
    with pytest.raises(ConfigError, match="unknown scaffold setting 'nope'"):
        _settings(tmp_path)
    (tmp_path / ".homelab-kit.yaml").write_text("scaffold:\n  interval: often\n")
    with pytest.raises(ConfigError, match="interval: invalid value"):
        _settings(tmp_path)
    (tmp_path / ".homelab-kit.yaml").write_text("scaffold:\n  hostAPI: 'http://x/{{ 1 }}'\n")
    with pytest.raises(ConfigError, match="hostAPI"):
        _settings(tmp_path)
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_overrides(["projectSlug"])
    with pytest.raises(ConfigError, match="unknown scaffold setting"):
        parse_overrides(["project=x"])


def test_defaults_in_an_empty_repository(tmp_path: Path) -> None:
    (tmp_path / "kubernetes").mkdir()
    s = _settings(tmp_path)
    assert s.project_slug == "homelab"
    assert s.origin("project_slug") == "default"
    assert s.components == ()
    assert s.operator_name == ""


def test_the_secrets_kustomization_depends_on_the_operator_chart() -> None:
    from homelab_kit import load
    from homelab_kit.scaffold.settings import _infisical_operator
    from tests.conftest import corpus_path

    # found by the chart it deploys (secrets-operator), whatever the Kustomization is called
    repo = load(corpus_path("vrozaksen__home-ops"))
    assert _infisical_operator(repo) == ("infisical-operator", "security")
    repo = load(corpus_path("yamshy__homelab"))
    assert _infisical_operator(repo) == ("infisical-secrets-operator", "infisical-system")
