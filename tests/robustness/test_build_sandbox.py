"""``homelab-kit build`` reads only the repository's files, and only safe ones.

A kustomization from a pull request must not make a build print a file outside the
repository or under ``.git/``, fetch a URL, run a plugin (kustomize's built-in
generators included), hang on a FIFO, or feed kubectl an alias bomb.  Each case
is a small repository built by every backend the machine has; a *fake* kubectl
(a script that records that it ran) shows that a refused build never starts the
binary, and the real one (when on PATH) shows what it would have printed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from homelab_kit.errors import HomelabKitError
from homelab_kit.render.backend import render
from tests.robustness.conftest import CLI_TIMEOUT, run_cli, write_files

HAVE_KUBECTL = shutil.which("kubectl") is not None
BACKENDS = [
    "python",
    pytest.param(
        "kubectl", marks=pytest.mark.skipif(not HAVE_KUBECTL, reason="kubectl is not on PATH")
    ),
]
CANARY = "canary-outside-the-repository-7c1f"
GIT_CANARY = "url = https://token-5e2b@example.invalid/repo.git"
FLUX_KS = (
    "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
    "metadata:\n  name: app\n  namespace: flux-system\nspec:\n  path: ./app\n"
)
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  a: b\n"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a secret outside it and credentials in its .git/config."""
    outside = tmp_path / "outside.txt"
    outside.write_text(CANARY + "\n", encoding="utf-8")
    root = tmp_path / "repo"
    write_files(
        root,
        {
            ".homelab-kit.yaml": "",
            ".git/config": f'[remote "origin"]\n\t{GIT_CANARY}\n',
            "app/cm.yaml": CONFIGMAP,
        },
    )
    return root


def build(root: Path, backend: str, files: dict[str, str | bytes]) -> str:
    """Write ``files`` into ``root``, build ``root/app``: the objects as text."""
    write_files(root, files)
    return repr(render(root / "app", root=root, backend=backend, timeout=60).objects)


def refused(root: Path, backend: str, files: dict[str, str | bytes], match: str) -> None:
    outcome: str | HomelabKitError
    try:
        outcome = build(root, backend, files)
    except HomelabKitError as exc:
        outcome = exc
    assert isinstance(outcome, HomelabKitError), f"built: {outcome[:300]}"
    message = str(outcome)
    assert re.search(match, message), message
    assert CANARY not in message
    assert "token-5e2b" not in message


GENERATOR = (
    "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: leak\nfiles:\n- {path}\n"
)
PLUGIN_CASES = {
    "generators-file": {
        "app/gen.yaml": GENERATOR.format(path="../../outside.txt"),
        "app/kustomization.yaml": "resources: [cm.yaml]\ngenerators: [gen.yaml]\n",
    },
    "generators-inline-absolute": {
        "app/kustomization.yaml": "generators:\n- |\n  "
        + GENERATOR.format(path="/etc/hostname").replace("\n", "\n  ")
        + "\n",
    },
    "generators-url": {
        "app/kustomization.yaml": "generators:\n- http://127.0.0.1:9/generator.yaml\n",
    },
    "transformers": {
        "app/t.yaml": "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: t\n"
        "labels: {a: b}\nfieldSpecs: [{path: metadata/labels, create: true}]\n",
        "app/kustomization.yaml": "resources: [cm.yaml]\ntransformers: [t.yaml]\n",
    },
    "validators": {
        "app/kustomization.yaml": "resources: [cm.yaml]\nvalidators: [v.yaml]\n",
    },
    "helmCharts": {
        "app/kustomization.yaml": "helmCharts:\n- name: x\n  valuesFile: /etc/hostname\n",
    },
}


@pytest.mark.skipif(not HAVE_KUBECTL, reason="kubectl is not on PATH")
@pytest.mark.parametrize("case", sorted(PLUGIN_CASES))
def test_kubectl_never_runs_plugin_configurations(repo: Path, case: str) -> None:
    refused(repo, "kubectl", PLUGIN_CASES[case], r"never (run|inflated|used)|remote")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "kustomization",
    [
        "configMapGenerator:\n- name: c\n  files: [../../outside.txt]\n",
        "configMapGenerator:\n- name: c\n  files: [../.git/config]\n",
        "configMapGenerator:\n- name: c\n  files: [k=.git/../../.git/config]\n",
        "secretGenerator:\n- name: c\n  envs: [../.git/config]\n",
        "resources: [cm.yaml]\nreplacements:\n- path: /etc/hostname\n",
        "resources: [cm.yaml]\nconfigurations: [../.git/config]\n",
        "resources: [cm.yaml]\ncrds: [../../outside.txt]\n",
        "resources: [cm.yaml]\nopenapi:\n  path: ../../outside.txt\n",
        "resources: [cm.yaml]\npatches:\n- path: /etc/hostname\n",
        "resources: [cm.yaml]\npatchesJson6902:\n- path: ../.git/config\n"
        "  target: {kind: ConfigMap, name: plain}\n",
        "resources: [cm.yaml, ../.git/config]\n",
    ],
)
def test_no_backend_reads_outside_the_repository_or_git(
    repo: Path, backend: str, kustomization: str
) -> None:
    files = {"app/kustomization.yaml": kustomization}
    refused(repo, backend, files, r"outside|\.git folder|absolute")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_symbolic_link_leaving_the_repository_is_not_followed(repo: Path, backend: str) -> None:
    (repo / "app").mkdir(exist_ok=True)
    os.symlink(repo.parent / "outside.txt", repo / "app" / "data.txt")
    files = {"app/kustomization.yaml": "configMapGenerator:\n- name: c\n  files: [data.txt]\n"}
    refused(repo, backend, files, "leaving the repository|outside")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("target", ["../../.git/config", "../../../outside.txt"])
def test_a_folder_of_generator_files_is_vetted_file_by_file(
    repo: Path, backend: str, target: str
) -> None:
    """``files: [folder]`` reads the files in it: a link among them is checked too."""
    write_files(repo, {"app/conf/plain.txt": "plain\n"})
    os.symlink(target, repo / "app" / "conf" / "leak")
    files = {"app/kustomization.yaml": "configMapGenerator:\n- name: c\n  files: [conf]\n"}
    refused(repo, backend, files, r"\.git folder|outside the repository")


def test_a_folder_of_generator_files_builds(repo: Path) -> None:
    """The pure-Python renderer reads a folder's files (kubectl refuses a folder)."""
    write_files(repo, {"app/conf/a.txt": "alpha\n", "app/conf/b.txt": "beta\n"})
    files = {"app/kustomization.yaml": "configMapGenerator:\n- name: c\n  files: [conf]\n"}
    printed = build(repo, "python", files)
    assert "alpha" in printed
    assert "beta" in printed


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_symbolic_link_inside_the_repository_builds(repo: Path, backend: str) -> None:
    write_files(repo, {"shared/data.txt": "shared-value\n", "shared/cm.yaml": CONFIGMAP})
    (repo / "app").mkdir(exist_ok=True)
    os.symlink("../shared/data.txt", repo / "app" / "data.txt")
    os.symlink("../shared", repo / "app" / "linked")
    files = {
        "app/kustomization.yaml": "resources: [linked/cm.yaml]\n"
        "configMapGenerator:\n- name: c\n  files: [data.txt]\n",
    }
    printed = build(repo, backend, files)
    assert "shared-value" in printed
    assert "'plain'" in printed


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_kustomization_file_that_is_a_link_builds(repo: Path, backend: str) -> None:
    write_files(repo, {"shared/kustomization.yaml": "resources: [../app/cm.yaml]\n"})
    (repo / "app").mkdir(exist_ok=True)
    os.symlink("../shared/kustomization.yaml", repo / "app" / "kustomization.yaml")
    printed = build(repo, backend, {})
    assert "'plain'" in printed


@pytest.mark.skipif(not HAVE_KUBECTL, reason="kubectl is not on PATH")
def test_a_utf16_kustomization_is_read_as_kubectl_reads_it(repo: Path) -> None:
    """The nested kustomization kubectl decodes (UTF-16 with a BOM) is vetted too."""
    nested = "generators: [gen.yaml]\n".encode("utf-16")
    files: dict[str, str | bytes] = {
        "app/kustomization.yaml": "resources: [nested]\n",
        "app/nested/kustomization.yaml": nested,
        "app/nested/gen.yaml": GENERATOR.format(path="../../../outside.txt"),
    }
    refused(repo, "kubectl", files, "never run")


@pytest.mark.skipif(not HAVE_KUBECTL, reason="kubectl is not on PATH")
def test_a_utf16_kustomization_builds_as_kubectl_builds_it(repo: Path) -> None:
    files: dict[str, str | bytes] = {
        "app/kustomization.yaml": "resources: [nested]\n",
        "app/nested/kustomization.yaml": "resources: [../cm.yaml]\n".encode("utf-16"),
    }
    assert "'plain'" in build(repo, "kubectl", files)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("field", ["resources", "patch", "generator"])
def test_a_fifo_is_refused_without_waiting(repo: Path, backend: str, field: str) -> None:
    (repo / "app").mkdir(exist_ok=True)
    os.mkfifo(repo / "app" / "fifo.yaml")
    kustomization = {
        "resources": "resources: [cm.yaml, fifo.yaml]\n",
        "patch": "resources: [cm.yaml]\npatches:\n- path: fifo.yaml\n",
        "generator": "configMapGenerator:\n- name: c\n  files: [fifo.yaml]\n",
    }[field]
    refused(repo, backend, {"app/kustomization.yaml": kustomization}, "not a regular file")


# ------------------------------------------------------------------ item 2: bounds


def fake_binary(tmp_path: Path, script: str) -> Path:
    """A folder holding a ``kubectl`` shell script running ``script``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl").write_text(f"#!/bin/sh\n{script}", encoding="utf-8")
    (bin_dir / "kubectl").chmod(0o755)
    return bin_dir


@pytest.fixture
def fake_kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``kubectl`` first on PATH that only records that it ran: the marker file."""
    marker = tmp_path / "kubectl-ran"
    bin_dir = fake_binary(tmp_path, f"touch {marker}\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return marker


@pytest.mark.parametrize(
    ("files", "match"),
    [
        (
            {
                "app/bomb.yaml": BOMB,
                "app/kustomization.yaml": "resources: [cm.yaml]\npatches:\n- path: bomb.yaml\n",
            },
            "alias expansion",
        ),
        (
            {
                "app/bomb.yaml": BOMB,
                "app/kustomization.yaml": "resources: [cm.yaml]\n"
                "patchesStrategicMerge: [bomb.yaml]\n",
            },
            "alias expansion",
        ),
        (
            {
                "app/kustomization.yaml": "resources: [cm.yaml]\npatches:\n- patch: |\n  "
                + BOMB.replace("\n", "\n  ")
                + "\n"
            },
            "alias expansion",
        ),
        (
            {"app/bomb.yaml": BOMB, "app/kustomization.yaml": "resources: [cm.yaml, bomb.yaml]\n"},
            "alias expansion",
        ),
        (
            {
                "app/big.txt": "x" * (10 * 1024 * 1024 + 1),
                "app/kustomization.yaml": "configMapGenerator:\n- name: c\n  files: [big.txt]\n",
            },
            "larger than",
        ),
        (
            {
                "app/deep.yaml": "a: " + "[" * 400 + "]" * 400 + "\n",
                "app/kustomization.yaml": "resources: [cm.yaml]\npatches:\n- path: deep.yaml\n",
            },
            "nesting deeper",
        ),
    ],
    ids=["patch-path", "patchesStrategicMerge", "inline-patch", "resource", "size", "depth"],
)
def test_kubectl_never_sees_a_file_past_the_readers_bounds(
    repo: Path, fake_kubectl: Path, files: dict[str, str | bytes], match: str
) -> None:
    refused(repo, "kubectl", files, match)
    assert not fake_kubectl.exists(), "kubectl ran on the file"


def test_the_vetted_copy_is_all_kubectl_can_reach(repo: Path, tmp_path: Path) -> None:
    """The fake kubectl lists the tree it was given: only the files the build reads."""
    listing = tmp_path / "listing"
    bin_dir = fake_binary(
        tmp_path, f'for a; do last="$a"; done\ncd "$last/.." && find . | sort > {listing}\n'
    )
    write_files(repo, {"app/unused.yaml": CONFIGMAP, "app/patch.yaml": CONFIGMAP})
    files = {"app/kustomization.yaml": "resources: [cm.yaml]\npatches:\n- path: patch.yaml\n"}
    old = os.environ["PATH"]
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{old}"
    try:
        build(repo, "kubectl", files)
    finally:
        os.environ["PATH"] = old
    assert listing.read_text().split() == [
        ".",
        "./app",
        "./app/cm.yaml",
        "./app/kustomization.yaml",
        "./app/patch.yaml",
    ]


# ------------------------------------------------------------------ time bounds, signals


def test_the_python_backend_has_a_time_bound(repo: Path) -> None:
    resources = {f"app/r{i}.yaml": CONFIGMAP.replace("plain", f"c{i}") for i in range(400)}
    listed = ", ".join(f"r{i}.yaml" for i in range(400))
    write_files(repo, {**resources, "app/kustomization.yaml": f"resources: [{listed}]\n"})
    with pytest.raises(HomelabKitError, match="did not finish within"):
        render(repo / "app", root=repo, backend="python", timeout=0.001)


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_a_binary_past_its_time_bound_is_killed_with_its_children(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids = tmp_path / "pids"
    bin_dir = fake_binary(tmp_path, f"sleep 300 &\necho $$ $! > {pids}\nwait\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    write_files(repo, {"app/kustomization.yaml": "resources: [cm.yaml]\n"})
    with pytest.raises(HomelabKitError, match="did not finish within 1 s"):
        render(repo / "app", root=repo, backend="kubectl", timeout=1)
    started = [int(p) for p in pids.read_text().split()]
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in started if _alive(p)], "the binary or its child outlived the build"


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_build_kills_the_binary_and_its_children(
    repo: Path, tmp_path: Path, signum: int
) -> None:
    pids = tmp_path / "pids"
    bin_dir = fake_binary(
        tmp_path, f"sleep 300 &\necho $$ $! > {pids}.tmp\nmv {pids}.tmp {pids}\nwait\n"
    )
    write_files(
        repo,
        {
            "flux/ks.yaml": FLUX_KS,
            "app/kustomization.yaml": "resources: [cm.yaml]\n",
        },
    )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"}
    command = [sys.executable, "-m", "homelab_kit", "build", "--backend", "kubectl", "app", "."]
    proc = subprocess.Popen(
        command,
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a suite started in the background (`cmd &`) inherits SIGINT ignored, and so
        # would this child: give it the disposition an interactive Ctrl-C meets
        preexec_fn=_default_signals,
    )
    try:
        deadline = time.monotonic() + CLI_TIMEOUT
        while not pids.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pids.exists(), proc.communicate(timeout=5)
        started = [int(p) for p in pids.read_text().split()]
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=CLI_TIMEOUT)
        assert "Traceback" not in stderr
        assert proc.returncode != 0
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in started) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in started if _alive(p)], "the binary or its child outlived the build"
    finally:
        proc.kill()
        proc.wait()
        for pid in [int(p) for p in pids.read_text().split()] if pids.exists() else []:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def test_build_cli_refuses_with_one_line(repo: Path) -> None:
    """Through the command: exit 2, one line naming the file, nothing printed."""
    write_files(
        repo,
        {
            "flux/ks.yaml": FLUX_KS,
            "app/kustomization.yaml": "configMapGenerator:\n- name: c\n  files: [../.git/config]\n",
        },
    )
    for backend in ("python", *(("kubectl",) if HAVE_KUBECTL else ())):
        run = run_cli("build", "--backend", backend, "app", repo)
        assert run.returncode == 2, run.output
        assert "token-5e2b" not in run.output
        assert run.stdout == ""
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert "app/kustomization.yaml:3" in run.stderr, run.stderr


def _default_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
