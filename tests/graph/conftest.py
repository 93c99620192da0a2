"""Small repositories for the graph, secrets and report tests.

``cyclic_repo``: namespace ``apps`` where a -> b -> c -> a depend on each other in a
cycle, ``d`` depends on ``ghost`` (declared nowhere) and ``e`` on ``infra/base``;
each app deploys a HelmRelease, and HelmRelease ``d`` depends on the missing
HelmRelease ``phantom``.

``secrets_repo``: namespace ``media`` with the conventions' ``secrets`` folder:
an app-scoped InfisicalSecret read by sonarr, a project-root recursive one read
by radarr (over-broad), one nothing reads (unused), a Secret sonarr reads that
nothing creates (missing producer), plus planted secret values that no output
may ever show.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from homelab_kit.testing import write_tree

PLANTED = (
    "PLANTED-plaintext-4f1c9e",
    "PLANTED-env-value-77ab31",
    "PLANTED-sops-cipher-0d5e2a",
    "PLANTED-values-token-9c2b6d",
)


def ks(
    name: str,
    namespace: str,
    path: str,
    depends: tuple[tuple[str, str | None], ...] = (),
    extra: str = "",
) -> str:
    """A Flux Kustomization; ``depends`` are ``(name, namespace or None)``."""
    lines = [
        "apiVersion: kustomize.toolkit.fluxcd.io/v1",
        "kind: Kustomization",
        "metadata:",
        f"  name: {name}",
        f"  namespace: {namespace}",
        "spec:",
        "  interval: 1h",
        f"  path: {path}",
        "  prune: true",
        *([f"  targetNamespace: {namespace}"] if namespace != "flux-system" else []),
        "  sourceRef:",
        "    kind: GitRepository",
        "    name: flux-system",
        "    namespace: flux-system",
    ]
    if depends:
        lines.append("  dependsOn:")
        for dep, dep_ns in depends:
            lines.append(f"    - name: {dep}")
            if dep_ns:
                lines.append(f"      namespace: {dep_ns}")
    return "\n".join(lines) + "\n" + textwrap.dedent(extra)


def helm_release(name: str, depends: tuple[str, ...] = (), values: str = "") -> str:
    """A HelmRelease with a chartRef; ``depends`` are names in its own namespace."""
    text = f"""\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: {name}
"""
    if depends:
        text += "  dependsOn:\n" + "".join(f"    - name: {d}\n" for d in depends)
    if values:
        text += "  values:\n" + textwrap.indent(textwrap.dedent(values), "    ")
    return text


def namespace_kustomization(namespace: str, apps: tuple[str, ...]) -> str:
    """kubernetes/apps/<namespace>/kustomization.yaml listing the apps' ks.yaml."""
    resources = "".join(f"  - ./{a}/ks.yaml\n" for a in apps)
    return (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"namespace: {namespace}\nresources:\n{resources}"
    )


def app_files(
    namespace: str,
    app: str,
    depends: tuple[tuple[str, str | None], ...] = (),
    hr_depends: tuple[str, ...] = (),
) -> dict[str, str]:
    """An app folder: ks.yaml, app/kustomization.yaml and a HelmRelease."""
    base = f"kubernetes/apps/{namespace}/{app}"
    return {
        f"{base}/ks.yaml": ks(app, namespace, f"./{base}/app", depends),
        f"{base}/app/kustomization.yaml": "resources:\n  - ./helmrelease.yaml\n",
        f"{base}/app/helmrelease.yaml": helm_release(app, hr_depends),
    }


def cyclic_tree() -> dict[str, str]:
    """The files of ``cyclic_repo``."""
    tree: dict[str, str] = {
        "kubernetes/flux/cluster/ks.yaml": ks("cluster-apps", "flux-system", "./kubernetes/apps"),
        "kubernetes/apps/kustomization.yaml": "resources:\n  - ./apps\n  - ./infra\n",
        "kubernetes/apps/apps/kustomization.yaml": namespace_kustomization(
            "apps", ("a", "b", "c", "d", "e")
        ),
        "kubernetes/apps/infra/kustomization.yaml": namespace_kustomization("infra", ("base",)),
    }
    tree.update(app_files("apps", "a", (("b", None),)))
    tree.update(app_files("apps", "b", (("c", None),)))
    tree.update(app_files("apps", "c", (("a", None),)))
    tree.update(app_files("apps", "d", (("ghost", None),), hr_depends=("phantom",)))
    tree.update(app_files("apps", "e", (("base", "infra"),), hr_depends=("d",)))
    tree.update(app_files("infra", "base"))
    return tree


@pytest.fixture
def cyclic_repo(tmp_path: Path) -> Path:
    """A repository with a dependency cycle and dangling dependencies."""
    return write_tree(tmp_path / "cyclic", cyclic_tree())


INFISICAL = """\
apiVersion: secrets.infisical.com/v1alpha1
kind: InfisicalSecret
metadata:
  name: {name}
spec:
  hostAPI: https://app.infisical.com/api
  authentication:
    universalAuth:
      secretsScope:
        projectSlug: homelab
        envSlug: prod
        secretsPath: {path}
{recursive}      credentialsRef:
        secretName: universal-auth-credentials
        secretNamespace: infisical-system
  managedSecretReference:
    secretName: {secret}
    secretType: Opaque
"""


def infisical(name: str, path: str, secret: str, recursive: bool = False) -> str:
    """An InfisicalSecret reading ``path`` into Secret ``secret``."""
    flag = "        recursive: true\n" if recursive else ""
    return INFISICAL.format(name=name, path=path, secret=secret, recursive=flag)


SONARR_DEPLOYMENT = f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: sonarr
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/home-operations/sonarr:4.0.15
          envFrom:
            - secretRef:
                name: sonarr-secret
          env:
            - name: DB_PASSWORD
              value: {PLANTED[1]}
            - name: API_KEY
              valueFrom:
                secretKeyRef:
                  name: missing-secret
                  key: api-key
"""

RADARR_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: radarr
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/home-operations/radarr:5.27.5
          volumeMounts:
            - name: all
              mountPath: /secrets
      volumes:
        - name: all
          secret:
            secretName: everything
"""

PLAIN_SECRET = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: sonarr-extra
stringData:
  EXTRA_TOKEN: {PLANTED[0]}
"""

SOPS_SECRET = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: {{name}}
  namespace: {{namespace}}
stringData:
  {{key}}: ENC[AES256_GCM,data:{PLANTED[2]},iv:BBBB,tag:CCCC,type:str]
sops:
  age:
    - recipient: age1example
  lastmodified: "2025-01-01T00:00:00Z"
  mac: ENC[AES256_GCM,data:DDDD,type:str]
"""


def secrets_tree() -> dict[str, str]:
    """The files of ``secrets_repo``."""
    media = "kubernetes/apps/media"
    return {
        "kubernetes/flux/cluster/ks.yaml": ks("cluster-apps", "flux-system", "./kubernetes/apps"),
        "kubernetes/apps/kustomization.yaml": "resources:\n  - ./media\n",
        f"{media}/kustomization.yaml": namespace_kustomization(
            "media", ("secrets", "sonarr", "radarr", "jellyfin")
        ),
        f"{media}/secrets/ks.yaml": ks("secrets", "media", f"./{media}/secrets"),
        f"{media}/secrets/kustomization.yaml": (
            "resources:\n  - ./sonarr-secrets.yaml\n  - ./everything-secrets.yaml\n"
            "  - ./lidarr-secrets.yaml\n"
        ),
        f"{media}/secrets/sonarr-secrets.yaml": infisical(
            "sonarr-secrets", "/sonarr", "sonarr-secret"
        ),
        f"{media}/secrets/everything-secrets.yaml": infisical(
            "everything-secrets", "/", "everything", recursive=True
        ),
        f"{media}/secrets/lidarr-secrets.yaml": infisical(
            "lidarr-secrets", "/lidarr", "lidarr-secret"
        ),
        f"{media}/sonarr/ks.yaml": ks(
            "sonarr", "media", f"./{media}/sonarr/app", (("secrets", None),)
        ),
        f"{media}/sonarr/app/kustomization.yaml": (
            "resources:\n  - ./deployment.yaml\n  - ./secret.yaml\n"
        ),
        f"{media}/sonarr/app/deployment.yaml": SONARR_DEPLOYMENT,
        f"{media}/sonarr/app/secret.yaml": PLAIN_SECRET,
        f"{media}/radarr/ks.yaml": ks(
            "radarr", "media", f"./{media}/radarr/app", (("secrets", None),)
        ),
        f"{media}/radarr/app/kustomization.yaml": "resources:\n  - ./deployment.yaml\n",
        f"{media}/radarr/app/deployment.yaml": RADARR_DEPLOYMENT,
        f"{media}/jellyfin/ks.yaml": ks("jellyfin", "media", f"./{media}/jellyfin/app"),
        f"{media}/jellyfin/app/kustomization.yaml": "resources:\n  - ./helmrelease.yaml\n",
        f"{media}/jellyfin/app/helmrelease.yaml": helm_release(
            "jellyfin", values=f"env:\n  JELLYFIN_TOKEN: {PLANTED[3]}\n"
        ),
        "bootstrap/infisical-credentials.sops.yaml": SOPS_SECRET.format(
            name="universal-auth-credentials", namespace="infisical-system", key="clientId"
        ),
    }


@pytest.fixture
def secrets_repo(tmp_path: Path) -> Path:
    """A repository with every secrets-map flag and planted secret values."""
    return write_tree(tmp_path / "secrets", secrets_tree())


# ------------------------------------------------------------ headless Chromium

Browse = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium: found, installed with apt-get where possible, or skipped."""
    from .test_html_report import ensure_chromium

    found, reason = ensure_chromium()
    if found is None:
        pytest.skip(reason)
    return found


@pytest.fixture
def browse(chromium: str, tmp_path: Path) -> Browse:
    """Run headless Chromium on a page with extra arguments; returns the process."""

    def run_browser(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            *args,
            page.resolve().as_uri(),
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    return run_browser
