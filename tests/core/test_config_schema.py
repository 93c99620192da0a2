"""The JSON schema of .homelab-kit.yaml: current, complete, and as strict as the reader."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest

from homelab_kit.config import _KEYS, load_config
from homelab_kit.config_schema import SCHEMA_PATH, config_schema, main
from homelab_kit.errors import ConfigError
from homelab_kit.testing import write_tree
from homelab_kit.yaml import load_file
from tests.conftest import PROJECT_ROOT

VALIDATOR = jsonschema.Draft202012Validator(config_schema())

# One value the reader accepts for every key it knows.
ACCEPTED = {
    "preset": "homelab-kit",
    "select": ["flux-*"],
    "extend-select": ["convention"],
    "respect-gitignore": False,
    "ignore": "yaml-document-start",
    "per-path-ignores": {"kubernetes/archive/**": ["schema-invalid"]},
    "severity": {"yaml-document-start": "Info"},
    "checks": {"helm-chart-source-placement": {"placement": "folder"}},
    "fail-on": "warning",
    "kubernetes-version": "1.33.4",
    "include": ["kubernetes"],
    "exclude": [],
    "apps-root": "kubernetes/apps",
    "schema-locations": ["schemas/"],
    "missing-schema": "IGNORE",
    "bundled-schemas": False,
    "sops-allowlist": ["talos/*.sops.yaml"],
    "max-file-size": 1024,
    "cache-dir": ".cache",
    "clusters": {"home": "kubernetes/flux/cluster"},
    "contexts": {"home": "admin@home"},
    "bootstrap-secrets": ["cluster-secrets", "flux-system/sops-age"],
    "plugins": {"my-plugin": {"strict": True}},
    "scaffold": {"project-slug": "homelab"},
}


def test_the_shipped_schema_is_current() -> None:
    assert main(["--check"]) == 0, "run python -m homelab_kit.config_schema"
    assert SCHEMA_PATH.parent == PROJECT_ROOT / "homelab_kit"


def test_every_key_the_reader_accepts_is_in_the_schema_and_no_other() -> None:
    assert set(config_schema()["properties"]) == set(_KEYS)
    assert config_schema()["additionalProperties"] is False
    assert set(ACCEPTED) == set(_KEYS), "give ACCEPTED a value for the new key"


@pytest.mark.parametrize("key", sorted(ACCEPTED))
def test_a_value_the_reader_accepts_the_schema_accepts(key: str, tmp_path: Path) -> None:
    import json

    (tmp_path / "schemas").mkdir()  # the folder schema-locations names
    (tmp_path / "kubernetes/flux/cluster").mkdir(parents=True)  # the entry clusters names
    write_tree(tmp_path, {".homelab-kit.yaml": f"{key}: {json.dumps(ACCEPTED[key])}\n"})
    load_config(tmp_path)  # raises on a value the reader refuses
    assert list(VALIDATOR.iter_errors({key: ACCEPTED[key]})) == []


@pytest.mark.parametrize(
    "text",
    [
        "selekt: [x]\n",
        "fail-on: fatal\n",
        "select: 3\n",
        "missing-schema: sometimes\n",
        "bundled-schemas: no-thanks\n",
        "max-file-size: 0\n",
        "severity: {x: loud}\n",
        "preset: strictest\n",
        "contexts: {main: 3}\n",
        "contexts: {main: ''}\n",
        "contexts: [main]\n",
    ],
)
def test_what_the_reader_refuses_the_schema_refuses(text: str, tmp_path: Path) -> None:
    root = write_tree(tmp_path, {".homelab-kit.yaml": text})
    with pytest.raises(ConfigError):
        load_config(root)
    data = load_file(str(root / ".homelab-kit.yaml"), ".homelab-kit.yaml").documents[0].data
    assert list(VALIDATOR.iter_errors(data)) != []


def test_the_reference_cluster_and_the_documented_example_are_valid() -> None:
    for path in (PROJECT_ROOT / ".homelab-kit.yaml",):
        documents = load_file(str(path), path.name).documents
        assert list(VALIDATOR.iter_errors(documents[0].data if documents else None)) == []
    text = (PROJECT_ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    match = re.search(r"## Configuration: `.homelab-kit.yaml`.*?```yaml\n(.*?)```", text, re.S)
    assert match is not None
    from homelab_kit.yaml import parse_text

    example = parse_text(match.group(1))[0][0].data
    assert list(VALIDATOR.iter_errors(example)) == []


def test_the_schema_patterns_are_ecmascript() -> None:
    """yaml-language-server compiles patterns as JavaScript regexes: no inline flags."""
    text = SCHEMA_PATH.read_text(encoding="utf-8")
    assert "(?" not in text
