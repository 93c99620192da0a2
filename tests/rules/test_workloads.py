"""The workloads pack: image tags, resources, probes and security context."""

from __future__ import annotations

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
