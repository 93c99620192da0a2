"""Building Flux Kustomizations: each spec field as kustomize-controller applies it.

Flux rewrites the kustomization file of ``spec.path`` (fluxcd/pkg's kustomize
generator) and builds it.  Each test states the file Flux would write, by hand, and
checks three things: :func:`generate_kustomization` writes that file; the pure-Python
build of the Flux Kustomization equals ``kubectl kustomize`` of a copy of the tree
holding that file; and the kubectl backend (which builds a tree of links) agrees.
Without kubectl the hand-computed expectations still run.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from homelab_kit.errors import HomelabKitError
from homelab_kit.render import (
    KUSTOMIZATION_FILES,
    FluxBuild,
    build_flux_kustomization,
    generate_kustomization,
)
from homelab_kit.render._docs import parse_documents
from homelab_kit.testing import YamlTree
from tests.render.conftest import HAVE_KUBECTL, canonical, kubectl_build

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
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
        - name: sidecar
          image: ghcr.io/example/sidecar:2.0
      volumes:
        - {name: cfg, configMap: {name: settings}}
"""
CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1'}\n"


def flux_ks(path: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "web", "namespace": "flux-system"},
        "spec": {"path": path, "sourceRef": {"kind": "GitRepository", "name": "x"}, **spec},
    }


def parse(text: str) -> Any:
    documents, problems = parse_documents(textwrap.dedent(text), "<expected>")
    assert not problems
    return documents[0]


def check(root: Path, ks: dict[str, Any], written: str, scratch: Path, **options: Any) -> FluxBuild:
    """Flux writes ``written`` for ``ks``; every backend builds what kubectl builds of it."""
    path = ks["spec"]["path"]
    data, _ = generate_kustomization(ks["spec"], (root / path).resolve(), root=root)
    assert canonical([data]) == canonical([parse(written)])
    python = build_flux_kustomization(ks, root=root, backend="python", **options)
    if HAVE_KUBECTL:
        copy = scratch / "flux-wrote"
        shutil.copytree(root, copy, symlinks=True)
        for name in KUSTOMIZATION_FILES:
            (copy / path / name).unlink(missing_ok=True)
        (copy / path / "kustomization.yaml").write_text(textwrap.dedent(written))
        assert canonical(python.objects) == canonical(kubectl_build(copy / path))
        kubectl = build_flux_kustomization(ks, root=root, backend="kubectl", **options)
        assert kubectl.backend == "kubectl"
        assert canonical(kubectl.objects) == canonical(python.objects)
    return python


def by_kind(build: FluxBuild) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in build.objects}


def test_target_namespace_replaces_the_kustomization_namespace(
    yaml_tree: YamlTree, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": """
                namespace: elsewhere
                resources: [deploy.yaml, cm.yaml, rbac.yaml]
                """,
            "app/deploy.yaml": DEPLOYMENT,
            "app/cm.yaml": CONFIG_MAP,
            "app/rbac.yaml": """
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata: {name: reader}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata: {name: read}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}
                subjects: [{kind: ServiceAccount, name: default, namespace: other}]
                """,
        }
    )
    written = """
        namespace: media
        resources: [deploy.yaml, cm.yaml, rbac.yaml]
        """
    build = check(
        root, flux_ks("./app", targetNamespace="media"), written, tmp_path_factory.mktemp("x")
    )
    kinds = by_kind(build)
    assert kinds["Deployment"]["metadata"]["namespace"] == "media"
    assert kinds["ConfigMap"]["metadata"]["namespace"] == "media"
    assert "namespace" not in kinds["ClusterRole"]["metadata"]
    assert kinds["RoleBinding"]["subjects"][0]["namespace"] == "media"
    # the python build keeps each object's provenance, in the objects' order
    files = {
        "Deployment": "deploy",
        "ConfigMap": "cm",
        "ClusterRole": "rbac",
        "RoleBinding": "rbac",
    }
    assert [p.source.path for p in build.provenance] == [
        f"app/{files[o['kind']]}.yaml" for o in build.objects
    ]


def test_patches_are_appended_after_the_kustomization_own(
    yaml_tree: YamlTree, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": """
                resources: [deploy.yaml, cm.yaml]
                commonLabels: {owner: team}
                patches:
                  - patch: |
                      - {op: replace, path: /spec/replicas, value: 2}
                    target: {kind: Deployment}
                """,
            "app/deploy.yaml": DEPLOYMENT.replace(
                "spec:\n  selector", "spec:\n  replicas: 1\n  selector", 1
            ),
            "app/cm.yaml": CONFIG_MAP,
        }
    )
    strategic = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n"
    )
    labelled = "apiVersion: v1\nkind: Any\nmetadata: {name: any, labels: {patched: 'yes'}}\n"
    json6902 = "- {op: add, path: /metadata/annotations, value: {by: flux}}\n"
    ks = flux_ks(
        "./app",
        patches=[
            {"patch": strategic},
            {"patch": labelled, "target": {"labelSelector": "tier=front"}},
            # commonLabels come after patches in the same kustomization: no match yet
            {"patch": labelled, "target": {"kind": "ConfigMap", "labelSelector": "owner=team"}},
            {"patch": json6902, "target": {"kind": "Deployment", "name": "w.*"}},
        ],
    )
    written = f"""
        resources: [deploy.yaml, cm.yaml]
        commonLabels: {{owner: team}}
        patches:
          - patch: |
              - {{op: replace, path: /spec/replicas, value: 2}}
            target: {{kind: Deployment}}
          - patch: {json.dumps(strategic)}
          - patch: {json.dumps(labelled)}
            target: {{labelSelector: tier=front}}
          - patch: {json.dumps(labelled)}
            target: {{kind: ConfigMap, labelSelector: owner=team}}
          - patch: {json.dumps(json6902)}
            target: {{kind: Deployment, name: w.*}}
        """
    kinds = by_kind(check(root, ks, written, tmp_path_factory.mktemp("x")))
    assert kinds["Deployment"]["spec"]["replicas"] == 3
    assert kinds["Deployment"]["metadata"]["annotations"] == {"by": "flux"}
    assert kinds["Deployment"]["metadata"]["labels"]["patched"] == "yes"
    assert kinds["ConfigMap"]["metadata"]["labels"] == {"owner": "team"}


def test_images_replace_the_entry_of_the_same_name(
    yaml_tree: YamlTree, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": """
                resources: [deploy.yaml]
                images:
                  - {name: ghcr.io/example/web, newTag: '1.5'}
                """,
            "app/deploy.yaml": DEPLOYMENT,
        }
    )
    ks = flux_ks(
        "./app",
        images=[
            {"name": "ghcr.io/example/web", "newName": "registry.local/web"},
            {"name": "ghcr.io/example/sidecar", "newTag": "2.1", "digest": ""},
        ],
    )
    written = """
        resources: [deploy.yaml]
        images:
          - {name: ghcr.io/example/web, newName: registry.local/web}
          - {name: ghcr.io/example/sidecar, newTag: '2.1'}
        """
    build = check(root, ks, written, tmp_path_factory.mktemp("x"))
    containers = by_kind(build)["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == [
        "registry.local/web:1.0",
        "ghcr.io/example/sidecar:2.1",
    ]


def test_components_are_relative_to_spec_path(
    yaml_tree: YamlTree, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": "resources: [deploy.yaml]\n",
            "app/deploy.yaml": DEPLOYMENT,
            "components/settings/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                resources: [cm.yaml]
                patches:
                  - patch: |
                      - {op: add, path: /metadata/labels/component, value: settings}
                    target: {kind: Deployment}
                """,
            "components/settings/cm.yaml": CONFIG_MAP,
        }
    )
    ks = flux_ks(
        "./app",
        components=["../components/settings", "../components/absent"],
        ignoreMissingComponents=True,
    )
    written = """
        resources: [deploy.yaml]
        components: [../components/settings]
        """
    kinds = by_kind(check(root, ks, written, tmp_path_factory.mktemp("x")))
    assert kinds["Deployment"]["metadata"]["labels"]["component"] == "settings"
    assert "ConfigMap" in kinds
    ks["spec"]["ignoreMissingComponents"] = False
    with pytest.raises(HomelabKitError, match="absent"):
        build_flux_kustomization(ks, root=root, backend="python")
    ks["spec"]["components"] = ["https://github.com/example/components//x"]
    with pytest.raises(HomelabKitError, match="must be local and relative"):
        build_flux_kustomization(ks, root=root, backend="python")


def test_name_prefix_and_suffix_rename_references_and_generated_names(
    yaml_tree: YamlTree, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": """
                namePrefix: old-
                resources: [deploy.yaml]
                configMapGenerator:
                  - name: settings
                    literals: [a=1]
                """,
            "app/deploy.yaml": DEPLOYMENT,
        }
    )
    ks = flux_ks("./app", namePrefix="blue-", nameSuffix="-v2")
    written = """
        namePrefix: blue-
        nameSuffix: -v2
        resources: [deploy.yaml]
        configMapGenerator:
          - name: settings
            literals: [a=1]
        """
    kinds = by_kind(check(root, ks, written, tmp_path_factory.mktemp("x")))
    config_map = kinds["ConfigMap"]["metadata"]["name"]
    assert config_map.startswith("blue-settings-v2-")
    assert kinds["Deployment"]["metadata"]["name"] == "blue-web-v2"
    volumes = kinds["Deployment"]["spec"]["template"]["spec"]["volumes"]
    assert volumes[0]["configMap"]["name"] == config_map


def test_common_metadata_is_set_after_substitution_on_every_object(
    yaml_tree: YamlTree,
) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": "resources: [deploy.yaml, ns.yaml]\n",
            "app/deploy.yaml": DEPLOYMENT,
            "app/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: media}\n",
        }
    )
    ks = flux_ks(
        "./app",
        commonMetadata={"labels": {"tier": "back", "env": "${ENV}"}, "annotations": {"a": "b"}},
        postBuild={"substitute": {"ENV": "prod"}},
    )
    build = build_flux_kustomization(ks, root=root, backend="python")
    if HAVE_KUBECTL:
        kubectl = build_flux_kustomization(ks, root=root, backend="kubectl")
        assert canonical(kubectl.objects) == canonical(build.objects)
        plain = kubectl_build(root / "app")
        assert [o["metadata"]["name"] for o in plain] == [
            o["metadata"]["name"] for o in build.objects
        ]
    kinds = by_kind(build)
    assert kinds["Deployment"]["metadata"]["labels"] == {
        "app": "web",
        "tier": "back",
        "env": "${ENV}",
    }
    assert kinds["Namespace"]["metadata"]["annotations"] == {"a": "b"}
    assert kinds["Deployment"]["spec"]["template"]["metadata"]["labels"] == {"app": "web"}


def test_a_path_without_kustomization_gets_every_manifest_below_it(
    yaml_tree: YamlTree, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = yaml_tree(
        {
            "app/b-deploy.yaml": DEPLOYMENT,
            "app/a/cm.yml": CONFIG_MAP,
            "app/a/z/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: media}\n",
            "app/c/kustomization.yaml": "resources: [sa.yaml]\n",
            "app/c/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\n",
            "app/c/ignored.yaml": "not: {a: manifest}\n",
            "app/notes.txt": "not YAML at all: [",
            "app/data.json": "{}",
            "app/empty.yaml": "# nothing here\n",
        }
    )
    written = """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        namespace: media
        resources: [./a/cm.yml, ./a/z/ns.yaml, ./b-deploy.yaml, ./c, ./empty.yaml]
        """
    ks = flux_ks("./app", targetNamespace="media")
    build = check(root, ks, written, tmp_path_factory.mktemp("x"))
    assert sorted(o["kind"] for o in build.objects) == [
        "ConfigMap",
        "Deployment",
        "Namespace",
        "ServiceAccount",
    ]
    assert not (root / "app" / "kustomization.yaml").exists()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("values: {replicas: 2}\n", "has no kind"),
        ("apiVersion: v1\nkind: ConfigMap\n", "has no metadata.name"),
        ("a: [unclosed\n", "not valid YAML"),
    ],
)
def test_generation_fails_on_a_yaml_file_that_is_no_manifest(
    yaml_tree: YamlTree, text: str, reason: str
) -> None:
    root = yaml_tree({"app/cm.yaml": CONFIG_MAP, "app/helm/values.yaml": text})
    with pytest.raises(HomelabKitError, match=reason) as info:
        build_flux_kustomization(flux_ks("./app"), root=root, backend="python")
    assert "app/helm/values.yaml" in str(info.value)


def test_unknown_kustomization_fields_are_dropped_as_flux_drops_them(
    yaml_tree: YamlTree,
) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": "resources: [cm.yaml]\nfrobnicate: true\n",
            "app/cm.yaml": CONFIG_MAP,
        }
    )
    for backend in ("python", "kubectl") if HAVE_KUBECTL else ("python",):
        build = build_flux_kustomization(flux_ks("./app"), root=root, backend=backend)
        assert [o["kind"] for o in build.objects] == ["ConfigMap"]
        assert any("'frobnicate' dropped" in w for w in build.warnings)


def test_sops_encrypted_substitute_from_leaves_variables_unresolved(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": "resources: [cm.yaml]\n",
            "app/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
                "data: {token: '${TOKEN}', port: '${PORT:=80}'}\n"
            ),
        }
    )
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "cluster-secrets", "namespace": "flux-system"},
        "stringData": {"TOKEN": "ENC[AES256_GCM,data:c2VjcmV0,type:str]"},
        "sops": {"age": [], "version": "3.8.1"},
    }
    ks = flux_ks(
        "./app", postBuild={"substituteFrom": [{"kind": "Secret", "name": "cluster-secrets"}]}
    )
    build = build_flux_kustomization(ks, root=root, source_objects=[secret], backend="python")
    assert build.objects[0]["data"] == {"token": "${TOKEN}", "port": 80}
    assert build.unresolved == {"TOKEN"}
    assert any("SOPS-encrypted" in w for w in build.warnings)
    assert "ENC[" not in " ".join(build.warnings)


def test_substitute_from_looks_in_the_kustomization_namespace(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": "resources: [cm.yaml]\n",
            "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
            "data: {a: '${A}'}\n",
        }
    )

    def settings(namespace: str, value: str) -> dict[str, Any]:
        return {
            "kind": "ConfigMap",
            "metadata": {"name": "s", "namespace": namespace},
            "data": {"A": value},
        }

    ks = flux_ks("./app", postBuild={"substituteFrom": [{"kind": "ConfigMap", "name": "s"}]})
    del ks["metadata"]["namespace"]
    sources = [settings("media", "from-media"), settings("default", "from-default")]
    build = build_flux_kustomization(
        ks, root=root, source_objects=sources, backend="python", namespace="default"
    )
    assert build.objects[0]["data"] == {"a": "from-default"}


@pytest.mark.parametrize(
    ("path", "message"),
    [("./missing", "does not exist"), ("../outside", "outside the repository root")],
)
def test_bad_spec_path(yaml_tree: YamlTree, path: str, message: str) -> None:
    root = yaml_tree({"app/cm.yaml": CONFIG_MAP})
    with pytest.raises(HomelabKitError, match=message):
        build_flux_kustomization(flux_ks(path), root=root, backend="python")


@pytest.mark.skipif(not HAVE_KUBECTL, reason="kubectl is not on PATH")
def test_kubectl_errors_name_the_repository_not_the_link_tree(yaml_tree: YamlTree) -> None:
    root = yaml_tree({"app/kustomization.yaml": "resources: [missing.yaml]\n"})
    with pytest.raises(HomelabKitError) as info:
        build_flux_kustomization(
            flux_ks("./app", targetNamespace="x"), root=root, backend="kubectl"
        )
    assert "homelab-kit-flux-" not in str(info.value)
    assert "\n" not in str(info.value)
