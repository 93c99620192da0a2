"""Real Git histories in temporary repositories: a small Flux repository, then edits."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from homelab_kit.testing import write_tree

# Planted values: none may ever appear in any output.
PLANTED = "hunter2-planted-secret-value"
PLANTED_VALUES = "planted-values-password-9f8e"
PLANTED_SUBST = "planted-substitute-7a6b"

ROOT_KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  interval: 1h
  path: ./kubernetes/apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substituteFrom:
      - kind: Secret
        name: cluster-secrets
"""

CLUSTER_SECRETS = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: cluster-secrets
  namespace: flux-system
stringData:
  SECRET_DOMAIN: {PLANTED_SUBST}.example.com
"""


def app_files(name: str, *, replicas: int = 1, chart: str = "1.0.0") -> dict[str, str]:
    """One app: ks.yaml, a HelmRelease (inline values, a ConfigMap and a Secret in valuesFrom)."""
    base = f"kubernetes/apps/default/{name}"
    return {
        f"{base}/ks.yaml": f"""\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 1h
  path: ./{base}/app
  prune: true
  targetNamespace: default
  sourceRef:
    kind: GitRepository
    name: flux-system
  components:
    - ../../../../components/common
  postBuild:
    substituteFrom:
      - kind: Secret
        name: cluster-secrets
""",
        f"{base}/app/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - helmrelease.yaml
  - values.yaml
  - secret.yaml
""",
        f"{base}/app/helmrelease.yaml": f"""\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
spec:
  interval: 1h
  chart:
    spec:
      chart: {name}
      version: {chart}
      sourceRef:
        kind: HelmRepository
        name: charts
        namespace: flux-system
  valuesFrom:
    - kind: ConfigMap
      name: {name}-values
    - kind: Secret
      name: {name}-secret
      valuesKey: password
      targetPath: auth.password
  values:
    replicas: {replicas}
    host: {name}.${{SECRET_DOMAIN}}
""",
        f"{base}/app/values.yaml": f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-values
data:
  values.yaml: |
    image:
      tag: "1.0"
    service:
      port: 80
""",
        f"{base}/app/secret.yaml": f"""\
apiVersion: v1
kind: Secret
metadata:
  name: {name}-secret
stringData:
  password: {PLANTED_VALUES}-{name}
""",
    }


def base_files(apps: tuple[str, ...] = ("alpha", "beta", "gamma")) -> dict[str, str]:
    files: dict[str, str] = {
        "kubernetes/flux/cluster/ks.yaml": ROOT_KS,
        "kubernetes/apps/cluster-secrets.yaml": CLUSTER_SECRETS,
        "kubernetes/apps/kustomization.yaml": "resources:\n  - ./cluster-secrets.yaml\n"
        "  - ./default\n",
        "kubernetes/apps/default/kustomization.yaml": "resources:\n"
        + "".join(f"  - ./{a}/ks.yaml\n" for a in apps),
        "kubernetes/components/common/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
commonLabels:
  team: homelab
""",
    }
    for app in apps:
        files.update(app_files(app))
    return files


class GitRepo:
    """A Git repository in a temporary folder, committed to as a test goes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        done = subprocess.run(
            [
                "git",
                "-c",
                "user.email=test@example.com",
                "-c",
                "user.name=test",
                "-c",
                "commit.gpgsign=false",
                *args,
            ],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def write(self, files: Mapping[str, str | bytes]) -> None:
        write_tree(self.root, files)

    def remove(self, *paths: str) -> None:
        for path in paths:
            target = self.root / path
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def status(self) -> str:
        return self.git("status", "--porcelain", "--ignored")


@pytest.fixture
def git_repo(tmp_path: Path) -> Callable[..., GitRepo]:
    """``git_repo(files)``: a repository with ``files`` committed on main."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")

    def make(files: Mapping[str, str | bytes] | None = None) -> GitRepo:
        repo = GitRepo(tmp_path / "repo")
        repo.write(base_files() if files is None else files)
        repo.commit("initial")
        return repo

    (tmp_path / "repo").mkdir()
    return make
