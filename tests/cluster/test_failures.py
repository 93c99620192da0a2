"""Failures are answers, not tracebacks: one clear line on standard error, exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from homelab_kit.cluster import ClusterOptions, connect, parse_timeout, pull_schemas
from homelab_kit.errors import ClusterError

from .conftest import Result
from .fakeapi import READER_USER, FakeApiServer
from .objects import flux_crds, infisical_crds

Run = Callable[..., Result]
PREFIX = "homelab-kit: error: "


def one_line_error(result: Result) -> str:
    """The error line, after checking it is the only output and the exit code is 2."""
    assert result.code == 2, result
    assert result.out == ""
    assert result.err.startswith(PREFIX), result.err
    assert result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err
    return result.err[len(PREFIX) :].rstrip("\n")


# ---------------------------------------------------------------------- kubeconfig


def test_no_kubeconfig(web_repo: Path, run: Run) -> None:
    message = one_line_error(run("status", web_repo))
    assert message == (
        "no cluster configured: pass --kubeconfig, set KUBECONFIG or create ~/.kube/config "
        "(inside a pod, the service account is used)"
    )


def test_kubeconfig_flag_naming_no_file(web_repo: Path, tmp_path: Path, run: Run) -> None:
    message = one_line_error(run("drift", web_repo, "--kubeconfig", tmp_path / "nope.yaml"))
    assert message == f"kubeconfig {tmp_path / 'nope.yaml'}: no such file"


def test_kubeconfig_variable_naming_no_file(
    web_repo: Path, tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "gone.yaml"))
    message = one_line_error(run("status", web_repo))
    assert message == f"KUBECONFIG names no existing file ({tmp_path / 'gone.yaml'})"


def test_a_kubeconfig_that_is_not_one(web_repo: Path, tmp_path: Path, run: Run) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("clusters: [\n", encoding="utf-8")
    message = one_line_error(run("status", web_repo, "--kubeconfig", broken))
    assert message.startswith(f"cannot read kubeconfig {broken}: ")


def test_unknown_context(kubeconfig: Path, web_repo: Path, run: Run) -> None:
    result = run("status", web_repo, "--kubeconfig", kubeconfig, "--context", "prod")
    assert one_line_error(result) == (
        f"context 'prod' is not in kubeconfig {kubeconfig} "
        "(contexts: admin, reader, expired, refused)"
    )


def test_in_cluster_configuration_is_the_last_resort(
    web_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "1")
    message = one_line_error(run("status", web_repo))
    # Outside a pod the service account token is absent; inside one, nothing listens there.
    assert message.startswith(
        ("cannot use the pod's service account (in-cluster configuration): ", "cannot connect")
    ), message


def test_request_timeout_syntax(kubeconfig: Path, web_repo: Path, run: Run) -> None:
    result = run("status", web_repo, "--kubeconfig", kubeconfig, "--request-timeout", "soon")
    assert one_line_error(result) == (
        "invalid request timeout 'soon': use a duration such as 10s, 500ms or 1m"
    )
    assert parse_timeout("500ms") == 0.5
    assert parse_timeout("2m") == 120.0
    assert parse_timeout("3") == 3.0
    assert parse_timeout("0") is None


# ---------------------------------------------------------------------- the network


def test_connection_refused(kubeconfig: Path, web_repo: Path, run: Run) -> None:
    result = run("status", web_repo, "--kubeconfig", kubeconfig, "--context", "refused")
    message = one_line_error(result)
    assert message.startswith("cannot connect to the cluster at http://127.0.0.1:"), message
    assert message.endswith("(context refused): connection refused")


def test_timeout(healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run) -> None:
    healthy.slow_paths.append("/apis")
    started = time.monotonic()
    result = run("status", web_repo, "--kubeconfig", kubeconfig, "--request-timeout", "0.3s")
    assert time.monotonic() - started < 5
    assert one_line_error(result) == (
        f"the cluster at {healthy.url} (context admin) did not answer within 0.3s "
        "(GET /apis); check the network or raise --request-timeout"
    )


# ---------------------------------------------------------------------- the API server


def test_401_unauthorized(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    result = run("drift", web_repo, "--kubeconfig", kubeconfig, "--context", "expired")
    assert one_line_error(result) == (
        f"the cluster at {healthy.url} (context expired) rejected the credentials "
        "(401 Unauthorized); log in again or refresh the token in the kubeconfig"
    )


def test_403_names_the_missing_permission(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    healthy.forbid(READER_USER, "list", "secrets", "web")
    result = run("status", web_repo, "--kubeconfig", kubeconfig, "--context", "reader")
    assert one_line_error(result) == (
        f'forbidden: user "{READER_USER}" may not list secrets in namespace "web" (403); '
        'grant RBAC verb "list" on resource "secrets" in API group "" in namespace "web"'
    )


def test_403_cluster_wide_and_for_a_custom_resource(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    healthy.forbid(READER_USER, "list", "kustomizations")
    result = run("drift", web_repo, "--kubeconfig", kubeconfig, "--context", "reader")
    assert one_line_error(result) == (
        f'forbidden: user "{READER_USER}" may not list '
        "kustomizations.kustomize.toolkit.fluxcd.io cluster-wide (403); grant RBAC verb "
        '"list" on resource "kustomizations" in API group "kustomize.toolkit.fluxcd.io" '
        "cluster-wide"
    )


def test_flux_not_installed(
    fake_api: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    for command in ("status", "drift"):
        result = run(command, web_repo, "--kubeconfig", kubeconfig)
        assert one_line_error(result) == (
            f"Flux is not installed on the cluster at {fake_api.url} (context admin): it "
            "serves no API group kustomize.toolkit.fluxcd.io (CustomResourceDefinition "
            "kustomizations.kustomize.toolkit.fluxcd.io is missing)"
        )


def test_infisical_operator_not_installed(
    fake_api: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    fake_api.add(*flux_crds())
    result = run("status", web_repo, "--kubeconfig", kubeconfig)
    assert one_line_error(result) == (
        f"the Infisical operator is not installed on the cluster at {fake_api.url} (context "
        "admin): it serves no API group secrets.infisical.com (CustomResourceDefinition "
        "infisicalsecrets.secrets.infisical.com is missing)"
    )


def test_a_404_from_an_api_path_is_a_cluster_error(
    fake_api: FakeApiServer, kubeconfig: Path
) -> None:
    fake_api.add(*infisical_crds())
    with connect(ClusterOptions(str(kubeconfig))) as cluster:
        with pytest.raises(ClusterError, match=r"serves no /apis/example.com/v1 \(404\)"):
            cluster.get_json("/apis/example.com/v1")
        with pytest.raises(ClusterError, match=r"^Widget is not available on the cluster") as info:
            cluster.resource("example.com", "Widget", "widgets")
        assert info.value.exit_code == 2


def test_schemas_pull_403(fake_api: FakeApiServer, kubeconfig: Path) -> None:
    fake_api.forbid(READER_USER, "list", "customresourcedefinitions")
    with (
        connect(ClusterOptions(str(kubeconfig), "reader")) as cluster,
        pytest.raises(ClusterError) as info,
    ):
        pull_schemas(cluster, Path("unused"))
    assert "may not list customresourcedefinitions.apiextensions.k8s.io cluster-wide" in str(
        info.value
    )


def test_the_console_script_prints_no_traceback(kubeconfig: Path, web_repo: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "HOMELAB_KIT_DEBUG")}
    result = subprocess.run(
        [sys.executable, "-m", "homelab_kit", "status", str(web_repo)],
        capture_output=True,
        text=True,
        env={**env, "KUBECONFIG": str(kubeconfig), "HOME": str(web_repo)},
        timeout=60,
        check=False,
    )
    # The kubeconfig's current context works, but this fake cluster has no Flux.
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("homelab-kit: error: Flux is not installed")
    assert result.stderr.count("\n") == 1
