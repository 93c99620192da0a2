"""docs/scaffolding.md's "One command, two layouts": both examples, run as written."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from homelab_kit.errors import ScaffoldError
from homelab_kit.scaffold import plan_new_app
from tests.conftest import PROJECT_ROOT, corpus_path

DOC = (PROJECT_ROOT / "docs" / "scaffolding.md").read_text(encoding="utf-8")


def _example(name: str) -> tuple[list[str], list[str], list[str]]:
    """The command's arguments and the Created / Changed lists under the marker."""
    block = DOC.split(f"<!-- example: {name} -->", 1)[1].split("```console", 1)[1]
    block = block.split("```", 1)[0]
    command = re.search(r"\$ (homelab-kit .*?--no-input)", block, re.S)
    assert command is not None
    argv = shlex.split(command.group(1).replace("\\\n", " "))
    created = re.findall(r"^  (\S+)$", block.split("Created:")[1].split("Changed:")[0], re.M)
    changed = re.findall(r"^  (\S+)$", block.split("Changed:")[1], re.M)
    return argv, created, changed


def _run(root: Path, argv: list[str]) -> tuple[list[str], list[str], str]:
    assert argv[:2] == ["homelab-kit", "new-app"]
    opts = dict(zip(argv[3::2], argv[4::2], strict=False))
    plan = plan_new_app(
        root,
        argv[2],
        chart=opts["--chart"],
        version=opts["--version"],
        image=opts["--image"],
        port=opts["--port"],
        cluster=opts.get("--cluster"),
    )
    texts = {c.path: c.text for c in plan.creates}
    result = plan.apply()
    return sorted(result.created), sorted(result.changed), "\n".join(texts.values())


def test_the_reference_cluster_example(tmp_path: Path) -> None:
    root = tmp_path / "ref"
    shutil.copytree(PROJECT_ROOT / "kubernetes", root / "kubernetes")
    shutil.copy(PROJECT_ROOT / ".homelab-kit.yaml", root / ".homelab-kit.yaml")
    (root / ".git").mkdir()
    argv, created, changed = _example("reference")
    got_created, got_changed, text = _run(root, argv)
    assert (got_created, got_changed) == (sorted(created), sorted(changed))
    assert "controllers:" in text
    assert "\nimage:" not in text


def test_the_onedr0p_style_example(tmp_path: Path) -> None:
    source = corpus_path("onedr0p__home-ops")
    root = tmp_path / "onedr0p"
    shutil.copytree(source, root, symlinks=True)
    (root / ".git").mkdir()
    argv, created, changed = _example("onedr0p")
    got_created, got_changed, text = _run(root, argv)
    assert (got_created, got_changed) == (sorted(created), sorted(changed))
    listing = (root / "kubernetes/apps/default/kustomization.yaml").read_text()
    assert "  - ./home-assistant/ks.yaml\n  - ./lidarr/ks.yaml\n  - ./plex/ks.yaml\n" in listing
    assert "  wait: false\n" in text
    assert "\n  values:\n" in text
    assert "\n    controllers:\n      lidarr:\n" in text


def test_the_flat_example(tmp_path: Path) -> None:
    root = tmp_path / "flat"
    shutil.copytree(corpus_path("vrozaksen__home-ops"), root, symlinks=True)
    (root / ".git").mkdir()
    argv, created, changed = _example("flat")
    got_created, got_changed, _ = _run(root, argv)
    assert (got_created, got_changed) == (sorted(created), sorted(changed))
    ks = (root / "kubernetes/core/default/lidarr/ks.yaml").read_text()
    assert "  path: ./kubernetes/core/default/lidarr\n" in ks
    assert "commonMetadata" not in ks
    assert "\n  namespace:" not in ks
    assert "\n  targetNamespace: default\n" in ks
    release = (root / "kubernetes/core/default/lidarr/helmrelease.yaml").read_text()
    assert "kind: OCIRepository\n    name: app-template\n" in release  # the shared one
    assert "\nkind: OCIRepository" not in release


def test_the_two_clusters_example(tmp_path: Path) -> None:
    root = tmp_path / "clusters"
    shutil.copytree(corpus_path("onedr0p__home-ops-2024"), root, symlinks=True)
    (root / ".git").mkdir()
    argv, created, changed = _example("clusters")
    without = [a for i, a in enumerate(argv) if "--cluster" not in argv[max(i - 1, 0) : i + 1]]
    with pytest.raises(ScaffoldError) as info:
        _run(root, without)
    assert info.value.message in DOC  # the error shown, word for word
    got_created, got_changed, _ = _run(root, argv)
    assert (got_created, got_changed) == (sorted(created), sorted(changed))


@pytest.mark.parametrize("name", ["reference", "onedr0p", "flat", "clusters"])
def test_the_examples_are_the_same_command(name: str) -> None:
    argv = _example(name)[0]
    if "--cluster" in argv:
        at = argv.index("--cluster")
        argv = argv[:at] + argv[at + 2 :]
    assert argv == _example("reference")[0]


def test_the_template_variables_listed_are_the_ones_filled() -> None:
    from homelab_kit.scaffold.generator import CONTEXT_VARIABLES

    paragraph = DOC.split("the template's `cookiecutter.json` declares", 1)[1]
    paragraph = paragraph.split("describes each", 1)[0]
    assert set(re.findall(r"`(\w+)`", paragraph)) == set(CONTEXT_VARIABLES)
