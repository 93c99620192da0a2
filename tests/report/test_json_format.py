"""The json format: valid against its published schema, and saying what it should."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest

from homelab_kit.lint.result import LintResult
from homelab_kit.report import JsonReporter, ReportOptions
from homelab_kit.report.json import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "homelab_kit/report/schemas/lint-output-v1.json"


def _validate(document: Any) -> None:
    loaded = schema()
    jsonschema.Draft202012Validator.check_schema(loaded)
    jsonschema.Draft202012Validator(
        loaded, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(document)


def test_the_packaged_schema_is_the_documented_file() -> None:
    assert schema() == json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def test_output_matches_the_schema_and_the_findings(sample: LintResult) -> None:
    text = JsonReporter().render(sample, ReportOptions(color=True))
    assert text.endswith("}\n")
    assert "\x1b" not in text
    document = json.loads(text)
    _validate(document)
    assert document["version"] == 1
    assert document["tool"] == {"name": "homelab-kit", "version": "0.1.0"}
    assert document["root"] == sample.root.as_posix()
    assert document["summary"] == {
        "total": 5,
        "errors": 3,
        "warnings": 1,
        "info": 1,
        "fixable": 1,
        "suppressed": 2,
        "by_check": {
            "flux-ks-interval": 1,
            "flux-ks-prune": 1,
            "helm-values-schema": 2,
            "yaml-document-start": 1,
        },
        "files": 4,
        "apps": 1,
        "namespaces": 1,
        "clusters": [],
        "duration": 0.123,
    }
    assert [c["id"] for c in document["checks"]] == sorted(c.id for c in sample.checks)
    assert document["checks"][1] == {
        "id": "flux-ks-prune",
        "severity": "error",
        "summary": "Flux Kustomizations must prune.",
        "plugin": "flux",
        "fixable": True,
    }
    assert [(d["path"], d["line"], d["check_id"]) for d in document["diagnostics"]] == [
        ("kubernetes/apps/gone.yaml", 3, "helm-values-schema"),
        ("kubernetes/apps/media/ks.yaml", 7, "flux-ks-interval"),
        ("kubernetes/apps/media/ks.yaml", 8, "flux-ks-prune"),
        ("kubernetes/apps/media/kustomization.yaml", 0, "yaml-document-start"),
        ("kubernetes/blob.bin", 1, "helm-values-schema"),
    ]
    assert document["diagnostics"][2] == {
        "path": "kubernetes/apps/media/ks.yaml",
        "line": 8,
        "column": 10,
        "end_line": 8,
        "end_column": 15,
        "check_id": "flux-ks-prune",
        "severity": "error",
        "message": "Kustomization media does not prune",
        "remediation": "Set spec.prune: true.",
        "fixable": True,
        "cluster": None,
    }
    assert document["diagnostics"][1]["end_line"] is None
    assert document["diagnostics"][1]["remediation"] == ""


def test_clean_output_matches_the_schema(clean: LintResult) -> None:
    document = json.loads(JsonReporter().render(clean, ReportOptions()))
    _validate(document)
    assert document["diagnostics"] == []
    assert document["summary"]["total"] == 0
    assert document["summary"]["by_check"] == {}


def test_the_schema_rejects_drift(sample: LintResult) -> None:
    document = json.loads(JsonReporter().render(sample, ReportOptions()))
    document["diagnostics"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        _validate(document)
    del document["diagnostics"][0]["severity"]
    with pytest.raises(jsonschema.ValidationError):
        _validate(document)


def test_unicode_is_kept_and_quotes_are_escaped(sample: LintResult) -> None:
    diagnostic = attrs.evolve(sample.diagnostics[0], message='名前 "quoted"\nnext')
    result = attrs.evolve(sample, diagnostics=(diagnostic,))
    text = JsonReporter().render(result, ReportOptions())
    assert '"message": "名前 \\"quoted\\"\\nnext"' in text
    assert json.loads(text)["diagnostics"][0]["message"] == '名前 "quoted"\nnext'
