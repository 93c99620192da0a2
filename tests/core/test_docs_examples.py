"""The configuration example in docs/lint.md is valid: every key, check ID and option."""

from __future__ import annotations

import re
from pathlib import Path

import homelab_kit
from homelab_kit.testing import write_tree
from tests.conftest import PROJECT_ROOT


def test_lint_md_configuration_example_is_accepted(tmp_path: Path) -> None:
    text = (PROJECT_ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    match = re.search(r"## Configuration: `.homelab-kit.yaml`.*?```yaml\n(.*?)```", text, re.S)
    assert match is not None
    entries = re.findall(r"^  \w+: (kubernetes/\S+)", match.group(1), re.M)  # clusters:
    assert entries  # the example shows the clusters: map; its entries must exist
    # the schema location it names exists too
    files = {".homelab-kit.yaml": match.group(1), "kubernetes/.keep": "", "schemas/.keep": ""}
    files.update({f"{entry}/.keep": "" for entry in entries})
    root = write_tree(tmp_path, files)
    result = homelab_kit.lint(root)  # raises ConfigError on any unknown key, ID or option
    assert result.diagnostics == ()
