"""The docs say what is true: their examples run and print what they show.

The configuration example in docs/lint.md is valid (every key, check ID and option);
the outputs in docs/output-formats.md are those of a small repository; the README's
library example and lint command work on the reference cluster; no doc installs from a
package index the project is not published on.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


# --------------------------------------------------------------------------- install

_INDEX_INSTALL = re.compile(r"pip install (?:-\S+ )*['\"]?homelab-kit(?:-example)?(?:==|['\"\s]|$)")


def test_no_doc_installs_from_a_package_index() -> None:
    """homelab-kit is not published: docs install from a clone or a Git URL."""
    texts = [PROJECT_ROOT / "README.md", PROJECT_ROOT / "plugins" / "example" / "README.md"]
    texts += sorted((PROJECT_ROOT / "docs").glob("*.md"))
    found = [
        f"{path.name}: {line.strip()}"
        for path in texts
        for line in path.read_text(encoding="utf-8").splitlines()
        if _INDEX_INSTALL.search(line)
    ]
    assert found == []


# --------------------------------------------------------------------------- output formats

OUTPUT_FORMATS_TREE = {
    # yaml-document-start is a convention; a written prune: false is reported only when
    # allow-false is off (the guide's rule, as the reference cluster sets it)
    ".homelab-kit.yaml": "preset: homelab-kit\nchecks:\n  flux-ks-prune:\n    allow-false: false\n",
    "kubernetes/apps/media/ks.yaml": """\
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: media
  namespace: flux-system
spec:
  prune: false
  wait: true
  interval: 1h
  path: ./kubernetes/apps/media/echo/app
  sourceRef:
    kind: GitRepository
    name: flux-system
""",
    "kubernetes/apps/media/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources:\n  - ./ks.yaml\n"
    ),
    "kubernetes/apps/media/echo/app/kustomization.yaml": (
        "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources:\n  - ./configmap.yaml\n"
    ),
    "kubernetes/apps/media/echo/app/configmap.yaml": (
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: echo\n  namespace: media\n"
        "data:\n  a: b\n"
    ),
}


def _doc_blocks(heading: str, fence: str = "") -> list[str]:
    """The fenced blocks (```fence) of docs/output-formats.md under ``## heading``."""
    text = (PROJECT_ROOT / "docs" / "output-formats.md").read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{fence}\n(.*?)```", section, re.S)


def _lint(root: Path, fmt: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "homelab_kit", "lint", str(root), "--no-cache", "-f", fmt],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "120"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    return re.sub(r"checked in \d+\.\d+s", "checked in 0.12s", done.stdout)


def test_output_formats_text_and_concise_examples_are_real(tmp_path: Path) -> None:
    root = write_tree(tmp_path, OUTPUT_FORMATS_TREE)
    assert _lint(root, "text") == _doc_blocks("text")[0]
    concise = _lint(root, "concise").splitlines()
    assert concise[:2] == _doc_blocks("concise")[0].splitlines()


def test_output_formats_json_and_github_examples_are_real(tmp_path: Path) -> None:
    root = write_tree(tmp_path, OUTPUT_FORMATS_TREE)
    real = json.loads(_lint(root, "json"))
    documented = json.loads(_doc_blocks("json", "json")[0])
    assert documented["version"] == real["version"]
    assert documented["diagnostics"] == real["diagnostics"][: len(documented["diagnostics"])]
    assert {**documented["summary"], "duration": 0} == {**real["summary"], "duration": 0}
    assert all(check in real["checks"] for check in documented["checks"])
    github = _lint(root, "github").splitlines()
    assert _doc_blocks("github")[0].splitlines()[0] == github[0]


# --------------------------------------------------------------------------- README


def test_readme_library_example_runs_on_the_reference_cluster(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code is not None
    exec(code.group(1).replace("path/inside/your/repo", str(PROJECT_ROOT / "kubernetes")), {})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(homelab_kit.load(PROJECT_ROOT).apps)
    assert lines[0].split()[0] in {app.namespace for app in homelab_kit.load(PROJECT_ROOT).apps}


def test_readme_lint_command_is_clean_on_the_reference_cluster() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "homelab_kit", "lint", "--no-cache"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("All checks passed! ")
