"""``homelab-kit reconcile`` against the fake API server, which plays the Flux
controllers: annotations sent, waiting, failure, timeout, not found, forbidden."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from homelab_kit.cluster import ClusterOptions, Target, connect, parse_duration
from homelab_kit.cluster.reconcile import sources_of

from .conftest import Result
from .fakeapi import READER_USER, FakeApiServer
from .objects import HELM, PLANTED_SECRET_VALUE, SOURCE, kustomization

Run = Callable[..., Result]
REQUESTED = "reconcile.fluxcd.io/requestedAt"
FORCE = "reconcile.fluxcd.io/forceAt"
FAST = ("--poll-interval", "10ms")


def reconcile(run: Run, kubeconfig: Path, *args: str | Path) -> Result:
    return run("reconcile", *args, "--kubeconfig", kubeconfig, *FAST)


def patched(fake: FakeApiServer) -> list[tuple[str, str | None, str]]:
    return [(p.plural, p.namespace, p.name) for p in fake.patches]


def test_annotates_then_waits_until_handled_and_ready(
    healthy: FakeApiServer, kubeconfig: Path, run: Run
) -> None:
    healthy.controller("kustomizations", "web", "echo", polls=3)
    result = reconcile(run, kubeconfig, "web/echo")
    assert result.code == 0, result.err
    (patch,) = healthy.patches
    assert (patch.plural, patch.namespace, patch.name) == ("kustomizations", "web", "echo")
    assert patch.content_type == "application/merge-patch+json"
    assert set(patch.annotations) == {REQUESTED}
    stored = healthy.get_object("kustomize.toolkit.fluxcd.io", "kustomizations", "web", "echo")
    assert stored is not None
    token = stored["metadata"]["annotations"][REQUESTED]
    assert stored["status"]["lastHandledReconcileAt"] == token == patch.annotations[REQUESTED]
    assert result.out == (
        "✔ Kustomization web/echo reconciled: Applied revision: main@sha1:9a8b7c6d\n"
    )
    progress = result.err.splitlines()
    assert progress[0] == "► asked Flux to reconcile Kustomization web/echo"
    # Off a terminal, one progress line per change of state.
    assert progress[1:] == [
        "◎ waiting for Kustomization web/echo (not handled yet, ReconciliationSucceeded: "
        "Applied revision: main@sha1:5e7c1a1b2c3d4e5f60718293a4b5c6d7e8f90123)",
        "◎ waiting for Kustomization web/echo (handled, ReconciliationSucceeded: Applied "
        "revision: main@sha1:9a8b7c6d)",
    ]


def test_with_source_reconciles_the_source_first(
    healthy: FakeApiServer, kubeconfig: Path, run: Run
) -> None:
    healthy.controller("gitrepositories", "flux-system", "flux-system", polls=2)
    healthy.controller("kustomizations", "web", "echo", polls=1)
    result = reconcile(run, kubeconfig, "web/echo", "--with-source")
    assert result.code == 0, result.err
    assert patched(healthy) == [
        ("gitrepositories", "flux-system", "flux-system"),
        ("kustomizations", "web", "echo"),
    ]
    assert result.out.splitlines() == [
        "✔ GitRepository flux-system/flux-system reconciled: Applied revision: main@sha1:9a8b7c6d",
        "✔ Kustomization web/echo reconciled: Applied revision: main@sha1:9a8b7c6d",
    ]


def test_force_a_helm_release_with_its_chart_source(
    healthy: FakeApiServer, kubeconfig: Path, run: Run
) -> None:
    healthy.controller("ocirepositories", "web", "echo")
    healthy.controller(
        "helmreleases", "web", "echo", reason="UpgradeSucceeded", message="Helm upgrade succeeded"
    )
    result = reconcile(
        run, kubeconfig, "web/echo", "--kind", "helmrelease", "--force", "--with-source"
    )
    assert result.code == 0, result.err
    source, release = healthy.patches
    assert (source.plural, set(source.annotations)) == ("ocirepositories", {REQUESTED})
    assert release.plural == "helmreleases"
    assert release.annotations[FORCE] == release.annotations[REQUESTED]


def test_a_failed_reconciliation_prints_the_reason_and_exits_1(
    healthy: FakeApiServer, kubeconfig: Path, run: Run
) -> None:
    healthy.controller(
        "kustomizations",
        "web",
        "echo",
        polls=2,
        ready="False",
        reason="HealthCheckFailed",
        message="timeout waiting for: [Deployment/web/echo status: 'InProgress']",
    )
    result = reconcile(run, kubeconfig, "web/echo")
    assert result.code == 1
    assert result.out == (
        "✗ Kustomization web/echo reconciliation failed: HealthCheckFailed: timeout waiting "
        "for: [Deployment/web/echo status: 'InProgress']\n"
    )


def test_a_source_that_fails_stops_before_the_object(
    healthy: FakeApiServer, kubeconfig: Path, run: Run
) -> None:
    healthy.controller(
        "gitrepositories",
        "flux-system",
        "flux-system",
        ready="False",
        reason="GitOperationFailed",
        message="failed to checkout and determine revision: authentication required",
    )
    result = reconcile(run, kubeconfig, "web/echo", "--with-source")
    assert result.code == 1
    assert patched(healthy) == [("gitrepositories", "flux-system", "flux-system")]
    assert "GitOperationFailed: failed to checkout" in result.out


def test_timeout_while_waiting(healthy: FakeApiServer, kubeconfig: Path, run: Run) -> None:
    # No controller answers: the request is never handled.
    result = reconcile(run, kubeconfig, "web/echo", "--timeout", "150ms")
    assert result.code == 1
    assert result.out.startswith("✗ Kustomization web/echo did not finish reconciling within ")
    assert "raise --timeout" in result.out
    data = json.loads(
        reconcile(run, kubeconfig, "web/echo", "--timeout", "100ms", "--format", "json").out
    )
    assert data["ok"] is False
    assert data["objects"][0]["state"] == "timeout"


def test_no_wait_only_asks(healthy: FakeApiServer, kubeconfig: Path, run: Run) -> None:
    result = reconcile(run, kubeconfig, "web/echo", "--no-wait", "--timeout", "1h30m")
    assert result.code == 0, result.err
    assert result.out == "✔ Kustomization web/echo reconciliation requested (not waiting)\n"
    assert patched(healthy) == [("kustomizations", "web", "echo")]
    after = healthy.requests[[r.method for r in healthy.requests].index("PATCH") + 1 :]
    assert after == []


def test_an_object_not_found_is_one_line_and_exit_2(
    healthy: FakeApiServer, kubeconfig: Path, run: Run
) -> None:
    result = reconcile(run, kubeconfig, "web/nope")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"homelab-kit: error: Kustomization web/nope is not on the cluster at {healthy.url} "
        "(context admin)\n"
    )
    assert healthy.patches == []
    source = reconcile(run, kubeconfig, "web/nope", "--kind", "source")
    assert source.err.endswith(
        f"no Flux source web/nope is on the cluster at {healthy.url} (context admin)\n"
    )


def test_forbidden_patch_names_the_verb_and_resource(
    healthy: FakeApiServer, kubeconfig: Path, run: Run
) -> None:
    healthy.forbid(READER_USER, "patch", "kustomizations", "web")
    result = reconcile(run, kubeconfig, "web/echo", "--context", "reader")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f'homelab-kit: error: forbidden: user "{READER_USER}" may not patch '
        'kustomizations.kustomize.toolkit.fluxcd.io in namespace "web" (403); grant RBAC verb '
        '"patch" on resource "kustomizations" in API group "kustomize.toolkit.fluxcd.io" in '
        'namespace "web"\n'
    )


def test_a_suspended_object_is_not_reconciled(
    healthy: FakeApiServer, kubeconfig: Path, run: Run
) -> None:
    healthy.add(kustomization("web", "echo", suspend=True))
    result = reconcile(run, kubeconfig, "web/echo")
    assert result.code == 1
    assert "is suspended (spec.suspend: true)" in result.out
    assert "flux resume kustomization echo -n web" in result.out
    assert healthy.patches == []


def test_the_default_target_is_the_clusters_root_with_its_source(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    # The repository's root (cluster-apps) is applied by flux-system/flux-system.
    healthy.add(kustomization("flux-system", "flux-system"))
    healthy.controller("gitrepositories", "flux-system", "flux-system")
    healthy.controller("kustomizations", "flux-system", "flux-system")
    result = reconcile(run, kubeconfig, "--repo", web_repo)
    assert result.code == 0, result.err
    assert patched(healthy) == [
        ("gitrepositories", "flux-system", "flux-system"),
        ("kustomizations", "flux-system", "flux-system"),
    ]


def test_without_the_bootstrap_kustomization_the_repository_root_is_the_top(
    healthy: FakeApiServer, kubeconfig: Path, web_repo: Path, run: Run
) -> None:
    result = reconcile(run, kubeconfig, "--repo", web_repo, "--no-wait")
    assert result.code == 0, result.err
    assert patched(healthy) == [
        ("gitrepositories", "flux-system", "flux-system"),
        ("kustomizations", "flux-system", "cluster-apps"),
    ]


def test_kind_source_finds_the_source_kind(
    healthy: FakeApiServer, kubeconfig: Path, run: Run
) -> None:
    result = reconcile(run, kubeconfig, "web/echo", "--kind", "source", "--no-wait")
    assert result.code == 0, result.err
    assert patched(healthy) == [("ocirepositories", "web", "echo")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("web/echo", "--force"), "--force applies to HelmReleases only"),
        (("web/echo", "--timeout", "soon"), "'soon' is not a duration such as 90s, 5m or 1h30m"),
        (("a/b/c",), "invalid target 'a/b/c'"),
    ],
)
def test_usage_errors(
    healthy: FakeApiServer, kubeconfig: Path, run: Run, args: tuple[str, ...], message: str
) -> None:
    result = reconcile(run, kubeconfig, *args)
    assert result.code == 2
    assert message in result.err
    assert healthy.patches == []


def test_json_output(healthy: FakeApiServer, kubeconfig: Path, run: Run) -> None:
    healthy.controller("kustomizations", "web", "echo")
    result = reconcile(run, kubeconfig, "web/echo", "--format", "json")
    assert result.code == 0
    assert result.err == ""  # no progress line around JSON
    data = json.loads(result.out)
    assert data["ok"] is True
    (obj,) = data["objects"]
    assert {k: obj[k] for k in ("kind", "namespace", "name", "state", "reason")} == {
        "kind": "Kustomization",
        "namespace": "web",
        "name": "echo",
        "state": "ready",
        "reason": "ReconciliationSucceeded",
    }
    assert PLANTED_SECRET_VALUE not in result.out


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5m", 300.0),
        ("90s", 90.0),
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        ("2h45m30.5s", 9930.5),
        ("300ms", 0.3),
        ("10", 10.0),
        ("0", 0.0),
        ("soon", None),
        ("", None),
        ("-5m", None),
        ("5m3", None),
        ("m", None),
    ],
)
def test_go_durations(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


# ---------------------------------------------------------------------- --cluster


def write_clusters_kubeconfig(fake: FakeApiServer, path: Path) -> Path:
    """Contexts as talosctl names them: ``admin@home`` (the fake) and ``admin@lab``."""
    fake.write_kubeconfig(path)
    config = json.loads(path.read_text(encoding="utf-8"))
    config["clusters"] = [
        {"name": "home", "cluster": {"server": fake.url}},
        {"name": "lab", "cluster": {"server": "http://127.0.0.1:9"}},
    ]
    config["contexts"] = [
        {"name": "admin@home", "context": {"cluster": "home", "user": "admin"}},
        {"name": "admin@lab", "context": {"cluster": "lab", "user": "admin"}},
    ]
    config["current-context"] = "admin@lab"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_cluster_picks_its_kubeconfig_context(
    healthy: FakeApiServer, tmp_path: Path, web_repo: Path, run: Run
) -> None:
    config = write_clusters_kubeconfig(healthy, tmp_path / "clusters.yaml")
    result = reconcile(run, config, "web/echo", "--cluster", "home", "--no-wait")
    assert result.code == 0, result.err
    doctor = run(
        "doctor", "--repo", web_repo, "--kubeconfig", config, "--cluster", "home", "-f", "json"
    )
    assert json.loads(doctor.out)["context"] == "admin@home"
    unknown = reconcile(run, config, "web/echo", "--cluster", "office")
    assert unknown.code == 2
    assert unknown.err == (
        f"homelab-kit: error: no context of kubeconfig {config} is cluster 'office' (contexts: "
        "admin@home, admin@lab); name a context 'office' or 'admin@office', or pass --context\n"
    )
    # --context wins over --cluster.
    chosen = reconcile(
        run, config, "web/echo", "--cluster", "lab", "--context", "admin@home", "--no-wait"
    )
    assert chosen.code == 0, chosen.err


def test_a_cluster_matching_several_contexts_is_ambiguous(
    healthy: FakeApiServer, kubeconfig: Path, run: Run
) -> None:
    # admin, reader and expired all use the kubeconfig's cluster entry "homelab".
    result = reconcile(run, kubeconfig, "web/echo", "--cluster", "homelab")
    assert result.code == 2
    assert "cluster 'homelab' matches several contexts" in result.err
    assert "(admin, reader, expired); pass --context" in result.err


def test_the_sources_of_a_chart_template_are_its_repository_then_its_chart(
    healthy: FakeApiServer, kubeconfig: Path
) -> None:
    release = {
        "spec": {
            "chart": {
                "spec": {
                    "chart": "podinfo",
                    "sourceRef": {
                        "kind": "HelmRepository",
                        "name": "podinfo",
                        "namespace": "flux-system",
                    },
                }
            }
        },
        "status": {"helmChart": "flux-system/web-podinfo"},
    }
    with connect(ClusterOptions(str(kubeconfig))) as cluster:
        found = sources_of(cluster, Target(HELM, "HelmRelease", "web", "podinfo"), release)
        del release["status"]
        unreconciled = sources_of(cluster, Target(HELM, "HelmRelease", "web", "podinfo"), release)
    assert [(t.kind, t.namespace, t.name) for t in found] == [
        ("HelmRepository", "flux-system", "podinfo"),
        ("HelmChart", "flux-system", "web-podinfo"),
    ]
    assert unreconciled[1] == Target(SOURCE, "HelmChart", "flux-system", "web-podinfo")
