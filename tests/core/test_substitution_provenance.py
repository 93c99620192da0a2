"""Provenance of fields ``${VAR}`` substitution filled: the reference and the origin."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import homelab_kit
from homelab_kit.location import Location
from homelab_kit.model.clusters import Cluster, DesiredObject
from homelab_kit.model.provenance import value_at
from homelab_kit.model.substituted import Substitution, _templated
from homelab_kit.render import substitute_objects
from homelab_kit.testing import YamlTree
from tests.conftest import corpus_path
from tests.core.test_clusters import _cluster_files

PLANTED = "planted-secret-value-41"

_ROOT = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./kubernetes/apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
  postBuild:
    substitute:
      APP: echo
      SHARED: from-inline
    substituteFrom:
      - kind: ConfigMap
        name: settings
      - kind: Secret
        name: secret-settings
      - kind: Secret
        name: sops-settings
        optional: true
      - kind: ConfigMap
        name: later-settings
  patches:
    - patch: |
        - op: add
          path: /metadata/annotations
          value: {owner: "${OWNER}"}
      target: {kind: ConfigMap, name: ".*-settings"}
"""

_FILES = {
    "kubernetes/flux/kustomization.yaml": "resources: [./apps.yaml, ./settings.yaml]\n",
    "kubernetes/flux/apps.yaml": _ROOT,
    "kubernetes/flux/settings.yaml": f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings, namespace: flux-system}}
data:
  DOMAIN: example.org
  SHARED: from-configmap
  LATER: from-first
---
apiVersion: v1
kind: Secret
metadata: {{name: secret-settings, namespace: flux-system}}
stringData:
  TOKEN: {PLANTED}
data:
  PASSWORD: cGxhbnRlZC1zZWNyZXQtdmFsdWUtNDE=
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: later-settings, namespace: flux-system}}
data:
  LATER: from-later
---
apiVersion: v1
kind: Secret
metadata: {{name: sops-settings, namespace: flux-system}}
stringData:
  SEALED: ENC[AES256_GCM,data:abc,type:str]
sops:
  version: 3.9.0
""",
    "kubernetes/apps/kustomization.yaml": "resources: [./configmap.yaml, ./disabled.yaml]\n",
    "kubernetes/apps/configmap.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${APP}-settings
  namespace: default
data:
  url: https://${APP}.${DOMAIN}
  shared: ${SHARED}
  later: ${LATER}
  token: ${TOKEN}
  password: ${PASSWORD}
  sealed: ${SEALED}
  fallback: ${UNSET_VAR:=plain}
  untouched: ${NOBODY}
  script: |
    #!/bin/sh
    echo start
    curl https://${DOMAIN}/ping
""",
    "kubernetes/apps/disabled.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: raw
  namespace: default
  annotations: {kustomize.toolkit.fluxcd.io/substitute: disabled}
data:
  url: https://${DOMAIN}
""",
}


@pytest.fixture
def settings(yaml_tree: YamlTree) -> tuple[Path, DesiredObject]:
    root = yaml_tree(_FILES)
    repo = homelab_kit.load(root)
    (cluster,) = repo.clusters
    (obj,) = [o for o in cluster.objects if o.kind == "ConfigMap" and o.name == "echo-settings"]
    return root, obj


def _text_at(root: Path, where: Location) -> str:
    line = (root / where.path).read_text().splitlines()[where.line - 1]
    return line[where.column - 1 :]


def _one(obj: DesiredObject, *path: str | int) -> Substitution:
    (found,) = obj.provenance.substituted(path)
    return found


def test_a_field_points_at_its_reference_and_the_value_s_origin(
    settings: tuple[Path, DesiredObject],
) -> None:
    root, obj = settings
    name = _one(obj, "metadata", "name")
    assert (name.variable, name.origin, name.key) == ("APP", "substitute", "APP")
    assert obj.location_of("metadata", "name") == name.reference
    assert _text_at(root, name.reference).startswith("${APP}-settings")
    assert _text_at(root, name.origin_location).startswith("APP: echo")
    assert name.describe().startswith(
        "${APP} from spec.postBuild.substitute.APP (kubernetes/flux/apps.yaml:"
    )
    url = obj.provenance.substituted(("data", "url"))
    assert [(s.variable, s.origin, s.origin_object) for s in url] == [
        ("APP", "substitute", None),
        ("DOMAIN", "ConfigMap", "ConfigMap flux-system/settings"),
    ]
    # each reference at its own ${
    assert _text_at(root, url[1].reference).startswith("${DOMAIN}")
    assert _text_at(root, url[1].origin_location).startswith("DOMAIN: example.org")


def test_precedence_is_flux_s(settings: tuple[Path, DesiredObject]) -> None:
    root, obj = settings
    assert obj.get("data", "shared") == "from-inline"
    assert _one(obj, "data", "shared").origin == "substitute"  # inline wins over all
    later = _one(obj, "data", "later")
    assert obj.get("data", "later") == "from-later"
    assert later.origin_object == "ConfigMap flux-system/later-settings"  # later ones win
    assert _text_at(root, later.origin_location).startswith("LATER: from-later")


def test_a_secret_is_named_never_its_value(settings: tuple[Path, DesiredObject]) -> None:
    root, obj = settings
    token = _one(obj, "data", "token")
    password = _one(obj, "data", "password")
    assert (token.origin, token.origin_object) == ("Secret", "Secret flux-system/secret-settings")
    assert _text_at(root, token.origin_location).startswith("TOKEN:")
    assert _text_at(root, password.origin_location).startswith("PASSWORD:")
    everything = repr(obj.provenance.substitutions) + "".join(
        s.describe() for subs in obj.provenance.substitutions.values() for s in subs
    )
    assert PLANTED not in everything
    assert "cGxhbnRlZC1zZWNyZXQtdmFsdWUtNDE" not in everything


def test_unset_encrypted_default_and_disabled(
    yaml_tree: YamlTree, settings: tuple[Path, DesiredObject]
) -> None:
    root, obj = settings
    # SOPS-encrypted and unset variables stay as written: nothing substituted them.
    assert obj.get("data", "sealed") == "${SEALED}"
    assert obj.provenance.substituted(("data", "sealed")) == ()
    assert obj.provenance.substituted(("data", "untouched")) == ()
    assert obj.location_of("data", "untouched") == obj.source
    fallback = _one(obj, "data", "fallback")
    assert (fallback.variable, fallback.origin) == ("UNSET_VAR", "default")
    assert fallback.origin_location == fallback.reference
    assert "unset: its default" in fallback.describe()
    repo = homelab_kit.load(root)
    (raw,) = [o for o in repo.clusters[0].objects if o.name == "raw"]
    assert raw.provenance.substitutions == {}


def test_a_block_scalar_points_at_the_line_of_the_reference(
    settings: tuple[Path, DesiredObject],
) -> None:
    root, obj = settings
    script = _one(obj, "data", "script")
    assert script.reference.line == 18
    assert _text_at(root, script.reference).startswith("${DOMAIN}/ping")


def test_a_reference_written_in_a_parent_s_patch_points_at_the_patch(
    yaml_tree: YamlTree,
) -> None:
    files = dict(_FILES)
    files["kubernetes/flux/settings.yaml"] += "---\n" + _FILES[
        "kubernetes/flux/settings.yaml"
    ].split("---\n")[0].replace("DOMAIN: example.org", "OWNER: me").replace(
        "name: settings", "name: owners"
    )
    files["kubernetes/flux/apps.yaml"] = _ROOT.replace(
        "      - kind: ConfigMap\n        name: later-settings\n",
        "      - kind: ConfigMap\n        name: later-settings\n"
        "      - kind: ConfigMap\n        name: owners\n",
    )
    root = yaml_tree(files)
    repo = homelab_kit.load(root)
    (obj,) = [o for o in repo.clusters[0].objects if o.name == "echo-settings"]
    assert obj.get("metadata", "annotations", "owner") == "me"
    owner = _one(obj, "metadata", "annotations", "owner")
    assert owner.origin_object == "ConfigMap flux-system/owners"
    assert owner.reference.path == "kubernetes/flux/apps.yaml"
    assert _text_at(root, owner.reference).startswith("${OWNER}")  # the patch's own line
    assert owner.origin_object == "ConfigMap flux-system/owners"


def test_each_cluster_s_own_configmap(yaml_tree: YamlTree) -> None:
    root = yaml_tree({**_cluster_files("main", "8080"), **_cluster_files("storage", "9090")})
    repo = homelab_kit.load(root)
    for cluster in repo.clusters:
        echo = cluster.kustomization("flux-system", "echo")
        assert echo is not None
        path = _one(echo.object, "spec", "path")
        assert path.variable == "CLUSTER"
        assert (
            path.origin_location.path
            == f"kubernetes/{cluster.name}/flux/vars/cluster-settings.yaml"
        )
        assert _text_at(root, path.reference).startswith("${CLUSTER}/apps")
        (service,) = [o for o in cluster.objects if o.kind == "Service"]
        port = _one(service, "spec", "ports", 0, "port")
        assert port.origin_location.path.startswith(f"kubernetes/{cluster.name}/")
        assert _text_at(root, port.origin_location).startswith("PORT:")


def test_provenance_pickles_as_plain_data(settings: tuple[Path, DesiredObject]) -> None:
    _, obj = settings
    copy = pickle.loads(pickle.dumps(obj.provenance))
    assert type(copy.substitutions) is dict
    assert copy.substitutions == dict(obj.provenance.substitutions)
    assert copy.fields == dict(obj.provenance.fields)


def _check_corpus(root: Path, clusters: tuple[Cluster, ...]) -> int:
    """Every reference is its ${VAR}, every origin its key; returns the count."""
    count = 0
    for cluster in clusters:
        for obj in cluster.objects:
            for path, found in obj.provenance.substitutions.items():
                assert obj.location_of(*path) == found[0].reference
                for s in found:
                    count += 1
                    text = _text_at(root, s.reference)
                    assert text.startswith("${" + s.variable), (s, text)
                    if s.origin in ("substitute", "ConfigMap", "Secret"):
                        assert (
                            _text_at(root, s.origin_location).lstrip("\"'").startswith(str(s.key))
                        ), s
    return count


@pytest.mark.parametrize(
    ("name", "least"),
    [("vrozaksen__home-ops", 500), ("onedr0p__home-ops-2024", 300)],
)
def test_corpus_substitutions_point_at_their_references(name: str, least: int) -> None:
    root = corpus_path(name)
    repo = homelab_kit.load(root)
    assert _check_corpus(root, repo.clusters) >= least


def _every_templated(node: Any, path: tuple[str | int, ...] = ()) -> list[Any]:
    """Every string holding ``${`` under ``node``, with its path: the whole walk."""
    if isinstance(node, dict):
        return [f for key, value in node.items() for f in _every_templated(value, (*path, key))]
    if isinstance(node, list):
        return [f for i, value in enumerate(node) for f in _every_templated(value, (*path, i))]
    return [(path, node)] if isinstance(node, str) and "${" in node else []


_LEAF = st.sampled_from(["plain", "${A}", "x-${B}-y", "${UNSET}", "$${A}", 7, None, True])
_TREE = st.recursive(
    _LEAF,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "c", "${A}"]), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.sampled_from(["spec", "data", "metadata"]), _TREE, max_size=3))
def test_the_walk_skipping_shared_subtrees_finds_every_substituted_field(
    spec: dict[str, Any],
) -> None:
    """What substitution left shared with the object before it is skipped, exactly.

    Substitution copies only what it changes (``copy=False``); a field whose text it
    changed is found whether or not the walk skips the subtrees it did not touch.
    """
    before = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, **spec}
    after = substitute_objects([before], {"A": "a", "B": "b"}, copy=False).objects[0]
    changed = [(p, t) for p, t in _templated(before, after) if value_at(after, p) != t]
    whole = [(p, t) for p, t in _every_templated(before) if value_at(after, p) != t]
    assert changed == whole
