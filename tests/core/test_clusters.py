"""Clusters: entry points, each cluster's desired state, ``--cluster`` and ``clusters:``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import homelab_kit
from homelab_kit.cli import main
from homelab_kit.config import load_config
from homelab_kit.errors import ConfigError, HomelabKitError
from homelab_kit.lint import load_options
from homelab_kit.testing import YamlTree, findings, lint_path
from tests.conftest import corpus_path

_SYNC = "sourceRef: {kind: GitRepository, name: flux-system}"


def _ks(name: str, path: str, extra: str = "", namespace: str = "flux-system") -> str:
    return f"""\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: {namespace}
spec:
  interval: 10m
  path: {path}
  prune: true
  {_SYNC}
{extra}"""


_SUBSTITUTE = """\
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: cluster-settings
"""


def _cluster_files(cluster: str, app_port: str) -> dict[str, str]:
    """One cluster of a two-cluster repository, in onedr0p's 2024 layout."""
    base = f"kubernetes/{cluster}"
    return {
        f"{base}/flux/config/kustomization.yaml": "resources: [./cluster.yaml]\n",
        f"{base}/flux/config/cluster.yaml": _ks("cluster", f"./{base}/flux", _SUBSTITUTE)
        + "---\n"
        + _ks(
            "cluster-apps",
            f"./{base}/apps",
            _SUBSTITUTE
            + """\
  patches:
    - patch: |
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: not-used}
        spec:
          postBuild:
            substituteFrom:
              - {kind: ConfigMap, name: cluster-settings}
          timeout: 7m
      target: {group: kustomize.toolkit.fluxcd.io, kind: Kustomization}
""",
        ),
        f"{base}/flux/vars/kustomization.yaml": "resources: [./cluster-settings.yaml]\n",
        f"{base}/flux/vars/cluster-settings.yaml": f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: cluster-settings, namespace: flux-system}}
data: {{CLUSTER: {cluster}, PORT: "{app_port}"}}
""",
        f"{base}/apps/kustomization.yaml": "resources: [./default]\n",
        f"{base}/apps/default/kustomization.yaml": "resources: [./echo/ks.yaml]\n",
        # ${CLUSTER} in spec.path: filled by the parent's substituteFrom ConfigMap.
        f"{base}/apps/default/echo/ks.yaml": _ks(
            "echo", "./kubernetes/${CLUSTER}/apps/default/echo/app"
        ),
        f"{base}/apps/default/echo/app/kustomization.yaml": "resources: [./service.yaml]\n",
        f"{base}/apps/default/echo/app/service.yaml": """\
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  ports: [{port: "${PORT}"}]
""",
    }


@pytest.fixture
def two_clusters(yaml_tree: YamlTree) -> Path:
    return yaml_tree({**_cluster_files("main", "8080"), **_cluster_files("storage", "9090")})


def test_two_clusters_are_found_and_never_merge(two_clusters: Path) -> None:
    repo = homelab_kit.load(two_clusters)
    assert [(c.name, c.how, c.entry) for c in repo.clusters] == [
        ("main", "root", "kubernetes/main/flux/config"),
        ("storage", "root", "kubernetes/storage/flux/config"),
    ]
    for cluster, port in (("main", 8080), ("storage", 9090)):
        found = repo.cluster(cluster)
        assert found is not None
        echo = found.kustomization("flux-system", "echo")
        assert echo is not None
        assert echo.errors == ()
        # ${CLUSTER} resolved with this cluster's own ConfigMap, never the other's.
        assert echo.path == f"kubernetes/{cluster}/apps/default/echo/app"
        assert [a.ks_path for a in found.apps] == [
            f"kubernetes/{cluster}/apps/default/echo/ks.yaml"
        ]
        (service,) = [o for o in found.objects if o.kind == "Service"]
        assert service.get("spec", "ports", 0, "port") == port
        assert service.source.path == f"kubernetes/{cluster}/apps/default/echo/app/service.yaml"
        # The parent's patch is in the child as the cluster applies it.
        assert echo.object.get("spec", "timeout") == "7m"
        assert found.graph.missing == ()


def test_an_unlisted_ks_yaml_is_not_a_cluster(yaml_tree: YamlTree) -> None:
    files = _cluster_files("main", "80")
    files["kubernetes/main/apps/default/radarr/ks.yaml"] = _ks(
        "radarr", "./kubernetes/main/apps/default/radarr/app"
    )
    repo = homelab_kit.load(yaml_tree(files))
    assert [c.name for c in repo.clusters] == ["main"]
    assert "kubernetes/main/apps/default/radarr/ks.yaml" not in repo.clusters[0].files
    assert [a.name for a in repo.clusters[0].apps] == ["echo"]


def test_a_remote_source_path_names_nothing_here(yaml_tree: YamlTree) -> None:
    files = _cluster_files("main", "80")
    files["kubernetes/main/flux/config/kustomization.yaml"] = (
        "resources: [./cluster.yaml, ./flux.yaml]\n"
    )
    files["kubernetes/main/flux/config/flux.yaml"] = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux, namespace: flux-system}
spec:
  interval: 10m
  path: ./
  prune: true
  sourceRef: {kind: OCIRepository, name: flux-manifests}
"""
    repo = homelab_kit.load(yaml_tree(files))
    (cluster,) = repo.clusters
    flux = cluster.kustomization("flux-system", "flux")
    assert flux is not None
    assert flux.objects == ()
    assert flux.path is None
    assert "not this repository" in flux.warnings[0]


def test_configured_clusters_replace_detection(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            **_cluster_files("main", "80"),
            ".homelab-kit.yaml": "clusters:\n  home: kubernetes/main/flux\n",
        }
    )
    repo = homelab_kit.load(root, load_options(load_config(root)))
    assert [(c.name, c.how, c.entry) for c in repo.clusters] == [
        ("home", "config", "kubernetes/main/flux")
    ]
    assert {a.name for a in repo.clusters[0].apps} == {"echo"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters:\n  home: kubernetes/nope\n", ".homelab-kit.yaml:2:9: the entry of cluster"),
        ("clusters: [a]\n", ".homelab-kit.yaml:1:11: clusters must be a mapping"),
        ("clusters:\n  home: ../elsewhere\n", "is outside the repository"),
    ],
)
def test_bad_clusters_config_is_a_positioned_error(
    yaml_tree: YamlTree, text: str, message: str
) -> None:
    root = yaml_tree({".homelab-kit.yaml": text})
    with pytest.raises(ConfigError) as caught:
        load_config(root)
    assert message in f"{caught.value.location}: {caught.value}"


def test_lint_cluster_option(two_clusters: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["lint", str(two_clusters), "--no-cache", "--cluster", "nope"])
    assert exited.value.code == 2
    assert "no cluster 'nope'; the repository's clusters: main, storage" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["lint", str(two_clusters), "--no-cache", "--format", "json"])
    every = json.loads(capsys.readouterr().out)
    assert every["summary"]["clusters"] == ["main", "storage"]
    with pytest.raises(SystemExit):
        main(["lint", str(two_clusters), "--no-cache", "--format", "json", "--cluster", "storage"])
    storage = json.loads(capsys.readouterr().out)
    assert storage["summary"]["clusters"] == ["storage"]
    paths = {d["path"] for d in every["diagnostics"]}
    kept = {d["path"] for d in storage["diagnostics"]}
    assert any(p.startswith("kubernetes/main/") for p in paths)
    assert not any(p.startswith("kubernetes/main/") for p in kept)


def test_library_rejects_an_unknown_cluster(two_clusters: Path) -> None:
    with pytest.raises(HomelabKitError, match="main, storage"):
        homelab_kit.lint(two_clusters, clusters=("prod",))


def test_reference_cluster_is_one_cluster() -> None:
    repo = homelab_kit.load(Path(__file__).resolve().parents[2])
    (cluster,) = repo.clusters
    assert (cluster.how, cluster.entry) == ("FluxInstance", "kubernetes/flux/cluster")
    assert len(cluster.apps) == len(repo.apps)
    assert all(ks.errors == () for ks in cluster.kustomizations)


# Every corpus: the clusters found, how, their entry points, apps and Flux Kustomizations.
CORPUS_CLUSTERS = {
    "yamshy__homelab": [("cluster", "FluxInstance", "kubernetes/flux/cluster", 33, 38)],
    "onedr0p__home-ops": [("cluster", "FluxInstance", "kubernetes/flux/cluster", 64, 79)],
    "bjw-s-labs__home-ops": [("cluster", "FluxInstance", "kubernetes/flux/cluster", 79, 94)],
    # 9 of its 112 app folders are listed by no kustomization.yaml: not deployed.
    "vrozaksen__home-ops": [("cluster", "FluxInstance", "kubernetes/flux/cluster", 103, 124)],
    "LukasParke__home-ops": [("cluster", "FluxInstance", "kubernetes/flux/cluster", 53, 55)],
    "onedr0p__home-ops-2024": [
        ("main", "root", "kubernetes/main/flux/config", 62, 81),
        ("storage", "root", "kubernetes/storage/flux/config", 18, 26),
    ],
}


@pytest.mark.parametrize("name", sorted(CORPUS_CLUSTERS))
def test_corpus_clusters(name: str) -> None:
    repo = homelab_kit.load(corpus_path(name))
    found = [(c.name, c.how, c.entry, len(c.apps), len(c.kustomizations)) for c in repo.clusters]
    assert found == CORPUS_CLUSTERS[name]
    for cluster in repo.clusters:
        keys = [ks.key for ks in cluster.kustomizations]
        assert len(keys) == len(set(keys))  # one Kustomization per name in a cluster
        paths = [a.ks_path for a in cluster.apps]
        assert len(paths) == len(set(paths))


def test_two_clusters_of_the_2024_corpus_do_not_share_apps() -> None:
    repo = homelab_kit.load(corpus_path("onedr0p__home-ops-2024"))
    main_, storage = repo.clusters
    assert all(a.directory.startswith("kubernetes/main/") for a in main_.apps)
    assert all(a.directory.startswith("kubernetes/storage/") for a in storage.apps)
    # Both have a cluster-apps Kustomization; each builds its own folder.
    assert main_.kustomization("flux-system", "cluster-apps").path == "kubernetes/main/apps"
    assert storage.kustomization("flux-system", "cluster-apps").path == "kubernetes/storage/apps"


def test_build_reads_substitute_from_of_its_own_cluster(
    two_clusters: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for cluster, port in (("main", "8080"), ("storage", "9090")):
        with pytest.raises(SystemExit) as exited:
            main(["build", "echo", str(two_clusters), "--backend", "python", "--cluster", cluster])
        assert exited.value.code == 0
        out = capsys.readouterr().out
        assert f"port: {port}" in out
    with pytest.raises(SystemExit) as exited:
        main(["build", "flux-system/echo", str(two_clusters), "--backend", "python"])
    assert exited.value.code == 2
    assert "give --cluster (main, storage)" in capsys.readouterr().err


# ----------------------------------------------------------------- not deployed

_HR = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: radarr}
spec:
  chartRef: {kind: OCIRepository, name: radarr}
"""


def _undeployed_files() -> dict[str, str]:
    files = _cluster_files("main", "80")
    # An app folder nothing lists: reported once, its HelmRelease (no interval) silent.
    files["kubernetes/main/apps/default/radarr/ks.yaml"] = _ks(
        "radarr", "./kubernetes/main/apps/default/radarr/app"
    )
    files["kubernetes/main/apps/default/radarr/app/kustomization.yaml"] = (
        "resources: [./helmrelease.yaml]\n"
    )
    files["kubernetes/main/apps/default/radarr/app/helmrelease.yaml"] = _HR
    # A resource commented out of a deployed app: one finding for its folder.
    files["kubernetes/main/apps/default/echo/app/kustomization.yaml"] = (
        "resources:\n  - ./service.yaml\n  # - ./old.yaml\n"
    )
    files["kubernetes/main/apps/default/echo/app/old.yaml"] = _HR.replace("radarr", "old")
    # A component folder its parent does not list: its Secret (no namespace) creates nothing.
    files["kubernetes/main/components/common/kustomization.yaml"] = (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: []\n"
    )
    files["kubernetes/main/components/common/extra/kustomization.yaml"] = (
        "resources: [./secret.yaml]\n"
    )
    files["kubernetes/main/components/common/extra/secret.yaml"] = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: cluster-secrets}\nstringData: {A: b}\n"
    )
    files["kubernetes/main/apps/default/kustomization.yaml"] = (
        "resources: [./echo/ks.yaml]\ncomponents: [../../components/common]\n"
    )
    files["kubernetes/main/apps/default/echo/ks.yaml"] = _ks(
        "echo",
        "./kubernetes/${CLUSTER}/apps/default/echo/app",
        "  postBuild:\n    substituteFrom:\n      - {kind: Secret, name: cluster-secrets}\n",
        namespace="default",
    )
    return files


def test_undeployed_files_are_reported_once_per_folder_and_otherwise_silent(
    yaml_tree: YamlTree,
) -> None:
    root = yaml_tree(_undeployed_files())
    repo = homelab_kit.load(root)
    assert not repo.is_deployed("kubernetes/main/apps/default/radarr/app/helmrelease.yaml")
    assert not repo.is_deployed("kubernetes/main/apps/default/echo/app/old.yaml")
    assert repo.is_deployed("kubernetes/main/apps/default/echo/app/service.yaml")
    found = findings(lint_path(root, select=["structure-app-unreachable", "helm-interval-set"]))
    assert found == [
        ("kubernetes/main/apps/default/echo/app/old.yaml", 1, "structure-app-unreachable"),
        ("kubernetes/main/apps/default/kustomization.yaml", 1, "structure-app-unreachable"),
        ("kubernetes/main/components/common/extra/secret.yaml", 1, "structure-app-unreachable"),
    ]


def test_a_left_out_file_is_told_what_keeps_it_out(yaml_tree: YamlTree) -> None:
    files = _undeployed_files()
    files["kubernetes/main/apps/default/echo/app/loose/configmap.yaml"] = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: loose}\n"
    )
    result = lint_path(yaml_tree(files), select=["structure-app-unreachable"])
    messages = {d.location.path: d.message for d in result.diagnostics}
    echo = "kubernetes/main/apps/default/echo/app"
    assert messages[f"{echo}/old.yaml"] == (
        f"{echo}: old.yaml is not deployed: no cluster applies it "
        f"({echo}/kustomization.yaml does not list it)"
    )
    assert messages[f"{echo}/loose/configmap.yaml"] == (
        f"{echo}/loose: configmap.yaml is not deployed: no cluster applies it "
        "(the folder has no kustomization.yaml)"
    )
    # Listed by a kustomization.yaml nothing builds (the component does not list it).
    extra = "kubernetes/main/components/common/extra"
    assert messages[f"{extra}/secret.yaml"] == (
        f"{extra}: secret.yaml is not deployed: no cluster applies it "
        f"(no cluster builds {extra}/kustomization.yaml)"
    )


def test_an_undeployed_producer_satisfies_no_reader(yaml_tree: YamlTree) -> None:
    files = _undeployed_files()
    # echo's own substituteFrom is replaced by cluster-apps' patch (a CRD's list is
    # replaced by a strategic merge), so the reader is a Deployment of echo's.
    app = "kubernetes/main/apps/default/echo/app"
    files[f"{app}/kustomization.yaml"] = "resources: [./service.yaml, ./deployment.yaml]\n"
    files[f"{app}/deployment.yaml"] = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: default}
spec:
  template:
    spec:
      containers:
        - name: app
          envFrom:
            - secretRef: {name: cluster-secrets}
"""
    root = yaml_tree(files)
    found = findings(lint_path(root, select=["secrets-consumed-secret-exists"]))
    assert found == [(f"{app}/deployment.yaml", 10, "secrets-consumed-secret-exists")]


# ----------------------------------------------------------- one patch semantics

_DEFAULTS = """\
  patches:
    - patch: |
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: not-used}
        spec:
          prune: true
          wait: true
          interval: 1h
          patches:
            - patch: |
                apiVersion: helm.toolkit.fluxcd.io/v2
                kind: HelmRelease
                metadata: {name: not-used}
                spec:
                  interval: 30m
                  install: {remediation: {retries: 3}}
                  upgrade: {remediation: {retries: 3}}
              target: {group: helm.toolkit.fluxcd.io, kind: HelmRelease}
      target: {group: kustomize.toolkit.fluxcd.io, kind: Kustomization, SELECTOR}
"""
_PATCHED_IDS = [
    "flux-ks-prune",
    "flux-ks-interval",
    "flux-ks-wait",
    "helm-interval-set",
    "helm-remediation-retries",
]


def _patched_tree(selector: str) -> dict[str, str]:
    files = _cluster_files("main", "80")
    files["kubernetes/main/flux/config/cluster.yaml"] = (
        _ks("cluster", "./kubernetes/main/flux", "  wait: true\n")
        + "---\n"
        + _ks("cluster-apps", "./kubernetes/main/apps", "  wait: true\n" + _DEFAULTS).replace(
            "SELECTOR", selector
        )
    )
    files["kubernetes/main/apps/default/echo/ks.yaml"] = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: echo, namespace: flux-system}
spec:
  path: ./kubernetes/main/apps/default/echo/app
  sourceRef: {kind: GitRepository, name: flux-system}
"""
    files["kubernetes/main/apps/default/echo/app/kustomization.yaml"] = (
        "resources: [./helmrelease.yaml]\n"
    )
    files["kubernetes/main/apps/default/echo/app/helmrelease.yaml"] = (
        _HR.replace("radarr", "echo") + "---\n" + OCI_ECHO
    )
    return files


OCI_ECHO = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: echo}
spec:
  interval: 1h
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
  ref: {tag: 4.2.0}
"""


def test_parent_patches_are_visible_to_every_check(yaml_tree: YamlTree) -> None:
    root = yaml_tree(_patched_tree('labelSelector: "app notin (skip)"'))
    repo = homelab_kit.load(root)
    echo = repo.clusters[0].kustomization("flux-system", "echo")
    assert echo is not None
    assert (echo.object.get("spec", "prune"), echo.object.get("spec", "interval")) == (True, "1h")
    (release,) = [o for o in echo.objects if o.kind == "HelmRelease"]
    assert release.get("spec", "interval") == "30m"
    assert findings(lint_path(root, select=_PATCHED_IDS)) == []


def test_a_patch_whose_target_does_not_match_sets_nothing(yaml_tree: YamlTree) -> None:
    root = yaml_tree(_patched_tree("name: other-.*"))
    found = {check for _, _, check in findings(lint_path(root, select=_PATCHED_IDS))}
    assert found == set(_PATCHED_IDS)


def test_graph_of_one_cluster(two_clusters: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["graph", str(two_clusters), "--no-cache", "-f", "json", "--cluster", "storage"])
    assert exited.value.code == 0
    nodes = json.loads(capsys.readouterr().out)["nodes"]
    assert sorted(n["path"] for n in nodes) == [
        "kubernetes/storage/apps/default/echo/ks.yaml",
        "kubernetes/storage/flux/config/cluster.yaml",
        "kubernetes/storage/flux/config/cluster.yaml",
    ]
