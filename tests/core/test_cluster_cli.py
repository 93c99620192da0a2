"""``--cluster`` and ``--repo`` on every command that reads the repository, and output
grouped by cluster when the repository holds several (graph, secrets, report)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homelab_kit.cli import main
from homelab_kit.testing import YamlTree
from tests.conftest import corpus_path
from tests.core.test_clusters import _cluster_files

_SECRET_READER = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: echo, namespace: default}}
spec:
  selector: {{matchLabels: {{app: echo}}}}
  template:
    metadata: {{labels: {{app: echo}}}}
    spec:
      containers:
        - name: echo
          image: ghcr.io/example/echo:1.0.0
          envFrom: [{{secretRef: {{name: {secret}}}}}]
"""

_SECRET = """\
apiVersion: v1
kind: Secret
metadata: {name: echo-secret, namespace: default}
stringData: {TOKEN: planted-value-never-printed}
"""


def _two_clusters(yaml_tree: YamlTree) -> Path:
    """main reads echo-secret, which only storage creates; storage reads its own."""
    files = {**_cluster_files("main", "8080"), **_cluster_files("storage", "9090")}
    for cluster in ("main", "storage"):
        app = f"kubernetes/{cluster}/apps/default/echo/app"
        files[f"{app}/kustomization.yaml"] = (
            "resources: [./service.yaml, ./deployment.yaml"
            + (", ./secret.yaml" if cluster == "storage" else "")
            + "]\n"
        )
        files[f"{app}/deployment.yaml"] = _SECRET_READER.format(secret="echo-secret")
    files["kubernetes/storage/apps/default/echo/app/secret.yaml"] = _SECRET
    return yaml_tree(files)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(args)
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_secrets_map_is_one_map_per_cluster(
    yaml_tree: YamlTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _two_clusters(yaml_tree)
    code, out, err = _run(["secrets", str(root), "--no-cache", "-f", "json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert [c["cluster"] for c in data["clusters"]] == ["main", "storage"]
    main_, storage = data["clusters"]
    # storage's Secret does not exist in main: main's reader has no producer there.
    (main_secret,) = [s for ns in main_["namespaces"] for s in ns["secrets"]]
    assert (main_secret["name"], main_secret["flags"]) == ("echo-secret", ["missing-producer"])
    assert [f["kind"] for f in main_["findings"]] == ["missing-producer"]
    (storage_secret,) = [s for ns in storage["namespaces"] for s in ns["secrets"]]
    assert storage_secret["flags"] == []
    assert [p["kind"] for p in storage_secret["producers"]] == ["Secret"]
    assert [r["path"] for r in storage_secret["readers"]] == [
        "kubernetes/storage/apps/default/echo/app/deployment.yaml"
    ]
    assert "planted-value-never-printed" not in out
    code, text, _ = _run(["secrets", str(root), "--no-cache"], capsys)
    assert text.index("Cluster main\n============") < text.index("Cluster storage\n===")
    assert text.count("APPS: the apps that read") == 1


def test_secrets_of_one_cluster(yaml_tree: YamlTree, capsys: pytest.CaptureFixture[str]) -> None:
    root = _two_clusters(yaml_tree)
    code, out, err = _run(
        ["secrets", "--repo", str(root), "--no-cache", "-f", "json", "--cluster", "storage"],
        capsys,
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["cluster"] == "storage"
    assert data["findings"] == []
    assert "Cluster main" not in _run(["secrets", str(root), "--cluster", "storage"], capsys)[1]


def test_graph_groups_nodes_by_cluster_and_never_merges_names(
    yaml_tree: YamlTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _two_clusters(yaml_tree)
    code, out, err = _run(["graph", str(root), "--no-cache", "-f", "json"], capsys)
    assert code == 0, err
    nodes = json.loads(out)["nodes"]
    echo = sorted((n["id"], n["cluster"]) for n in nodes if n["name"] == "echo")
    assert echo == [
        ("main:ks:flux-system/echo", "main"),
        ("storage:ks:flux-system/echo", "storage"),
    ]
    _, mermaid, _ = _run(["graph", str(root), "--no-cache"], capsys)
    assert 'subgraph ns0["main: flux-system"]' in mermaid
    assert 'subgraph ns1["storage: flux-system"]' in mermaid
    _, dot, _ = _run(["graph", str(root), "--no-cache", "-f", "dot", "--cluster", "main"], capsys)
    assert "storage" not in dot


def test_report_of_one_cluster(yaml_tree: YamlTree, capsys: pytest.CaptureFixture[str]) -> None:
    root = _two_clusters(yaml_tree)
    target = root / "out" / "report.html"
    code, _, err = _run(
        ["report", str(root), "--no-cache", "--html", str(target), "--cluster", "storage"],
        capsys,
    )
    assert code == 0, err
    html = target.read_text()
    assert "kubernetes/storage/apps/default/echo/ks.yaml" in html
    assert "kubernetes/main/apps/default/echo/ks.yaml" not in html


@pytest.mark.parametrize(
    "command",
    [
        ["lint"],
        ["graph"],
        ["secrets"],
        ["report", "--html", "report.html"],
        ["build", "flux-system/echo"],
    ],
)
def test_an_unknown_cluster_is_a_one_line_usage_error(
    yaml_tree: YamlTree, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    root = _two_clusters(yaml_tree)
    code, _, err = _run([*command, "--repo", str(root), "--cluster", "stroage"], capsys)
    assert code == 2
    assert err.splitlines() == [
        "homelab-kit: error: no cluster 'stroage' (did you mean 'storage'?); "
        "the repository's clusters: main, storage"
    ]


def test_path_and_repo_are_one_folder(
    yaml_tree: YamlTree, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _two_clusters(yaml_tree)
    by_path = _run(["graph", str(root), "--no-cache", "-f", "json"], capsys)
    by_repo = _run(["graph", "--repo", str(root), "--no-cache", "-f", "json"], capsys)
    assert by_path == by_repo
    same = _run(
        ["graph", str(root), "--repo", str(root / "kubernetes" / ".."), "-f", "json"], capsys
    )
    assert same[0] == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, _, err = _run(["graph", str(root), "--repo", str(elsewhere)], capsys)
    assert code == 2
    assert "name two folders; give one" in err


def test_the_2024_corpus_graph_and_secrets_per_cluster(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = corpus_path("onedr0p__home-ops-2024")
    _, out, _ = _run(["secrets", str(root), "--no-cache", "-f", "json"], capsys)
    data = json.loads(out)
    assert [c["cluster"] for c in data["clusters"]] == ["main", "storage"]
    _, out, _ = _run(["graph", str(root), "--no-cache", "-f", "json"], capsys)
    nodes = json.loads(out)["nodes"]
    apps = {(n["cluster"], n["name"]) for n in nodes if n["name"] == "cluster-apps"}
    assert apps == {("main", "cluster-apps"), ("storage", "cluster-apps")}


def test_every_command_reading_the_repository_accepts_repo() -> None:
    import click

    from homelab_kit.cli import LAZY_COMMANDS, cli

    for lazy in LAZY_COMMANDS:
        cli.get_command(click.Context(cli), lazy)
    commands: list[tuple[str, click.Command]] = []
    for name, command in cli.commands.items():
        if isinstance(command, click.Group):
            commands += [(f"{name} {sub}", c) for sub, c in command.commands.items()]
        else:
            commands.append((name, command))
    reading = {
        name: {opt for p in command.params for opt in p.opts}
        for name, command in commands
        if any(p.name in ("path", "repo_path", "repo_option") for p in command.params)
    }
    assert {"lint", "graph", "secrets", "report", "status", "drift", "doctor"} <= set(reading)
    assert {"reconcile", "diff", "build", "init", "new-app", "cache dir"} <= set(reading)
    assert [name for name, opts in reading.items() if "--repo" not in opts] == []
