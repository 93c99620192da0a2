"""Bounds a hostile repository cannot get around (issue 15, items 6 to 8 and 10).

* Resource limits: the repository's ``.homelab-kit.yaml`` may lower them, never raise
  them; only the user can (``--config``, the environment).
* Alias expansion is bounded per file (as Go's YAML reader bounds one decode) and per
  run, not only per document.
* An alias inside the node its anchor names (a node that contains itself) is refused
  when the file is read, so no command ever walks a cycle.
* ``secrets`` and ``report --html`` survive values files that are not mappings.

Every command runs in a subprocess with a timeout (:func:`run_cli`): a regression
that loops fails instead of hanging the suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import homelab_kit
from homelab_kit.lint import load_options
from homelab_kit.model.loader import LoadOptions, load
from homelab_kit.yaml import reader
from tests.robustness.conftest import (
    assert_no_crash,
    copy_reference_cluster,
    run_cli,
    run_main,
    write_files,
)
from tests.robustness.test_bad_input import (
    APP,
    CANARY,
    CANARY_TEXT,
    _list_in_the_app,
    alias_bomb,
)

SELF = f"{APP}/self.yaml"
SELF_REFERENCE = """\
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: self
data: &x {self: *x}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = copy_reference_cluster(tmp_path / "repo")
    write_files(root, {CANARY: CANARY_TEXT})
    _list_in_the_app(root)  # deployed, so checks of live objects judge the canary
    return root


# --------------------------------------------------------------------------- recursive aliases


@pytest.mark.parametrize(
    "text",
    [
        "data: &x {self: *x}\n",
        "a: &x [1, [2, *x]]\n",
        "base: &x\n  <<: *x\n  b: 1\n",
    ],
    ids=["flow-map", "nested-sequence", "merge-key"],
)
def test_a_node_that_contains_itself_is_refused_when_read(text: str) -> None:
    docs, problems = reader.parse_text("---\nfirst: 1\n---\n" + text + "---\nlast: 1\n")
    assert [p.code for p in problems] == ["recursive-alias"]
    assert "contains itself" in problems[0].message
    assert [d.data for d in docs] == [{"first": 1}, None, {"last": 1}]
    assert docs[1].anchors == ()  # skipped: no unused-anchor warning about it


def test_an_alias_after_its_anchor_closed_is_still_fine() -> None:
    docs, problems = reader.parse_text("a: &x {k: 1}\nb: {inner: *x}\nc: [*x, *x]\n")
    assert problems == ()
    assert docs[0].data == {"a": {"k": 1}, "b": {"inner": {"k": 1}}, "c": [{"k": 1}, {"k": 1}]}


def _with_self_reference(root: Path) -> Path:
    write_files(root, {SELF: SELF_REFERENCE})
    kustomization = root / APP / "kustomization.yaml"
    text = kustomization.read_text()
    kustomization.write_text(text.replace("resources:\n", "resources:\n  - ./self.yaml\n", 1))
    return root


@pytest.mark.parametrize(
    "command",
    [
        ("lint", "--no-cache", "--format", "concise"),
        ("secrets",),
        ("secrets", "--format", "json"),
        ("report", "--html", "{out}"),
        ("graph", "--format", "json"),
        ("build", "default/echo", "--backend", "python"),
    ],
    ids=lambda c: "-".join(a for a in c if not a.startswith("{")),
)
def test_a_self_referencing_anchor_never_hangs_a_command(
    repo: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    root = _with_self_reference(repo)
    args = [a.replace("{out}", str(tmp_path / "report.html")) for a in command]
    if command[0] == "build":
        run = run_cli(*args, root)  # subprocess with a timeout: a loop fails, never hangs
        assert "RecursionError" not in run.output
        assert run.returncode == 2, run.output
        assert f"{SELF}:6:17: alias *x is inside the node its anchor names" in run.stderr
        return
    run = run_cli(*args, cwd=root)
    assert_no_crash(run)
    if command[0] == "lint":
        assert f"{SELF}:6:17: error[yaml-syntax] alias *x is inside the node" in run.stdout
        assert f"{CANARY}:11:18: error[workload-image-tag]" in run.stdout


# --------------------------------------------------------------------------- alias expansion


def test_alias_expansion_is_bounded_per_file_not_per_document(repo: Path) -> None:
    """3,000 documents, each a small alias bomb under the per-document bound.

    Each expands to about 177,000 nodes (under the million a document may have),
    530 million in all: before the per-file bound, minutes of checks.
    """
    bombs = f"{APP}/bombs.yaml"
    write_files(repo, {bombs: alias_bomb(levels=4, width=11) * 3000})
    run = run_cli("lint", "--no-cache", "--format", "concise", repo)
    assert_no_crash(run)
    rows = [r for r in run.stdout.splitlines() if r.startswith(f"{bombs}:")]
    assert rows == [
        f"{bombs}:5:10: error[yaml-syntax] 3,059 of the file's 3,079 nodes come from alias "
        "expansion, more than Go's YAML reader allows; the rest of the file is skipped"
    ]
    assert f"{CANARY}:11:18: error[workload-image-tag]" in run.stdout


def test_the_per_file_bound_is_go_yaml_readers_ratio() -> None:
    """Up to 99% from aliases is fine for a small file, 10% past 4,000,000 nodes."""
    assert reader.allowed_alias_ratio(1_000) == 0.99
    assert reader.allowed_alias_ratio(4_000_000) == 0.10
    assert not reader.excessive_aliasing(100, 10_000)  # at most 100 aliased nodes: fine
    assert not reader.excessive_aliasing(990, 1000)  # at most 1,000 nodes: fine
    assert reader.excessive_aliasing(9_950, 10_000)
    # Go checks each document alone, and one of at most 1,000 nodes never: 965 nodes,
    # 960 from aliases, passes.  Here the bound is the file's: the second one fails.
    document = "---\n- &b [x, x, x]\n" + "- *b\n" * 240
    docs, problems = reader.parse_text(document)
    assert problems == ()
    docs, problems = reader.parse_text(document * 5)
    # 965 + 5 + 8 x 4 nodes: past 1,000 at the second document's 8th alias (line 252)
    assert [(p.code, p.line, p.column) for p in problems] == [("alias-bomb", 252, 3)]
    assert "992 of the file's 1,002 nodes come from alias expansion" in problems[0].message
    assert len(docs) == 2  # the first kept, the rest skipped
    assert docs[1].data is None


def test_alias_expansion_is_bounded_per_run(repo: Path) -> None:
    """Files each within their own bound still share one budget for the whole run."""
    anchored = (
        "---\nbase: &b ["
        + ", ".join(["x"] * 50)
        + "]\n"
        + "".join(f"k{i}: *b\n" for i in range(20))
    )
    files = {f"{APP}/anchors-{i:02}.yaml": anchored for i in range(10)}
    write_files(repo, files)
    one = reader.parse_text(anchored)
    assert one[1] == ()
    options = load_options(homelab_kit.load_config(repo))
    full = load(repo, options)
    assert all(full.files[f].documents for f in files)
    budget = 4 * 20 * 51 + 10  # four files' worth
    result = load(repo, LoadOptions(max_alias_nodes=budget, settings=options.settings))
    kept = sorted(f for f in files if result.files[f].documents)
    assert kept == sorted(files)[:4]
    dropped = result.files[sorted(files)[4]]
    assert [(p.code, p.line, p.column) for p in dropped.problems] == [("alias-bomb", 2, 7)]
    assert "the run's budget of 4,090 nodes from aliases" in dropped.problems[0].message


# --------------------------------------------------------------------------- limits

BIG = f"{APP}/big.yaml"
BIG_TEXT = "---\n" + "# padding\n" * 1_200_000  # 12 MB: past the default 10 MiB
RAISE = "max-file-size: 209715200\n"


def _big_file_rows(run_stdout: str) -> list[str]:
    return [r for r in run_stdout.splitlines() if r.startswith(f"{BIG}:")]


def test_the_repository_cannot_raise_a_limit(repo: Path) -> None:
    write_files(repo, {BIG: BIG_TEXT})
    config = repo / ".homelab-kit.yaml"
    config.write_text(config.read_text() + RAISE)
    line = config.read_text().splitlines().index(RAISE.strip()) + 1
    run = run_cli("lint", "--no-cache", "--format", "concise", cwd=repo)
    assert_no_crash(run)
    assert _big_file_rows(run.stdout) == [
        f"{BIG}: error[yaml-syntax] file is larger than 10,485,760 bytes (the max-file-size "
        "limit); skipped"
    ]
    assert run.stderr.splitlines() == [
        f"homelab-kit: warning: .homelab-kit.yaml:{line}:16: max-file-size: 209,715,200 is "
        "above 10,485,760, the limit this run allows; a repository may lower its limits, "
        "never raise them (set HOMELAB_KIT_MAX_FILE_SIZE or pass --config to raise it); "
        "using the limit"
    ]
    assert f"{CANARY}:11:18: error[workload-image-tag]" in run.stdout
    # Every command that reads the configuration says so, once.
    secrets = run_cli("secrets", cwd=repo)
    assert_no_crash(secrets)
    assert secrets.stderr.count("never raise them") == 1


def test_the_repository_may_lower_a_limit_below_the_users(repo: Path) -> None:
    write_files(repo, {BIG: "---\n" + "# padding\n" * 1000})
    config = repo / ".homelab-kit.yaml"
    config.write_text(config.read_text() + "max-file-size: 5000\n")
    run = run_cli("lint", "--no-cache", "--format", "concise", repo)
    assert _big_file_rows(run.stdout) == [
        f"{BIG}: error[yaml-syntax] file is larger than 5,000 bytes (the max-file-size "
        "limit); skipped"
    ]
    assert "warning:" not in run.stderr
    # ... and below a limit the user raised.
    raised = run_cli("lint", "--no-cache", "--format", "concise", repo, env={LIMIT_ENV: "99999"})
    assert _big_file_rows(raised.stdout) == _big_file_rows(run.stdout)


LIMIT_ENV = "HOMELAB_KIT_MAX_FILE_SIZE"


def test_the_user_can_raise_a_limit(repo: Path, tmp_path: Path) -> None:
    write_files(repo, {BIG: BIG_TEXT})
    config = repo / ".homelab-kit.yaml"
    config.write_text(config.read_text() + RAISE)
    run = run_cli("lint", "--no-cache", "--format", "concise", repo, env={LIMIT_ENV: "300000000"})
    assert_no_crash(run)
    assert _big_file_rows(run.stdout) == []  # read: the user allowed 300 MB
    assert "warning:" not in run.stderr  # the repository asked for less than that
    # The user's own configuration file, named on the command line, may raise it too.
    user_config = tmp_path / "user.yaml"
    user_config.write_text(RAISE)
    mine = run_cli("lint", "--no-cache", "--format", "concise", "--config", user_config, repo)
    assert_no_crash(mine)
    assert _big_file_rows(mine.stdout) == []
    assert "warning:" not in mine.stderr
    # A user limit lower than what the repository asks wins, with the warning.
    low = run_cli("lint", "--no-cache", "--format", "concise", repo, env={LIMIT_ENV: "4096"})
    assert "file is larger than 4,096 bytes" in "\n".join(_big_file_rows(low.stdout))
    assert "is above 4,096, the limit this run allows" in low.stderr


@pytest.mark.parametrize("value", ["abc", "0", "-5"])
def test_a_bad_limit_in_the_environment_is_a_usage_error(repo: Path, value: str) -> None:
    run = run_cli("lint", "--no-cache", repo, env={LIMIT_ENV: value})
    assert run.returncode == 2
    assert run.stderr == (
        f"homelab-kit: error: {LIMIT_ENV} must be a positive number of bytes, not {value!r}\n"
    )


# ---------------------------------------------------- values that are not a mapping

VALUES = f"{APP}/helm/values.yaml"


@pytest.mark.parametrize(
    "values",
    [
        "---\n- a\n- b\n",
        "---\njust text\n",
        "---\n" + "[" * 300 + "]" * 300 + "\n",
        alias_bomb(),
        "---\nvalues: &v {self: *v}\n",
        "",
    ],
    ids=["list", "scalar", "skipped-too-deep", "skipped-alias-bomb", "skipped-recursive", "empty"],
)
@pytest.mark.parametrize(
    "command",
    [("secrets",), ("secrets", "--format", "json"), ("report", "--html", "{out}")],
    ids=["secrets", "secrets-json", "report-html"],
)
def test_a_values_file_that_is_not_a_mapping_is_no_crash(
    repo: Path, tmp_path: Path, values: str, command: tuple[str, ...]
) -> None:
    write_files(repo, {VALUES: values})
    args = [a.replace("{out}", str(tmp_path / "report.html")) for a in command]
    run = run_main(*args, repo)
    assert_no_crash(run)
    assert run.returncode == 0, run.output
    if command[0] == "report":
        assert "echo" in (tmp_path / "report.html").read_text(encoding="utf-8")
