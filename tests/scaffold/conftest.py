"""Fixtures for scaffolding tests: a repository to scaffold into and ways to look at it.

The repository is a copy of the reference cluster (kubernetes/, talos/, bootstrap/ and
.homelab-kit.yaml of this project) when it exists, else a small tree with the same
conventions.  Tests never write to the project itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from homelab_kit.testing import lint_path, write_tree
from tests.conftest import PROJECT_ROOT

REFERENCE_PARTS = ("kubernetes", "talos", "bootstrap", ".homelab-kit.yaml")

KS = """\
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata:
      name: &app {name}
      namespace: &namespace {namespace}
    spec:
      commonMetadata:
        labels:
          app.kubernetes.io/name: *app
      interval: 1h
      path: ./kubernetes/apps/{namespace}/{name}/app
      prune: true
      retryInterval: 2m
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
      targetNamespace: *namespace
      timeout: 5m
      wait: true
    """

MINIMAL: dict[str, str] = {
    "kubernetes/flux/cluster/ks.yaml": """\
        ---
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
            namespace: flux-system
          wait: false
        """,
    "kubernetes/components/common/kustomization.yaml": """\
        ---
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        resources:
          - ./namespace.yaml
        """,
    "kubernetes/components/common/namespace.yaml": """\
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: not-used
          annotations:
            kustomize.toolkit.fluxcd.io/prune: disabled
        """,
    "kubernetes/apps/kustomization.yaml": """\
        ---
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./default
          - ./infisical-system
        """,
    "kubernetes/apps/infisical-system/kustomization.yaml": """\
        ---
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        namespace: infisical-system
        components:
          - ../../components/common
        resources:
          - ./infisical-secrets-operator/ks.yaml
        """,
    "kubernetes/apps/infisical-system/infisical-secrets-operator/ks.yaml": KS.format(
        name="infisical-secrets-operator", namespace="infisical-system"
    ),
    "kubernetes/apps/infisical-system/infisical-secrets-operator/app/kustomization.yaml": """\
        ---
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources: []
        """,
    "kubernetes/apps/default/kustomization.yaml": """\
        ---
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        namespace: default
        components:
          - ../../components/common
        resources:
          - ./secrets/ks.yaml
        """,
    "kubernetes/apps/default/secrets/ks.yaml": KS.format(
        name="secrets", namespace="default"
    ).replace("default/secrets/app", "default/secrets"),
    "kubernetes/apps/default/secrets/kustomization.yaml": """\
        ---
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources: []
        """,
}


def make_repo(dest: Path) -> Path:
    """A repository at ``dest``: the reference cluster's files, else :data:`MINIMAL`."""
    dest.mkdir(parents=True, exist_ok=True)
    if (PROJECT_ROOT / "kubernetes" / "apps").is_dir():
        for part in REFERENCE_PARTS:
            source = PROJECT_ROOT / part
            if source.is_dir():
                shutil.copytree(source, dest / part, symlinks=True)
            elif source.is_file():
                shutil.copy2(source, dest / part)
    else:
        write_tree(dest, MINIMAL)
    return dest


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh copy of the repository to scaffold into."""
    return make_repo(tmp_path / "repo")


def snapshot(root: Path) -> dict[str, tuple[str, object, int]]:
    """Every file, folder and link under ``root``: kind, content (or target) and mode."""
    state: dict[str, tuple[str, object, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if path.is_symlink():
                state[rel] = ("link", os.readlink(path), 0)
            elif path.is_dir():
                state[rel] = ("dir", None, st.st_mode)
            else:
                state[rel] = ("file", path.read_bytes(), st.st_mode)
    return state


def lint_keys(root: Path) -> Counter[tuple[str, str]]:
    """Findings as ``(path, check)`` counts: comparable across edits that move lines.

    (A message may name other objects, like the Kustomizations that depend on one,
    so it changes when an app is added; a new finding still raises a count.)
    """
    return Counter((d.location.path, d.check_id) for d in lint_path(root).diagnostics)


def kustomize(directory: Path) -> str:
    """``kubectl kustomize --load-restrictor LoadRestrictionsNone DIR``; fails the test on error."""
    done = subprocess.run(
        ["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, f"kustomize {directory} failed:\n{done.stderr}"
    return done.stdout


HAVE_KUBECTL = shutil.which("kubectl") is not None
