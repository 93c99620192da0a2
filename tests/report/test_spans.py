"""Every finding has an end (SARIF regions, GitHub annotations, carets), at the right key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from homelab_kit.report.base import ReportOptions
from homelab_kit.report.github import GithubReporter
from homelab_kit.report.sarif import SarifReporter
from homelab_kit.testing import YamlTree, lint_path
from homelab_kit.yaml.span import span_end
from tests.conftest import CORPUS_NAMES, corpus_path

TEXT = """\
spec:
  privileged: true  # a comment
  name: "a quoted
    scalar"
  flow: {a: 1, b: [2, 3]}
  block: |
    line one
    line two
  nested:
    key: value
  list:
    - item one
    - {x: 1}
  "quoted key": 'it''s'
"""
LINES = TEXT.splitlines()


@pytest.mark.parametrize(
    ("line", "column", "end"),
    [
        (2, 3, (2, 19)),  # a key: the key and its value, not the comment
        (2, 15, (2, 19)),  # the value alone
        (3, 3, (4, 12)),  # a quoted scalar that runs on
        (5, 9, (5, 26)),  # a flow mapping to its closing brace
        (6, 3, (8, 13)),  # a block scalar: every more-indented line
        (9, 3, (9, 10)),  # a key whose value is a block below: the key and its colon
        (12, 5, (12, 15)),  # a sequence item
        (13, 7, (13, 13)),  # a flow item
        (14, 3, (14, 24)),  # a quoted key and a quoted value with an escaped quote
        (1, 1, (1, 6)),
        (15, 1, None),  # past the end
        (2, 1, None),  # indentation is not a token
    ],
)
def test_span_end(line: int, column: int, end: tuple[int, int] | None) -> None:
    assert span_end(LINES, line, column) == end


DEPLOYMENT = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  namespace: default
spec:
  selector:
    matchLabels: {app: d}
  template:
    metadata:
      labels: {app: d}
    spec:
      containers:
        - name: c
          image: nginx
          securityContext:
            runAsNonRoot: true
            privileged: true
"""
KS = """\
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: default
spec:
  components:
    - ../../components/common
  interval: 1h
  path: ./kubernetes/apps/default/{name}/app
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
{extra}"""


def test_findings_point_at_the_key_and_span_it(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "kubernetes/apps/default/d/app/deployment.yaml": DEPLOYMENT,
            "kubernetes/apps/default/d/app/kustomization.yaml": "resources: [deployment.yaml]\n",
            "kubernetes/apps/default/d/ks.yaml": KS.format(name="d", extra=""),  # deploys it
            "kubernetes/apps/default/a/ks.yaml": KS.format(name="a", extra=""),
            "kubernetes/apps/default/b/ks.yaml": KS.format(
                name="b", extra="  dependsOn:\n    - name: a\n"
            ),
        }
    )
    result = lint_path(root, select=["workload-privileged", "flux-ks-dependency-wait"])
    found = {
        d.check_id: (
            d.location.line,
            d.location.column,
            d.location.end_line,
            d.location.end_column,
        )
        for d in result.diagnostics
    }
    assert found == {
        "workload-privileged": (19, 13, 19, 29),  # privileged: true
        "flux-ks-dependency-wait": (7, 1, 7, 6),  # spec:, which lacks wait
    }


@pytest.mark.corpora
@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_every_finding_on_a_corpus_has_an_end(name: str) -> None:
    located = [
        d
        for d in lint_path(corpus_path(name)).diagnostics
        if d.location.line > 0 and d.location.column > 0
    ]
    assert located
    assert all(d.location.end_line is not None for d in located)
    assert all(
        (d.location.end_line, d.location.end_column or 0) >= (d.location.line, d.location.column)
        for d in located
    )
    spanning = [
        d
        for d in located
        if (d.location.end_line, d.location.end_column) > (d.location.line, d.location.column)
    ]
    assert len(spanning) > len(located) / 2


def test_sarif_and_github_carry_the_region(yaml_tree: YamlTree) -> None:
    root = yaml_tree({"kubernetes/apps/default/d/app/deployment.yaml": DEPLOYMENT})
    result = lint_path(root, select=["workload-privileged"])
    sarif = json.loads(SarifReporter().render(result, ReportOptions()))
    region = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 19, "startColumn": 13, "endLine": 19, "endColumn": 29}
    github = GithubReporter().render(result, ReportOptions())
    assert "line=19,col=13,endLine=19,endColumn=29" in github


def _lint(root: Path, *args: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "homelab_kit", "lint", str(root), "--no-cache", *args],
        capture_output=True,
        text=True,
        env={
            k: v for k, v in {**os.environ, **env}.items() if k != "NO_COLOR" or "NO_COLOR" in env
        },
        timeout=120,
        check=False,
    )
    return done.stdout


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        ((), {}, False),
        ((), {"FORCE_COLOR": "1"}, True),
        (("--color", "always"), {}, True),
        (("--color",), {}, True),
        (("--color", "never"), {"FORCE_COLOR": "1"}, False),
        (("--no-color",), {"FORCE_COLOR": "1"}, False),
        (("--color", "auto"), {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
    ],
)
def test_colour_when_piped(
    args: tuple[str, ...], env: dict[str, str], coloured: bool, yaml_tree: YamlTree
) -> None:
    root = yaml_tree({"kubernetes/apps/default/d/app/deployment.yaml": DEPLOYMENT})
    out = _lint(root, "--select", "workload-privileged", *args, **env)
    assert "runs privileged" in out
    assert ("\x1b[" in out) is coloured
