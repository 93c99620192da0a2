"""Fields a Flux Kustomization's own spec sets are placed at that spec (not line 0)."""

from __future__ import annotations

import homelab_kit
from homelab_kit.location import Location
from homelab_kit.testing import YamlTree

ROOT = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 1h
  path: ./kubernetes/apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
  targetNamespace: web
  namePrefix: x-
  patches:
    - patch: |
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: any
        spec:
          replicas: 2
      target:
        kind: Deployment
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  replicas: 1
"""


def test_spec_patches_target_namespace_and_name_prefix_are_placed(yaml_tree: YamlTree) -> None:
    # kubernetes/apps has no kustomization.yaml: Flux generates one
    root = yaml_tree({"kubernetes/flux/ks.yaml": ROOT, "kubernetes/apps/deploy.yaml": DEPLOYMENT})
    repo = homelab_kit.load(root)
    (deployment,) = [o for c in repo.clusters for o in c.objects if o.kind == "Deployment"]
    assert deployment.name == "x-echo"
    ks = "kubernetes/flux/ks.yaml"
    assert deployment.location_of("spec", "replicas") == Location(ks, 20, 21)
    assert deployment.location_of("metadata", "namespace") == Location(ks, 11, 20)
    assert deployment.location_of("metadata", "name") == Location(ks, 12, 15)
    assert deployment.location_of("kind") == Location("kubernetes/apps/deploy.yaml", 1, 1)
