"""Generate a synthetic homelab repository in the guide's layout, at any size.

    python benchmarks/generate.py OUT --namespaces 50 --apps 20 --seed 1

The output starts from the reference cluster (kubernetes/, talos/, bootstrap/) and
adds N namespaces x M apps modelled on its media apps: ks.yaml, a HelmRelease with
its co-located OCIRepository, values through a generated ConfigMap, an HTTPRoute
and a PVC, raw Deployment + Service manifests for every third app, and namespace
secrets (an InfisicalSecret per app that needs one).  The same seed always gives
the same files.  The result lints clean, so a benchmark measures the work of
checking, not of reporting.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
TEMPLATE_NS = "media"
TEMPLATE_APP = "sonarr"
IMAGES = [
    ("ghcr.io/home-operations/sonarr", "4.0.15.2941"),
    ("ghcr.io/home-operations/radarr", "5.27.5.10198"),
    ("ghcr.io/home-operations/prowlarr", "2.0.5.5160"),
    ("ghcr.io/home-operations/bazarr", "1.5.3"),
    ("ghcr.io/home-operations/qbittorrent", "5.1.2"),
]

DEPLOYMENT = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}-sidecar
  labels:
    app.kubernetes.io/name: {app}-sidecar
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}-sidecar
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}-sidecar
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        runAsGroup: 1000
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: exporter
          image: {image}:{tag}
          ports:
            - name: metrics
              containerPort: 9707
          livenessProbe:
            httpGet:
              path: /healthz
              port: metrics
          readinessProbe:
            httpGet:
              path: /healthz
              port: metrics
          resources:
            requests:
              cpu: 10m
              memory: 32Mi
            limits:
              memory: 64Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop:
                - ALL
---
apiVersion: v1
kind: Service
metadata:
  name: {app}-sidecar
spec:
  selector:
    app.kubernetes.io/name: {app}-sidecar
  ports:
    - name: metrics
      port: 9707
      targetPort: metrics
"""


def _rename(text: str, namespace: str, app: str) -> str:
    return (
        text.replace(TEMPLATE_APP, app)
        .replace(f"namespace: {TEMPLATE_NS}", f"namespace: {namespace}")
        .replace(f"Namespace: {TEMPLATE_NS}", f"Namespace: {namespace}")
        .replace(f"/apps/{TEMPLATE_NS}/", f"/apps/{namespace}/")
        .replace(f"&namespace {TEMPLATE_NS}", f"&namespace {namespace}")
    )


def generate(out: Path, namespaces: int, apps: int, seed: int = 1) -> int:
    """Write the repository into ``out`` (emptied first); returns the YAML file count."""
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    for folder in ("kubernetes", "talos", "bootstrap"):
        shutil.copytree(PROJECT / folder, out / folder)
    shutil.copy2(PROJECT / ".homelab-kit.yaml", out / ".homelab-kit.yaml")
    apps_root = out / "kubernetes" / "apps"
    template = PROJECT / "kubernetes" / "apps" / TEMPLATE_NS / TEMPLATE_APP
    secret_template = (
        PROJECT / "kubernetes" / "apps" / TEMPLATE_NS / "secrets" / f"{TEMPLATE_APP}-secrets.yaml"
    ).read_text()
    secrets_ks = (PROJECT / "kubernetes" / "apps" / TEMPLATE_NS / "secrets" / "ks.yaml").read_text()
    ns_names = []
    for n in range(namespaces):
        namespace = f"bench{n:03d}"
        ns_names.append(namespace)
        ns_dir = apps_root / namespace
        listed = ["./secrets/ks.yaml"]
        secret_files = []
        for m in range(apps):
            app = f"app{n:03d}x{m:03d}"
            app_dir = ns_dir / app
            for src in template.rglob("*.yaml"):
                dest = app_dir / src.relative_to(template)
                dest.parent.mkdir(parents=True, exist_ok=True)
                text = _rename(src.read_text(), namespace, app)
                image, tag = rng.choice(IMAGES)
                text = text.replace("ghcr.io/home-operations/sonarr", image).replace(
                    "4.0.15.2941", tag
                )
                dest.write_text(text)
            if m % 3 == 0:
                image, tag = rng.choice(IMAGES)
                (app_dir / "app" / "sidecar.yaml").write_text(
                    DEPLOYMENT.format(app=app, image=image, tag=tag)
                )
                kfile = app_dir / "app" / "kustomization.yaml"
                kfile.write_text(
                    kfile.read_text().replace(
                        "  - ./pvc.yaml\n", "  - ./pvc.yaml\n  - ./sidecar.yaml\n"
                    )
                )
            secret_name = f"{app}-secrets.yaml"
            (ns_dir / "secrets").mkdir(parents=True, exist_ok=True)
            (ns_dir / "secrets" / secret_name).write_text(_rename(secret_template, namespace, app))
            secret_files.append(secret_name)
            listed.append(f"./{app}/ks.yaml")
        (ns_dir / "secrets" / "ks.yaml").write_text(_rename(secrets_ks, namespace, "secrets"))
        (ns_dir / "secrets" / "kustomization.yaml").write_text(
            "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
            + "".join(f"  - ./{f}\n" for f in secret_files)
        )
        (ns_dir / "kustomization.yaml").write_text(
            "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            f"namespace: {namespace}\ncomponents:\n  - ../../components/common\nresources:\n"
            + "".join(f"  - {p}\n" for p in listed)
        )
    top = apps_root / "kustomization.yaml"
    top.write_text(top.read_text() + "".join(f"  - ./{ns}\n" for ns in ns_names))
    return sum(1 for _ in out.rglob("*.yaml"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--namespaces", type=int, default=50)
    parser.add_argument("--apps", type=int, default=20, help="apps per namespace")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    count = generate(args.out, args.namespaces, args.apps, args.seed)
    print(f"{args.out}: {args.namespaces * args.apps} apps, {count} YAML files")


if __name__ == "__main__":
    main()
