"""kustomize ``replacements``: every source, target and option form, and the errors.

Each case asserts what the renderer gives by itself; with kubectl on PATH it is also
compared with ``kubectl kustomize`` (kustomize v5.5): the same objects, or both fail.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from homelab_kit.errors import HomelabKitError
from homelab_kit.render import render_directory
from homelab_kit.render.replacements import split_path
from homelab_kit.testing import YamlTree
from tests.render.conftest import HAVE_KUBECTL, assert_same_as_kubectl, kubectl_build

RESOURCES = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: src
  namespace: ns1
data:
  host: db.example.com
  port: "5432"
  path: a/b/c
  flag: "true"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: ns1
  labels:
    tier: web
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: app
        image: nginx:1.0
        args: ["--x", "-jar", "y"]
        env:
        - name: HOST
          value: old
        - name: OTHER
          value: o
      - name: myapp-sidecar
        image: busybox
        env:
        - name: HOST
          value: old2
---
apiVersion: v1
kind: Service
metadata:
  name: svc
  namespace: ns1
  annotations:
    a.b/c: x.y.z
spec:
  ports:
  - port: 80
"""


def _build(yaml_tree: YamlTree, replacements: str, extra: dict[str, str] | None = None) -> Path:
    kustomization = "resources: [res.yaml]\n" + textwrap.dedent(replacements)
    root = yaml_tree({"app/kustomization.yaml": kustomization, "app/res.yaml": RESOURCES})
    for name, text in (extra or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def _objects(yaml_tree: YamlTree, replacements: str, **kwargs: Any) -> dict[str, Any]:
    root = _build(yaml_tree, replacements, **kwargs)
    objects = assert_same_as_kubectl(root / "app", root)
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in objects}


def _fails(yaml_tree: YamlTree, replacements: str, match: str, **kwargs: Any) -> HomelabKitError:
    root = _build(yaml_tree, replacements, **kwargs)
    with pytest.raises(HomelabKitError, match=match) as caught:
        render_directory(root / "app", root=root)
    if HAVE_KUBECTL:
        with pytest.raises(AssertionError, match="kubectl kustomize failed"):
            kubectl_build(root / "app")
    return caught.value


def _containers(objects: dict[str, Any], deployment: str = "Deployment/app") -> list[Any]:
    return objects[deployment]["spec"]["template"]["spec"]["containers"]


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("metadata.name", ["metadata", "name"]),
        ("spec.containers.[name=app].image", ["spec", "containers", "[name=app]", "image"]),
        ("metadata.annotations.[a.b/c]", ["metadata", "annotations", "a.b/c"]),
        ("metadata.annotations.a\\.b/c", ["metadata", "annotations", "a.b/c"]),
        ("spec.args.[=-jar]", ["spec", "args", "[=-jar]"]),
        ("spec.list.[k=a.b].x", ["spec", "list", "[k=a.b]", "x"]),
        ("spec.containers.*.image", ["spec", "containers", "*", "image"]),
    ],
)
def test_field_paths_split_like_kyaml(path: str, parts: list[str]) -> None:
    assert split_path(path) == parts


# --------------------------------------------------------------------------- sources


def test_list_selector_in_target_is_an_unanchored_regular_expression(yaml_tree: YamlTree) -> None:
    objects = _objects(
        yaml_tree,
        """
        replacements:
        - source: {kind: ConfigMap, name: src, fieldPath: data.host}
          targets:
          - select: {kind: Deployment}
            fieldPaths:
            - spec.template.spec.containers.[name=app].env.[name=HOST].value
        """,
    )
    # [name=app] also matches "myapp-sidecar", as kustomize's PathMatcher does
    assert [c["env"][0]["value"] for c in _containers(objects)] == ["db.example.com"] * 2


def test_source_defaults_to_metadata_name_and_target_to_metadata_name(
    yaml_tree: YamlTree,
) -> None:
    objects = _objects(
        yaml_tree,
        """
        replacements:
        - source: {kind: Service}
          targets:
          - select: {kind: ConfigMap}
        """,
    )
    assert "ConfigMap/svc" in objects


def test_source_list_entry_is_exact_and_index_is_positional(yaml_tree: YamlTree) -> None:
    objects = _objects(
        yaml_tree,
        """
        replacements:
        - source:
            kind: Deployment
            fieldPath: spec.template.spec.containers.[name=app].image
          targets:
          - select: {kind: Service}
            fieldPaths:
            - metadata.annotations.[a.b/c]
        - source:
            kind: Deployment
            fieldPath: spec.template.spec.containers.1.env.0.value
          targets:
          - select: {kind: ConfigMap}
            fieldPaths: [data.host]
        """,
    )
    assert objects["Service/svc"]["metadata"]["annotations"]["a.b/c"] == "nginx:1.0"
    assert objects["ConfigMap/src"]["data"]["host"] == "old2"


def test_source_delimiter_and_target_delimiter(yaml_tree: YamlTree) -> None:
    objects = _objects(
        yaml_tree,
        """
        replacements:
        - source:
            kind: ConfigMap
            fieldPath: data.path
            options: {delimiter: /, index: 1}
          targets:
          - select: {kind: Service}
            fieldPaths:
            - metadata.annotations.[a.b/c]
            options: {delimiter: ".", index: 0}
          - select: {kind: Deployment}
            fieldPaths:
            - spec.template.spec.containers.[name=^app$].image
            options: {delimiter: ":", index: 5}
          - select: {kind: Deployment}
            fieldPaths:
            - spec.template.spec.containers.[name=sidecar].image
            options: {delimiter: ":", index: -1}
          - select: {kind: Deployment}
            fieldPaths:
            - spec.template.spec.containers.[name=^app].args.[=-jar]
        """,
    )
    assert objects["Service/svc"]["metadata"]["annotations"]["a.b/c"] == "b.y.z"
    app, sidecar = _containers(objects)
    assert app["image"] == "nginx:1.0:b"
    assert sidecar["image"] == "b:busybox"
    assert app["args"] == ["--x", "b", "y"]


def test_replacements_from_a_file_single_and_list(yaml_tree: YamlTree) -> None:
    objects = _objects(
        yaml_tree,
        """
        replacements:
        - path: one.yaml
        - path: ../shared/many.yaml
        """,
        extra={
            "app/one.yaml": """
                source: {kind: ConfigMap, fieldPath: data.port}
                targets:
                - select: {kind: Service}
                  fieldPaths: [spec.ports.0.port]
                """,
            "shared/many.yaml": """
                - source: {kind: ConfigMap, fieldPath: data.host}
                  targets:
                  - select: {kind: Deployment}
                    fieldPaths: [metadata.labels.tier]
                - source: {kind: Deployment, fieldPath: spec.replicas}
                  targets:
                  - select: {kind: ConfigMap}
                    fieldPaths: [data.port]
                """,
        },
    )
    assert objects["Service/svc"]["spec"]["ports"][0]["port"] == 5432  # the target's int kept
    assert objects["Deployment/app"]["metadata"]["labels"]["tier"] == "db.example.com"
    assert objects["ConfigMap/src"]["data"]["port"] == "1"  # the target's string kept


# --------------------------------------------------------------------------- targets


def test_create_builds_missing_fields_lists_and_items(yaml_tree: YamlTree) -> None:
    objects = _objects(
        yaml_tree,
        """
        replacements:
        - source: {kind: ConfigMap, name: src, fieldPath: data.port}
          targets:
          - select: {kind: Deployment}
            fieldPaths:
            - spec.template.spec.containers.[name=app].env.[name=NEW].value
            - metadata.annotations.new
            - spec.template.spec.containers.*.ports.0.containerPort
            - spec.template.spec.newlist.[=foo]
            options: {create: true}
        """,
    )
    deployment = objects["Deployment/app"]
    app, sidecar = _containers(objects)
    # a created scalar is typed from its text (go-yaml reads it untagged) ...
    assert app["env"][-1] == {"name": "NEW", "value": 5432}
    assert sidecar["ports"] == [{"containerPort": 5432}]
    assert deployment["spec"]["template"]["spec"]["newlist"] == [5432]
    # ... except annotations, which kustomize writes back as strings
    assert deployment["metadata"]["annotations"]["new"] == "5432"


def test_select_reject_by_id_and_by_labels(yaml_tree: YamlTree) -> None:
    objects = _objects(
        yaml_tree,
        """
        replacements:
        - source: {kind: ConfigMap, name: src, fieldPath: data.port}
          targets:
          - select: {name: "ap.*"}
            fieldPaths: [metadata.labels.a]
            options: {create: true}
          - select: {namespace: ns1}
            reject:
            - {kind: ConfigMap}
            - {labelSelector: "tier=web"}
            fieldPaths: [metadata.labels.b]
            options: {create: true}
          - select: {labelSelector: "tier in (web)"}
            fieldPaths: [metadata.labels.c]
            options: {create: true}
          - select: {version: v1}
            reject:
            - {name: svc, kind: Service}
            fieldPaths: [metadata.labels.d]
            options: {create: true}
        """,
    )
    labels = {k: o["metadata"].get("labels", {}) for k, o in objects.items()}
    assert labels["ConfigMap/src"] == {"d": 5432}
    assert labels["Service/svc"] == {"b": 5432}
    assert labels["Deployment/app"] == {"tier": "web", "c": 5432, "d": 5432}


def test_wildcard_and_whole_map_replacement(yaml_tree: YamlTree) -> None:
    objects = _objects(
        yaml_tree,
        """
        replacements:
        - source: {kind: ConfigMap, fieldPath: data.host}
          targets:
          - select: {kind: Deployment}
            fieldPaths: [spec.template.spec.containers.*.image]
        - source: {kind: ConfigMap, fieldPath: data}
          targets:
          - select: {kind: Service}
            fieldPaths: [spec.selector]
            options: {create: true}
        """,
    )
    assert [c["image"] for c in _containers(objects)] == ["db.example.com"] * 2
    assert objects["Service/svc"]["spec"]["selector"]["port"] == "5432"


def test_replacements_run_after_prefix_and_images_and_see_old_names(
    yaml_tree: YamlTree,
) -> None:
    objects = _objects(
        yaml_tree,
        """
        namePrefix: p-
        images:
        - name: nginx
          newTag: "2.0"
        replacements:
        - source: {kind: Deployment, name: app, fieldPath: spec.template.spec.containers.0.image}
          targets:
          - select: {kind: Service, name: svc}
            fieldPaths: [metadata.annotations.img]
            options: {create: true}
        - source: {kind: Deployment, name: app}
          targets:
          - select: {kind: Service, name: p-svc}
            fieldPaths: [metadata.annotations.nm]
            options: {create: true}
        """,
    )
    annotations = objects["Service/p-svc"]["metadata"]["annotations"]
    assert annotations["img"] == "nginx:2.0"
    assert annotations["nm"] == "p-app"


def test_replacement_in_a_component(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": "resources: [res.yaml]\ncomponents: [../comp]\n",
            "app/res.yaml": RESOURCES,
            "comp/kustomization.yaml": textwrap.dedent(
                """
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                replacements:
                - source: {kind: ConfigMap, fieldPath: data.host}
                  targets:
                  - select: {kind: Service}
                    fieldPaths: [metadata.annotations.host]
                    options: {create: true}
                """
            ),
        }
    )
    objects = assert_same_as_kubectl(root / "app", root)
    service = next(o for o in objects if o["kind"] == "Service")
    assert service["metadata"]["annotations"]["host"] == "db.example.com"


def test_source_value_gives_the_value_itself(yaml_tree: YamlTree) -> None:
    # sourceValue is newer than kubectl's kustomize (v5.5 refuses it): no comparison
    root = _build(
        yaml_tree,
        """
        replacements:
        - sourceValue: hello
          targets:
          - select: {kind: Deployment}
            fieldPaths: [metadata.labels.tier]
        """,
    )
    objects = render_directory(root / "app", root=root).objects
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    assert deployment["metadata"]["labels"]["tier"] == "hello"


# --------------------------------------------------------------------------- errors

ERRORS = [
    pytest.param(
        "- source: {kind: Deployment, name: app}\n",
        "must specify a source and at least one target",
        id="no-targets",
    ),
    pytest.param(
        "- targets:\n  - select: {kind: Service}\n",
        "must specify a source and at least one target",
        id="no-source",
    ),
    pytest.param(
        "- source: {kind: Deployment}\n  targets:\n  - fieldPaths: [a]\n",
        "target must specify resources to select",
        id="no-select",
    ),
    pytest.param(
        "- source: {kind: Secret, name: x}\n  targets:\n  - select: {kind: Service}\n",
        r"nothing selected by Secret\.\[noVer\]\.\[noGrp\]/x\.\[noNs\]",
        id="nothing-selected",
    ),
    pytest.param(
        "- source: {version: v1}\n  targets:\n  - select: {kind: Service}\n",
        "multiple matches for selector",
        id="multiple-sources",
    ),
    pytest.param(
        "- source: {kind: ConfigMap, fieldPath: data.nope}\n"
        "  targets:\n  - select: {kind: Service}\n",
        "fieldPath `data.nope` is missing for replacement source",
        id="missing-source-field",
    ),
    pytest.param(
        "- source: {kind: ConfigMap, fieldPath: data.path, options: {delimiter: /, index: 5}}\n"
        "  targets:\n  - select: {kind: Service}\n",
        "options.index 5 is out of bounds",
        id="source-index-out-of-bounds",
    ),
    pytest.param(
        "- source: {kind: ConfigMap, fieldPath: data, options: {delimiter: /}}\n"
        "  targets:\n  - select: {kind: Service}\n",
        "delimiter option can only be used with scalar nodes",
        id="source-delimiter-on-map",
    ),
    pytest.param(
        "- source: {kind: Deployment, fieldPath: 'spec.template.spec.containers.*.image'}\n"
        "  targets:\n  - select: {kind: Service}\n",
        "wildcard is not supported in PathGetter",
        id="source-wildcard",
    ),
    pytest.param(
        "- source: {kind: ConfigMap, fieldPath: data.host}\n"
        "  targets:\n  - select: {kind: Deployment}\n    fieldPaths: [spec.nothere]\n",
        "unable to find field 'spec.nothere' in replacement target",
        id="missing-target-field",
    ),
    pytest.param(
        "- source: {kind: ConfigMap, fieldPath: data.host}\n"
        "  targets:\n  - select: {kind: Deployment}\n"
        "    fieldPaths: [spec.template.spec.containers.5.image]\n",
        "index 5 specified but only 2 elements found",
        id="target-index-out-of-range",
    ),
    pytest.param(
        "- source: {kind: ConfigMap, fieldPath: data.flag}\n"
        "  targets:\n  - select: {kind: Deployment}\n    fieldPaths: [spec.replicas]\n",
        "cannot decode a !!bool value as the !!int of spec.replicas",
        id="wrong-type-for-target",
    ),
    pytest.param(
        "- source: {kind: ConfigMap, fieldPath: data.host}\n"
        "  targets:\n  - select: {kind: Deployment}\n    fieldPaths: [spec.template]\n"
        "    options: {delimiter: ':'}\n",
        "delimiter option can only be used with scalar nodes",
        id="target-delimiter-on-map",
    ),
]


@pytest.mark.parametrize(("replacements", "match"), ERRORS)
def test_replacement_errors_match_kustomize(
    yaml_tree: YamlTree, replacements: str, match: str
) -> None:
    error = _fails(yaml_tree, "replacements:\n" + replacements, match)
    assert error.location is not None
    assert error.location.path == "app/kustomization.yaml"
    assert error.location.line >= 3


def test_error_never_quotes_the_value(yaml_tree: YamlTree) -> None:
    error = _fails(
        yaml_tree,
        """
        replacements:
        - source: {kind: ConfigMap, fieldPath: data.host}
          targets:
          - select: {kind: Deployment}
            fieldPaths: [spec.replicas]
        """,
        "cannot decode",
    )
    assert "db.example.com" not in str(error)


@pytest.mark.parametrize(
    "path",
    ["/etc/hostname", "../../outside.yaml", ".git/config", "sub/.git/x.yaml"],
)
def test_replacement_path_outside_the_repository_is_refused(yaml_tree: YamlTree, path: str) -> None:
    root = _build(yaml_tree, f"replacements:\n- path: {path}\n")
    with pytest.raises(HomelabKitError, match=r"refused|outside the repository") as caught:
        render_directory(root / "app", root=root)
    assert "\n" not in str(caught.value)
    assert caught.value.location is not None
    assert caught.value.location.line == 3


def test_path_and_inline_replacement_together_are_refused(yaml_tree: YamlTree) -> None:
    _fails(
        yaml_tree,
        """
        replacements:
        - path: r.yaml
          source: {kind: Deployment}
        """,
        "cannot specify both path and inline replacement",
        extra={"app/r.yaml": "source: {kind: Deployment}\n"},
    )


def test_reject_matches_any_earlier_id(yaml_tree: YamlTree) -> None:
    objects = _objects(
        yaml_tree,
        """
        namePrefix: p-
        replacements:
        - source: {kind: ConfigMap, fieldPath: data.host}
          targets:
          - select: {kind: Service}
            reject:
            - name: svc
            fieldPaths: [metadata.annotations.x]
            options: {create: true}
        """,
    )
    assert "x" not in objects["Service/p-svc"]["metadata"]["annotations"]
