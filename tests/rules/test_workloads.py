"""The workloads pack: image tags, resources, probes and security context."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab_kit.testing import LintTree, YamlTree

DEPLOY = "kubernetes/apps/media/echo/app/deployment.yaml"
HR = "kubernetes/apps/media/sonarr/app/helmrelease.yaml"

GOOD_DEPLOYMENT = """
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
  namespace: media
spec:
  template:
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
      containers:
        - name: app
          image: ghcr.io/mendhak/http-https-echo:37
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
          resources:
            requests:
              cpu: 10m
            limits:
              memory: 64Mi
          livenessProbe:
            httpGet: {path: /, port: 8080}
          readinessProbe:
            httpGet: {path: /, port: 8080}
"""

BAD_DEPLOYMENT = """
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
  namespace: media
spec:
  template:
    spec:
      hostNetwork: true
      initContainers:
        - name: chown
          image: busybox:1.37
          securityContext:
            runAsUser: 0
      containers:
        - name: app
          image: ghcr.io/mendhak/http-https-echo
          securityContext:
            privileged: true
          resources:
            requests:
              memory: 64Mi
        - name: sidecar
          image: ghcr.io/example/sidecar:latest
          securityContext:
            runAsUser: 0
            allowPrivilegeEscalation: true
          resources:
            limits:
              cpu: 100m
              memory: 64Mi
          livenessProbe:
            exec: {command: [true]}
      volumes:
        - name: host
          hostPath:
            path: /var/lib/echo
"""

BAD_APP_TEMPLATE = """
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: sonarr
  namespace: media
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: sonarr
  values:
    controllers:
      sonarr:
        containers:
          app:
            image:
              repository: ghcr.io/home-operations/sonarr
              tag: latest
            probes:
              liveness:
                enabled: false
      backup:
        type: cronjob
        containers:
          app:
            image:
              repository: ghcr.io/example/backup
              tag: 1.0.0
            resources:
              requests: {cpu: 10m}
              limits: {memory: 64Mi}
            securityContext:
              runAsNonRoot: true
              readOnlyRootFilesystem: true
    sidecar:
      image: ghcr.io/example/exporter:latest
    chartImage:
      repository: ghcr.io/example/chart-default
"""

ALL = [
    "workload-image-tag",
    "workload-resources",
    "workload-probes",
    "workload-non-root",
    "workload-privileged",
    "workload-privilege-escalation",
    "workload-host-access",
    "workload-read-only-root-fs",
]


def test_a_well_configured_deployment_passes(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({DEPLOY: GOOD_DEPLOYMENT})
    assert lint_tree(select=ALL) == []


def test_deployment_findings(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({DEPLOY: BAD_DEPLOYMENT})
    assert lint_tree(select=ALL) == [
        (DEPLOY, 10, "workload-host-access"),
        (DEPLOY, 17, "workload-probes"),
        (DEPLOY, 18, "workload-image-tag"),
        (DEPLOY, 20, "workload-non-root"),
        (DEPLOY, 20, "workload-privileged"),
        (DEPLOY, 20, "workload-read-only-root-fs"),
        (DEPLOY, 22, "workload-resources"),
        (DEPLOY, 24, "workload-probes"),
        (DEPLOY, 25, "workload-image-tag"),
        (DEPLOY, 27, "workload-non-root"),
        (DEPLOY, 27, "workload-read-only-root-fs"),
        (DEPLOY, 28, "workload-privilege-escalation"),  # at allowPrivilegeEscalation
    ]


def test_app_template_values(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({HR: BAD_APP_TEMPLATE})
    assert lint_tree(select=ALL) == [
        (HR, 17, "workload-non-root"),
        (HR, 17, "workload-probes"),
        (HR, 17, "workload-read-only-root-fs"),
        (HR, 17, "workload-resources"),
        (HR, 19, "workload-image-tag"),
        (HR, 37, "workload-image-tag"),
    ]


def test_exemptions_are_configurable(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            ".homelab-kit.yaml": """
            checks:
              workload-privileged:
                exempt-namespaces: [media]
              workload-host-access:
                exempt-workloads: [media/echo]
              workload-non-root:
                exempt-workloads: ["ech*"]
            """,
            DEPLOY: BAD_DEPLOYMENT,
        }
    )
    ids = ["workload-privileged", "workload-host-access", "workload-non-root"]
    assert lint_tree(select=ids) == []


def test_kube_system_is_exempt_by_default(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({DEPLOY: BAD_DEPLOYMENT.replace("namespace: media", "namespace: kube-system")})
    ids = ["workload-privileged", "workload-host-access", "workload-non-root"]
    assert lint_tree(select=ids) == []


def test_init_container_resources_and_digests_on_request(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(
        {
            ".homelab-kit.yaml": """
            checks:
              workload-resources:
                include-init-containers: true
              workload-image-tag:
                require-digest: true
              workload-privilege-escalation:
                require-explicit-false: true
            """,
            DEPLOY: GOOD_DEPLOYMENT.replace("      containers:", INIT + "      containers:"),
        }
    )
    ids = ["workload-resources", "workload-image-tag", "workload-privilege-escalation"]
    assert lint_tree(select=ids) == [
        (DEPLOY, 14, "workload-privilege-escalation"),
        (DEPLOY, 14, "workload-resources"),
        (DEPLOY, 18, "workload-image-tag"),
    ]


INIT = """\
      initContainers:
        - name: init
          image: busybox:1.37@sha256:\
0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
"""


GOOD_APP_TEMPLATE = """
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: sonarr
  namespace: media
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: sonarr
  values:
    defaultPodOptions:
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
    controllers:
      sonarr:
        containers:
          app:
            image:
              repository: ghcr.io/home-operations/sonarr
              tag: 4.0.15@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
            resources:
              requests: {cpu: 10m}
              limits: {memory: 1Gi}
            securityContext:
              allowPrivilegeEscalation: false
              readOnlyRootFilesystem: true
    chartImage:
      repository: ghcr.io/example/chart-default
"""


def test_a_well_configured_app_template_release_passes(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree({HR: GOOD_APP_TEMPLATE})
    assert lint_tree(select=ALL) == []


# ------------------------------------------- app-template pod options (issue 16)


def _line(root: Path, path: str, text: str, after: str = "") -> int:
    """1-based line of the block mapping under the first ``text`` in ``path``.

    Findings on a mapping point at its first key, the line after ``text``.
    """
    lines = (root / path).read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and text in line) + 2


def _values(extra: str, where: str = "    defaultPodOptions:\n") -> str:
    assert where in GOOD_APP_TEMPLATE
    return GOOD_APP_TEMPLATE.replace(where, where + extra, 1)


@pytest.mark.parametrize("field", ["hostNetwork", "hostPID", "hostIPC"])
def test_default_pod_options_share_host_namespaces(
    yaml_tree: YamlTree, lint_tree: LintTree, field: str
) -> None:
    root = yaml_tree({HR: _values(f"      {field}: true\n")})
    line = _line(root, HR, "defaultPodOptions:")  # reported at the field that sets it
    assert lint_tree(select=ALL) == [(HR, line, "workload-host-access")]


def test_a_controller_pod_overrides_default_pod_options(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    text = _values("      hostNetwork: true\n").replace(
        "      sonarr:\n", "      sonarr:\n        pod:\n          hostNetwork: false\n", 1
    )
    yaml_tree({HR: text})
    assert lint_tree(select=ALL) == []


PERSISTENCE = """\
    persistence:
      media:
        type: hostPath
        hostPath: /mnt/media
"""


def test_persistence_host_path(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    root = yaml_tree({HR: _values(PERSISTENCE, "    chartImage:\n")})
    line = _line(root, HR, "media:", after="persistence:")  # its type: hostPath
    assert lint_tree(select=ALL) == [(HR, line, "workload-host-access")]
    yaml_tree({HR: _values(PERSISTENCE + "        enabled: false\n", "    chartImage:\n")})
    assert lint_tree(select=ALL) == []
    nfs = PERSISTENCE.replace("type: hostPath", "type: nfs")
    yaml_tree({HR: _values(nfs, "    chartImage:\n")})
    assert lint_tree(select=ALL) == []


def test_host_users_false_mitigates_root(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    root_pod = GOOD_APP_TEMPLATE.replace(
        "        runAsNonRoot: true\n        runAsUser: 1000\n", ""
    )
    root = yaml_tree(
        {HR: root_pod.replace("      securityContext:\n", "      securityContext: {}\n", 1)}
    )
    line = _line(root, HR, "securityContext:", after="app:")
    assert lint_tree(select=["workload-non-root"]) == [(HR, line, "workload-non-root")]
    mitigated = root_pod.replace(
        "    defaultPodOptions:\n", "    defaultPodOptions:\n      hostUsers: false\n"
    )
    yaml_tree({HR: mitigated.replace("      securityContext:\n", "      securityContext: {}\n", 1)})
    assert lint_tree(select=["workload-non-root"]) == []


SIDECAR = """\
        initContainers:
          exporter:
            image:
              repository: ghcr.io/example/exporter
              tag: 1.0.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
            securityContext:
              allowPrivilegeEscalation: false
              readOnlyRootFilesystem: true
"""


def test_init_container_with_restart_policy_always_is_a_sidecar(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    where = "      sonarr:\n"
    yaml_tree({HR: GOOD_APP_TEMPLATE.replace(where, where + SIDECAR, 1)})
    assert lint_tree(select=ALL) == []  # a plain init container: no probes, no resources
    sidecar = SIDECAR + "            restartPolicy: Always\n"
    root = yaml_tree({HR: GOOD_APP_TEMPLATE.replace(where, where + sidecar, 1)})
    line = _line(root, HR, "exporter:")
    # app-template's default liveness and readiness probes count for it, as for
    # any container; its missing resources now matter.
    assert lint_tree(select=ALL) == [(HR, line, "workload-resources")]


def test_native_sidecar_in_a_manifest(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    sidecar = (
        "      initContainers:\n"
        "        - name: proxy\n"
        "          image: ghcr.io/example/proxy:1.0\n"
        "          restartPolicy: Always\n"
        "          securityContext:\n"
        "            allowPrivilegeEscalation: false\n"
        "            readOnlyRootFilesystem: true\n"
    )
    deployment = GOOD_DEPLOYMENT.replace("      containers:\n", sidecar + "      containers:\n", 1)
    root = yaml_tree({DEPLOY: deployment})
    line = _line(root, DEPLOY, "- name: proxy") - 1  # the list item's first key
    found = lint_tree(select=["workload-probes", "workload-resources"])
    assert sorted(check for _, _, check in found) == ["workload-probes", "workload-resources"]
    assert all(path == DEPLOY and line - 1 <= at <= line + 6 for path, at, _ in found)
    yaml_tree({DEPLOY: deployment.replace("          restartPolicy: Always\n", "")})
    assert lint_tree(select=["workload-probes", "workload-resources"]) == []


# --------------------------------------------------------------------------- as Flux applies it

UNTAGGED = """
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  selector:
    matchLabels:
      app: echo
  template:
    metadata:
      labels:
        app: echo
    spec:
      containers:
        - name: echo
          image: ghcr.io/mendhak/http-https-echo
"""


def _deployed(kustomization: str) -> dict[str, str]:
    app = "kubernetes/apps/default/echo"
    return {
        f"{app}/ks.yaml": f"""
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata:
              name: echo
              namespace: default
            spec:
              interval: 1h
              path: ./{app}/app
              prune: true
              sourceRef:
                kind: GitRepository
                name: flux-system
                namespace: flux-system
        """,
        f"{app}/app/deployment.yaml": UNTAGGED,
        f"{app}/app/kustomization.yaml": kustomization,
    }


def test_an_image_kustomize_pins_is_pinned(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    """A kustomization's images: entry sets the tag the cluster runs."""
    images = "images:\n  - name: ghcr.io/mendhak/http-https-echo\n    newTag: '{}'\n"
    resources = "resources:\n  - ./deployment.yaml\n"
    yaml_tree(_deployed(resources + images.format("37")))
    assert lint_tree(select=["workload-image-tag"]) == []
    # A mutable tag the entry sets is reported at the entry.
    yaml_tree(_deployed(resources + images.format("latest")))
    assert lint_tree(select=["workload-image-tag"]) == [
        ("kubernetes/apps/default/echo/app/kustomization.yaml", 4, "workload-image-tag")
    ]
    # Without the entry the written image runs latest.
    yaml_tree(_deployed(resources))
    assert lint_tree(select=["workload-image-tag"]) == [
        ("kubernetes/apps/default/echo/app/deployment.yaml", 17, "workload-image-tag")
    ]
