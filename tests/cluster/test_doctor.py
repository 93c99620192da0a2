"""``homelab-kit doctor`` against the fake API server: each broken link of the chain,
the next command, the summary, exit codes, and no Secret value anywhere."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import homelab_kit
from homelab_kit.cluster import ClusterOptions, connect
from homelab_kit.cluster.doctor import diagnose
from tests.conftest import corpus_path

from .conftest import ECHO_POD_LABELS, Result
from .fakeapi import READER_USER, FakeApiServer
from .objects import (
    PLANTED_SECRET_VALUE,
    container,
    crd,
    event,
    flux_labels,
    helm_release,
    infisical_secret,
    kustomization,
    pod,
    secret,
)

Run = Callable[..., Result]
CORE_SECRETS = re.compile(r"/api/v1(/namespaces/[^/]+)?/secrets(/|$)")
ECHO_POD = "echo-7d9f8b6c5-x2x4q"
OPERATOR_LABELS = {
    "app.kubernetes.io/name": "secrets-operator",
    "app.kubernetes.io/instance": "infisical-secrets-operator",
}


def doctor(run: Run, repo: Path, kubeconfig: Path, *args: str) -> Result:
    return run("doctor", *args, "--repo", repo, "--kubeconfig", kubeconfig)


def doctor_json(run: Run, repo: Path, kubeconfig: Path, *args: str) -> dict[str, Any]:
    result = doctor(run, repo, kubeconfig, *args, "--format", "json")
    assert result.err == ""
    data: dict[str, Any] = json.loads(result.out)
    assert data["ok"] is (result.code == 0)
    return data


def findings(data: dict[str, Any], app: str) -> list[dict[str, Any]]:
    found = {f"{a['namespace']}/{a['name']}": a for a in data["apps"]}
    return list(found[app]["findings"])


def problem_lines(result: Result) -> list[str]:
    """The finding lines of the text output (not the title, details or summary)."""
    return [line for line in result.out.splitlines() if line.startswith("web/")]


def test_a_healthy_cluster_exits_0_with_a_summary(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    result = doctor(run, web_repo, kubeconfig)
    assert result.code == 0, result.out + result.err
    assert problem_lines(result) == []
    # The cluster's entry points (kubernetes/flux/cluster) count as a group, as in status.
    assert result.out.splitlines()[-1] == "3 apps: 3 healthy, 0 with problems"

    data = doctor_json(run, web_repo, kubeconfig)
    assert data["summary"] == {"apps": 3, "healthy": 3, "withProblems": 0, "warnings": 0}
    root = data["apps"][0]
    assert (root["namespace"], root["directory"], root["walked"]) == (
        None,
        "kubernetes/flux/cluster",
        ["kustomization"],
    )
    echo = next(a for a in data["apps"] if a["name"] == "echo")
    assert echo["walked"] == ["kustomization", "helmrelease", "source", "secret", "pod", "event"]
    # The walk read the echo pods through the Deployment the HelmRelease labelled.
    assert any(r.path == "/api/v1/namespaces/web/pods" for r in healthy.requests)


def test_a_failed_helm_release_reports_its_last_failure_and_remediation(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    failed = helm_release(
        "web",
        "echo",
        ready="False",
        reason="InstallFailed",
        message="Helm install failed for release web/echo with chart app-template@4.1.2: "
        "context deadline exceeded",
    )
    failed["status"]["installFailures"] = 3
    healthy.add(failed)
    # A crashing pod further down the chain is not reported: the walk stops first.
    healthy.add(
        pod(
            "web",
            ECHO_POD,
            ECHO_POD_LABELS,
            containers=[container(waiting=("CrashLoopBackOff", ""))],
        )
    )

    result = doctor(run, web_repo, kubeconfig)
    assert result.code == 1
    assert problem_lines(result) == [
        "web/echo ✗ HelmRelease web/echo is not Ready: InstallFailed: Helm install failed for "
        "release web/echo with chart app-template@4.1.2: context deadline exceeded (install "
        "failures: 3; last release: failed (app-template@4.1.2); remediation: retries exhausted "
        "(Stalled: RetriesExceeded))  → homelab-kit reconcile web/echo --kind helmrelease --force"
    ]
    assert result.out.splitlines()[-1] == "3 apps: 2 healthy, 1 with problems"

    data = doctor_json(run, web_repo, kubeconfig)
    (finding,) = findings(data, "web/echo")
    assert finding["link"] == "helmrelease"
    assert finding["facts"] == {
        "installFailures": 3,
        "lastRelease": {"chartVersion": "4.1.2", "status": "failed", "version": 3},
        "remediation": "exhausted",
    }
    assert next(a for a in data["apps"] if a["name"] == "echo")["walked"] == [
        "kustomization",
        "helmrelease",
    ]


def test_a_helm_release_failing_on_its_chart_source_reports_the_source(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    healthy.add(
        helm_release(
            "web", "echo", ready="False", reason="ArtifactFailed", message="chart not ready"
        )
    )
    oci = healthy.get_object("source.toolkit.fluxcd.io", "ocirepositories", "web", "echo")
    assert oci is not None
    oci["status"]["conditions"][0].update(
        status="False", reason="OCIArtifactPullFailed", message="failed to pull: 401 Unauthorized"
    )
    (finding,) = findings(doctor_json(run, web_repo, kubeconfig), "web/echo")
    assert (finding["link"], finding["kind"], finding["name"]) == (
        "source",
        "OCIRepository",
        "echo",
    )
    assert "OCIArtifactPullFailed: failed to pull: 401 Unauthorized" in finding["problem"]
    assert finding["next"] == "homelab-kit reconcile web/echo --kind ocirepository"


def test_a_missing_managed_secret_brings_the_operators_pods_and_logs(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    healthy.remove("", "secrets", "web", "echo-secret")
    operator = "infisical-secrets-operator-6c9d7-abcde"
    healthy.add(pod("infisical-system", operator, OPERATOR_LABELS))
    healthy.add_log(
        "infisical-system",
        operator,
        [f"2025-06-01T09:{i:02d}:00Z INFO reconciling other-app" for i in range(60)]
        + [
            "2025-06-01T10:00:00Z ERROR echo-secrets: unable to create managed secret: "
            "secrets is forbidden",
            "2025-06-01T10:00:01Z INFO reconciling other-app",
        ],
    )

    result = doctor(run, web_repo, kubeconfig, "web/secrets")
    assert result.code == 1
    assert problem_lines(result) == [
        "web/secrets ✗ Secret web/echo-secret does not exist: InfisicalSecret web/echo-secrets "
        "reports synced but has not created it  → kubectl -n web describe infisicalsecret "
        "echo-secrets"
    ]
    assert f"    operator pod infisical-system/{operator}: Running and Ready" in result.out
    assert (
        f"    infisical-system/{operator} log: 2025-06-01T10:00:00Z ERROR echo-secrets: unable "
        "to create managed secret: secrets is forbidden"
    ) in result.out
    assert "reconciling other-app" not in result.out  # filtered for the object's name
    log_reads = [r for r in healthy.requests if r.path.endswith(f"/pods/{operator}/log")]
    assert [r.query["tailLines"] for r in log_reads] == [["50"]]  # the last 50 lines


def test_an_infisical_secret_that_does_not_sync(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    healthy.add(infisical_secret("web", "echo-secrets", "echo-secret", synced="False"))
    (finding,) = findings(doctor_json(run, web_repo, kubeconfig), "web/secrets")
    assert finding["kind"] == "InfisicalSecret"
    assert finding["problem"].startswith("is not synced: Error: Failed to sync secrets.")
    # No operator pod in the fake cluster: that is said, not hidden.
    assert finding["details"] == [
        "no pod of the Infisical operator found (looked in namespace infisical-system, "
        "infisical-operator-system, infisical): is it installed and running?"
    ]


def test_crash_loop_back_off(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    healthy.add(
        pod(
            "web",
            ECHO_POD,
            ECHO_POD_LABELS,
            containers=[
                container(
                    waiting=("CrashLoopBackOff", "back-off 5m0s restarting failed container"),
                    restarts=7,
                    last_exit=("Error", 1),
                )
            ],
        )
    )
    result = doctor(run, web_repo, kubeconfig, "web/echo")
    assert result.code == 1
    assert problem_lines(result) == [
        f"web/echo ✗ Pod web/{ECHO_POD} container app is in CrashLoopBackOff (restarted 7 "
        f"times; last exit: Error, exit code 1)  → kubectl -n web logs {ECHO_POD} -c app "
        "--previous"
    ]
    assert result.out.splitlines()[-1] == "1 apps: 0 healthy, 1 with problems"


def test_image_pull_back_off(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    healthy.add(
        pod(
            "web",
            ECHO_POD,
            ECHO_POD_LABELS,
            phase="Pending",
            containers=[
                container(
                    image="ghcr.io/mendhak/http-https-echo:999",
                    waiting=("ImagePullBackOff", 'Back-off pulling image "x"'),
                )
            ],
        )
    )
    (finding,) = findings(doctor_json(run, web_repo, kubeconfig, "web/echo"), "web/echo")
    assert finding["problem"] == (
        "container app cannot start: ImagePullBackOff (image ghcr.io/mendhak/http-https-echo:999)"
        ': Back-off pulling image "x"'
    )
    assert finding["next"] == f"kubectl -n web describe pod {ECHO_POD}"


def test_a_pending_pod_says_why_the_scheduler_left_it(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    reason = "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available"
    healthy.add(
        pod("web", ECHO_POD, ECHO_POD_LABELS, phase="Pending", scheduled=("Unschedulable", reason))
    )
    (finding,) = findings(doctor_json(run, web_repo, kubeconfig, "web/echo"), "web/echo")
    assert finding["problem"] == f"is Pending, not scheduled: Unschedulable: {reason}"
    assert finding["severity"] == "error"


def test_a_deployment_without_pods(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    healthy.remove("", "pods", "web", ECHO_POD)
    (finding,) = findings(doctor_json(run, web_repo, kubeconfig, "web/echo"), "web/echo")
    assert (finding["kind"], finding["problem"]) == ("Deployment", "wants 1 pod and has none")


def test_restarts_and_warning_events_are_warnings(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    healthy.add(
        pod(
            "web",
            ECHO_POD,
            ECHO_POD_LABELS,
            containers=[container(restarts=2, last_exit=("OOMKilled", 137))],
        ),
        event("web", ("Pod", ECHO_POD), "Unhealthy", "Readiness probe failed: 503", count=4),
        event("web", ("Pod", "someone-else"), "BackOff", "not this app's"),
        event("web", ("Pod", ECHO_POD), "Pulled", "normal", type="Normal"),
    )
    result = doctor(run, web_repo, kubeconfig, "web/echo")
    assert result.code == 0  # warnings do not fail the command
    assert problem_lines(result) == [
        f"web/echo ! Pod web/{ECHO_POD} container app restarted 2 times (last: OOMKilled, exit "
        f"code 137)  → kubectl -n web logs {ECHO_POD} -c app --previous",
        f"web/echo ! Pod web/{ECHO_POD} Warning event Unhealthy (x4), last at "
        "2025-06-01T10:00:00Z: Readiness probe failed: 503  → kubectl -n web get events "
        f"--field-selector type=Warning,involvedObject.name={ECHO_POD}",
    ]
    assert result.out.splitlines()[-1] == "1 apps: 1 healthy, 0 with problems (2 warnings)"


def test_a_dependency_that_is_not_ready_is_the_cause(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    apps = flux_labels("flux-system", "cluster-apps")
    blocked = kustomization(
        "web",
        "echo",
        ready="False",
        reason="DependencyNotReady",
        message="dependency 'web/secrets' is not ready",
        labels=apps,
    )
    blocked["spec"]["dependsOn"] = [{"name": "secrets"}]
    healthy.add(
        blocked,
        kustomization(
            "web",
            "secrets",
            ready="False",
            reason="HealthCheckFailed",
            message="timeout waiting for: [InfisicalSecret/web/echo-secrets status: 'InProgress']",
            labels=apps,
        ),
    )
    data = doctor_json(run, web_repo, kubeconfig)
    (echo,) = findings(data, "web/echo")
    assert (echo["link"], echo["name"], echo["next"]) == (
        "dependency",
        "secrets",
        "homelab-kit doctor web/secrets",
    )
    assert "HealthCheckFailed" in echo["problem"]
    (secrets,) = findings(data, "web/secrets")
    assert (secrets["link"], secrets["name"]) == ("kustomization", "secrets")
    assert secrets["next"] == "homelab-kit reconcile web/secrets --with-source"


def test_a_root_kustomization_that_fails_to_build(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    healthy.add(
        kustomization(
            "flux-system",
            "cluster-apps",
            ready="False",
            reason="BuildFailed",
            message="kustomize build failed: accumulating resources: './web': no such file",
            labels=flux_labels("flux-system", "flux-system"),
        )
    )
    result = doctor(run, web_repo, kubeconfig)
    assert result.code == 1
    assert problem_lines(result) == []  # the apps themselves are fine
    assert result.out.splitlines()[1] == (
        "kubernetes/flux/cluster ✗ Kustomization flux-system/cluster-apps is not Ready: "
        "BuildFailed: kustomize build failed: accumulating resources: './web': no such file  "
        "→ homelab-kit build flux-system/cluster-apps"
    )
    # Naming one app walks that app only.
    assert doctor(run, web_repo, kubeconfig, "web/echo").code == 0


def test_objects_not_on_the_cluster(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    healthy.remove("kustomize.toolkit.fluxcd.io", "kustomizations", "web", "secrets")
    healthy.remove("helm.toolkit.fluxcd.io", "helmreleases", "web", "echo")
    data = doctor_json(run, web_repo, kubeconfig)
    (secrets,) = findings(data, "web/secrets")
    assert secrets["problem"] == (
        "is not on the cluster: Kustomization flux-system/cluster-apps has not applied it yet"
    )
    assert secrets["next"] == "homelab-kit reconcile flux-system/cluster-apps --with-source"
    (echo,) = findings(data, "web/echo")
    assert (echo["kind"], echo["next"]) == (
        "HelmRelease",
        "homelab-kit reconcile web/echo --with-source",
    )


def test_an_unknown_app_is_a_usage_error(kubeconfig: Path, web_repo: Path, run: Run) -> None:
    result = doctor(run, web_repo, kubeconfig, "web/nope")
    assert result.code == 2
    assert "no app 'web/nope' in the repository (apps: web/echo, web/secrets)" in result.err
    assert result.out == ""


def test_forbidden_is_one_line_naming_the_verb_and_resource(
    healthy: FakeApiServer, tmp_path: Path, web_repo: Path, run: Run
) -> None:
    config = healthy.write_kubeconfig(tmp_path / "reader.yaml", current="reader")
    healthy.forbid(READER_USER, "list", "pods", "web")
    result = run("doctor", "--repo", web_repo, "--kubeconfig", config)
    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        f'homelab-kit: error: forbidden: user "{READER_USER}" may not list pods in namespace '
        '"web" (403); grant RBAC verb "list" on resource "pods" in API group "" in namespace '
        '"web"\n'
    )


def test_forbidden_operator_logs_are_a_detail_not_a_failure(
    healthy: FakeApiServer, tmp_path: Path, web_repo: Path, run: Run
) -> None:
    config = healthy.write_kubeconfig(tmp_path / "reader.yaml", current="reader")
    healthy.remove("", "secrets", "web", "echo-secret")
    healthy.add(pod("infisical-system", "infisical-secrets-operator-1", OPERATOR_LABELS))
    healthy.forbid(READER_USER, "get", "pods/log", "infisical-system")
    result = run("doctor", "web/secrets", "--repo", web_repo, "--kubeconfig", config)
    assert result.code == 1, result.err
    assert (
        'may not get pods/log in namespace "infisical-system" (403); grant RBAC verb "get" on '
        'resource "pods/log"'
    ) in result.out


def test_secret_values_never_appear_and_are_never_requested(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    # Every path that touches Secrets: present, missing, and an app reading one.
    healthy.add(
        secret("web", "other", {"token": PLANTED_SECRET_VALUE}),
        pod(
            "web",
            ECHO_POD,
            ECHO_POD_LABELS,
            containers=[container(waiting=("CreateContainerConfigError", 'secret "x" not found'))],
            env_from_secret="echo-secret",
        ),
    )
    outputs = [
        doctor(run, web_repo, kubeconfig),
        doctor(run, web_repo, kubeconfig, "--format", "json"),
    ]
    healthy.remove("", "secrets", "web", "echo-secret")
    outputs += [
        doctor(run, web_repo, kubeconfig),
        doctor(run, web_repo, kubeconfig, "--format", "json"),
    ]
    assert {r.code for r in outputs} == {1}
    for result in outputs:
        assert PLANTED_SECRET_VALUE not in result.out + result.err
    secret_reads = [r for r in healthy.requests if CORE_SECRETS.match(r.path)]
    assert secret_reads
    for request in secret_reads:
        assert "as=PartialObjectMetadata" in request.accept, request


def test_the_library_walks_chosen_apps(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path
) -> None:
    repo = homelab_kit.load(web_repo)
    echo = repo.app("web", "echo")
    assert echo is not None
    with connect(ClusterOptions(str(kubeconfig))) as cluster:
        report = diagnose(repo, cluster, [echo])
    assert [a.label for a in report.apps] == ["web/echo"]
    assert report.ok
    assert report.summary() == "1 apps: 1 healthy, 0 with problems"


def test_an_external_secret_the_app_reads(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    """An ExternalSecret in another app, producing a Secret echo's HelmRelease reads."""
    (web_repo / "kubernetes/apps/web/secrets/echo-external.yaml").write_text(
        "apiVersion: external-secrets.io/v1\n"
        "kind: ExternalSecret\n"
        "metadata:\n  name: echo-db\n  namespace: web\n"
        "spec:\n  secretStoreRef:\n    kind: ClusterSecretStore\n    name: vault\n"
        "  target:\n    name: echo-db-credentials\n",
        encoding="utf-8",
    )
    kustomization_file = web_repo / "kubernetes/apps/web/secrets/kustomization.yaml"
    kustomization_file.write_text(
        kustomization_file.read_text(encoding="utf-8") + "  - ./echo-external.yaml\n",
        encoding="utf-8",
    )
    release = web_repo / "kubernetes/apps/web/echo/app/helmrelease.yaml"
    release.write_text(
        release.read_text(encoding="utf-8")
        + "    - kind: Secret\n      name: echo-db-credentials\n",
        encoding="utf-8",
    )
    # The External Secrets operator is not installed: a finding, not a crash.
    (finding,) = findings(doctor_json(run, web_repo, kubeconfig, "web/echo"), "web/echo")
    assert (finding["kind"], finding["name"]) == ("ExternalSecret", "echo-db")
    assert finding["problem"] == (
        "cannot sync: the cluster serves no ExternalSecret API (External Secrets is not installed)"
    )

    healthy.add(crd("external-secrets.io", "ExternalSecret", "externalsecrets", ["v1"]))
    external = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "echo-db", "namespace": "web"},
        "spec": {"target": {"name": "echo-db-credentials"}},
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "SecretSyncedError",
                    "message": "could not get secret data from provider",
                }
            ]
        },
    }
    healthy.add(
        external,
        pod(
            "external-secrets",
            "external-secrets-5b8f-q",
            {"app.kubernetes.io/name": "external-secrets"},
        ),
    )
    healthy.add_log(
        "external-secrets",
        "external-secrets-5b8f-q",
        [
            '{"level":"error","msg":"error processing spec.data[0]",'
            '"ExternalSecret":"web/echo-db"}',
        ],
    )
    (finding,) = findings(doctor_json(run, web_repo, kubeconfig, "web/echo"), "web/echo")
    assert finding["problem"] == (
        "is not synced: SecretSyncedError: could not get secret data from provider"
    )
    assert finding["next"] == "kubectl -n external-secrets logs external-secrets-5b8f-q --tail 50"
    assert finding["details"][-1].endswith('"ExternalSecret":"web/echo-db"}')

    external["status"]["conditions"][0].update(status="True", reason="SecretSynced", message="")
    healthy.add(external)
    (finding,) = findings(doctor_json(run, web_repo, kubeconfig, "web/echo"), "web/echo")
    assert (finding["kind"], finding["name"]) == ("Secret", "echo-db-credentials")
    assert finding["problem"].startswith("does not exist: ExternalSecret web/echo-db reports")


def test_with_several_clusters_only_the_chosen_clusters_apps_are_walked(
    healthy: FakeApiServer, kubeconfig: Path, run: Run
) -> None:
    """onedr0p's 2024 repository holds two clusters; its storage cluster runs 18 apps."""
    corpus = corpus_path("onedr0p__home-ops-2024")
    repo = homelab_kit.load(corpus)
    storage = repo.cluster("storage")
    assert storage is not None
    with connect(ClusterOptions(str(kubeconfig))) as cluster:
        report = diagnose(repo, cluster, scope=storage)
    walked = {a.label for a in report.apps if a.namespace}
    assert walked == {f"{a.namespace}/{a.name}" for a in storage.apps}
    assert len(walked) == 18
    roots = [a.directory for a in report.apps if not a.namespace]
    assert roots
    assert all(r.startswith("kubernetes/storage/") for r in roots), roots

    result = doctor(run, corpus, kubeconfig, "--cluster", "nas")
    assert result.code == 2
    assert "main" in result.err
    assert "storage" in result.err
    assert len(result.err.strip().splitlines()) == 1
