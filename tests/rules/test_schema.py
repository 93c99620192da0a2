"""The schema pack: strict validation of objects, kustomization.yaml files and patches."""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest

from homelab_kit.diagnostic import Severity
from homelab_kit.lint import LintResult
from homelab_kit.testing import LintTree, YamlTree, lint_path

IDS = ["schema-invalid", "schema-missing"]
APP = "kubernetes/apps/default/echo"
MANIFEST = f"{APP}/app/manifest.yaml"


def _seen(result: LintResult) -> list[tuple[str, int, int, str, str]]:
    """``(path, line, column, check_id, message)`` of every finding."""
    return [
        (d.location.path, d.location.line, d.location.column, d.check_id, d.message)
        for d in result.diagnostics
    ]


def ks(name: str, path: str, extra: str = "", namespace: str = "default") -> str:
    """A valid Flux Kustomization; ``extra`` is appended to its spec (indented by 2)."""
    return f"""
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: {namespace}
spec:
  interval: 1h
  path: {path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
{extra}"""


def deployment(replicas: str = "2") -> str:
    return f"""
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  replicas: {replicas}
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
          image: ghcr.io/mendhak/http-https-echo:37
"""


# --------------------------------------------------------------------------- bad manifests

BAD: dict[str, tuple[str, list[tuple[int, int, str]]]] = {
    "deployment": (
        """
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: echo
        spec:
          replica: 2
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
                  image: ghcr.io/mendhak/http-https-echo:37
                  ports:
                    - containerPort: http
                - image: busybox:1.36
        """,
        [
            (7, 3, "Deployment echo: unknown field 'spec.replica' (did you mean 'replicas'?)"),
            (
                20,
                30,
                "Deployment echo: spec.template.spec.containers[0].ports[0].containerPort: "
                "expected integer, got string 'http'",
            ),
            (
                21,
                11,
                "Deployment echo: spec.template.spec.containers[1]: missing required field 'name'",
            ),
        ],
    ),
    "service": (
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: echo
          namspace: default
        spec:
          ports:
            - port: "80"
        """,
        [
            (
                5,
                3,
                "Service echo: unknown field 'metadata.namspace' (did you mean 'namespace'?)",
            ),
            (8, 13, "Service echo: spec.ports[0].port: expected integer, got string '80'"),
        ],
    ),
    "flux-kustomization": (
        """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: echo
        spec:
          interval: 5
          prunee: true
          path: ./kubernetes/apps/default/echo/app
          sourceRef:
            kind: Git
        """,
        [
            (5, 1, "Kustomization echo: spec: missing required field 'prune'"),
            (6, 13, "Kustomization echo: spec.interval: expected string, got integer 5"),
            (
                7,
                3,
                "Kustomization echo: unknown field 'spec.prunee' (did you mean 'prune'?)",
            ),
            (9, 3, "Kustomization echo: spec.sourceRef: missing required field 'name'"),
            (
                10,
                11,
                "Kustomization echo: spec.sourceRef.kind: must be one of OCIRepository, "
                "GitRepository, Bucket, ExternalArtifact; got 'Git'",
            ),
        ],
    ),
    "helmrelease": (
        """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata:
          name: echo
        spec:
          interval: 1h
          chartRef:
            kind: OCIRepo
            name: echo
          install:
            remediation:
              retries: three
        """,
        [
            (
                8,
                11,
                "HelmRelease echo: spec.chartRef.kind: must be one of OCIRepository, "
                "HelmChart, ExternalArtifact; got 'OCIRepo'",
            ),
            (
                12,
                16,
                "HelmRelease echo: spec.install.remediation.retries: "
                "expected integer, got string 'three'",
            ),
        ],
    ),
    "removed-apiversion-and-misspelt-kind": (
        """
        ---
        apiVersion: policy/v1beta1
        kind: PodSecurityPolicy
        metadata:
          name: restricted
        ---
        apiVersion: apps/v1
        kind: Deploymnet
        metadata:
          name: echo
        """,
        [
            (
                3,
                7,
                "PodSecurityPolicy restricted: no schema for PodSecurityPolicy "
                "(policy/v1beta1): Kubernetes 1.33 does not serve it",
            ),
            (
                8,
                7,
                "Deploymnet echo: no schema for Deploymnet (apps/v1): "
                "Kubernetes 1.33 does not serve it",
            ),
        ],
    ),
    "infisical-secret": (
        """
        apiVersion: secrets.infisical.com/v1alpha1
        kind: InfisicalSecret
        metadata:
          name: echo-secrets
        spec:
          hostAPI: https://app.infisical.com/api
          resyncInterval: hourly
          authentication:
            universalAuth:
              secretsScope:
                projectSlug: homelab
                envSlug: prod
                secretsPath: /echo
              credentialsRef:
                secretName: universal-auth-credentials
                secretNamespace: infisical-system
          managedSecretReference:
            secretName: echo-secret
            secretNamespace: default
            creationPolicy: Owner
            secretType: Opaque
            labels:
              app: echo
        """,
        [
            (7, 19, "InfisicalSecret echo-secrets: spec.resyncInterval: expected integer, "),
            (
                22,
                5,
                "InfisicalSecret echo-secrets: unknown field 'spec.managedSecretReference.labels'",
            ),
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_known_bad_manifests_are_invalid(
    case: str, yaml_tree: YamlTree, lint_tree: LintTree, tmp_path: Path
) -> None:
    text, expected = BAD[case]
    yaml_tree({MANIFEST: text})
    assert lint_tree(select=IDS) == [(MANIFEST, line, "schema-invalid") for line, _, _ in expected]
    seen = _seen(lint_path(tmp_path, select=IDS, kubernetes_version="v1.33.4"))
    assert [(line, column) for _, line, column, _, _ in seen] == [
        (line, column) for line, column, _ in expected
    ]
    for (*_, message), (_, _, prefix) in zip(seen, expected, strict=True):
        assert message.startswith(prefix)


def test_valid_manifests_pass(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            f"{APP}/ks.yaml": ks("echo", f"./{APP}/app"),
            f"{APP}/app/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                  - ./deployment.yaml
            """,
            f"{APP}/app/deployment.yaml": deployment(),
        }
    )
    assert lint_tree(select=IDS) == []


def test_a_crd_in_the_repository_validates_its_custom_resources(
    yaml_tree: YamlTree, lint_tree: LintTree, tmp_path: Path
) -> None:
    yaml_tree(
        {
            "kubernetes/crds/widget.yaml": """
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata:
                  name: widgets.example.com
                spec:
                  group: example.com
                  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
                  scope: Namespaced
                  versions:
                    - name: v1
                      served: true
                      storage: true
                      schema:
                        openAPIV3Schema:
                          type: object
                          properties:
                            spec:
                              type: object
                              required: [size]
                              properties:
                                size: {type: integer, minimum: 1}
            """,
            MANIFEST: """
                ---
                apiVersion: example.com/v1
                kind: Widget
                metadata:
                  name: small
                  namspace: default
                spec:
                  size: 0
                ---
                apiVersion: example.com/v1
                kind: Widget
                metadata:
                  name: fine
                spec:
                  size: 2
            """,
        }
    )
    assert _seen(lint_path(tmp_path, select=IDS)) == [
        (
            MANIFEST,
            6,
            3,
            "schema-invalid",
            "Widget small: unknown field 'metadata.namspace' (did you mean 'namespace'?)",
        ),
        (MANIFEST, 8, 9, "schema-invalid", "Widget small: spec.size: must be at least 1, got 0"),
    ]


def test_the_crds_folder_of_a_chart_in_the_repository_gives_its_kinds_a_schema(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    """A vendored Helm chart's crds/ files are plain YAML (Helm never templates them): read."""
    chart = f"{APP}/app/chart"
    yaml_tree(
        {
            f"{chart}/Chart.yaml": "apiVersion: v2\nname: gadgets\nversion: 1.0.0\n",
            f"{chart}/templates/gadget.yaml": "apiVersion: example.com/v1\nkind: Gadget\n{{ x }}\n",
            f"{chart}/crds/gadgets.yaml": """
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata:
                  name: gadgets.example.com
                spec:
                  group: example.com
                  names: {kind: Gadget, plural: gadgets}
                  scope: Namespaced
                  versions:
                    - name: v1
                      served: true
                      storage: true
                      schema:
                        openAPIV3Schema:
                          type: object
                          properties:
                            spec:
                              type: object
                              properties:
                                colour: {type: string, enum: [red, blue]}
            """,
            MANIFEST: """
                apiVersion: example.com/v1
                kind: Gadget
                metadata:
                  name: shiny
                spec:
                  colour: green
            """,
        }
    )
    assert _seen(lint_path(tmp_path, select=IDS)) == [
        (
            MANIFEST,
            6,
            11,
            "schema-invalid",
            "Gadget shiny: spec.colour: must be one of red, blue; got 'green'",
        )
    ]


def test_a_list_is_validated_item_by_item(yaml_tree: YamlTree, tmp_path: Path) -> None:
    yaml_tree(
        {
            MANIFEST: """
                apiVersion: v1
                kind: List
                items:
                  - apiVersion: v1
                    kind: ConfigMap
                    metadata:
                      name: fine
                  - apiVersion: v1
                    kind: ConfigMap
                    metadata:
                      name: typo
                    dat:
                      a: b
            """
        }
    )
    assert _seen(lint_path(tmp_path, select=IDS)) == [
        (
            MANIFEST,
            12,
            5,
            "schema-invalid",
            "ConfigMap typo: unknown field 'dat' (did you mean 'data'?)",
        )
    ]


# --------------------------------------------------------------------------- kustomization.yaml


def test_kustomization_yaml_is_validated_against_kustomize_schema(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    yaml_tree(
        {
            f"{APP}/app/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resource:
                  - ./deployment.yaml
                namespace: 3
            """,
            f"{APP}/app/deployment.yaml": deployment(),
            # kustomize defaults a missing apiVersion and kind
            "kubernetes/apps/default/other/kustomization.yaml": """
                resources:
                  - ./config.yaml
                commonLabel:
                  app: other
            """,
            "kubernetes/apps/default/other/config.yaml": """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: other
            """,
            "kubernetes/components/common/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                resources: []
                replacements: {}
            """,
        }
    )
    assert _seen(lint_path(tmp_path, select=IDS)) == [
        (
            f"{APP}/app/kustomization.yaml",
            3,
            1,
            "schema-invalid",
            "kustomize Kustomization: unknown field 'resource' (did you mean 'resources'?)",
        ),
        (
            f"{APP}/app/kustomization.yaml",
            5,
            12,
            "schema-invalid",
            "kustomize Kustomization: namespace: expected string, got integer 3",
        ),
        (
            "kubernetes/apps/default/other/kustomization.yaml",
            3,
            1,
            "schema-invalid",
            "kustomize Kustomization: unknown field 'commonLabel' (did you mean 'commonLabels'?)",
        ),
        (
            "kubernetes/components/common/kustomization.yaml",
            4,
            15,
            "schema-invalid",
            "kustomize Component: replacements: expected array, got a mapping",
        ),
    ]


# --------------------------------------------------------------------------- patches

KFILE_WITH_PATCH = """
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../../../base/echo
patches:
  - path: ./patch.yaml
    target:
      kind: Deployment
"""


def test_patches_are_partial_objects(yaml_tree: YamlTree, tmp_path: Path) -> None:
    """Missing fields, null (delete) and $patch directives are patch syntax; typos are not."""
    yaml_tree(
        {
            "kubernetes/base/echo/kustomization.yaml": """
                resources:
                  - ./deployment.yaml
            """,
            "kubernetes/base/echo/deployment.yaml": deployment(),
            f"{APP}/app/kustomization.yaml": KFILE_WITH_PATCH,
            f"{APP}/app/patch.yaml": """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: echo
                spec:
                  replicas: null
                  template:
                    spec:
                      $setElementOrder/containers:
                        - name: echo
                      containers:
                        - name: sidecar
                          $patch: delete
                        - name: echo
                          imagePullPolicy: Always
                          resurces:
                            limits:
                              memory: 128Mi
            """,
        }
    )
    assert _seen(lint_path(tmp_path, select=IDS)) == [
        (
            f"{APP}/app/patch.yaml",
            16,
            11,
            "schema-invalid",
            "patch of Deployment echo: unknown field "
            "'spec.template.spec.containers[1].resurces' (did you mean 'resources'?)",
        )
    ]


def test_a_kind_without_schema_in_a_patch_is_reported_on_the_object_only(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(
        {
            f"{APP}/app/kustomization.yaml": """
                resources:
                  - ./widget.yaml
                patches:
                  - path: ./patch.yaml
            """,
            f"{APP}/app/widget.yaml": "apiVersion: example.com/v1\nkind: Widget\n",
            f"{APP}/app/patch.yaml": "apiVersion: example.com/v1\nkind: Widget\n",
        }
    )
    assert lint_tree(select=IDS) == [(f"{APP}/app/widget.yaml", 2, "schema-missing")]


def test_required_fields_a_parent_patch_adds_are_not_missing(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    """A child Flux Kustomization may leave sourceRef to its parent's patches."""
    child = """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: echo
          namespace: default
        spec:
          interval: 1h
          path: ./kubernetes/apps/default/echo/app
          prune: true
    """
    parent_patch = """
  patches:
    - target:
        kind: Kustomization
      patch: |-
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: _
        spec:
          sourceRef:
            kind: GitRepository
            name: flux-system
            namespace: flux-system
"""
    tree = {
        "kubernetes/flux/cluster/ks.yaml": ks(
            "cluster-apps", "./kubernetes/apps", parent_patch, "flux-system"
        ),
        "kubernetes/apps/kustomization.yaml": "resources:\n  - ./default/echo/ks.yaml\n",
        f"{APP}/ks.yaml": child,
    }
    yaml_tree(tree)
    assert lint_tree(select=IDS) == []
    yaml_tree({**tree, "kubernetes/flux/cluster/ks.yaml": ks("cluster-apps", "./kubernetes/apps")})
    assert lint_tree(select=IDS) == [(f"{APP}/ks.yaml", 6, "schema-invalid")]


# --------------------------------------------------------------------------- Flux variables

CLUSTER_SETTINGS = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster-settings
  namespace: default
data:
  REPLICAS: "{replicas}"
"""


@pytest.mark.parametrize(
    ("postbuild", "replicas_setting", "expected"),
    [
        # a known variable whose value is an integer: valid
        ("  postBuild:\n    substitute:\n      REPLICAS: '3'\n", "x", []),
        # a known variable whose value is not: invalid, where the placeholder is
        (
            "  postBuild:\n    substitute:\n      REPLICAS: three\n",
            "x",
            [
                (
                    7,
                    13,
                    "Deployment echo: spec.replicas: expected integer, got string 'three' "
                    "after substituting variables",
                )
            ],
        ),
        # from a substituteFrom ConfigMap in the repository
        (
            "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n"
            "        name: cluster-settings\n",
            "three",
            [
                (
                    7,
                    13,
                    "Deployment echo: spec.replicas: expected integer, got string 'three' "
                    "after substituting variables",
                )
            ],
        ),
        (
            "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n"
            "        name: cluster-settings\n",
            "4",
            [],
        ),
        # inline substitute wins over substituteFrom, as in Flux
        (
            "  postBuild:\n    substitute:\n      REPLICAS: '1'\n    substituteFrom:\n"
            "      - kind: ConfigMap\n        name: cluster-settings\n",
            "three",
            [],
        ),
        # unknown: from a Secret, or not defined anywhere, or no postBuild at all
        (
            "  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: settings\n",
            "three",
            [],
        ),
        ("  postBuild:\n    substitute:\n      OTHER: x\n", "three", []),
        ("", "three", []),
    ],
)
def test_flux_variables_in_an_integer_field(
    postbuild: str,
    replicas_setting: str,
    expected: list[tuple[int, int, str]],
    yaml_tree: YamlTree,
    tmp_path: Path,
) -> None:
    # The cluster deploys cluster-settings, as Flux needs it to (substituteFrom reads
    # the cluster, not the repository).
    yaml_tree(
        {
            "kubernetes/flux/cluster/ks.yaml": ks(
                "cluster-apps", "./kubernetes/apps", namespace="flux-system"
            ),
            "kubernetes/apps/kustomization.yaml": (
                "resources:\n  - ./default/settings.yaml\n  - ./default/echo/ks.yaml\n"
            ),
            f"{APP}/ks.yaml": ks("echo", f"./{APP}/app", postbuild),
            f"{APP}/app/deployment.yaml": deployment("${REPLICAS}"),
            "kubernetes/apps/default/settings.yaml": CLUSTER_SETTINGS.format(
                replicas=replicas_setting
            ),
        }
    )
    assert [
        (line, column, message)
        for _, line, column, _, message in _seen(lint_path(tmp_path, select=IDS))
    ] == expected


def test_a_default_is_substituted_and_judged(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    """With some variable defined, Flux substitutes and ``${REPLICAS:=two}`` becomes "two".

    (With none at all Flux skips substitution and applies the text as written.)
    """
    postbuild = "  postBuild:\n    substitute:\n      OTHER: x\n"
    yaml_tree(
        {
            f"{APP}/ks.yaml": ks("echo", f"./{APP}/app", postbuild),
            f"{APP}/app/deployment.yaml": deployment("${REPLICAS:=two}"),
        }
    )
    assert lint_tree(select=IDS) == [(f"{APP}/app/deployment.yaml", 7, "schema-invalid")]


def test_a_shared_file_is_judged_with_each_kustomization_s_variables(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    """A component two apps deploy with different variables: the bad one is named."""
    component = "kubernetes/components/scale"
    yaml_tree(
        {
            f"{component}/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                resources:
                  - ./deployment.yaml
            """,
            f"{component}/deployment.yaml": deployment("${REPLICAS}"),
            "kubernetes/apps/default/good/ks.yaml": ks(
                "good",
                "./kubernetes/apps/default/good/app",
                "  components:\n    - ../../../../components/scale\n"
                "  postBuild:\n    substitute:\n      REPLICAS: '2'\n",
            ),
            "kubernetes/apps/default/good/app/kustomization.yaml": "resources: []\n",
            "kubernetes/apps/default/bad/ks.yaml": ks(
                "bad",
                "./kubernetes/apps/default/bad/app",
                "  components:\n    - ../../../../components/scale\n"
                "  postBuild:\n    substitute:\n      REPLICAS: many\n",
            ),
            "kubernetes/apps/default/bad/app/kustomization.yaml": "resources: []\n",
        }
    )
    assert _seen(lint_path(tmp_path, select=IDS)) == [
        (
            f"{component}/deployment.yaml",
            7,
            13,
            "schema-invalid",
            "Deployment echo: spec.replicas: expected integer, got string 'many' after "
            "substituting variables (with the variables of Kustomization default/bad)",
        )
    ]


# --------------------------------------------------------------------------- SOPS and Secrets

SOPS_SECRET = """
apiVersion: v1
kind: Secret
metadata:
    name: sops-age
    namespace: flux-system
type: Opaque
stringData:
    age.agekey: ENC[AES256_GCM,data:c2VjcmV0,iv:aXY=,tag:dGFn,type:str]
data:
    count: ENC[AES256_GCM,data:MQ==,iv:aXY=,tag:dGFn,type:int]
sops:
    age:
        - recipient: age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBub3RoaW5nCg==
            -----END AGE ENCRYPTED FILE-----
    lastmodified: "2025-01-01T00:00:00Z"
    mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]
    encrypted_regex: ^(data|stringData)$
    version: 3.10.2
"""


def test_a_sops_encrypted_secret_validates_clean(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({"kubernetes/components/common/sops/sops-age.sops.yaml": SOPS_SECRET})
    assert lint_tree(select=IDS) == []


def test_a_secret_value_never_appears_in_a_message(yaml_tree: YamlTree, tmp_path: Path) -> None:
    yaml_tree(
        {
            MANIFEST: """
                apiVersion: v1
                kind: Secret
                metadata:
                  name: db
                stringData:
                  password: 84726152
                  token: [hunter2]
            """
        }
    )
    seen = _seen(lint_path(tmp_path, select=IDS))
    assert [(line, check_id) for _, line, _, check_id, _ in seen] == [
        (6, "schema-invalid"),
        (7, "schema-invalid"),
    ]
    assert not any("84726152" in m or "hunter2" in m for *_, m in seen)


# --------------------------------------------------------------------------- not objects


def test_files_that_are_not_kubernetes_objects_are_not_validated(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(
        {
            "talos/talconfig.yaml": """
                clusterName: home
                talosVersion: ${talosVersion}
                kubernetesVersion: ${kubernetesVersion}
                endpoint: https://192.168.1.10:6443
                nodes:
                  - hostname: cp1
                    ipAddress: 192.168.1.11
                    controlPlane: true
            """,
            "talos/talenv.yaml": "talosVersion: v1.10.6\nkubernetesVersion: v1.33.4\n",
            "talos/patches/watchdog.yaml": """
                apiVersion: v1alpha1
                kind: WatchdogTimerConfig
                device: /dev/watchdog0
            """,
            "bootstrap/helmfile.yaml": """
                helmDefaults:
                  wait: true
                releases:
                  - name: cilium
                    namespace: kube-system
                    chart: oci://ghcr.io/home-operations/charts-mirror/cilium
                    version: 1.18.1
            """,
            f"{APP}/app/helm/values.yaml": "replicas: many\nkind: DaemonSet\n",
            f"{APP}/app/chart/Chart.yaml": "apiVersion: v2\nname: echo\nversion: 1.0.0\n",
            f"{APP}/app/transformer.yaml": """
                apiVersion: builtin
                kind: LabelTransformer
                metadata:
                  name: labels
                labels:
                  app: echo
            """,
            "bootstrap/kubeconfig.sops.yaml": """
                apiVersion: v1
                kind: Config
                clusters:
                  - name: home
                    cluster:
                      server: https://192.168.1.10:6443
                users: ENC[AES256_GCM,data:dXNlcnM=,iv:aXY=,tag:dGFn,type:str]
                sops:
                  mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]
                  version: 3.10.2
            """,
            f"{APP}/app/placeholder.yaml": """
                apiVersion: ${API}
                kind: Widget
                spec: {anything: goes}
            """,
        }
    )
    assert lint_tree(select=IDS) == []


# --------------------------------------------------------------------------- missing schemas

WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"


@pytest.mark.parametrize(
    ("policy", "severity"),
    [
        ("warning", Severity.WARNING),
        ("error", Severity.ERROR),
        ("info", Severity.INFO),
        ("ignore", None),
    ],
)
def test_missing_schema_setting(
    policy: str, severity: Severity | None, yaml_tree: YamlTree, tmp_path: Path
) -> None:
    yaml_tree({MANIFEST: WIDGET, ".homelab-kit.yaml": f"missing-schema: {policy}\n"})
    result = lint_path(tmp_path, select=IDS)
    expected = (
        []
        if severity is None
        else [
            (
                MANIFEST,
                2,
                7,
                "schema-missing",
                "Widget w: no schema for Widget (example.com/v1): "
                "no CRD or schema location provides it",
            )
        ]
    )
    assert _seen(result) == expected
    assert [d.severity for d in result.diagnostics] == ([] if severity is None else [severity])
    assert [c.severity for c in result.checks if c.id == "schema-missing"] == [
        severity or Severity.INFO
    ]


def test_a_schema_location_provides_a_missing_schema(
    yaml_tree: YamlTree, lint_tree: LintTree, tmp_path: Path
) -> None:
    yaml_tree(
        {
            MANIFEST: WIDGET + "spec:\n  size: big\n",
            "schemas/example.com/widget_v1.json": """
                {"type": "object",
                 "properties": {"spec": {"type": "object",
                                         "properties": {"size": {"type": "integer"}}}}}
            """,
            ".homelab-kit.yaml": "schema-locations:\n  - schemas\n",
        }
    )
    assert lint_tree(select=IDS) == [(MANIFEST, 6, "schema-invalid")]


def test_no_schemas_for_an_old_kubernetes_version(yaml_tree: YamlTree, tmp_path: Path) -> None:
    """A configuration error: reported whatever missing-schema says."""
    yaml_tree(
        {
            MANIFEST: deployment(),
            "talos/talconfig.yaml": "clusterName: home\nkubernetesVersion: ${kubernetesVersion}\n",
            "talos/talenv.yaml": "talosVersion: v1.10.6\nkubernetesVersion: v1.10.0\n",
            ".homelab-kit.yaml": "missing-schema: ignore\n",
        }
    )
    seen = _seen(lint_path(tmp_path, select=IDS))
    assert [(p, line, column, i) for p, line, column, i, _ in seen] == [
        ("talos/talenv.yaml", 2, 20, "schema-invalid")
    ]
    assert "no Kubernetes schemas for version v1.10.0" in seen[0][4]
    assert seen[0][4].endswith("; nothing was validated")


def test_a_kubernetes_version_newer_than_the_schemas_uses_the_newest(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    yaml_tree({MANIFEST: deployment("two")})
    seen = _seen(lint_path(tmp_path, select=IDS, kubernetes_version="v1.99.1"))
    assert [(p, line, i) for p, line, _, i, _ in seen] == [
        (".", 0, "schema-missing"),
        (MANIFEST, 7, "schema-invalid"),
    ]
    assert seen[0][4].startswith(
        "no Kubernetes schemas for version v1.99.1 yet: validated against the newest available, "
    )


# --------------------------------------------------------------------------- reference cluster

CATALOG = Path(__file__).resolve().parents[2].parent / "shared" / "schemas" / "crds-catalog"
CATALOG_TEMPLATE = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"


# The reference cluster's CRDs come from charts (Gateway API, cert-manager, Cilium):
# without the bundled schemas (or a schema location) these kinds have no schema.
REFERENCE_MISSING = {
    "Certificate": 1,
    "CiliumL2AnnouncementPolicy": 1,
    "CiliumLoadBalancerIPPool": 1,
    "ClusterIssuer": 1,
    "Gateway": 2,
    "HTTPRoute": 6,
}


def test_reference_cluster_validates_clean(reference_root: Path) -> None:
    assert _seen(lint_path(reference_root, select=IDS)) == []


def test_reference_cluster_kinds_without_schema(reference_root: Path) -> None:
    """Its custom resources (Gateway API, cert-manager, Cilium) have bundled schemas."""
    result = lint_path(reference_root, select=[*IDS, "schema-invalid-bundled"])
    assert _seen(result) == []
    without = lint_path(reference_root, select=IDS, bundled_schemas=False, missing_schema="warning")
    kinds: collections.Counter[str] = collections.Counter()
    for d in without.diagnostics:  # one finding per kind, with the number of objects
        many = re.match(r"no schema for (\S+) \(.*?\): (\d+) objects", d.message)
        kinds[many.group(1) if many else d.message.split()[0]] += int(many.group(2)) if many else 1
    assert dict(sorted(kinds.items())) == REFERENCE_MISSING


def test_schema_missing_reports_each_kind_once_with_its_count(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    other = WIDGET.replace("name: w", "name: v")
    yaml_tree({MANIFEST: WIDGET + "---\n" + other, f"{APP}/app/more.yaml": other})
    result = lint_path(tmp_path, select=["schema-missing"])
    assert _seen(result) == [
        (
            MANIFEST,
            2,
            7,
            "schema-missing",
            "no schema for Widget (example.com/v1): 3 objects in 2 file(s) were not validated "
            "(no CRD or schema location provides it)",
        )
    ]
    assert [d.severity for d in result.diagnostics] == [Severity.INFO]


def test_reference_cluster_is_clean_with_a_crd_catalog(reference_root: Path) -> None:
    """Every object, custom resources included, against the public CRD schemas."""
    if not CATALOG.is_dir():
        pytest.skip(f"{CATALOG} is absent (../shared is not available on this machine)")
    result = lint_path(
        reference_root,
        select=IDS,
        missing_schema="warning",
        schema_locations=(f"{CATALOG}/{CATALOG_TEMPLATE}",),
    )
    assert _seen(result) == []


def test_a_missing_schema_location_is_a_warning_and_the_rest_is_validated(
    yaml_tree: YamlTree,
) -> None:
    root = yaml_tree(
        {
            ".homelab-kit.yaml": "schema-locations: [no-such-folder/]\n",
            MANIFEST: deployment(replicas='"two"'),
        }
    )
    result = lint_path(root, select=IDS)
    first = result.diagnostics[0]
    assert (first.location.path, first.check_id) == (".homelab-kit.yaml", "schema-missing")
    assert first.message == (
        f"schema location {str(root / 'no-such-folder')!r}: no such file or directory; not used"
    )
    assert [d.check_id for d in result.diagnostics][1:] == ["schema-invalid"]
