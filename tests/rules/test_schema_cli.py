"""``homelab-kit validate FILE|-`` end to end: a real process, its output and exit codes.

Exit codes: 0 clean (warnings allowed), 1 a violation or a resource in error (an
unreadable file among others), 2 a usage error, which is always one line on standard
error and never a traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from homelab_kit.testing import write_tree

PROJECT_ROOT = Path(__file__).resolve().parents[2]

OK = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: ok
data:
  a: b
"""

BAD = """
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: bad
  namspace: default
dat:
  a: b
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: echo
spec:
  interval: 1h
  prune: "yes"
  sourceRef:
    kind: Git
    name: flux-system
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  replicas: ${REPLICAS}
  selector:
    matchLabels: {app: echo}
  template:
    metadata:
      labels: {app: echo}
    spec:
      containers:
        - name: echo
          image: ghcr.io/mendhak/http-https-echo:37
"""

WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"


def run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``homelab-kit ARGS`` in a fresh process, as a user runs it."""
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "homelab_kit", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_a_clean_file_exits_0_silently(tmp_path: Path) -> None:
    write(tmp_path, "ok.yaml", OK)
    done = run("validate", "ok.yaml", "--kubernetes-version", "1.33", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_violations_exit_1_one_line_each(tmp_path: Path) -> None:
    write(tmp_path, "bad.yaml", BAD)
    done = run("validate", "bad.yaml", "--kubernetes-version", "v1.33.4", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "bad.yaml:6:3: error: ConfigMap bad: unknown field 'metadata.namspace' "
        "(did you mean 'namespace'?) [unknown-field]",
        "bad.yaml:7:1: error: ConfigMap bad: unknown field 'dat' (did you mean 'data'?) "
        "[unknown-field]",
        "bad.yaml:16:10: error: Kustomization echo: spec.prune: expected boolean, "
        "got string 'yes' [type]",
        "bad.yaml:18:11: error: Kustomization echo: spec.sourceRef.kind: must be one of "
        "OCIRepository, GitRepository, Bucket, ExternalArtifact; got 'Git' [enum]",
    ]
    assert done.stderr == ""


def test_json_output(tmp_path: Path) -> None:
    import json

    write(tmp_path, "bad.yaml", BAD)
    done = run("validate", "-f", "json", "bad.yaml", "--kubernetes-version", "1.33", cwd=tmp_path)
    assert done.returncode == 1
    found = json.loads(done.stdout)
    assert [(r["kind"], r["name"], r["status"]) for r in found["resources"]] == [
        ("ConfigMap", "bad", "invalid"),
        ("Kustomization", "echo", "invalid"),
    ]
    problems = [p for r in found["resources"] for p in r["problems"]]
    assert [(p["line"], p["column"], p["severity"], p["code"]) for p in problems] == [
        (6, 3, "error", "unknown-field"),
        (7, 1, "error", "unknown-field"),
        (16, 10, "error", "type"),
        (18, 11, "error", "enum"),
    ]
    assert found["summary"] == {
        "resources": 2,
        "files": 1,
        "stdin": False,
        "valid": 0,
        "invalid": 2,
        "error": 0,
        "skipped": 0,
    }


def test_yaml_problems_are_violations(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", "apiVersion: v1\nkind: ConfigMap\nkind: Secret\n")
    done = run("validate", "broken.yaml", "--kubernetes-version", "1.33", cwd=tmp_path)
    assert done.returncode == 1
    assert "broken.yaml:3:1: error: Secret: duplicate key 'kind'" in done.stdout


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["ok.yaml", "--kubernetes-version", "1.10"],
            "homelab-kit: error: no Kubernetes schemas for version 1.10 (minor 1.10); available: ",
        ),
        (
            ["ok.yaml", "--kubernetes-version", "banana"],
            "homelab-kit: error: cannot read Kubernetes version 'banana'",
        ),
        (["ok.yaml", "--var", "REPLICAS"], "homelab-kit: error: --var 'REPLICAS': expected"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], error: str, tmp_path: Path) -> None:
    write(tmp_path, "ok.yaml", OK)
    (tmp_path / "folder").mkdir()
    (tmp_path / "latin1.yaml").write_bytes("data: caf\xe9\n".encode("latin-1"))
    done = run("validate", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(error)
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("missing.yaml", "missing.yaml: error: cannot read: No such file or directory"),
        ("latin1.yaml", "latin1.yaml: error: cannot read: "),
    ],
)
def test_an_unreadable_file_is_an_error_and_the_others_are_checked(
    name: str, line: str, tmp_path: Path
) -> None:
    write(tmp_path, "bad.yaml", BAD)
    (tmp_path / "latin1.yaml").write_bytes("data: caf\xe9\n".encode("latin-1"))
    done = run(
        "validate", name, "bad.yaml", "--summary", "--kubernetes-version", "1.33", cwd=tmp_path
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith(line)
    assert lines[0].endswith("[unreadable]")
    assert len(lines) == 6  # the line above, bad.yaml's four violations, the summary
    assert lines[-1] == (
        "Summary: 3 resources found in 2 files - Valid: 0, Invalid: 2, Errors: 1, Skipped: 0"
    )
    assert "Traceback" not in done.stderr


def test_a_folder_is_read_recursively(tmp_path: Path) -> None:
    write_tree(tmp_path, {"folder/a/ok.yaml": OK, "folder/b/bad.yml": BAD, "folder/x.txt": BAD})
    done = run("validate", "folder", "--summary", "--kubernetes-version", "1.33", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith("folder/b/bad.yml:6:3: error: ConfigMap bad:")
    assert done.stdout.splitlines()[-1] == (
        "Summary: 3 resources found in 2 files - Valid: 1, Invalid: 2, Errors: 0, Skipped: 0"
    )


def test_a_bad_option_value_exits_2(tmp_path: Path) -> None:
    write(tmp_path, "ok.yaml", OK)
    done = run("validate", "ok.yaml", "--missing-schema", "sometimes", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("policy", "code", "lines"),
    [("warning", 0, ["warning"]), ("error", 1, ["error"]), ("ignore", 0, [])],
)
def test_missing_schema_policy(policy: str, code: int, lines: list[str], tmp_path: Path) -> None:
    write(tmp_path, "widget.yaml", WIDGET)
    done = run(
        "validate",
        "widget.yaml",
        "--missing-schema",
        policy,
        "--kubernetes-version",
        "1.33",
        cwd=tmp_path,
    )
    assert done.returncode == code
    assert done.stdout.splitlines() == [
        f"widget.yaml:2:7: {severity}: Widget w: no schema for Widget (example.com/v1): "
        "no CRD or schema location provides it [no-schema]"
        for severity in lines
    ]


@pytest.mark.parametrize(
    ("variables", "code"),
    [([], 0), (["--var", "REPLICAS=3"], 0), (["--var", "REPLICAS=three"], 1)],
)
def test_flux_variables(variables: list[str], code: int, tmp_path: Path) -> None:
    write(tmp_path, "deployment.yaml", DEPLOYMENT)
    done = run(
        "validate", "deployment.yaml", "--kubernetes-version", "1.33", *variables, cwd=tmp_path
    )
    assert done.returncode == code
    if code:
        assert done.stdout.splitlines() == [
            "deployment.yaml:6:13: error: Deployment echo: spec.replicas: expected integer, "
            "got string 'three' after substituting variables [type]"
        ]


def test_a_sops_encrypted_secret_is_clean(tmp_path: Path) -> None:
    from tests.rules.test_schema import SOPS_SECRET

    write(tmp_path, "secret.sops.yaml", SOPS_SECRET)
    done = run("validate", "secret.sops.yaml", "--kubernetes-version", "1.33", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "")


def test_repository_settings_are_the_defaults(tmp_path: Path) -> None:
    """Inside a repository: talenv.yaml's version, .homelab-kit.yaml's missing-schema."""
    write_tree(
        tmp_path,
        {
            "talos/talenv.yaml": "kubernetesVersion: v1.28.9\n",
            ".homelab-kit.yaml": "missing-schema: error\n",
            "kubernetes/flowschema.yaml": """
                apiVersion: flowcontrol.apiserver.k8s.io/v1beta2
                kind: FlowSchema
                metadata:
                  name: f
                spec:
                  priorityLevelConfiguration:
                    name: p
            """,
        },
    )
    done = run("validate", "kubernetes/flowschema.yaml", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "")  # served by 1.28
    done = run(
        "validate", "kubernetes/flowschema.yaml", "--kubernetes-version", "1.29", cwd=tmp_path
    )
    assert done.returncode == 1  # missing-schema: error
    assert done.stdout.splitlines() == [
        "kubernetes/flowschema.yaml:2:7: error: FlowSchema f: no schema for FlowSchema "
        "(flowcontrol.apiserver.k8s.io/v1beta2): Kubernetes 1.29 does not serve it [no-schema]"
    ]


def test_standard_input(tmp_path: Path) -> None:
    done = run("validate", "-", "--kubernetes-version", "1.33", cwd=tmp_path, stdin=BAD.lstrip())
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith("<stdin>:6:3: error: ConfigMap bad: unknown")
    empty = run("validate", "-", "--kubernetes-version", "1.33", cwd=tmp_path, stdin="")
    assert (empty.returncode, empty.stdout) == (0, "")


# --------------------------------------------------------------------------- kubectl kustomize

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


def kustomize_into_validate(
    folder: Path, *args: str, cwd: Path
) -> tuple[subprocess.CompletedProcess[str], str]:
    """``kubectl kustomize FOLDER | homelab-kit validate - ARGS``; returns (result, built)."""
    assert KUBECTL is not None
    built = subprocess.run(
        [KUBECTL, "kustomize", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return run("validate", "-", *args, cwd=cwd, stdin=built), built


@needs_kubectl
def test_kubectl_kustomize_pipe_reports_positions_in_the_build(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                namespace: default
                resources:
                  - ./deployment.yaml
                  - ./config.yaml
            """,
            "app/deployment.yaml": DEPLOYMENT.replace("${REPLICAS}", "'2'"),
            "app/config.yaml": OK,
        },
    )
    done, built = kustomize_into_validate(
        tmp_path / "app", "--kubernetes-version", "1.33", cwd=tmp_path
    )
    assert done.returncode == 1
    line = built.splitlines().index('  replicas: "2"') + 1
    assert done.stdout.splitlines() == [
        f"<stdin>:{line}:13: error: Deployment echo: spec.replicas: expected integer, "
        "got string '2' [type]"
    ]


@needs_kubectl
@pytest.mark.parametrize(
    "app",
    [
        "kubernetes/apps/default/echo/app",
        "kubernetes/apps/media/jellyfin/app",
        "kubernetes/apps/default",
        "kubernetes/flux/cluster",
    ],
)
def test_kubectl_kustomize_of_the_reference_cluster_is_valid(app: str) -> None:
    """In the repository, its settings apply: Kubernetes 1.33 from talenv.yaml."""
    if not (PROJECT_ROOT / app).is_dir():
        pytest.skip(f"{app} is not in the reference cluster")
    done, _ = kustomize_into_validate(PROJECT_ROOT / app, cwd=PROJECT_ROOT)
    assert (done.returncode, done.stdout) == (0, "")
