"""A finding about one cluster of several names it, in every format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import attrs
import jsonschema
import pytest

from homelab_kit.diagnostic import Diagnostic
from homelab_kit.lint.baseline import entry
from homelab_kit.lint.result import LintResult
from homelab_kit.report.base import ReportOptions
from homelab_kit.report.github import GithubReporter
from homelab_kit.report.json import JsonReporter, schema
from homelab_kit.report.junit import JunitReporter
from homelab_kit.report.sarif import SarifReporter
from homelab_kit.report.text import ConciseReporter, TextReporter


@pytest.fixture
def named(sample: LintResult) -> tuple[LintResult, Diagnostic]:
    """The sample with its prune finding reported for cluster ``storage``."""
    prune = next(d for d in sample.diagnostics if d.check_id == "flux-ks-prune")
    storage = attrs.evolve(prune, cluster="storage")
    diagnostics = tuple(sorted(d if d is not prune else storage for d in sample.diagnostics))
    return attrs.evolve(sample, diagnostics=diagnostics, clusters=("main", "storage")), storage


def test_text_and_concise_name_the_cluster_before_the_message(
    named: tuple[LintResult, Diagnostic],
) -> None:
    result, _ = named
    for reporter in (TextReporter(), ConciseReporter()):
        text = reporter.render(result, ReportOptions(show_source=False))
        assert (
            "kubernetes/apps/media/ks.yaml:8:10: error[flux-ks-prune] [cluster storage] "
            "Kustomization media does not prune"
        ) in text
        assert text.count("[cluster ") == 1  # the other findings are about every cluster


def test_json_has_a_cluster_field(named: tuple[LintResult, Diagnostic]) -> None:
    result, _ = named
    document = json.loads(JsonReporter().render(result, ReportOptions()))
    jsonschema.validate(document, schema())
    clusters = {d["check_id"]: d["cluster"] for d in document["diagnostics"]}
    assert clusters["flux-ks-prune"] == "storage"
    assert clusters["flux-ks-interval"] is None
    assert document["diagnostics"][2]["message"] == "Kustomization media does not prune"


def test_sarif_github_and_junit_name_the_cluster(named: tuple[LintResult, Diagnostic]) -> None:
    result, _ = named
    sarif = json.loads(SarifReporter().render(result, ReportOptions()))
    found = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "flux-ks-prune")
    assert found["properties"]["cluster"] == "storage"
    assert found["message"]["text"].startswith("[cluster storage] Kustomization media")
    github = GithubReporter().render(result, ReportOptions())
    assert "ks.yaml:8:10: [cluster storage] Kustomization media does not prune" in github
    junit = ET.fromstring(JunitReporter().render(result, ReportOptions()))
    messages = [f.get("message") for f in junit.iter("failure")]
    assert "[cluster storage] Kustomization media does not prune" in messages


def test_the_same_finding_in_two_clusters_is_two_findings(
    named: tuple[LintResult, Diagnostic],
) -> None:
    """Two clusters' copies differ: distinct findings, fingerprints and baseline entries."""
    _, storage = named
    main = attrs.evolve(storage, cluster="main")
    assert main != storage
    assert sorted([storage, main]) == [main, storage]
    assert entry(main) != entry(storage)
    assert str(storage).endswith(
        "[flux-ks-prune] [cluster storage] Kustomization media does not prune"
    )
