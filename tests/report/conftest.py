"""A small repository with real files and hand-made findings, for every format's tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from homelab_kit.diagnostic import Diagnostic, Edit, Fix, Severity
from homelab_kit.lint.result import CheckInfo, LintResult
from homelab_kit.location import Location
from homelab_kit.testing import YamlTree

MakeResult = Callable[..., LintResult]

KS = """\
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata:
      name: media
      namespace: flux-system
    spec:
      interval: 1m
      prune: false
      path: ./kubernetes/apps/media
    """

KUSTOMIZATION = """\
    apiVersion: kustomize.config.k8s.io/v1beta1
    kind: Kustomization
    resources:
      - ./ks.yaml
    """

CHECKS = (
    CheckInfo("flux-ks-prune", Severity.ERROR, "Flux Kustomizations must prune.", "flux", True),
    CheckInfo("flux-ks-interval", Severity.WARNING, "Reconcile no more than needed.", "flux"),
    CheckInfo("yaml-document-start", Severity.INFO, "Files start with ---.", "yaml"),
    CheckInfo("helm-values-schema", Severity.ERROR, "Values match the chart.", "helm"),
)


def make_result(root: Path, diagnostics: tuple[Diagnostic, ...], **kwargs: object) -> LintResult:
    """A LintResult over ``root`` with the sample checks and counts."""
    fields: dict[str, object] = {
        "checks": CHECKS,
        "files": 4,
        "apps": 1,
        "namespaces": 1,
        "suppressed": 2,
        "duration": 0.1234,
        "tool_version": "0.1.0",
    }
    fields.update(kwargs)
    return LintResult(root, tuple(sorted(diagnostics)), **fields)  # type: ignore[arg-type]


PRUNE = Diagnostic(
    Location("kubernetes/apps/media/ks.yaml", 8, 10, end_line=8, end_column=15),
    "flux-ks-prune",
    "Kustomization media does not prune",
    Severity.ERROR,
    "Set spec.prune: true.",
    Fix(
        "Set spec.prune to true",
        (Edit("kubernetes/apps/media/ks.yaml", 0, ("spec", "prune"), True),),
    ),
)
INTERVAL = Diagnostic(
    Location("kubernetes/apps/media/ks.yaml", 7, 13),
    "flux-ks-interval",
    "Kustomization media syncs every 1m",
    Severity.WARNING,
)
DOC_START = Diagnostic(
    Location("kubernetes/apps/media/kustomization.yaml"),
    "yaml-document-start",
    "File does not start with ---",
    Severity.INFO,
    "Add --- as the first line.",
)
GONE = Diagnostic(
    Location("kubernetes/apps/gone.yaml", 3, 1),
    "helm-values-schema",
    "Value replicas is not an integer",
    Severity.ERROR,
    "Use a number.",
)
BLOB = Diagnostic(
    Location("kubernetes/blob.bin", 1, 1),
    "helm-values-schema",
    "Not a YAML file",
    Severity.ERROR,
)
SAMPLE = (PRUNE, INTERVAL, DOC_START, GONE, BLOB)


@pytest.fixture
def result_for() -> MakeResult:
    """``result_for(root, diagnostics, **fields)``: a LintResult with the sample checks."""
    return make_result


@pytest.fixture
def sample_root(yaml_tree: YamlTree) -> Path:
    """The files the sample findings point at (gone.yaml is missing, blob.bin binary)."""
    return yaml_tree(
        {
            "kubernetes/apps/media/ks.yaml": KS,
            "kubernetes/apps/media/kustomization.yaml": KUSTOMIZATION,
            "kubernetes/blob.bin": b"\x00\x01\x02binary\n",
        }
    )


@pytest.fixture
def sample(sample_root: Path) -> LintResult:
    """Five findings: with a span and a fix, without help, whole-file, missing, binary."""
    return make_result(sample_root, SAMPLE)


@pytest.fixture
def clean(sample_root: Path) -> LintResult:
    """A run with no findings."""
    return make_result(sample_root, (), suppressed=0)
