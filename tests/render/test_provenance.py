"""Provenance: where each rendered object was written and where each change came from."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from homelab_kit.location import Location
from homelab_kit.model.provenance import Provenance
from homelab_kit.render import Rendered, render_directory
from homelab_kit.testing import YamlTree

BASE_KUSTOMIZATION = """\
resources:
  - deploy.yaml
configMapGenerator:
  - name: settings
    literals: [A=1]
"""
BASE_OBJECTS = """\
apiVersion: v1
kind: Service
metadata:
  name: web
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.0
        - name: side
          image: busybox
"""
PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: side
          resources:
            limits:
              memory: 1Gi
"""
KUSTOMIZATION = """\
resources:
  - ../base
namespace: demo
namePrefix: p-
commonLabels:
  team: a
commonAnnotations:
  owner: me
images:
  - name: nginx
    newTag: "2.0"
replicas:
  - name: web
    count: 3
patches:
  - path: patch.yaml
  - target: {kind: Deployment}
    patch: |-
      - op: add
        path: /spec/paused
        value: true
  - patch: |-
      apiVersion: v1
      kind: Service
      metadata:
        name: web
      spec:
        type: NodePort
replacements:
  - source: {kind: ConfigMap, fieldPath: metadata.name}
    targets:
      - select: {kind: Service}
        fieldPaths:
          - metadata.annotations.cm
        options: {create: true}
"""


def _at(text: str, needle: str, path: str) -> Location:
    """The location of the first ``needle`` in ``text`` (1-based line and column)."""
    for number, line in enumerate(text.splitlines(), start=1):
        column = line.find(needle)
        if column >= 0:
            return Location(path, number, column + 1)
    raise AssertionError(f"{needle!r} not in {path}")


@pytest.fixture
def rendered(yaml_tree: YamlTree) -> Rendered:
    root = yaml_tree(
        {
            "base/kustomization.yaml": BASE_KUSTOMIZATION,
            "base/deploy.yaml": BASE_OBJECTS,
            "app/patch.yaml": PATCH,
            "app/kustomization.yaml": KUSTOMIZATION,
        }
    )
    return render_directory(root / "app", root=root)


def _by_kind(rendered: Rendered) -> dict[str, tuple[dict[str, Any], Provenance]]:
    assert len(rendered.provenance) == len(rendered.objects)
    return {o["kind"]: (o, p) for o, p in zip(rendered.objects, rendered.provenance, strict=True)}


def test_source_is_the_document_or_the_generator_entry(rendered: Rendered) -> None:
    found = _by_kind(rendered)
    assert found["Service"][1].source == Location("base/deploy.yaml", 1, 1)
    assert found["Deployment"][1].source == Location("base/deploy.yaml", 6, 1)
    assert found["ConfigMap"][1].source == _at(
        BASE_KUSTOMIZATION, "name: settings", "base/kustomization.yaml"
    )


def test_a_patched_field_points_at_the_patch_line(rendered: Rendered) -> None:
    deployment, provenance = _by_kind(rendered)["Deployment"]
    containers = deployment["spec"]["template"]["spec"]["containers"]
    side = next(i for i, c in enumerate(containers) if c["name"] == "side")
    memory = ("spec", "template", "spec", "containers", side, "resources", "limits", "memory")
    assert provenance.location_of(memory) == _at(PATCH, "memory", "app/patch.yaml")
    # the rest of the patched container still comes from the base document
    image = ("spec", "template", "spec", "containers", side, "image")
    assert provenance.location_of(image) == provenance.source


def test_inline_patches_point_into_the_kustomization(rendered: Rendered) -> None:
    kustomization = "app/kustomization.yaml"
    found = _by_kind(rendered)
    assert found["Service"][1].location_of(("spec", "type")) == _at(
        KUSTOMIZATION, "type: NodePort", kustomization
    )
    assert found["Deployment"][1].location_of(("spec", "paused")) == _at(
        KUSTOMIZATION, "op: add", kustomization
    )


def test_transformers_and_replacements_point_at_their_entries(rendered: Rendered) -> None:
    path = "app/kustomization.yaml"
    deployment, provenance = _by_kind(rendered)["Deployment"]
    assert provenance.location_of(("metadata", "namespace")) == _at(KUSTOMIZATION, "demo", path)
    assert provenance.location_of(("metadata", "name")) == _at(KUSTOMIZATION, "p-", path)
    # labels and annotations: the value of the key in commonLabels/commonAnnotations
    assert provenance.location_of(("metadata", "labels", "team")) == Location(path, 6, 9)
    assert provenance.location_of(("metadata", "annotations", "owner")) == Location(path, 8, 10)
    assert provenance.location_of(("spec", "replicas")) == _at(KUSTOMIZATION, "3", path)
    app = next(
        i
        for i, c in enumerate(deployment["spec"]["template"]["spec"]["containers"])
        if c["name"] == "app"
    )
    image = ("spec", "template", "spec", "containers", app, "image")
    assert provenance.location_of(image) == _at(KUSTOMIZATION, "name: nginx", path)
    service = _by_kind(rendered)["Service"][1]
    assert service.location_of(("metadata", "annotations", "cm")) == _at(
        KUSTOMIZATION, "metadata.annotations.cm", path
    )
    # a field nothing changed: the document
    assert provenance.location_of(("kind",)) == Location("base/deploy.yaml", 6, 1)


def test_list_items_and_replacement_files(yaml_tree: YamlTree) -> None:
    replacement = textwrap.dedent(
        """\
        source: {kind: ConfigMap, name: a}
        targets:
          - select: {kind: ConfigMap, name: b}
            fieldPaths: [data.x]
        """
    )
    root = yaml_tree(
        {
            "app/kustomization.yaml": "resources: [list.yaml]\nreplacements:\n  - path: r.yaml\n",
            "app/r.yaml": replacement,
            "app/list.yaml": textwrap.dedent(
                """\
                apiVersion: v1
                kind: List
                items:
                  - apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: a}
                  - apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: b}
                    data: {x: old}
                """
            ),
        }
    )
    rendered = render_directory(Path(root / "app"), root=root)
    by_name = {
        o["metadata"]["name"]: p for o, p in zip(rendered.objects, rendered.provenance, strict=True)
    }
    assert by_name["a"].source == Location("app/list.yaml", 4, 5)
    assert by_name["b"].source == Location("app/list.yaml", 7, 5)
    assert by_name["b"].location_of(("data", "x")) == _at(replacement, "data.x", "app/r.yaml")
