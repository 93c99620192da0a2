"""Bad input, one case each: a diagnostic with its position, and nothing else lost.

Every case damages a private copy of the reference cluster, then lints it and
checks what the issue asks of each:

* the damage is reported where it is (``path:line:column``, or the path alone when
  the problem is the whole file: a one-line message);
* nothing crashes (no exception, no ``internal-error``);
* every other file is still read and linted: a *canary* file with known findings
  is reported as always, and every YAML file on disk is counted.

Time and memory are bounded without timed assertions: the largest inputs (a 50 MB
file, an alias bomb, nesting 50,000 deep, 500 Kustomizations in a cycle) are
linted together in a subprocess with an address-space limit and a timeout.
"""

from __future__ import annotations

import errno
import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

import homelab_kit
from homelab_kit.lint import LintResult
from homelab_kit.report import ConciseReporter, ReportOptions
from homelab_kit.yaml import reader
from tests.cluster.fakeapi import FakeApiServer
from tests.cluster.objects import flux_crds, infisical_crds
from tests.robustness.conftest import (
    MEMORY_LIMIT,
    assert_no_crash,
    cli_commands,
    copy_reference_cluster,
    internal_errors,
    render_all,
    run_cli,
    run_main,
    stable,
    write_files,
)

APP = "kubernetes/apps/default/echo/app"
CANARY = f"{APP}/canary.yaml"
CANARY_TEXT = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: canary
spec:
  template:
    spec:
      containers:
        - name: canary
          image: ghcr.io/example/canary:latest
---
canary: 1
canary: 2
"""
CANARY_FINDINGS = {
    (CANARY, 11, 18, "workload-image-tag"),
    (CANARY, 14, 1, "yaml-duplicate-key"),
}

DEPLOYMENT = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/example/app:latest
"""


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    """A billion laughs: ``width ** levels`` strings from a few hundred bytes."""
    lines = ["---", "a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def deep_block(depth: int) -> str:
    return "---\n" + "".join("  " * i + "a:\n" for i in range(depth)) + "  " * depth + "x\n"


def flux_cycle(size: int) -> str:
    """``size`` Flux Kustomizations, each depending on the next, the last on the first."""
    docs = []
    for i in range(size):
        docs.append(
            textwrap.dedent(
                f"""\
                ---
                apiVersion: kustomize.toolkit.fluxcd.io/v1
                kind: Kustomization
                metadata:
                  name: ks-{i}
                  namespace: flux-system
                spec:
                  dependsOn:
                    - name: ks-{(i + 1) % size}
                  interval: 1h
                  path: ./kubernetes/apps/default
                  prune: true
                  wait: true
                  sourceRef:
                    kind: GitRepository
                    name: flux-system
                """
            )
        )
    return "".join(docs)


Finding = tuple[str, int, int, str]


@attrs.frozen
class Case:
    """Files that damage the repository and what must be reported about them.

    ``expected``: ``(path, line, column, check_id)`` that must be found; ``messages``:
    ``(path, check_id, text)`` whose message must contain ``text``; ``silent``: paths
    that must have no finding at all.  ``prepare`` makes what files cannot (links).
    """

    id: str
    files: dict[str, str | bytes] = attrs.field(factory=dict)
    expected: frozenset[Finding] = frozenset()
    messages: tuple[tuple[str, str, str], ...] = ()
    silent: tuple[str, ...] = ()
    prepare: Callable[[Path], None] | None = None
    # Linted only in a subprocess with a timeout: a regression would hang, not fail.
    may_hang: bool = False


def _links(*pairs: tuple[str, str]) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        for rel, target in pairs:
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.symlink_to(target.replace("{root}", str(root)))

    return make


def _outside_target(root: Path) -> None:
    outside = root.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "stolen.yaml").write_text("---\nstolen: 1\nstolen: 2\n")
    (root / f"{APP}/escape.yaml").symlink_to(outside / "stolen.yaml")


def _directory_named_yaml(root: Path) -> None:
    (root / f"{APP}/folder.yaml").mkdir()
    (root / f"{APP}/folder.yaml/inner.yaml").write_text("---\ninner: 1\ninner: 2\n")


def _fifo(root: Path) -> None:
    os.mkfifo(root / f"{APP}/pipe.yaml")


BAD = f"{APP}/bad.yaml"
KUSTOMIZATION = f"{APP}/kustomization.yaml"

CASES = [
    Case(
        "syntax-error",
        {BAD: "---\nspec:\n  ports: [80, 443\n  name: x\n"},
        frozenset({(BAD, 4, 7, "yaml-syntax")}),
    ),
    Case(
        "tab-indentation",
        {BAD: "---\nspec:\n\tinterval: 1h\n"},
        frozenset({(BAD, 3, 1, "yaml-syntax")}),
        messages=((BAD, "yaml-syntax", "tab character"),),
    ),
    Case(
        "duplicate-key",
        {BAD: "---\nmetadata:\n  name: a\n  name: b\n"},
        frozenset({(BAD, 4, 3, "yaml-duplicate-key")}),
    ),
    Case(
        "undefined-alias",
        {BAD: "---\nspec:\n  values: *nowhere\n"},
        frozenset({(BAD, 3, 11, "yaml-undefined-alias")}),
    ),
    Case(
        "cross-document-alias",
        {BAD: "---\na: &shared 1\n---\nb: *shared\n"},
        frozenset({(BAD, 4, 4, "yaml-cross-document-alias")}),
    ),
    Case(
        "alias-bomb",
        {BAD: alias_bomb()},
        messages=((BAD, "yaml-syntax", "alias expansion"),),
    ),
    Case(
        "nesting-5000-deep-flow",
        {BAD: "---\n" + "[" * 5000 + "]" * 5000 + "\n"},
        frozenset({(BAD, 2, 257, "yaml-syntax")}),
        messages=((BAD, "yaml-syntax", "nesting deeper than 256 levels"),),
    ),
    Case(
        "nesting-2000-deep-block",
        {BAD: deep_block(2000)},
        frozenset({(BAD, 258, 513, "yaml-syntax")}),
    ),
    Case(
        "binary-file",
        {BAD: bytes(range(256)) * 8},
        frozenset({(BAD, 0, 0, "yaml-syntax")}),
        messages=((BAD, "yaml-syntax", "binary file"),),
    ),
    Case(
        "latin-1",
        {BAD: "---\nname: caf\xe9\n".encode("latin-1")},
        frozenset({(BAD, 2, 10, "yaml-syntax")}),
        messages=((BAD, "yaml-syntax", "not valid UTF-8 (byte 0xe9)"),),
    ),
    Case(
        "utf-16-with-bom",
        {BAD: DEPLOYMENT.format(name="utf16").encode("utf-16")},
        frozenset({(BAD, 1, 1, "yaml-new-lines"), (BAD, 11, 18, "workload-image-tag")}),
    ),
    Case(
        "utf-16-without-bom",
        {BAD: DEPLOYMENT.format(name="utf16").encode("utf-16-le")},
        frozenset({(BAD, 1, 1, "yaml-syntax")}),
        messages=((BAD, "yaml-syntax", "UTF-16 text without a byte-order mark"),),
    ),
    Case(
        "utf-8-bom",
        {BAD: "\ufeff" + DEPLOYMENT.format(name="bom")},
        frozenset({(BAD, 1, 1, "yaml-new-lines"), (BAD, 11, 18, "workload-image-tag")}),
    ),
    Case(
        "crlf",
        {BAD: DEPLOYMENT.format(name="crlf").replace("\n", "\r\n")},
        frozenset({(BAD, 1, 1, "yaml-new-lines"), (BAD, 11, 18, "workload-image-tag")}),
    ),
    Case("empty-file", {BAD: ""}, silent=(BAD,)),
    Case("only-comments", {BAD: "# nothing here\n# at all\n"}, silent=(BAD,)),
    Case(
        "symlink-loop",
        expected=frozenset(
            {
                (f"{APP}/loop-a.yaml", 0, 0, "yaml-syntax"),
                (f"{APP}/loop-b.yaml", 0, 0, "yaml-syntax"),
            }
        ),
        messages=((f"{APP}/loop-a.yaml", "yaml-syntax", "symbolic link loop"),),
        prepare=_links(
            (f"{APP}/loop-a.yaml", "loop-b.yaml"), (f"{APP}/loop-b.yaml", "loop-a.yaml")
        ),
    ),
    Case(
        "dangling-symlink",
        expected=frozenset({(f"{APP}/gone.yaml", 0, 0, "yaml-syntax")}),
        messages=((f"{APP}/gone.yaml", "yaml-syntax", "broken symbolic link"),),
        prepare=_links((f"{APP}/gone.yaml", "nowhere.yaml")),
    ),
    Case(
        "symlink-leaving-the-repository",
        expected=frozenset({(f"{APP}/escape.yaml", 0, 0, "yaml-syntax")}),
        messages=((f"{APP}/escape.yaml", "yaml-syntax", "leaving the repository; not read"),),
        prepare=_outside_target,
    ),
    Case(
        "fifo-named-like-yaml",
        expected=frozenset({(f"{APP}/pipe.yaml", 0, 0, "yaml-syntax")}),
        messages=((f"{APP}/pipe.yaml", "yaml-syntax", "not a regular file"),),
        prepare=_fifo,
        may_hang=True,
    ),
    Case(
        "directory-named-like-yaml",
        expected=frozenset({(f"{APP}/folder.yaml/inner.yaml", 3, 1, "yaml-duplicate-key")}),
        silent=(f"{APP}/folder.yaml",),
        prepare=_directory_named_yaml,
    ),
    Case(
        "helm-chart-templates",
        {
            "kubernetes/charts/local/Chart.yaml": "---\napiVersion: v2\nname: local\n",
            "kubernetes/charts/local/templates/deployment.yaml": (
                "{{- if .Values.enabled }}\napiVersion: apps/v1\nkind: Deployment\n"
                'metadata:\n  name: {{ include "local.fullname" . }}\n{{- end }}\n'
            ),
            "kubernetes/charts/local/templates/_helpers.tpl": '{{- define "x" -}}{{- end }}\n',
        },
        silent=(
            "kubernetes/charts/local/templates/deployment.yaml",
            "kubernetes/charts/local/templates/_helpers.tpl",
        ),
    ),
    Case(
        "jinja-templates",
        {
            "talos/talconfig.yaml.j2": "clusterName: {{ cluster }}\n{% for n in nodes %}\n",
            f"{APP}/config.yaml.jinja2": "{% if x %}\nkey: {{ y }}\n{% endif %}\n",
            f"{APP}/values.yaml.tmpl": "{{ .Values }}\n",
        },
        silent=(
            "talos/talconfig.yaml.j2",
            f"{APP}/config.yaml.jinja2",
            f"{APP}/values.yaml.tmpl",
        ),
    ),
    Case(
        "jinja-in-a-yaml-file",
        {BAD: "---\n{% if enabled %}\nkey: value\n{% endif %}\n"},
        frozenset({(BAD, 2, 2, "yaml-syntax")}),
    ),
    Case(
        "kustomization-outside-the-repository",
        {
            KUSTOMIZATION: (
                "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                "resources:\n  - ./helmrelease.yaml\n  - ./httproute.yaml\n"
                "  - ../../../../../../../etc/passwd\n  - /etc/shadow\n  - ./canary.yaml\n"
                "configMapGenerator:\n  - name: echo-values\n    files:\n"
                "      - values.yaml=./helm/values.yaml\n"
                "      - id_rsa=../../../../../../.ssh/id_rsa\n"
                "configurations:\n  - ./helm/kustomizeconfig.yaml\n"
            )
        },
        frozenset(
            {
                (KUSTOMIZATION, 7, 5, "structure-kustomize-outside"),
                (KUSTOMIZATION, 8, 5, "structure-kustomize-outside"),
                (KUSTOMIZATION, 14, 9, "structure-kustomize-outside"),
            }
        ),
    ),
    Case(
        "flux-dependency-cycle-of-500",
        {"kubernetes/flux/cluster/cycle.yaml": flux_cycle(500)},
        frozenset({("kubernetes/flux/cluster/cycle.yaml", 9, 7, "flux-ks-dependency-cycle")}),
        messages=(
            (
                "kubernetes/flux/cluster/cycle.yaml",
                "flux-ks-dependency-cycle",
                "flux-system/ks-0 -> flux-system/ks-1 -> ",
            ),
        ),
    ),
]


def _yaml_files_on_disk(root: Path) -> set[str]:
    """Every YAML-named file the loader must account for (links included, charts not)."""
    found = set()
    for top in ("kubernetes", "talos", "bootstrap"):
        for dirpath, _dirs, files in os.walk(root / top):
            rel_dir = Path(dirpath).relative_to(root).as_posix()
            if "/templates" in rel_dir and any(
                (Path(dirpath).parent / c).is_file() for c in ("Chart.yaml", "Chart.yml")
            ):
                continue
            found.update(f"{rel_dir}/{f}" for f in files if f.endswith((".yaml", ".yml")))
    return found


def _findings(result: LintResult) -> set[Finding]:
    return {
        (d.location.path, d.location.line, d.location.column, d.check_id)
        for d in result.diagnostics
    }


def _list_in_the_app(root: Path) -> None:
    """List the canary and the bad file in the app's kustomization: deployed, so live.

    A manifest no kustomization.yaml lists is not deployed, and checks of live
    objects stay silent on it (issue 14); the canary must stay live to be checked.
    """
    kfile = root / KUSTOMIZATION
    if not kfile.is_file() or kfile.is_symlink() or "./canary.yaml" in kfile.read_text():
        return  # a case's own kustomization lists what it wants
    names = [
        n
        for n in ("canary.yaml", "bad.yaml")
        if (root / APP / n).is_file() and not (root / APP / n).is_symlink()
    ]
    text = kfile.read_text(encoding="utf-8")
    listed = "".join(f"  - ./{n}\n" for n in names if f"./{n}" not in text)
    kfile.write_text(text.replace("resources:\n", "resources:\n" + listed, 1), encoding="utf-8")


@pytest.fixture
def damaged(tmp_path: Path) -> Callable[[Case], Path]:
    def make(case: Case) -> Path:
        root = copy_reference_cluster(tmp_path / "repo")
        write_files(root, {CANARY: CANARY_TEXT, **case.files})
        if case.prepare is not None:
            case.prepare(root)
        _list_in_the_app(root)
        return root

    return make


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_reported_and_nothing_else_is_lost(
    damaged: Callable[[Case], Path], case: Case
) -> None:
    root = damaged(case)
    if case.may_hang:
        _lint_in_a_subprocess(root, case)
        return
    result = homelab_kit.lint(root)
    assert internal_errors(result) == []
    found = _findings(result)
    assert case.expected <= found, sorted(f for f in found if f[0] != CANARY)
    for path, check_id, text in case.messages:
        messages = [
            d.message
            for d in result.diagnostics
            if d.location.path == path and d.check_id == check_id
        ]
        assert any(text in m for m in messages), messages
        assert all("\n" not in m for m in messages)
    for path in case.silent:
        assert [f for f in found if f[0] == path] == []
    # Every other file still linted.
    assert found >= CANARY_FINDINGS
    assert result.files == len(_yaml_files_on_disk(root))
    # As the user reads it: path:line:column: severity[check] message, one line each.
    concise = ConciseReporter().render(result, ReportOptions())
    for path, line, column, check_id in case.expected:
        where = f"{path}:{line}:{column}:" if line else f"{path}:"
        assert any(
            row.startswith(where) and f"[{check_id}]" in row for row in concise.splitlines()
        ), (where, check_id)


def _lint_in_a_subprocess(root: Path, case: Case) -> None:
    run = run_cli("lint", "--no-cache", "--format", "concise", root)
    assert_no_crash(run)
    rows = run.stdout.splitlines()
    for path, line, column, check_id in case.expected | CANARY_FINDINGS:
        where = f"{path}:{line}:{column}:" if line else f"{path}:"
        assert any(r.startswith(where) and f"[{check_id}]" in r for r in rows), (where, rows)
    for path, check_id, text in case.messages:
        assert any(r.startswith(f"{path}:") and f"[{check_id}] " in r and text in r for r in rows)


def all_damage(root: Path, *, in_process: bool = False) -> Path:
    """Every case at once, each case's files under a folder of its own name."""
    files: dict[str, str | bytes] = {CANARY: CANARY_TEXT}
    for case in CASES:
        for name, content in case.files.items():
            inside = name.startswith(APP + "/")
            files[f"{APP}/{case.id}/{name.rsplit('/', 1)[-1]}" if inside else name] = content
    write_files(root, files)
    for case in CASES:
        if case.prepare is not None and not (in_process and case.may_hang):
            case.prepare(root)
    _list_in_the_app(root)
    return root


def test_the_same_damage_always_gives_the_same_report(tmp_path: Path) -> None:
    root = all_damage(copy_reference_cluster(tmp_path / "repo"), in_process=True)
    first, second = homelab_kit.lint(root), homelab_kit.lint(root)
    assert internal_errors(first) == []
    assert stable(first) == stable(second)


def _command_runs(command: str, root: Path, out: Path, live: Path) -> list[tuple[str, ...]]:
    """How each command is run on a damaged repository (unknown ones: help and a plain run).

    ``live`` is a kubeconfig of a fake API server that serves Flux's and Infisical's APIs.
    """
    repo = str(root)
    on_live = ("--kubeconfig", str(live), "--request-timeout", "5s", "--repo", repo)
    damaged = sorted(str(p) for p in (root / APP).rglob("*.yaml") if not p.is_dir())
    kubeconfig = out / "kubeconfig"
    kubeconfig.write_text("not: [a kubeconfig\n")
    cluster = ("--kubeconfig", str(kubeconfig), "--request-timeout", "1s")
    runs: dict[str, list[tuple[str, ...]]] = {
        "lint": [("lint", "--no-cache", "--format", f, repo) for f in ("text", "json", "sarif")],
        "rules": [("rules",)],
        "explain": [("explain", "yaml-syntax"), ("explain", "no-such-check")],
        "plugins": [("plugins",)],
        "validate": [("validate", *damaged), ("validate", f"{APP}/loop-a.yaml")],
        "graph": [("graph", "--format", f, "--helm", repo) for f in ("json", "svg", "html")],
        "secrets": [("secrets", repo), ("secrets", "--format", "json", repo)],
        "report": [("report", "--html", str(out / "report.html"), repo)],
        "build": [("build", "default/echo", repo), ("build", "flux-system/cluster-apps", repo)],
        "status": [("status", *cluster, repo)],
        "doctor": [
            ("doctor", *on_live),
            ("doctor", *on_live, "--format", "json"),
            ("doctor", *on_live, "no-such/app"),
            ("doctor", *cluster, "--repo", repo),
        ],
        "reconcile": [
            ("reconcile", *on_live, "--no-wait", "flux-system/cluster-apps"),
            ("reconcile", *on_live, "--timeout", "banana", "flux-system/cluster-apps"),
            ("reconcile", *on_live, "--no-wait", "no-such/thing"),
            ("reconcile", *cluster, "--repo", repo, "--no-wait", "flux-system/cluster-apps"),
        ],
        "drift": [("drift", *cluster, repo)],
        "schemas": [("schemas", "pull", *cluster, "--cache-dir", str(out / "schemas"))],
        "new-app": [("new-app", "default/probe", "--chart", "oci://ghcr.io/a/b", "--version",
                     "1.0.0", "--no-input", "--dry-run", "--path", repo)],
        "new-namespace": [("new-namespace", "probe", "--no-input", "--dry-run", "--path", repo)],
        "add-secret": [("add-secret", "default/echo", "--no-input", "--dry-run", "--path", repo)],
    }  # fmt: skip
    return runs.get(command, [(command, "--help"), (command, repo)])


def test_every_command_keeps_working_on_a_damaged_repository(tmp_path: Path) -> None:
    """Not only lint: every command reads the damage and ends with a documented exit code."""
    root = all_damage(copy_reference_cluster(tmp_path / "repo"), in_process=True)
    commands = cli_commands()
    assert "lint" in commands
    server = FakeApiServer().start()  # doctor and reconcile ask a cluster
    try:
        server.add(*flux_crds(), *infisical_crds())
        live = server.write_kubeconfig(tmp_path / "live-kubeconfig")
        for command in commands:
            for args in _command_runs(command, root, tmp_path, live):
                run = run_main(*args, cwd=root)
                assert_no_crash(run)
                if run.returncode == 2:  # a usage or input error: one line, saying what
                    errors = [r for r in run.stderr.splitlines() if "error" in r.lower()]
                    assert len(errors) == 1, (args, run.stderr)
    finally:
        server.stop()


def test_a_path_argument_that_is_a_symlink_loop_is_one_line(tmp_path: Path) -> None:
    root = copy_reference_cluster(tmp_path / "repo")
    (root / f"{APP}/loop-a.yaml").symlink_to("loop-b.yaml")
    (root / f"{APP}/loop-b.yaml").symlink_to("loop-a.yaml")
    run = run_main("lint", f"{APP}/loop-a.yaml", cwd=root)
    assert run.returncode == 2
    assert run.stderr == (
        f"homelab-kit: error: {APP}/loop-a.yaml: cannot be resolved (a symbolic link loop?)\n"
    )


def _nested(depth: int, kind: str) -> str:
    """A flow collection ``depth`` levels deep: mappings, lists, or both in turn."""
    if kind == "map":
        return "{a: " * depth + "1" + "}" * depth
    if kind == "list":
        return "[" * depth + "1" + "]" * depth
    return "{a: [" * (depth // 2) + "1" + "]}" * (depth // 2)


@pytest.mark.parametrize("kind", ["map", "list", "mixed"])
def test_nesting_just_under_the_limit_in_every_kind_of_object(tmp_path: Path, kind: str) -> None:
    """The reader allows 256 levels; no check may recurse its way into a RecursionError."""
    root = copy_reference_cluster(tmp_path / "repo")
    deep = _nested(240, kind)
    head = "---\napiVersion: {}\nkind: {}\nmetadata: {{name: deep}}\n"
    files = {
        "workload.yaml": head.format("apps/v1", "Deployment")
        + f"spec:\n  template:\n    spec:\n      containers: [{{name: a, env: {deep}}}]\n",
        "secret.yaml": head.format("v1", "Secret") + f"stringData: {deep}\n",
        "configmap.yaml": head.format("v1", "ConfigMap") + f"data: {deep}\n? {deep}\n: key\n",
        "release.yaml": head.format("helm.toolkit.fluxcd.io/v2", "HelmRelease")
        + f"spec:\n  values: {deep}\n",
        "flux.yaml": head.format("kustomize.toolkit.fluxcd.io/v1", "Kustomization")
        + f"spec:\n  postBuild: {{substitute: {deep}}}\n  patches: {deep}\n",
    }
    write_files(root, {f"{APP}/{name}": text for name, text in files.items()})
    write_files(root, {f"{APP}/helm/values.yaml": f"---\ncontrollers: {deep}\n"})
    result = homelab_kit.lint(root)
    assert internal_errors(result) == []
    assert not [d for d in result.diagnostics if "nesting deeper" in d.message]
    render_all(result)
    for command in ("graph", "secrets", "build"):
        if command in cli_commands():
            args = ("default/echo",) if command == "build" else ()
            assert_no_crash(run_main(command, *args, root))


# --------------------------------------------------------------------------- unreadable


def test_unreadable_file_when_permissions_apply(damaged: Callable[[Case], Path]) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from reading a file")
    root = damaged(Case("unreadable", {BAD: DEPLOYMENT.format(name="locked")}))
    (root / BAD).chmod(0)
    try:
        result = homelab_kit.lint(root)
    finally:
        (root / BAD).chmod(0o644)
    assert (BAD, 0, 0, "yaml-syntax") in _findings(result)
    assert _findings(result) >= CANARY_FINDINGS


def test_load_file_reports_an_os_error_as_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\n")

    def refuse(*args: object, **kwargs: object) -> object:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(reader, "_open_file", refuse)
    yfile = reader.load_file(str(path), "x.yaml")
    assert yfile.documents == ()
    assert [(p.code, p.message) for p in yfile.problems] == [
        ("unreadable", "cannot read file: Permission denied")
    ]


def test_an_unreadable_file_is_reported_and_the_rest_linted(
    damaged: Callable[[Case], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The OSError path end to end: one file refuses to open, every other one is read."""
    root = damaged(Case("unreadable", {BAD: DEPLOYMENT.format(name="locked")}))
    real_open = reader._open_file

    def selective(file: str) -> int:
        if file.endswith(BAD):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), file)
        return real_open(file)

    monkeypatch.setattr(reader, "_open_file", selective)
    result = homelab_kit.lint(root)
    assert internal_errors(result) == []
    messages = [d.message for d in result.diagnostics if d.location.path == BAD]
    assert messages == ["cannot read file: Permission denied"]
    assert _findings(result) >= CANARY_FINDINGS


def test_a_file_larger_than_the_limit_is_reported_without_reading_it(
    damaged: Callable[[Case], Path],
) -> None:
    root = damaged(Case("large", {BAD: "---\n" + "# padding\n" * 1000}))
    config = root / ".homelab-kit.yaml"
    config.write_text(config.read_text() + "max-file-size: 1000\n")
    result = homelab_kit.lint(root)
    messages = [d.message for d in result.diagnostics if d.location.path == BAD]
    assert messages == ["file is larger than 1,000 bytes (the max-file-size limit); skipped"]
    assert _findings(result) >= CANARY_FINDINGS


# --------------------------------------------------------------------------- bounded


def test_everything_at_once_in_bounded_memory_and_time(tmp_path: Path) -> None:
    """All the damage in one repository, plus a 50 MB file, through the real CLI.

    The child may use at most ``MEMORY_LIMIT`` of address space and
    ``CLI_TIMEOUT`` seconds; a blow-up or a hang fails here.
    """
    root = all_damage(copy_reference_cluster(tmp_path / "repo"))
    write_files(
        root,
        {
            f"{APP}/bomb-11.yaml": alias_bomb(levels=11),
            f"{APP}/deep-50000.yaml": "---\n" + "[" * 50_000 + "]" * 50_000 + "\n",
        },
    )
    with (root / f"{APP}/huge.yaml").open("wb") as handle:
        line = b"- " + b"x" * 97 + b"\n"
        handle.write(line * (50 * 1024 * 1024 // len(line) + 1))
    run = run_cli("lint", "--no-cache", "--format", "concise", root, memory_limit=MEMORY_LIMIT)
    assert_no_crash(run)
    assert run.returncode == 1
    rows = run.stdout.splitlines()

    def reported(prefix: str, check_id: str) -> bool:
        return any(r.startswith(prefix) and f"[{check_id}]" in r for r in rows)

    assert reported(f"{APP}/huge.yaml: error[yaml-syntax] file is larger than", "yaml-syntax")
    assert reported(f"{APP}/bomb-11.yaml:", "yaml-syntax")
    assert reported(f"{APP}/deep-50000.yaml:2:257:", "yaml-syntax")
    assert reported("kubernetes/flux/cluster/cycle.yaml:9:7:", "flux-ks-dependency-cycle")
    assert reported(f"{CANARY}:11:18:", "workload-image-tag")
    assert reported(f"{APP}/loop-a.yaml:", "yaml-syntax")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            b"a: caf\xe9\n",
            "<stdin>: error: cannot read: not valid UTF-8 (byte 0xe9) at line 1, column 7 "
            "[unreadable]",
        ),
        (
            bytes(range(256)),
            "<stdin>: error: cannot read: binary file (contains NUL bytes) [unreadable]",
        ),
    ],
)
def test_validate_reads_bad_bytes_on_standard_input(data: bytes, error: str) -> None:
    """A strict standard input (as on many UTF-8 desktops) is not a crash: one clear line."""
    import subprocess
    import sys

    if "validate" not in cli_commands():
        pytest.skip("no validate command yet")
    done = subprocess.run(
        [sys.executable, "-m", "homelab_kit", "validate", "-"],
        input=data,
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
    )
    assert done.returncode == 1, done.stderr  # a resource in error, as kubeconform
    assert done.stdout.decode() == f"{error}\n"
    assert done.stderr == b""


def test_validate_reads_utf16_with_a_bom_like_lint(tmp_path: Path) -> None:
    path = tmp_path / "cm.yaml"
    path.write_bytes("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n".encode("utf-16"))
    run = run_main("validate", "--kubernetes-version", "1.33", path)
    assert run.returncode == 0, run.output
    path.write_bytes("apiVersion: v1\nkind: ConfigMap\nmetadata: {nam: x}\n".encode("utf-16"))
    run = run_main("validate", "--kubernetes-version", "1.33", path)
    assert run.returncode == 1, run.output
    assert "cm.yaml:3:" in run.stdout
