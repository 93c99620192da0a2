"""``Sources.real`` resolves strings as ``os.path.realpath`` does, remembering parts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homelab_kit.render.sources import Sources


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "f").write_text("x\n")
    (root / "link").symlink_to(root / "a" / "b" / "c")
    (root / "a" / "rel").symlink_to("../a/b")
    (root / "up").symlink_to("link/..")
    (root / "loop").symlink_to("loop")
    (root / "out").symlink_to(tmp_path)
    return root


_PATHS = (
    "",
    "/a/b",
    "/a/b/",
    "/a/./b",
    "//a",
    "/a//b",
    "/link",
    "/link/b",
    "/link/..",
    "/link/../..",
    "/link/../a",
    "/a/rel/c",
    "/a/rel/..",
    "/a/rel/../../link/./..",
    "/up",
    "/up/..",
    "/missing/x",
    "/missing/../a",
    "/f/..",
    "/f/.",
    "/loop",
    "/loop/x",
    "/out/repo/a",
    "/..",
    "/../repo/a",
)


@pytest.mark.parametrize("order", ["forward", "backward"])
def test_real_is_realpath(tree: Path, order: str) -> None:
    sources = Sources(tree)
    base = str(tree)
    paths = [base + p for p in _PATHS] + ["/", "//", "/..", "relative/x"]
    for path in paths if order == "forward" else reversed(paths):
        assert sources.real(path) == os.path.realpath(path), path
        if "/loop" not in path:  # Path.resolve raises on a loop; realpath gives the path
            assert sources.resolve(path) == Path(path).resolve(), path


def test_entries_and_inside(tree: Path) -> None:
    sources = Sources(tree)
    base = str(tree)
    assert sources.entry(base + "/a", "./b") == (base + "/a/b", True)
    assert sources.entry(base + "/a", "../link/..") == (base + "/a/b", True)
    assert sources.entry(base, "out/x") == (str(tree.parent / "x"), False)
    assert sources.entry(base + "/a", "../..")[1] is False
    assert sources.inside(base)
    assert sources.inside(base + "/a/rel")
    assert not sources.inside(base + "/out")
    assert sources.rel(base + "/link/c") == "a/b/c/c"


def test_a_symbolic_link_loop_is_an_error_with_a_location(tmp_path: Path) -> None:
    """``Path.resolve`` raised RuntimeError on a loop: an internal error, not a finding."""
    from homelab_kit.errors import HomelabKitError
    from homelab_kit.render import render

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "loop").symlink_to("loop")
    (tmp_path / "app" / "kustomization.yaml").write_text("resources:\n  - ./loop\n")
    with pytest.raises(HomelabKitError) as caught:
        render(tmp_path / "app", root=tmp_path, backend="python")
    assert "symbolic links" in caught.value.message
    assert caught.value.location is not None
    assert caught.value.location.path == "app/kustomization.yaml"


@pytest.mark.parametrize("path", ["/f", "/a", "/link", "/loop", "/out", "/missing", "/f/x"])
def test_stat_after_lstat_is_os_stat(tree: Path, path: str) -> None:
    """``stat`` answered from a known ``lstat`` (they differ only on a link) is what
    ``os.stat`` says, links followed."""
    sources = Sources(tree)
    full = str(tree) + path
    sources.lstat(full)
    try:
        expected: int | None = os.stat(full).st_mode
    except OSError:
        expected = None
    assert sources.stat(full) == expected
    assert sources.lstat(full) == (os.lstat(full).st_mode if os.path.lexists(full) else None)


def test_lines_are_split_when_first_asked() -> None:
    from homelab_kit.render._docs import Lines

    text = "a: 1\r\nb: 2\n\nc: '$x'"
    lines = Lines(text)
    assert lines._lines is None
    assert len(lines) == len(text.splitlines())
    assert list(lines) == text.splitlines()
    assert lines[-1] == "c: '$x'"
