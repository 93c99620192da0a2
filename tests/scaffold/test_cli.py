"""The commands as a new user meets them: through click, on a copy of the repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

import homelab_kit.plugins
from homelab_kit import hookimpl
from homelab_kit.plugins import PluginManager
from homelab_kit.scaffold import Generator
from homelab_kit.scaffold import cli as scaffold_cli
from homelab_kit.yaml import parse_text
from tests.conftest import PROJECT_ROOT
from tests.scaffold.conftest import lint_keys, snapshot

CHART = ["--chart", "oci://ghcr.io/stefanprodan/charts/podinfo", "--version", "6.7.1"]


@pytest.fixture
def hk() -> click.Group:
    """A ``homelab-kit`` group with the scaffolding commands, as the main CLI attaches them."""
    group = click.Group("homelab-kit")
    for command in scaffold_cli.COMMANDS:
        group.add_command(command)
    return group


def run(hk: click.Group, repo: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(hk, [*args, "--path", str(repo)], input=input)


def test_commands_have_the_documented_names() -> None:
    assert [c.name for c in scaffold_cli.COMMANDS] == ["new-app", "new-namespace", "add-secret"]
    assert scaffold_cli.new_app.name == "new-app"


def test_new_app(hk: click.Group, repo: Path) -> None:
    result = run(
        hk,
        repo,
        "new-app",
        "default/podinfo",
        *CHART,
        "--image",
        "ghcr.io/stefanprodan/podinfo:6.7.1",
        "--port",
        "9898",
        "--secrets",
        "--no-input",
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Done: new app default/podinfo." in out
    assert "  kubernetes/apps/default/podinfo/ks.yaml" in out
    assert "Changed:\n  kubernetes/apps/default/secrets/kustomization.yaml" in out
    assert "folder /podinfo" in out  # where to create the secrets in Infisical
    assert "Next steps:\n  1." in out
    assert (repo / "kubernetes/apps/default/podinfo/app/helm/values.yaml").is_file()


def test_dry_run_prints_everything_and_writes_nothing(hk: click.Group, repo: Path) -> None:
    before = snapshot(repo)
    result = run(
        hk, repo, "new-app", "newns/podinfo", *CHART, "--secrets", "--dry-run", "--no-input"
    )
    assert result.exit_code == 0, result.output
    assert snapshot(repo) == before
    out = result.output
    for path in (
        "newns/kustomization.yaml",
        "newns/secrets/ks.yaml",
        "newns/secrets/podinfo-secrets.yaml",
        "newns/podinfo/ks.yaml",
        "newns/podinfo/app/helmrelease.yaml",
        "newns/podinfo/app/helm/values.yaml",
    ):
        assert f"--- /dev/null\n+++ b/kubernetes/apps/{path}\n" in out
    apps = "kubernetes/apps/kustomization.yaml"
    assert f"--- a/{apps}\n+++ b/{apps}" in out
    assert "+  - ./newns\n" in out
    assert "nothing was written" in out


def test_no_input_never_asks(hk: click.Group, repo: Path) -> None:
    before = snapshot(repo)
    result = run(hk, repo, "new-app", "default/podinfo", "--no-input")
    assert result.exit_code == 2
    assert "homelab-kit: error: new-app needs --chart" in result.output
    result = run(hk, repo, "new-app", "default/podinfo", "--chart", CHART[1], "--no-input")
    assert result.exit_code == 2
    assert "needs --version" in result.output
    result = run(hk, repo, "new-app", "--no-input")
    assert result.exit_code == 2
    assert "needs NAMESPACE/APP" in result.output
    assert snapshot(repo) == before


def test_without_a_terminal_it_does_not_ask_either(hk: click.Group, repo: Path) -> None:
    result = run(hk, repo, "new-app", "default/podinfo", input="oci://ghcr.io/a/b\n")
    assert result.exit_code == 2
    assert "needs --chart" in result.output


def test_asks_for_what_is_missing_on_a_terminal(
    hk: click.Group, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scaffold_cli, "_interactive", lambda: True)
    answers = (
        "\n".join(
            [
                "Default/Bad",  # refused, asked again
                "default/podinfo",
                "https://not-oci",  # refused
                "oci://ghcr.io/stefanprodan/charts/podinfo",
                "latest",  # refused: not pinned
                "6.7.1",
                "ghcr.io/stefanprodan/podinfo",  # refused: no tag
                "ghcr.io/stefanprodan/podinfo:6.7.1",
                "99999",  # refused
                "9898",
                "y",
            ]
        )
        + "\n"
    )
    result = run(hk, repo, "new-app", input=answers)
    assert result.exit_code == 0, result.output
    assert "lower-case" in result.output
    assert "not an OCI chart reference" in result.output
    assert "pinned" in result.output
    assert "has no tag" in result.output
    values = (repo / "kubernetes/apps/default/podinfo/app/helm/values.yaml").read_text()
    assert "tag: 6.7.1" in values
    assert "port: 9898" in values
    assert (repo / "kubernetes/apps/default/secrets/podinfo-secrets.yaml").is_file()


def test_asks_only_for_what_is_missing(
    hk: click.Group, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scaffold_cli, "_interactive", lambda: True)
    result = run(hk, repo, "new-app", "default/podinfo", *CHART, input="\n\nn\n")
    assert result.exit_code == 0, result.output
    assert "Chart (" not in result.output
    assert "Image (" in result.output
    assert not (repo / "kubernetes/apps/default/secrets/podinfo-secrets.yaml").exists()


@pytest.mark.parametrize(
    "target",
    [
        "Default/podinfo",
        "default/Podinfo",
        "../etc/passwd",
        "default/../../x",
        "/abs/x",
        "default/podinfo/extra",
        "default/secrets",
        "default/a_b",
        "default/" + "a" * 60,
    ],
)
def test_invalid_names_are_refused_and_nothing_is_written(
    hk: click.Group, repo: Path, target: str
) -> None:
    before = snapshot(repo)
    result = run(hk, repo, "new-app", target, *CHART, "--no-input")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("homelab-kit: error: ")
    assert "Traceback" not in result.output
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    "args",
    [
        ["--chart", "oci://ghcr.io/../../etc", "--version", "1.0.0"],
        ["--chart", "oci://ghcr.io/a/b", "--version", "1.0"],
        ["--chart", "oci://ghcr.io/a/b", "--version", "1.0.0", "--image", "nope nope"],
        ["--chart", "oci://ghcr.io/a/b", "--version", "1.0.0", "--port", "0"],
        ["--chart", "oci://ghcr.io/a/b", "--version", "1.0.0", "--set", "projectSlug={{7*7}}"],
        ["--chart", "oci://ghcr.io/a/b", "--version", "1.0.0", "--set", "bogus=1"],
        ["--chart", "oci://ghcr.io/a/b", "--version", "1.0.0", "--set", "interval=soon"],
        ["--chart", "oci://ghcr.io/a/b", "--version", "1.0.0", "--template", "nope"],
    ],
)
def test_invalid_options_are_refused(hk: click.Group, repo: Path, args: list[str]) -> None:
    before = snapshot(repo)
    result = run(hk, repo, "new-app", "default/x", *args, "--no-input")
    assert result.exit_code == 2, result.output
    assert "error" in result.output.lower()
    assert snapshot(repo) == before


def test_refuses_an_existing_app(hk: click.Group, repo: Path) -> None:
    assert run(hk, repo, "new-app", "default/podinfo", *CHART, "--no-input").exit_code == 0
    before = snapshot(repo)
    result = run(hk, repo, "new-app", "default/podinfo", *CHART, "--no-input")
    assert result.exit_code == 2
    assert "app default/podinfo already exists" in result.output
    assert snapshot(repo) == before


def test_set_overrides_what_the_repository_says(hk: click.Group, repo: Path) -> None:
    result = run(
        hk,
        repo,
        "new-app",
        "default/podinfo",
        *CHART,
        "--secrets",
        "--no-input",
        "--set",
        "projectSlug=lab",
        "--set",
        "envSlug=staging",
        "--set",
        "interval=30m",
    )
    assert result.exit_code == 0, result.output
    secret = (repo / "kubernetes/apps/default/secrets/podinfo-secrets.yaml").read_text()
    assert "projectSlug: lab\n" in secret
    assert "envSlug: staging\n" in secret
    assert "interval: 30m\n" in (repo / "kubernetes/apps/default/podinfo/ks.yaml").read_text()
    assert "project lab, environment staging, folder /podinfo" in result.output


def test_new_namespace_and_add_secret(hk: click.Group, repo: Path) -> None:
    before = lint_keys(repo)
    assert run(hk, repo, "new-namespace", "games").exit_code == 0
    result = run(hk, repo, "new-namespace", "games")
    assert result.exit_code == 2
    assert "namespace games already exists" in result.output
    assert run(hk, repo, "new-app", "games/chess", *CHART, "--no-input").exit_code == 0
    result = run(hk, repo, "add-secret", "games/chess")
    assert result.exit_code == 0, result.output
    assert "Created:\n  kubernetes/apps/games/secrets/chess-secrets.yaml" in result.output
    values = (repo / "kubernetes/apps/games/chess/app/helm/values.yaml").read_text()
    assert values.endswith("envFrom:\n  - secretRef:\n      name: chess-secret\n")
    assert lint_keys(repo) - before == {}
    again = run(hk, repo, "add-secret", "games/chess")
    assert again.exit_code == 0
    assert "Nothing to do" in again.output
    missing = run(hk, repo, "add-secret", "games/nope")
    assert missing.exit_code == 2
    assert "no app games/nope" in missing.output
    assert "homelab-kit new-app games/nope" in missing.output


# --------------------------------------------------------------------------- templates


def _plugin(*generators: Generator) -> types.ModuleType:
    module = types.ModuleType("test_generators_plugin")

    @hookimpl
    def homelab_kit_register_generators() -> list[Any]:
        return list(generators)

    module.homelab_kit_register_generators = homelab_kit_register_generators  # type: ignore[attr-defined]
    return module


@pytest.fixture
def with_plugin(monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(*generators: Generator) -> None:
        pm = PluginManager(autoload=False, extra=[_plugin(*generators)])
        monkeypatch.setattr(homelab_kit.plugins, "_default", pm)

    return install


def _copy_template(tmp_path: Path, marker: str) -> Path:
    template = tmp_path / "mine"
    shutil.copytree(PROJECT_ROOT / "cookiecutters" / "app", template)
    ks = template / "{{cookiecutter.app}}" / "ks.yaml"
    ks.write_text(ks.read_text().replace("---\n", f"---\n# {marker}\n", 1))
    return template


def test_third_party_templates_are_listed_and_selectable(
    hk: click.Group, repo: Path, tmp_path: Path, with_plugin: Any
) -> None:
    with_plugin(Generator("mine", "app", _copy_template(tmp_path, "made by mine"), "Mine"))
    listing = run(hk, repo, "new-app", "--template")
    assert listing.exit_code == 0, listing.output
    assert "default " in listing.output
    assert "mine " in listing.output
    assert "[test_generators_plugin]" in listing.output
    result = run(hk, repo, "new-app", "default/podinfo", *CHART, "--template", "mine", "--no-input")
    assert result.exit_code == 0, result.output
    assert "# made by mine" in (repo / "kubernetes/apps/default/podinfo/ks.yaml").read_text()


def test_template_hooks_are_never_run(
    hk: click.Group, repo: Path, tmp_path: Path, with_plugin: Any
) -> None:
    template = _copy_template(tmp_path, "hooked")
    marker = tmp_path / "hook-ran"
    (template / "hooks").mkdir()
    for hook in ("pre_prompt.py", "pre_gen_project.py", "post_gen_project.py"):
        (template / "hooks" / hook).write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    with_plugin(Generator("hooked", "app", template, "With hooks"))
    result = run(
        hk, repo, "new-app", "default/podinfo", *CHART, "--template", "hooked", "--no-input"
    )
    assert result.exit_code == 0, result.output
    assert not marker.exists()


def test_a_broken_template_writes_nothing(
    hk: click.Group, repo: Path, tmp_path: Path, with_plugin: Any
) -> None:
    template = _copy_template(tmp_path, "broken")
    values = template / "{{cookiecutter.app}}" / "app" / "helm" / "values.yaml"
    values.write_text(values.read_text() + "unused: &never 1\n")
    with_plugin(Generator("broken", "app", template, "Broken"))
    before = snapshot(repo)
    result = run(hk, repo, "new-app", "newns/podinfo", *CHART, "--template", "broken", "--no-input")
    assert result.exit_code == 2
    assert "anchor &never is never used" in result.output
    assert snapshot(repo) == before


def test_the_example_plugin_template(hk: click.Group, repo: Path, with_plugin: Any) -> None:
    template = PROJECT_ROOT / "plugins/example/homelab_kit_example/templates/app-template"
    if not (template / "cookiecutter.json").is_file():
        pytest.skip("plugins/example (the third-party plugin example) is not in this tree")
    with_plugin(Generator("example-app-template", "app", template, "bjw-s app-template"))
    before = lint_keys(repo)
    result = run(
        hk,
        repo,
        "new-app",
        "default/echo2",
        "--template",
        "example-app-template",
        "--image",
        "ghcr.io/mendhak/http-https-echo:37",
        "--port",
        "8080",
        "--secrets",
        "--no-input",
    )
    assert result.exit_code == 0, result.output
    created = [line.strip() for line in result.output.splitlines() if "default/echo2/" in line]
    assert "kubernetes/apps/default/echo2/app/helm/values.yaml" in created
    assert lint_keys(repo) - before == {}
    docs, _ = parse_text((repo / "kubernetes/apps/default/echo2/ks.yaml").read_text())
    assert {"name": "secrets", "namespace": "default"} in docs[0].data["spec"]["dependsOn"]


def test_the_installed_command(repo: Path) -> None:
    """``python -m homelab_kit new-app`` end to end, as the console script runs it."""
    if not (PROJECT_ROOT / "homelab_kit" / "cli.py").is_file():
        pytest.skip("the main CLI is not in this tree")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "homelab_kit",
            "new-app",
            "default/podinfo",
            *CHART,
            "--dry-run",
            "--no-input",
            "--path",
            str(repo),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if "No such command" in done.stderr:
        pytest.skip("the main CLI does not attach new-app yet")
    assert done.returncode == 0, done.stderr
    assert "+++ b/kubernetes/apps/default/podinfo/ks.yaml" in done.stdout
    assert "nothing was written" in done.stderr


def test_the_dry_run_diff_is_a_patch_that_git_applies(
    hk: click.Group, repo: Path, tmp_path: Path
) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    other = tmp_path / "other"
    shutil.copytree(repo, other, symlinks=True)
    args = ["new-app", "newns/podinfo", *CHART, "--secrets", "--port", "80", "--no-input"]
    dry = run(hk, repo, *args, "--dry-run")
    assert dry.exit_code == 0, dry.output
    patch = tmp_path / "new-app.patch"
    patch.write_text(dry.stdout)
    done = subprocess.run(
        ["git", "apply", "--unsafe-paths", f"--directory={other.name}", str(patch)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert run(hk, repo, *args).exit_code == 0
    assert snapshot(other) == snapshot(repo)


@pytest.fixture
def two_clusters(tmp_path: Path) -> Path:
    """A copy of a corpus repository with two clusters (kubernetes/main, kubernetes/storage)."""
    from tests.conftest import corpus_path

    root = tmp_path / "two"
    shutil.copytree(corpus_path("onedr0p__home-ops-2024"), root, symlinks=True)
    (root / ".git").mkdir()
    return root


def test_cluster_is_an_error_without_a_terminal_and_asked_on_one(
    hk: click.Group, two_clusters: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(two_clusters)
    args = ["new-app", "default/podinfo", *CHART, "--no-input"]
    result = run(hk, two_clusters, *args)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "choose one with --cluster NAME (main (kubernetes/main/apps), storage" in result.output
    assert snapshot(two_clusters) == before
    result = run(hk, two_clusters, *args, "--cluster", "mars")
    assert result.exit_code == 2
    assert "no cluster 'mars'" in result.output
    monkeypatch.setattr(scaffold_cli, "_interactive", lambda: True)
    answers = "\n".join(["", "", "n", "venus", "storage"]) + "\n"  # image, port, secrets, cluster
    result = run(hk, two_clusters, "new-app", "default/podinfo", *CHART, input=answers)
    assert result.exit_code == 0, result.output
    assert "'venus' is not one of 'main', 'storage'" in result.output
    ks = two_clusters / "kubernetes/storage/apps/default/podinfo/ks.yaml"
    assert "path: ./kubernetes/storage/apps/default/podinfo/app" in ks.read_text()
    listing = (two_clusters / "kubernetes/storage/apps/default/kustomization.yaml").read_text()
    assert "./podinfo/ks.yaml" in listing
    assert not (two_clusters / "kubernetes/main/apps/default/podinfo").exists()


def test_new_namespace_and_add_secret_take_a_cluster(hk: click.Group, two_clusters: Path) -> None:
    result = run(hk, two_clusters, "new-namespace", "games", "--no-input", "--cluster", "main")
    assert result.exit_code == 0, result.output
    assert (two_clusters / "kubernetes/main/apps/games/kustomization.yaml").is_file()
    assert "deploys every folder in it" in result.output  # no kustomization.yaml to list it in
    result = run(hk, two_clusters, "add-secret", "network/echo-server", "--no-input")
    assert result.exit_code == 2
    assert "2 apps are called network/echo-server" in result.output
    result = run(
        hk, two_clusters, "add-secret", "network/echo-server", "--no-input", "--cluster", "main"
    )
    assert "2 apps are called" not in result.output


@pytest.mark.parametrize(
    ("provider", "created", "says"),
    [
        ("sops", "app/secret.sops.yaml", "sops --encrypt --in-place"),
        ("infisical", "../secrets/podinfo-secrets.yaml", "Create the app's secrets in Infisical"),
    ],
)
def test_secrets_provider_overrides_the_repository(
    hk: click.Group, repo: Path, provider: str, created: str, says: str
) -> None:
    result = run(
        hk, repo, "new-app", "default/podinfo", *CHART, "--no-input", "--secrets-provider", provider
    )
    assert result.exit_code == 0, result.output
    app = repo / "kubernetes/apps/default/podinfo"
    assert (app / created).resolve().is_file()
    assert says in " ".join(result.output.split())
    if provider == "sops":
        text = (app / created).read_text()
        assert "stringData: {}" in text  # no value, not even a made-up one
        assert "NOT ENCRYPTED YET" in text
        assert "./secret.sops.yaml" in (app / "app/kustomization.yaml").read_text()
        assert "dependsOn" not in (app / "ks.yaml").read_text()
        found = lint_keys(repo)
        stub = "kubernetes/apps/default/podinfo/app/secret.sops.yaml"
        assert found[(stub, "secrets-sops-encrypted")] == 1  # until it is encrypted
    result = run(
        hk, repo, "new-app", "default/x", *CHART, "--no-secrets", "--secrets-provider", "sops"
    )
    assert result.exit_code == 2
    assert "--secrets-provider needs --secrets" in result.output
