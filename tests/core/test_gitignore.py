"""Plain ignore patterns are matched without pathspec, as pathspec would.

homelab_kit/gitignore.py translates them itself; these hold it to pathspec's answers.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pathspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homelab_kit.gitignore import _Globs, ignore_spec

PROJECT = Path(__file__).resolve().parents[2]

PARTS = ["a", "b", "ab", ".a", "a.b", "b.a", "x.pyc", ".pyc", "pyc", "a-b", "a~", "..", "."]
part = st.sampled_from(PARTS)
# Plain lines (names, *suffixes, either ending in "/"), blanks, comments and a few
# lines that are not plain, in every order.
plain_line = st.builds(
    lambda star, body, slash, blank: f"{star}{body}{slash}{blank}",
    st.sampled_from(["", "*", "/", "a/", "/a/", "b/a.b/", ".a/", "**/", "a/**/", "*/", "/*/"]),
    st.sampled_from(["a", "b", "ab", ".a", "a.b", ".pyc", "*.pyc", "b*", "-b", "~", "a~", "*"]),
    st.sampled_from(["", "/"]),
    st.sampled_from(["", " ", "\n", "\r\n", "\t\n"]),
)
other_line = st.sampled_from(
    ["", "# a", "#a/", "   ", "!a", "a?", "[ab]", "\\#a", " a", "/", "//", "a//b", "*/", "**/"]
)
path = st.builds(
    lambda parts, folder: "/".join(parts) + ("/" if folder else ""),
    st.lists(part, min_size=1, max_size=4),
    st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(plain_line, other_line), max_size=6), st.lists(path, max_size=12))
def test_same_answers_as_pathspec(lines: list[str], paths: list[str]):
    ours = ignore_spec(lines)
    theirs = pathspec.GitIgnoreSpec.from_lines(lines)
    assert [ours.match_file(p) for p in paths] == [theirs.match_file(p) for p in paths]


@pytest.mark.parametrize(
    ("lines", "plain"),
    [
        ([".venv/\n", "__pycache__/\n", "*.pyc\n", "*.egg-info/\n", "# comment\n", "\n"], True),
        (["build\n", "dist/  \n"], True),
        (["!keep.pyc\n", "*.pyc\n"], False),
        (["/build/\n", "docs/_build/\n", "benchmarks/.venv/\n"], True),
        (["docs/*.html\n", "**/tmp\n", "bootstrap/**\n", "..\n"], True),
        (["*.sw?\n"], False),
        (["[Bb]uild/\n"], False),
        (["\\#notes\n"], False),
    ],
)
def test_only_plain_lists_skip_pathspec(lines: list[str], plain: bool):
    assert isinstance(ignore_spec(lines), _Globs) is plain
    assert isinstance(ignore_spec(lines), pathspec.GitIgnoreSpec) is not plain


def test_the_project_gitignore_is_plain_and_matches_as_pathspec():
    lines = (PROJECT / ".gitignore").read_text().splitlines(keepends=True)
    ours, theirs = ignore_spec(lines), pathspec.GitIgnoreSpec.from_lines(lines)
    assert isinstance(ours, _Globs)
    for rel in [
        ".venv/",
        "a/.venv/",
        "homelab_kit/__pycache__/",
        "homelab_kit/x.pyc",
        "homelab_kit.egg-info/",
        "build/",
        "build",
        "kubernetes/apps/build/x.yaml",
        "kubernetes/apps/x.yaml",
        "benchmarks/.venv/",
        "benchmarks/.venv/bin/x",
        "benchmarks/.venv",
        "a/benchmarks/.venv/",
        ".homelab-kit-cache/",
    ]:
        assert ours.match_file(rel) == theirs.match_file(rel), rel


def test_a_lint_of_a_plain_gitignore_does_not_import_pathspec(tmp_path: Path):
    repo = tmp_path / "repo"
    for folder in ("kubernetes", "talos"):
        shutil.copytree(PROJECT / folder, repo / folder)
    shutil.copy2(PROJECT / ".gitignore", repo / ".gitignore")
    (repo / "kubernetes" / "__pycache__").mkdir()
    (repo / "kubernetes" / "__pycache__" / "bad.yaml").write_text("a: [\n")
    probe = (
        "import sys\n"
        "from homelab_kit.cli import main\n"
        "try:\n    main(sys.argv[1:])\n"
        "except SystemExit as exc:\n"
        "    print('pathspec' in sys.modules, exc.code, file=sys.stderr)\n"
    )
    args = [sys.executable, "-c", probe, "lint", str(repo), "--no-cache", "--format", "concise"]
    done = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.stderr.split()[-2:] == ["False", "0"], done.stderr + done.stdout
    # A line pathspec must read: it is imported, and the ignored file stays ignored.
    (repo / ".gitignore").write_text("kubernetes/[_]_pycache__/bad.yaml\n")
    done = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.stderr.split()[-2:] == ["True", "0"], done.stderr + done.stdout
