"""The secrets map reads each cluster's desired state.

Producers and readers are the objects a cluster applies: names after that
cluster's ``postBuild`` substitution, namespaces as Flux puts them (a Secret
written without a namespace lives in its Kustomization's ``targetNamespace``, and
in no namespace when there is none), fields a parent's patch injects; what no
cluster deploys creates nothing.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import homelab_kit
from homelab_kit.secrets_map import MISSING_PRODUCER, NO_NAMESPACE, UNUSED_SECRET, SecretsMap
from homelab_kit.secrets_map import build_secrets_map as build
from homelab_kit.testing import write_tree
from tests.rules.test_schema import ks


def _ks(name: str, path: str, extra: str = "") -> str:
    """A Flux Kustomization in flux-system; ``extra`` spec lines, unindented."""
    return ks(name, path, textwrap.indent(textwrap.dedent(extra), "  "), namespace="flux-system")


def _secret(name: str, namespace: str = "") -> str:
    where = f"  namespace: {namespace}\n" if namespace else ""
    return f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n{where}stringData:\n  K: v\n"


def _deployment(secret: str, namespace: str = "") -> str:
    where = f"\n          namespace: {namespace}" if namespace else ""
    return textwrap.dedent(
        f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web{where}
        spec:
          template:
            spec:
              containers:
                - name: app
                  envFrom:
                    - secretRef:
                        name: {secret}
        """
    )


def _cluster(name: str, web: str, extra: str = "") -> dict[str, str]:
    """Cluster ``name``: cluster-apps deploys web, which builds ``web`` (a folder)."""
    return {
        f"kubernetes/{name}/flux/cluster/ks.yaml": _ks("cluster-apps", f"./kubernetes/{name}/apps"),
        f"kubernetes/{name}/apps/kustomization.yaml": "resources: [./web/ks.yaml]\n",
        f"kubernetes/{name}/apps/web/ks.yaml": _ks("web", f"./{web}", extra),
    }


def _secrets(smap: SecretsMap) -> list[tuple[str, str, int, int, tuple[str, ...]]]:
    return [
        (ns.namespace, s.name, len(s.producers), len(s.readers), s.flags)
        for ns in smap.namespaces
        for s in ns.secrets
    ]


def _maps(root: Path) -> dict[str | None, SecretsMap]:
    repo = homelab_kit.load(root)
    return {c.name: build(repo, cluster=c) for c in repo.clusters} or {None: build(repo)}


SHARED = "kubernetes/shared/web"


def test_each_cluster_maps_the_names_its_own_substitution_gives(tmp_path: Path) -> None:
    substitute = "targetNamespace: web\npostBuild:\n  substitute:\n    APP: {}\n"
    tree = {
        **_cluster("main", SHARED, substitute.format("web")),
        **_cluster("storage", SHARED, substitute.format("api")),
        f"{SHARED}/kustomization.yaml": "resources: [./secret.yaml, ./deployment.yaml]\n",
        f"{SHARED}/secret.yaml": _secret("${APP}-secret"),
        f"{SHARED}/deployment.yaml": _deployment("${APP}-secret"),
    }
    maps = _maps(write_tree(tmp_path, tree))
    assert _secrets(maps["main"]) == [("web", "web-secret", 1, 1, ())]
    assert _secrets(maps["storage"]) == [("web", "api-secret", 1, 1, ())]


APP = "kubernetes/main/apps/web/app"


def _one_app(extra: str, resources: str = "./secret.yaml, ./deployment.yaml") -> dict[str, str]:
    return {
        **_cluster("main", APP, extra),
        f"{APP}/kustomization.yaml": f"resources: [{resources}]\n",
        f"{APP}/secret.yaml": _secret("web-secret"),
        f"{APP}/deployment.yaml": _deployment("web-secret", "web"),
    }


def test_a_secret_without_namespace_lives_in_the_target_namespace(tmp_path: Path) -> None:
    (smap,) = _maps(write_tree(tmp_path, _one_app("targetNamespace: web\n"))).values()
    assert _secrets(smap) == [("web", "web-secret", 1, 1, ())]
    assert smap.findings == ()


def test_a_secret_without_any_namespace_is_read_by_no_one(tmp_path: Path) -> None:
    (smap,) = _maps(write_tree(tmp_path, _one_app(""))).values()
    assert _secrets(smap) == [
        (NO_NAMESPACE, "web-secret", 1, 0, (UNUSED_SECRET,)),
        ("web", "web-secret", 0, 1, (MISSING_PRODUCER,)),
    ]


def test_a_secret_no_cluster_deploys_creates_nothing(tmp_path: Path) -> None:
    tree = _one_app("targetNamespace: web\n", resources="./deployment.yaml")
    (smap,) = _maps(write_tree(tmp_path, tree)).values()
    assert _secrets(smap) == [("web", "web-secret", 0, 1, (MISSING_PRODUCER,))]


PATCH = """\
patches:
  - target: {group: kustomize.toolkit.fluxcd.io, kind: Kustomization}
    patch: |-
      apiVersion: kustomize.toolkit.fluxcd.io/v1
      kind: Kustomization
      metadata:
        name: _
      spec:
        postBuild:
          substituteFrom:
            - kind: Secret
              name: cluster-secrets
"""


def test_a_reader_a_parent_patch_injects_is_counted(tmp_path: Path) -> None:
    tree = _one_app("targetNamespace: web\n")
    tree["kubernetes/main/flux/cluster/ks.yaml"] = _ks(
        "cluster-apps", "./kubernetes/main/apps", PATCH
    )
    tree["kubernetes/main/apps/kustomization.yaml"] = (
        "resources: [./web/ks.yaml, ./cluster-secrets.yaml]\n"
    )
    tree["kubernetes/main/apps/cluster-secrets.yaml"] = _secret("cluster-secrets", "flux-system")
    (smap,) = _maps(write_tree(tmp_path, tree)).values()
    flux = smap.namespace("flux-system")
    assert flux is not None
    (secret,) = flux.secrets
    assert [(r.consumer, r.usage) for r in secret.readers] == [
        ("Kustomization web", "substitution")
    ]
