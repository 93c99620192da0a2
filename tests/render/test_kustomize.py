"""The pure-Python kustomize renderer, checked against kubectl where it is available.

Every fixture asserts what we expect by itself, so the tests mean something without
kubectl; with kubectl (``assert_same_as_kubectl``) they also pin kustomize's output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from homelab_kit.errors import HomelabKitError
from homelab_kit.render import render_directory
from homelab_kit.testing import YamlTree
from tests.render.conftest import assert_same_as_kubectl

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: ghcr.io/example/web:1.0
          env:
            - {name: A, value: "1"}
            - {name: B, value: "2"}
            - name: FROM_CM
              valueFrom: {configMapKeyRef: {name: settings, key: A}}
          envFrom:
            - secretRef: {name: creds}
      volumes:
        - {name: cfg, configMap: {name: settings}}
"""

HELMRELEASE = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
spec:
  interval: 1h
  valuesFrom:
    - {kind: ConfigMap, name: web-values}
"""


def names(objects: Any) -> list[str]:
    return [f"{o['kind']}/{o['metadata']['name']}" for o in objects]


def test_generators_hash_and_references(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": """
                resources: [deployment.yaml]
                configMapGenerator:
                  - name: settings
                    literals: [A=1, 'B="quoted value"']
                    envs: [app.env]
                    files: [config.ini, renamed.txt=config.ini]
                secretGenerator:
                  - name: creds
                    literals: [PASSWORD=<s3cr&t>]
                  - name: tls
                    type: kubernetes.io/tls
                    literals: [tls.crt=x, tls.key=y]
                    options: {disableNameSuffixHash: true, labels: {role: tls}}
                """,
            "app/deployment.yaml": DEPLOYMENT,
            "app/app.env": '# comment\n\n  E1=a b\nE2="kept"\n',
            "app/config.ini": "[main]\nkey = value\n",
        }
    )
    objects = assert_same_as_kubectl(root / "app", root)
    by_kind = {o["metadata"]["name"].rsplit("-", 1)[0]: o for o in objects}
    settings = by_kind["settings"]
    assert settings["data"] == {
        "A": "1",
        "B": "quoted value",
        "E1": "a b",
        "E2": '"kept"',
        "config.ini": "[main]\nkey = value\n",
        "renamed.txt": "[main]\nkey = value\n",
    }
    assert settings["metadata"]["name"] == "settings-fhft74tbgd"
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["volumes"][0]["configMap"]["name"] == settings["metadata"]["name"]
    assert pod["containers"][0]["envFrom"][0]["secretRef"]["name"].startswith("creds-")
    tls = next(o for o in objects if o["metadata"]["name"] == "tls")
    assert tls["type"] == "kubernetes.io/tls"
    assert tls["metadata"]["labels"] == {"role": "tls"}


def test_configurations_name_reference_for_helmrelease(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": """
                resources: [helmrelease.yaml]
                configMapGenerator:
                  - name: web-values
                    files: [values.yaml=helm/values.yaml]
                configurations: [helm/kustomizeconfig.yaml]
                """,
            "app/helmrelease.yaml": HELMRELEASE,
            "app/helm/values.yaml": "replicas: 2\n",
            "app/helm/kustomizeconfig.yaml": """
                nameReference:
                  - kind: ConfigMap
                    version: v1
                    fieldSpecs:
                      - path: spec/valuesFrom/name
                        kind: HelmRelease
                """,
        }
    )
    objects = assert_same_as_kubectl(root / "app", root)
    assert names(objects) == ["ConfigMap/web-values-k946m65mmb", "HelmRelease/web"]
    assert objects[1]["spec"]["valuesFrom"][0]["name"] == "web-values-k946m65mmb"


def test_namespace_labels_annotations_and_order(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": """
                namespace: media
                commonLabels: {team: media}
                labels:
                  - pairs: {owner: me}
                commonAnnotations: {note: hello}
                resources: [all.yaml, deployment.yaml]
                """,
            "app/all.yaml": """
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingWebhookConfiguration
                metadata: {name: hook}
                ---
                apiVersion: cert-manager.io/v1
                kind: ClusterIssuer
                metadata: {name: letsencrypt}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec:
                  ports: [{port: 80}]
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRoleBinding
                metadata: {name: crb}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
                subjects:
                  - {kind: ServiceAccount, name: default, namespace: other}
                  - {kind: ServiceAccount, name: robot, namespace: other}
                ---
                apiVersion: v1
                kind: Namespace
                metadata: {name: placeholder}
                """,
            "app/deployment.yaml": DEPLOYMENT,
        }
    )
    objects = assert_same_as_kubectl(root / "app", root)
    assert names(objects) == [
        "Namespace/media",
        "ClusterRoleBinding/crb",
        "Service/web",
        "Deployment/web",
        "ClusterIssuer/letsencrypt",
        "ValidatingWebhookConfiguration/hook",
    ]
    service = objects[2]
    assert service["metadata"]["namespace"] == "media"
    assert service["spec"]["selector"] == {"team": "media"}
    assert objects[1]["subjects"][0]["namespace"] == "media"
    assert objects[1]["subjects"][1]["namespace"] == "other"
    assert "namespace" not in objects[1]["metadata"]
    # kustomize has no schema for custom resources: it namespaces them all.
    assert objects[4]["metadata"]["namespace"] == "media"
    deployment = objects[3]
    assert deployment["spec"]["selector"]["matchLabels"] == {"app": "web", "team": "media"}
    assert deployment["metadata"]["labels"] == {"owner": "me", "team": "media"}
    assert "owner" not in deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["template"]["metadata"]["annotations"] == {"note": "hello"}


def test_patches_strategic_json6902_and_targets(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": """
                resources: [deployment.yaml, helmrelease.yaml]
                patches:
                  - path: patch.yaml
                  - target: {kind: HelmRelease, name: "w.*"}
                    patch: |
                      - op: add
                        path: /spec/install
                        value: {remediation: {retries: -1}}
                  - target: {group: apps, kind: Deployment, labelSelector: "tier in (front)"}
                    patch: |
                      apiVersion: apps/v1
                      kind: Deployment
                      metadata: {name: ignored}
                      spec: {replicas: 3}
                patchesStrategicMerge:
                  - |
                    apiVersion: helm.toolkit.fluxcd.io/v2
                    kind: HelmRelease
                    metadata: {name: web}
                    spec:
                      valuesFrom: [{kind: Secret, name: other}]
                      interval: null
                images:
                  - {name: ghcr.io/example/web, newTag: "2.0"}
                replicas:
                  - {name: web, count: 5}
                """,
            "app/deployment.yaml": DEPLOYMENT.replace(
                "name: web\nspec:", "name: web\n  labels: {tier: front}\nspec:"
            ),
            "app/helmrelease.yaml": HELMRELEASE,
            "app/patch.yaml": """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  template:
                    spec:
                      containers:
                        - name: sidecar
                          image: busybox
                        - name: app
                          env:
                            - {name: B, value: "20"}
                            - {name: A, $patch: delete}
                      volumes:
                        - {name: extra, emptyDir: {}}
                """,
        }
    )
    objects = assert_same_as_kubectl(root / "app", root)
    deployment, release = objects
    pod = deployment["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["sidecar", "app"]
    assert [e["name"] for e in pod["containers"][1]["env"]] == ["B", "FROM_CM"]
    assert pod["containers"][1]["image"] == "ghcr.io/example/web:2.0"
    assert [v["name"] for v in pod["volumes"]] == ["extra", "cfg"]
    assert deployment["spec"]["replicas"] == 5
    # custom resources have no merge keys: lists are replaced, null deletes
    assert release["spec"]["valuesFrom"] == [{"kind": "Secret", "name": "other"}]
    assert "interval" not in release["spec"]
    assert release["spec"]["install"] == {"remediation": {"retries": -1}}


def test_components_and_nested_kustomizations(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": """
                namespace: web
                resources: [./base]
                components: [../components/common]
                configMapGenerator:
                  - name: base-settings
                    behavior: merge
                    literals: [EXTRA=yes]
                """,
            "app/base/kustomization.yaml": """
                resources: [deployment.yaml]
                configMapGenerator:
                  - name: base-settings
                    literals: [A=1]
                """,
            "app/base/deployment.yaml": DEPLOYMENT.replace("name: settings", "name: base-settings"),
            "components/common/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                resources: [sa.yaml]
                patches:
                  - target: {kind: Deployment}
                    patch: |
                      - op: add
                        path: /spec/template/spec/serviceAccountName
                        value: runner
                """,
            "components/common/sa.yaml": (
                "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: runner}\n"
            ),
        }
    )
    objects = assert_same_as_kubectl(root / "app", root)
    assert names(objects)[0] == "ServiceAccount/runner"
    settings = next(o for o in objects if o["kind"] == "ConfigMap")
    assert settings["data"] == {"A": "1", "EXTRA": "yes"}
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "runner"
    volume = deployment["spec"]["template"]["spec"]["volumes"][0]
    assert volume["configMap"]["name"] == settings["metadata"]["name"]
    assert all(o["metadata"]["namespace"] == "web" for o in objects)


def test_legacy_octal_and_quoted_values_survive(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": "resources: [cm.yaml]\nnamespace: x\n",
            "app/cm.yaml": """
                apiVersion: v1
                kind: Secret
                metadata: {name: s}
                stringData: {mode: "0400", port: "${PORT}"}
                data: {}
                type: Opaque
                immutable: false
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: d}
                spec:
                  template:
                    spec:
                      volumes: [{name: v, secret: {secretName: s, defaultMode: 0400}}]
                """,
        }
    )
    objects = assert_same_as_kubectl(root / "app", root)
    assert objects[1]["spec"]["template"]["spec"]["volumes"][0]["secret"]["defaultMode"] == 256
    assert objects[0]["stringData"]["mode"] == "0400"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"app/kustomization.yaml": "resources: [../../outside.yaml]\n"}, "outside the repository"),
        (
            {"app/kustomization.yaml": "configMapGenerator:\n- name: x\n  files: [/etc/passwd]\n"},
            "outside the repository",
        ),
        ({"app/kustomization.yaml": "resources: [missing.yaml]\n"}, "does not exist"),
        (
            {
                "app/kustomization.yaml": "patches:\n- path: p.yaml\n",
                "app/p.yaml": "kind: X\napiVersion: v1\nmetadata: {name: nope}\n",
            },
            "no resource matches",
        ),
        (
            {
                "app/kustomization.yaml": "components: [c]\n",
                "app/c/kustomization.yaml": "resources: []\n",
            },
            "kind: Component",
        ),
        ({"app/x.yaml": "a: 1\n"}, "no kustomization file"),
        (
            {"app/kustomization.yaml": "configMapGenerator:\n- name: x\n  files: true\n"},
            "files must be a list, not bool",
        ),
        (
            {"app/kustomization.yaml": "secretGenerator:\n- name: x\n  literals: a=b\n"},
            "literals must be a list, not str",
        ),
    ],
)
def test_errors_are_homelab_kit_errors(
    yaml_tree: YamlTree, files: dict[str, str], message: str
) -> None:
    root = yaml_tree(files)
    with pytest.raises(HomelabKitError, match=message) as info:
        render_directory(root / "app", root=root)
    if "outside" in message:
        assert info.value.location is not None
        assert info.value.location.path == "app/kustomization.yaml"
        assert info.value.location.line == 1 or info.value.location.line == 3


def test_kustomization_file_linking_out_of_root_is_refused(
    yaml_tree: YamlTree, tmp_path_factory: Any
) -> None:
    """The folder's own kustomization.yaml as a link outside: one error, no crash."""
    outside = Path(tmp_path_factory.mktemp("outside")) / "kustomization.yaml"
    outside.write_text("resources: []\n")
    root = yaml_tree({"app/x.yaml": "a: 1\n"})
    (root / "app" / "kustomization.yaml").symlink_to(outside)
    with pytest.raises(HomelabKitError, match="outside the repository"):
        render_directory(root / "app", root=root)


def test_symlink_out_of_root_is_refused(yaml_tree: YamlTree, tmp_path_factory: Any) -> None:
    outside = Path(tmp_path_factory.mktemp("outside")) / "secret.yaml"
    outside.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    root = yaml_tree({"app/kustomization.yaml": "resources: [link.yaml]\n"})
    (root / "app" / "link.yaml").symlink_to(outside)
    with pytest.raises(HomelabKitError, match="outside the repository root"):
        render_directory(root / "app", root=root)


def test_unsupported_features_become_warnings(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": """
                resources:
                  - https://github.com/example/repo//deploy?ref=v1
                  - cm.yaml
                helmCharts:
                  - name: x
                    repo: https://charts.example.com
                vars: []
                """,
            "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        }
    )
    rendered = render_directory(root / "app", root=root)
    assert names(rendered.objects) == ["ConfigMap/c"]
    text = "\n".join(rendered.warnings)
    assert "remote resource" in text
    assert "helmCharts" in text
    assert "vars" in text


def test_env_file_key_without_value_is_never_read_from_environment(
    yaml_tree: YamlTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMELAB_KIT_SECRET_TEST", "leak")
    root = yaml_tree(
        {
            "app/kustomization.yaml": "configMapGenerator:\n- name: c\n  envs: [e.env]\n",
            "app/e.env": "HOMELAB_KIT_SECRET_TEST\nA=1\n",
        }
    )
    rendered = render_directory(root / "app", root=root)
    assert rendered.objects[0]["data"] == {"A": "1"}
    assert "leak" not in "".join(rendered.warnings)
    assert any("environment" in w for w in rendered.warnings)


def test_name_reference_prefers_target_with_same_prefix_history(yaml_tree: YamlTree) -> None:
    """Two renamed ConfigMaps were called ``cm``: the Deployment in ``b`` means b's."""
    config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"
    root = yaml_tree(
        {
            "top/kustomization.yaml": "resources: [../a, ../b]\n",
            "a/kustomization.yaml": "namePrefix: a-\nresources: [cm.yaml]\n",
            "a/cm.yaml": config_map,
            "b/kustomization.yaml": "namePrefix: b-\nresources: [cm.yaml, deploy.yaml]\n",
            "b/cm.yaml": config_map,
            "b/deploy.yaml": """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: d}
                spec:
                  template:
                    spec:
                      volumes: [{name: v, configMap: {name: cm}}]
                      containers: [{name: c, image: x}]
                """,
        }
    )
    objects = assert_same_as_kubectl(root / "top", root)
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"] == "b-cm"


def test_component_folder_builds_directly_as_kubectl_builds_it(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "comp/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                resources: [cm.yaml]
                namePrefix: c-
                configMapGenerator:
                  - name: gen
                    literals: [A=1]
                """,
            "comp/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        }
    )
    objects = assert_same_as_kubectl(root / "comp", root)
    assert [o["metadata"]["name"] for o in objects] == ["c-gen-89g4tffbfk", "c-x"]


def test_component_listed_as_a_resource_is_still_refused(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": "resources: [../comp]\n",
            "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\n"
            "kind: Component\n",
        }
    )
    with pytest.raises(HomelabKitError, match="list it under 'components'"):
        render_directory(root / "app", root=root)


def test_generators_run_before_components(yaml_tree: YamlTree) -> None:
    # a component can merge into (and patch) what its kustomization generated
    root = yaml_tree(
        {
            "app/kustomization.yaml": """
                configMapGenerator:
                  - name: settings
                    literals: [A=1]
                components: [../comp]
                """,
            "comp/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                configMapGenerator:
                  - name: settings
                    behavior: merge
                    literals: [B=2]
                """,
        }
    )
    objects = assert_same_as_kubectl(root / "app", root)
    assert objects[0]["data"] == {"A": "1", "B": "2"}


def test_kinds_newer_than_kustomizes_schema_get_the_namespace(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": "namespace: demo\nresources: [policy.yaml]\n",
            "app/policy.yaml": """
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingAdmissionPolicy
                metadata: {name: p}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata: {name: r}
                """,
        }
    )
    objects = assert_same_as_kubectl(root / "app", root)
    namespaces = {o["kind"]: o["metadata"].get("namespace") for o in objects}
    assert namespaces == {"ValidatingAdmissionPolicy": "demo", "ClusterRole": None}


def test_annotations_come_out_as_the_text_they_were_written_with(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": "resources: [cm.yaml]\n",
            "app/cm.yaml": """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: x
                  annotations:
                    a: ~
                    b:
                    c: 1  # a comment
                    d: true
                    e: 1.50
                    f: 0x10
                  labels:
                    l: 1
                """,
        }
    )
    meta = assert_same_as_kubectl(root / "app", root)[0]["metadata"]
    assert meta["annotations"] == {
        "a": "~",
        "b": "",
        "c": "1",
        "d": "true",
        "e": "1.50",
        "f": "0x10",
    }
    assert meta["labels"] == {"l": 1}  # labels keep their type, as kustomize keeps them
