"""No secret value and no forged line in any output (issue 15, items 11 to 13).

* Redaction works from the parsed structure as well as line by line: a Secret or an
  ``env`` entry written in flow style on one line is hidden like its block twin.
* ``lint --diff`` redacts the unchanged context lines as well; ``build`` warnings
  never quote an env file's line.
* Names and paths from the repository (a Secret's, a file's) are printed on one
  line by ``secrets`` and ``build``: a line break in one cannot start a GitHub
  Actions annotation of its own.

Each test plants distinctive values, runs the commands and greps every output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import homelab_kit
from homelab_kit.report._source import Redactor, hidden_columns
from tests.robustness.conftest import (
    assert_no_crash,
    copy_reference_cluster,
    internal_errors,
    render_all,
    run_cli,
    write_files,
)

APP = "kubernetes/apps/default/echo/app"
KS = "kubernetes/apps/default/miniflux/ks.yaml"
PLANTED = (
    "PlantedFlowSecret1",
    "PlantedFlowSecret2",
    "PlantedEnvPwd3",
    "PlantedEnvPass4",
    "PlantedEnvToken5",
    "PlantedEnvKey6",
    "PlantedEnvSecret7",
    "PlantedMultiLine8",
    "PlantedMapEnv9",
    "PlantedSubstitute10",
    "PlantedEnvFile11",
)

FLOW_SECRET = f"""\
---
{{apiVersion: v1, kind: Secret, metadata: {{name: flow, namespace: default}}, stringData: {{password: {PLANTED[0]}, token: {PLANTED[1]}}}, bogus: 1}}
"""  # noqa: E501  (one line is the point)

FLOW_ENV = f"""\
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: flowenv}}
spec:
  template:
    spec:
      containers:
        - {{name: app, image: "ghcr.io/x/y:latest", env: [{{name: DB_PWD, value: {PLANTED[2]}}}, {{name: SMTPPASS, value: {PLANTED[3]}}}, {{name: GH_TOKEN_RO, value: {PLANTED[4]}}}, {{name: APIKEY, value: {PLANTED[5]}}}, {{name: MY_SECRET_X, value: {PLANTED[6]}}}, {{name: PLAIN, value: shown-on-purpose}}], bogus: 1}}
        - name: two
          image: "ghcr.io/x/z:latest"
          env: [{{name: ADMIN_PASS, value: "{PLANTED[7]}
            continued"}}, {{name: TZ, value: UTC}}]
          bogus: 2
"""  # noqa: E501

VALUES_ENV = f"""\
---
controllers:
  main:
    containers:
      app:
        image: {{repository: ghcr.io/x/echo, tag: latest}}
        env: {{TZ: UTC, DB_PWD: {PLANTED[8]}}}
"""


def _flux_kustomization(root: Path) -> None:
    """A substitution password beside a line ``lint --fix`` changes (prune)."""
    path = root / KS
    text = path.read_text()
    text = text.replace(
        "        name: cluster-settings\n  prune: true",
        "        name: cluster-settings\n"
        f"    substitute: {{ADMIN_PWD: {PLANTED[9]}, DOMAIN: example.com}}\n"
        "  prune: false",
    )
    path.write_text(text)


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    root = copy_reference_cluster(tmp_path / "repo")
    write_files(
        root,
        {
            f"{APP}/flow-secret.yaml": FLOW_SECRET,
            f"{APP}/flow-env.yaml": FLOW_ENV,
            f"{APP}/helm/values.yaml": VALUES_ENV,
            f"{APP}/app.env": f"TZ=UTC\n{PLANTED[10]}\n",
        },
    )
    kustomization = root / APP / "kustomization.yaml"
    text = kustomization.read_text().replace(
        "resources:\n", "resources:\n  - ./flow-secret.yaml\n  - ./flow-env.yaml\n", 1
    )
    kustomization.write_text(text + "secretGenerator:\n  - name: app-env\n    envs: [app.env]\n")
    _flux_kustomization(root)
    return root


def _leaks(text: str) -> list[str]:
    return [value for value in PLANTED if value in text]


# --------------------------------------------------------------------------- item 11


def test_flow_style_secrets_are_hidden_in_every_format(planted: Path, tmp_path: Path) -> None:
    result = homelab_kit.lint(planted)
    assert internal_errors(result) == []
    found = {(d.location.path, d.location.line, d.check_id) for d in result.diagnostics}
    # The findings on those lines are there (and quote their lines in the text format) ...
    assert (f"{APP}/flow-secret.yaml", 2, "schema-invalid") in found
    assert (f"{APP}/flow-env.yaml", 9, "schema-invalid") in found
    assert (f"{APP}/flow-env.yaml", 14, "schema-invalid") in found
    reports = render_all(result)
    assert "flow-env.yaml:9:" in reports["text"]
    assert "DB_PWD, value: ***" in reports["text"]  # hidden from the value on
    # ... and no planted value in any of them.
    for name, report in reports.items():
        assert _leaks(report) == [], name
    html = tmp_path / "report.html"
    run = run_cli("report", "--html", html, planted)
    assert_no_crash(run)
    assert _leaks(html.read_text(encoding="utf-8") + run.output) == []
    for fmt in ("text", "concise", "json", "sarif", "github", "junit"):
        run = run_cli("lint", "--no-cache", "--format", fmt, planted)
        assert_no_crash(run)
        assert _leaks(run.output) == [], fmt


@pytest.mark.parametrize(
    ("text", "line", "shown"),
    [
        ("{kind: Secret, stringData: {password: s3cr3t}}\n", 1, "***"),
        ("env: [{name: ADMIN_PWD, value: s3cr3t}]\n", 1, "env: [{name: ADMIN_PWD, value: ***"),
        ("env: [{value: s3cr3t, name: X_TOKEN}]\n", 1, "env: [{value: ***"),
        ("env: {DB_PASS: s3cr3t}\n", 1, "env: {DB_PASS: ***"),
        ('creds: {user: me, password: "s3\n  cr3t"}\n', 2, "***"),
        ("a: {b: {password: s3cr3t}}\n", 1, "a: {b: {password: ***"),
        # Files that do not parse: the lines are still read for flow style.
        ("--- {kind: Secret, metadata: {name: ::1}, stringData: {password: s3cr3t}}\n", 1, "***"),
        ("env: [{name: DB_PWD, value: s3cr3t}, {::1}\n", 1, "env: [{name: DB_PWD, value: ***"),
        ("x: {token: s3cr3t, a: [}\n", 1, "x: {token: ***"),
    ],
)
def test_redaction_reads_the_structure(text: str, line: int, shown: str) -> None:
    redactor = Redactor("x.yaml", text)
    assert redactor.text(line - 1).strip() == shown
    assert "s3" not in "".join(redactor.text(i) for i in range(len(redactor.lines)))


def test_a_plain_value_stays_visible() -> None:
    secret, hidden = hidden_columns("env: [{name: TZ, value: UTC}]\nimage: x\n")
    assert not secret
    assert hidden == {}
    assert Redactor("x.yaml", "env: [{name: TZ, value: UTC}]\n").text(0).endswith("UTC}]")


# --------------------------------------------------------------------------- item 12


def test_lint_diff_redacts_its_context_lines(planted: Path) -> None:
    run = run_cli("lint", "--no-cache", "--diff", "--unsafe-fixes", planted)
    assert_no_crash(run)
    assert run.returncode == 1  # there is something to fix
    assert "-  prune: false\n+  prune: true\n" in run.stdout
    assert "    substitute: {ADMIN_PWD: ***\n" in run.stdout  # context, redacted
    assert _leaks(run.output) == []


def test_build_warnings_never_quote_an_env_file_line(planted: Path) -> None:
    run = run_cli("build", "default/echo", "--backend", "python", planted)
    assert_no_crash(run)
    assert (
        f"{APP}/app.env: a line has no '=' (no value); kustomize would read it from the "
        "environment" in run.stderr
    )
    assert _leaks(run.stderr) == []


def test_no_planted_value_in_any_command_output(planted: Path, tmp_path: Path) -> None:
    """Everything at once: every format, the diff, the maps, the report, the build."""
    outputs: list[str] = []
    for args in (
        ("lint", "--no-cache", "--diff", "--unsafe-fixes"),
        ("secrets",),
        ("secrets", "--format", "json"),
        ("graph", "--format", "json"),
        ("report", "--html", str(tmp_path / "r.html")),
    ):
        run = run_cli(*args, planted)
        assert_no_crash(run)
        outputs.append(run.output)
    build = run_cli("build", "default/echo", "--backend", "python", planted)
    outputs.append(build.stderr)  # what build prints as objects is the build itself
    outputs.append((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert _leaks("\n".join(outputs)) == []


# --------------------------------------------------------------------------- item 13

FORGED = "forged\n::error file=x.yaml,line=1::forged annotation"
FORGED_YAML = FORGED.replace("\n", "\\n")  # as a double-quoted YAML scalar writes it


def _forging(root: Path) -> Path:
    env_file = "x\n::error file=y.yaml::forged build.env"
    write_files(
        root,
        {
            f"{APP}/forge.yaml": f"""\
---
apiVersion: v1
kind: Secret
metadata:
  name: "{FORGED_YAML}"
  namespace: default
stringData:
  k: v
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reader
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/x/y:1.0
          envFrom:
            - secretRef:
                name: "{FORGED_YAML}"
""",
            f"{APP}/{env_file}": "line-without-a-value\n",
        },
    )
    kustomization = root / APP / "kustomization.yaml"
    text = kustomization.read_text().replace("resources:\n", "resources:\n  - ./forge.yaml\n", 1)
    text += "secretGenerator:\n  - name: gen\n    envs:\n      - " + '"x\\n::error file=y.yaml'
    text += '::forged build.env"\n'
    kustomization.write_text(text)
    return root


def _starts_a_command(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.lstrip().startswith("::")]


def test_secrets_prints_names_on_one_line(reference_copy: Path) -> None:
    root = _forging(reference_copy)
    run = run_cli("secrets", root)
    assert_no_crash(run)
    assert "forged ::error file=x.yaml,line=1::forge" in run.stdout  # one line, cut to fit
    assert _starts_a_command(run.output) == []
    as_json = run_cli("secrets", "--format", "json", root)
    assert '"name": "forged\\n::error file=x.yaml,line=1::forged annotation"' in as_json.stdout


def test_build_prints_warnings_on_one_line(reference_copy: Path) -> None:
    root = _forging(reference_copy)
    run = run_cli("build", "default/echo", "--backend", "python", root)
    assert_no_crash(run)
    assert "x ::error file=y.yaml::forged build.env: a line has no '='" in run.stderr
    assert _starts_a_command(run.stderr) == []
    assert all(line.startswith("homelab-kit: warning: ") for line in run.stderr.splitlines())
