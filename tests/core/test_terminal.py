"""Terminal niceties: explain rendered, tables that fit, the cache found and cleaned."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from homelab_kit.cache import clean
from homelab_kit.secrets_map import build_secrets_map, to_text
from homelab_kit.testing import write_tree
from tests.conftest import PROJECT_ROOT


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homelab_kit", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_explain_prints_markdown_to_a_pipe_and_renders_it_for_a_terminal() -> None:
    plain = _run("explain", "flux-ks-prune").stdout
    assert plain.startswith("# flux-ks-prune\n")
    assert "\n## What it does\n" in plain
    assert "\x1b[" not in plain
    rendered = _run("explain", "flux-ks-prune", "--color", "always").stdout
    assert "## What it does" not in rendered  # a heading, not Markdown syntax
    assert "What it does" in rendered
    assert "\x1b[" in rendered
    assert "```" not in rendered


def test_secrets_tables_fit_the_width() -> None:
    import homelab_kit

    smap = build_secrets_map(homelab_kit.load(PROJECT_ROOT))
    for width in (60, 80, 120):
        rows = [line for line in to_text(smap, width=width).splitlines() if line.startswith("  ")]
        assert rows
        assert max(len(row) for row in rows) <= width
    assert "…" in to_text(smap, width=60)


def test_cache_clean_removes_only_the_files_homelab_kit_writes(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "0123456789abcdef0123-00.parse": "x",
            "0123456789abcdef0123-15.build": "xyz",
            "0123456789abcdef0123.result": "xy",
            "hmac.key": "k",
            "notes.txt": "mine",
            "kubernetes/app.yaml": "a: b\n",
            f"schemas/remote/{'a' * 64}.json": "{}",
            "schemas/cert-manager.io/certificate_v1.json": "{}",  # pulled from a cluster
        },
    )
    assert clean(root) == (4, 8)
    left = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert left == [
        "hmac.key",
        "kubernetes/app.yaml",
        "notes.txt",
        "schemas/cert-manager.io/certificate_v1.json",
    ]
    assert clean(tmp_path / "absent") == (0, 0)


def test_cache_dir_and_clean_commands(tmp_path: Path) -> None:
    """The repository's own ``cache-dir`` is ignored: the user's folder is the one used."""
    repo = write_tree(
        tmp_path / "repo", {"kubernetes/a.yaml": "a: b\n", ".homelab-kit.yaml": "cache-dir: .c\n"}
    )
    user = tmp_path / "xdg" / "homelab-kit"
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "HOMELAB_KIT_CACHE_DIR": ""}
    done = _run("cache", "dir", str(repo), env=env)
    assert done.stdout.splitlines() == [str(user)]
    assert _run("lint", str(repo), env=env).returncode in (0, 1)  # fills the user's folder
    assert any(user.glob("*.parse"))
    assert not (repo / ".c").exists()
    done = _run("cache", "clean", str(repo), env=env)
    assert done.returncode == 0
    assert done.stdout.splitlines()[0].startswith("removed ")
    assert not any(user.glob("*.parse"))
