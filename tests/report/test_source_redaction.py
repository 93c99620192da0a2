"""The text format never quotes a value that may be secret: planted values must not leak."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from homelab_kit.diagnostic import Diagnostic
from homelab_kit.lint.result import LintResult
from homelab_kit.location import Location
from homelab_kit.report import ReportOptions, TextReporter
from homelab_kit.report._source import redact
from homelab_kit.testing import YamlTree

PLANTED = re.compile(r"PLANTED\w*|UExBTlRFRC|hunter2")

FILES = {
    # A plaintext Secret: every value in the file is hidden.
    "kubernetes/apps/db/secret.yaml": """\
        apiVersion: v1
        kind: Secret
        metadata:
          name: PLANTED_NAME_IN_SECRET
        type: Opaque
        stringData:
          password: PLANTED_STRINGDATA
          config.env: |
            API_KEY=PLANTED_BLOCK
            user: PLANTED_BLOCK_KEY_LOOKALIKE
        data:
          token: UExBTlRFRC10b2tlbg==
        """,
    # A second document in the same file makes the whole file secret-bearing.
    "kubernetes/apps/db/mixed.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: PLANTED_MIXED_CM
        ---
        apiVersion: v1
        kind: "Secret"
        stringData:
          anything: PLANTED_MIXED
        """,
    # A SOPS-encrypted file.
    "kubernetes/apps/db/creds.yaml": """\
        apiVersion: v1
        kind: Opaque
        stuff:
          user: PLANTED_SOPS_USER
        sops:
          age:
            - recipient: age1PLANTEDrecipient
              enc: PLANTED_SOPS_ENC
          mac: ENC[AES256_GCM,data:PLANTED_SOPS_MAC]
        """,
    # Not secret-bearing files: only the sensitive places are hidden.
    "kubernetes/apps/web/deploy.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        spec:
          template:
            spec:
              containers:
                - name: web
                  image: ghcr.io/example/web:1.2.3
                  env:
                    - name: DB_PASSWORD
                      value: PLANTED_ENV_VALUE
                    - value: PLANTED_ENV_VALUE_FIRST
                      name: API_TOKEN
                    - name: LOG_LEVEL
                      value: debug
                    - name: DATABASE_URL
                      value: postgres://app:PLANTED_URL_PASSWORD@db:5432/app
        """,
    "kubernetes/apps/web/helmrelease.yaml": """\
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        spec:
          values:
            adminPassword: PLANTED_HELM_PASSWORD
            auth:
              oidc:
                clientID: PLANTED_UNDER_AUTH
            grafana:
              "apiKey": "PLANTED_QUOTED"
            replicas: 2
            webhook: https://hooks.example/ghp_PLANTEDPLANTEDPLANTED
            data: {password: PLANTED_FLOW}
            note: >
              PLANTED_FOLDED under a harmless key is shown
        """,
    "kubernetes/apps/web/configmap.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        data:
          LOG_LEVEL: PLANTED_CM_DATA
          app.ini: |
            [db]
            password = PLANTED_INI
        """,
    "talos/talconfig.yaml": """\
        cluster:
          secretboxEncryptionSecret: PLANTED_TALOS_SECRETBOX
          token: PLANTED_TALOS_TOKEN
          ca:
            crt: LS0tPUBLICcrt  # a certificate is public
            key: PLANTED_TALOS_KEY
        """,
    ".env": """\
        export GITHUB_TOKEN=PLANTED_DOTENV
        PLAIN=PLANTED_DOTENV_PLAIN
        """,
    "kubernetes/apps/db/values.sops.yaml": """\
        password: PLANTED_SOPS_NAMED
        """,
}

# Lines whose value is not secret and must still be shown as written.
SHOWN = {
    ("kubernetes/apps/web/deploy.yaml", 8): "image: ghcr.io/example/web:1.2.3",
    ("kubernetes/apps/web/deploy.yaml", 15): "value: debug",
    ("kubernetes/apps/web/helmrelease.yaml", 11): "replicas: 2",
    ("kubernetes/apps/web/configmap.yaml", 2): "kind: ConfigMap",
}


@pytest.fixture
def secret_root(yaml_tree: YamlTree) -> Path:
    """A tree of files holding distinctive planted values."""
    return yaml_tree(FILES)


def _every_position(root: Path) -> list[Diagnostic]:
    """A finding at the start, the value and the end of every line of every file."""
    found = []
    for path in FILES:
        lines = (root / path).read_text(encoding="utf-8").split("\n")
        for number, line in enumerate(lines, start=1):
            columns = {1, len(line) + 1, *(m.start() + 1 for m in PLANTED.finditer(line))}
            colon = line.find(": ")
            if colon >= 0:
                columns.add(colon + 3)
            for column in sorted(columns):
                found.append(Diagnostic(Location(path, number, column), "x-check", f"at {column}"))
    return found


def test_no_planted_value_reaches_the_output(secret_root: Path) -> None:
    diagnostics = tuple(sorted(_every_position(secret_root)))
    text = TextReporter().render(LintResult(secret_root, diagnostics), ReportOptions())
    leaked = sorted(set(PLANTED.findall(text)) - {"PLANTED_FOLDED"})
    assert leaked == []
    assert "PLANTED_FOLDED under a harmless key is shown" in text  # not everything is hidden


@pytest.mark.parametrize(("path", "line", "expected"), sorted((*k, v) for k, v in SHOWN.items()))
def test_harmless_lines_are_shown_as_written(
    secret_root: Path, path: str, line: int, expected: str
) -> None:
    result = LintResult(secret_root, (Diagnostic(Location(path, line, 3), "x-check", "m"),))
    text = TextReporter().render(result, ReportOptions())
    shown = text.splitlines()[2]
    assert shown.startswith(f"{line} | ")
    assert shown.endswith(expected)
    assert "value hidden" not in text


def test_a_hidden_value_shows_its_key_and_a_note(secret_root: Path) -> None:
    diagnostic = Diagnostic(
        Location("kubernetes/apps/db/secret.yaml", 7, 13),
        "secrets-plaintext",
        "Secret db holds a plaintext value",
        remediation="Use an InfisicalSecret.",
    )
    text = TextReporter().render(LintResult(secret_root, (diagnostic,)), ReportOptions())
    assert text.startswith(
        "kubernetes/apps/db/secret.yaml:7:13: error[secrets-plaintext] "
        "Secret db holds a plaintext value\n"
        "  |\n"
        "7 |   password: ***\n"
        "  |             ^^^\n"
        "  = note: value hidden, it may be a secret\n"
        "  = help: Use an InfisicalSecret.\n"
    )


@pytest.mark.parametrize(
    ("lines", "index", "expected"),
    [
        (["password: x"], 0, "password: ***"),
        (["  - name: DB_PASS", "    value: x"], 1, "    value: ***"),
        (["env:", "- name: TOKEN", "  value: x"], 2, "  value: ***"),
        (["- name: LOG", "  value: x"], 1, "  value: x"),
        (["stringData:", "  a: x", "  b:", "    - x"], 3, "    - ***"),
        (["data:", "  f: |", "    user: x"], 2, "    ***"),
        (["config: |", "  password: x"], 1, "  password: ***"),
        (["config: |", "  url=https://u:x@h"], 1, "  url=***"),
        (["data:"], 0, "data:"),
        (["data: {a: x}"], 0, "data: ***"),
        (["kind: Deployment"], 0, "kind: Deployment"),
        (["a: 1", "---", "b: 2"], 2, "b: 2"),
        (["# password: x"], 0, "# password: x"),
        (["privateKey: x"], 0, "privateKey: ***"),
        (["key: -----BEGIN OPENSSH PRIVATE KEY-----"], 0, "key: ***"),
        (["x: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig"], 0, "x: ***"),
        (["ghp_abcdefghijklmnop: x"], 0, "***"),
    ],
)
def test_redact_line_shapes(lines: list[str], index: int, expected: str) -> None:
    assert redact(lines, index).text == expected


def test_whole_file_redaction_keeps_keys_only() -> None:
    lines = ["kind: Secret", "metadata:", "  name: x", "- item", "free text"]
    shown = [redact(lines, i, whole_file=True).text for i in range(len(lines))]
    assert shown == ["kind: ***", "metadata:", "  name: ***", "- ***", "***"]
