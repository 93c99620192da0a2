"""The backend chooser and the subprocess backends."""

from __future__ import annotations

import pytest

from homelab_kit.errors import HomelabKitError
from homelab_kit.render import available_backend, render
from homelab_kit.render.backend import first_error_line, preflight
from homelab_kit.testing import YamlTree
from tests.render.conftest import needs_kubectl

TREE = {
    "app/kustomization.yaml": "resources: [cm.yaml]\nnamespace: x\n",
    "app/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {port: '${PORT}'}\n"
    ),
}


def test_python_backend(yaml_tree: YamlTree) -> None:
    root = yaml_tree(TREE)
    rendered = render(root / "app", root=root, backend="python")
    assert rendered.backend == "python"
    assert rendered.objects[0]["metadata"] == {"name": "c", "namespace": "x"}


def test_unknown_backend(yaml_tree: YamlTree) -> None:
    root = yaml_tree(TREE)
    with pytest.raises(HomelabKitError, match="unknown render backend"):
        render(root / "app", root=root, backend="helm")


@needs_kubectl
def test_kubectl_backend_matches_python(yaml_tree: YamlTree) -> None:
    root = yaml_tree(TREE)
    kubectl = render(root / "app", root=root, backend="kubectl")
    assert kubectl.backend == "kubectl"
    assert kubectl.objects == render(root / "app", root=root, backend="python").objects
    assert render(root / "app", root=root).backend == available_backend()


@needs_kubectl
def test_kubectl_failure_gives_first_error_line(yaml_tree: YamlTree) -> None:
    root = yaml_tree({"app/kustomization.yaml": "resources: [missing.yaml]\n"})
    with pytest.raises(HomelabKitError, match=r"^kubectl failed: .*missing\.yaml") as info:
        render(root / "app", root=root, backend="kubectl")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "kustomization",
    [
        "resources: [../../elsewhere]\n",
        "resources:\n- https://github.com/example/repo//x?ref=main\n",
        "configMapGenerator:\n- name: c\n  files: [k=/etc/hostname]\n",
    ],
)
def test_preflight_refuses_fetching_and_leaving_root(
    yaml_tree: YamlTree, kustomization: str
) -> None:
    root = yaml_tree({"app/kustomization.yaml": kustomization})
    with pytest.raises(HomelabKitError, match=r"remote|outside"):
        preflight(root / "app", root=root)


@pytest.mark.parametrize(
    ("entry", "match"),
    [("../../x.yaml", "outside"), ("/etc/r.yaml", "refused"), (".git/r.yaml", "refused")],
)
def test_preflight_checks_replacement_paths(yaml_tree: YamlTree, entry: str, match: str) -> None:
    root = yaml_tree({"app/kustomization.yaml": f"replacements:\n- path: {entry}\n"})
    with pytest.raises(HomelabKitError, match=match):
        preflight(root / "app", root=root)


def test_first_error_line() -> None:
    kubectl = 'E1126 12:00:00.1 1 run.go:72] "command failed" err="accumulating: \\"x\\" missing"\n'
    assert first_error_line(kubectl) == 'accumulating: "x" missing'
    assert first_error_line("Error: bad thing\nmore\n") == "bad thing"
    assert first_error_line("") == "no error output"


def test_first_error_line_of_a_multiline_kubectl_error_stops_before_the_patch() -> None:
    stderr = (
        'E1126 12:43:02.894386 21894 run.go:72] "command failed" err=<\n'
        "\ttrouble configuring builtin PatchTransformer with config: `\n"
        "\tpatch: |\n"
        "\t  stringData: {token: hunter3}\n"
    )
    line = first_error_line(stderr)
    assert line == "trouble configuring builtin PatchTransformer with config: `"
    assert "hunter3" not in line
