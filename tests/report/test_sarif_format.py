"""The sarif format: valid against the official OASIS SARIF 2.1.0 schema, as GitHub needs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest

from homelab_kit.diagnostic import Diagnostic, Severity
from homelab_kit.lint.result import LintResult
from homelab_kit.location import Location
from homelab_kit.report import ReportOptions, SarifReporter

OFFICIAL_SCHEMA = Path(__file__).resolve().parents[1] / "data/sarif/sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    """A validator for the vendored official schema (see tests/data/sarif/README.md)."""
    schema = json.loads(OFFICIAL_SCHEMA.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _render(result: LintResult) -> dict[str, Any]:
    text = SarifReporter().render(result, ReportOptions(color=True))
    assert "\x1b" not in text
    assert text.endswith("}\n")
    document: dict[str, Any] = json.loads(text)
    return document


def test_valid_against_the_official_schema(
    sample: LintResult, clean: LintResult, validator: jsonschema.protocols.Validator
) -> None:
    for result in (sample, clean):
        document = _render(result)
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]
        assert document["version"] == "2.1.0"


def test_driver_and_rules(sample: LintResult) -> None:
    run = _render(sample)["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "homelab-kit"
    assert driver["version"] == "0.1.0"
    assert "informationUri" not in driver or driver["informationUri"].startswith("http")
    assert [rule["id"] for rule in driver["rules"]] == [
        "flux-ks-interval",
        "flux-ks-prune",
        "helm-values-schema",
        "yaml-document-start",
    ]
    prune = driver["rules"][1]
    assert prune["shortDescription"] == {"text": "Flux Kustomizations must prune."}
    assert prune["fullDescription"] == {"text": "Flux Kustomizations must prune."}
    assert prune["defaultConfiguration"] == {"level": "error"}
    assert "homelab-kit explain flux-ks-prune" in prune["help"]["text"]
    assert driver["rules"][3]["defaultConfiguration"] == {"level": "note"}
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": sample.root.resolve().as_uri() + "/"}}


def test_results(sample: LintResult) -> None:
    run = _render(sample)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == len(sample.diagnostics)
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location["uriBaseId"] == "%SRCROOT%"
        assert not location["uri"].startswith("/")
    prune = results[2]
    assert prune["ruleId"] == "flux-ks-prune"
    assert prune["level"] == "error"
    assert prune["message"] == {
        "text": "Kustomization media does not prune\nhelp: Set spec.prune: true."
    }
    assert prune["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {
                    "uri": "kubernetes/apps/media/ks.yaml",
                    "uriBaseId": "%SRCROOT%",
                },
                "region": {"startLine": 8, "startColumn": 10, "endLine": 8, "endColumn": 15},
            }
        }
    ]
    assert results[1]["level"] == "warning"
    assert results[1]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 7,
        "startColumn": 13,
    }
    whole_file = results[3]
    assert whole_file["level"] == "note"
    assert "region" not in whole_file["locations"][0]["physicalLocation"]


def test_fingerprints_ignore_the_line_and_tell_duplicates_apart(tmp_path: Path) -> None:
    def finding(line: int, message: str = "Same problem") -> Diagnostic:
        return Diagnostic(Location("a b/ü.yaml", line, 1), "x-check", message, Severity.WARNING)

    def prints(*diagnostics: Diagnostic) -> list[str]:
        run = _render(LintResult(tmp_path, diagnostics))["runs"][0]
        return [r["partialFingerprints"]["homelabKit/v1"] for r in run["results"]]

    (first,) = prints(finding(3))
    assert prints(finding(40)) == [first]
    twice = prints(finding(3), finding(9))
    assert twice[0] == first
    assert twice[1] != first
    assert prints(finding(3, "Other problem")) != [first]


def test_paths_are_percent_encoded_relative_uris(
    tmp_path: Path, validator: jsonschema.protocols.Validator
) -> None:
    result = LintResult(tmp_path, (Diagnostic(Location("a b/ü#1.yaml", 2, 1), "x-check", "m"),))
    document = _render(result)
    assert validator.is_valid(document)
    uri = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert uri["artifactLocation"]["uri"] == "a%20b/%C3%BC%231.yaml"


def test_a_path_not_in_utf_8_is_encoded_byte_for_byte(
    tmp_path: Path, validator: jsonschema.protocols.Validator
) -> None:
    """A file name with bytes that are not UTF-8 (as POSIX allows) is percent-encoded
    from those bytes, not a crash."""
    path = os.fsdecode(b"kubernetes/bad\xfe.yaml")
    result = LintResult(tmp_path, (Diagnostic(Location(path, 2, 1), "x-check", "m"),))
    document = _render(result)
    assert validator.is_valid(document)
    found = document["runs"][0]["results"][0]
    uri = found["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "kubernetes/bad%FE.yaml"
    assert found["partialFingerprints"]["homelabKit/v1"]


def test_a_check_missing_from_the_list_still_gets_a_rule(sample: LintResult) -> None:
    result = attrs.evolve(sample, checks=())
    run = _render(result)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {rule["id"] for rule in rules} == {d.check_id for d in sample.diagnostics}
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


def test_the_official_schema_catches_mistakes(
    sample: LintResult, validator: jsonschema.protocols.Validator
) -> None:
    document = _render(sample)
    document["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(document)
    document = _render(sample)
    document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert not validator.is_valid(document)
