"""``homelab-kit validate``: what a user sees, and its exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from homelab_kit.cli import main

from .test_crd import WIDGET_CRD

BAD = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: x, namspace: y}
data: {a: 1}
---
apiVersion: example.com/v1
kind: Widget
"""


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    captured = capsys.readouterr()
    return int(stopped.value.code or 0), captured.out, captured.err


def test_validate_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    code, out, _ = _run(["validate", "--kubernetes-version", "1.33", str(path)], capsys)
    assert code == 1
    assert out.splitlines() == [
        f"{path}:3:21: error: ConfigMap x: unknown field 'metadata.namspace' "
        "(did you mean 'namespace'?) [unknown-field]",
        f"{path}:4:11: error: ConfigMap x: data.a: expected string, got integer 1 [type]",
        f"{path}:7:7: error: Widget: no schema for Widget (example.com/v1): "
        "no CRD or schema location provides it [no-schema]",
    ]


def test_validate_stdin_json_and_crds_beside_the_objects(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        WIDGET_CRD + "---\napiVersion: example.com/v1\nkind: Widget\nspec: {size: 1, nodeName: n}\n"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code, out, _ = _run(["validate", "-", "-f", "json", "--kubernetes-version", "v1.33.4"], capsys)
    assert code == 0
    resources = json.loads(out)["resources"]
    assert [(r["kind"], r["status"], r["schema"]) for r in resources] == [
        ("CustomResourceDefinition", "valid", "kubernetes 1.33"),
        ("Widget", "valid", "CRD widgets.example.com"),
    ]


def test_missing_schema_policy_and_variables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "apiVersion: example.com/v1\nkind: Widget\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
        "spec:\n  ports:\n    - port: ${PORT}\n",
        encoding="utf-8",
    )
    argv = ["validate", str(path), "--kubernetes-version", "1.33"]
    assert _run([*argv, "--missing-schema", "ignore"], capsys)[0] == 0
    assert _run([*argv, "--missing-schema", "error"], capsys)[0] == 1
    code, out, _ = _run([*argv, "--missing-schema", "ignore", "--var", "PORT=http"], capsys)
    assert code == 1
    assert "spec.ports[0].port: expected integer, got string 'http'" in out


def test_usage_errors_exit_2_and_an_unreadable_file_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        ["validate", str(tmp_path / "nope.yaml"), "--kubernetes-version", "1.33"], capsys
    )
    assert code == 1
    assert "nope.yaml: error: cannot read: No such file or directory [unreadable]" in out
    code, _, err = _run(
        ["validate", str(tmp_path), "--schema-location", str(tmp_path / "absent")], capsys
    )
    assert code == 2
    assert "no such file or directory" in err
    path = tmp_path / "ok.yaml"
    path.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", encoding="utf-8")
    code, _, err = _run(["validate", str(path), "--kubernetes-version", "1.2"], capsys)
    assert code == 2
    assert "available: 1.25" in err
