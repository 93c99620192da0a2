"""Schema validation of the object Flux applies: patches, substitution, several clusters.

A document some cluster deploys is validated as each cluster applies it (the desired
state), and each finding points at the line to edit: the patch that set the field,
else the field as written.
"""

from __future__ import annotations

import json
from pathlib import Path

import attrs

from homelab_kit.config import load_config
from homelab_kit.lint import LintResult, lint
from homelab_kit.testing import YamlTree, lint_path
from tests.rules.test_schema import APP, deployment, ks

IDS = ["schema-invalid", "schema-missing"]
PARENT = "kubernetes/flux/cluster/ks.yaml"


def _seen(result: LintResult) -> list[tuple[str, int, str, str | None]]:
    """``(path, line, message, cluster)`` of every finding."""
    return [(d.location.path, d.location.line, d.message, d.cluster) for d in result.diagnostics]


def _cluster(extra: dict[str, str], parent_spec: str = "") -> dict[str, str]:
    """One cluster: ``cluster-apps`` applies ``kubernetes/apps``, which lists the echo app."""
    return {
        PARENT: ks("cluster-apps", "./kubernetes/apps", parent_spec, "flux-system"),
        "kubernetes/apps/kustomization.yaml": "resources:\n  - ./default/echo/ks.yaml\n",
        f"{APP}/ks.yaml": ks("echo", f"./{APP}/app"),
        f"{APP}/app/kustomization.yaml": "resources:\n  - ./deployment.yaml\n",
        **extra,
    }


NO_SELECTOR = """
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  template:
    metadata:
      labels:
        app: echo
    spec:
      containers:
        - name: echo
          image: ghcr.io/mendhak/http-https-echo:37
"""

SELECTOR_PATCH = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  selector:
    matchLabels:
      app: echo
"""

LABEL_PATCH = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
  labels:
    team: web
"""


def test_a_field_a_kustomize_patch_adds_is_not_missing(yaml_tree: YamlTree, tmp_path: Path) -> None:
    kustomization = "resources:\n  - ./deployment.yaml\npatches:\n  - path: ./patch.yaml\n"
    tree = _cluster(
        {
            f"{APP}/app/deployment.yaml": NO_SELECTOR,
            f"{APP}/app/kustomization.yaml": kustomization,
            f"{APP}/app/patch.yaml": SELECTOR_PATCH,
        }
    )
    yaml_tree(tree)
    assert _seen(lint_path(tmp_path, select=IDS)) == []
    # A patch of the same kind that does not add it: the applied object lacks it
    # (until now any patch of the kind hid every missing field).
    yaml_tree({**tree, f"{APP}/app/patch.yaml": LABEL_PATCH})
    assert _seen(lint_path(tmp_path, select=IDS)) == [
        (
            f"{APP}/app/deployment.yaml",
            6,
            "Deployment echo: spec: missing required field 'selector'",
            None,
        )
    ]


def test_keys_of_mixed_types_in_a_deployed_object_do_not_crash(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    """``apiVersion: {apiVersion: null, 0: null}`` (found by the fuzz test) is a finding."""
    bad = NO_SELECTOR.replace("apiVersion: apps/v1", "apiVersion: {apiVersion: null, 0: null}")
    yaml_tree(_cluster({f"{APP}/app/deployment.yaml": bad}))
    result = lint_path(tmp_path, select=IDS)
    assert [d.check_id for d in result.diagnostics if d.check_id == "internal-error"] == []
    assert [(line, message) for _, line, message, _ in _seen(result)] == [
        (2, "Deployment echo: apiVersion: expected string, got a mapping")
    ]


def test_a_file_no_cluster_deploys_is_validated_as_written(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    """Not built, so what a patch of its kind may add is given the benefit of the doubt."""
    yaml_tree(
        {
            f"{APP}/app/deployment.yaml": NO_SELECTOR,
            f"{APP}/app/kustomization.yaml": (
                "resources:\n  - ./deployment.yaml\npatches:\n  - path: ./patch.yaml\n"
            ),
            f"{APP}/app/patch.yaml": LABEL_PATCH,
        }
    )
    assert _seen(lint_path(tmp_path, select=IDS)) == []
    yaml_tree({f"{APP}/app/patch.yaml": "", f"{APP}/app/kustomization.yaml": "resources: []\n"})
    assert [line for _, line, _, _ in _seen(lint_path(tmp_path, select=IDS))] == [6]


def test_a_bad_value_an_inline_patch_sets_is_reported_at_the_patch(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    kustomization = """
resources:
  - ./deployment.yaml
patches:
  - target:
      kind: Deployment
    patch: |-
      - op: replace
        path: /spec/replicas
        value: two
"""
    yaml_tree(
        _cluster(
            {
                f"{APP}/app/deployment.yaml": deployment(),
                f"{APP}/app/kustomization.yaml": kustomization,
            }
        )
    )
    # At the patch's operation (its value line would be better: the renderer's precision).
    assert _seen(lint_path(tmp_path, select=IDS)) == [
        (
            f"{APP}/app/kustomization.yaml",
            7,
            "Deployment echo: spec.replicas: expected integer, got string 'two'",
            None,
        )
    ]
    yaml_tree({f"{APP}/app/kustomization.yaml": kustomization.replace("two", "3")})
    assert _seen(lint_path(tmp_path, select=IDS)) == []


def test_a_bad_value_a_patch_file_sets_is_reported_once_at_the_patch(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    """The patch file is validated on its own; the patched object does not repeat it."""
    yaml_tree(
        _cluster(
            {
                f"{APP}/app/deployment.yaml": deployment(),
                f"{APP}/app/kustomization.yaml": (
                    "resources:\n  - ./deployment.yaml\npatches:\n  - path: ./patch.yaml\n"
                ),
                f"{APP}/app/patch.yaml": SELECTOR_PATCH + "  replicas: two\n",
            }
        )
    )
    assert _seen(lint_path(tmp_path, select=IDS)) == [
        (
            f"{APP}/app/patch.yaml",
            9,
            "patch of Deployment echo: spec.replicas: expected integer, got string 'two'",
            None,
        )
    ]


PARENT_PATCH = """
  patches:
    - target:
        kind: Kustomization
      patch: |-
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: _
        spec:
          timeout: {timeout}
"""


def test_a_bad_value_a_parent_flux_patch_sets_is_reported_at_the_parent(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    """Every child Kustomization gets it; the parent's spec.patches entry is what to edit."""
    yaml_tree(
        _cluster(
            {f"{APP}/app/deployment.yaml": deployment()},
            PARENT_PATCH.format(timeout="5 minutes"),
        )
    )
    assert _seen(lint_path(tmp_path, select=IDS)) == [
        (
            PARENT,
            25,  # the line of the spec.patches entry's patch text that sets it
            "Kustomization echo: spec.timeout: '5 minutes' does not match the pattern "
            r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$",
            None,
        )
    ]
    yaml_tree(
        _cluster({f"{APP}/app/deployment.yaml": deployment()}, PARENT_PATCH.format(timeout="5m"))
    )
    assert _seen(lint_path(tmp_path, select=IDS)) == []


def test_a_substituted_value_is_validated_where_the_placeholder_is(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    """Flux re-reads substituted text: "3" becomes an integer, "three" stays a string."""
    substitute = "  postBuild:\n    substitute:\n      REPLICAS: '{}'\n"
    tree = _cluster({f"{APP}/app/deployment.yaml": deployment("${REPLICAS}")})
    yaml_tree({**tree, f"{APP}/ks.yaml": ks("echo", f"./{APP}/app", substitute.format("three"))})
    assert _seen(lint_path(tmp_path, select=IDS)) == [
        (
            f"{APP}/app/deployment.yaml",
            7,
            "Deployment echo: spec.replicas: expected integer, got string 'three' "
            "after substituting variables",
            None,
        )
    ]
    yaml_tree({f"{APP}/ks.yaml": ks("echo", f"./{APP}/app", substitute.format("3"))})
    assert _seen(lint_path(tmp_path, select=IDS)) == []
    # Quoting the placeholder does not keep it a string: kustomize's YAML lost the quotes.
    yaml_tree({f"{APP}/app/deployment.yaml": deployment('"${REPLICAS}"')})
    assert _seen(lint_path(tmp_path, select=IDS)) == []


def _two_clusters(main: str, storage: str, typo: bool = False) -> dict[str, str]:
    """Clusters main and storage apply one shared app folder, each with its REPLICAS."""
    shared = "kubernetes/shared/echo"
    manifest = deployment("${REPLICAS}")
    if typo:
        manifest = manifest.replace("  replicas:", "  revisionHistoryLimitt: 3\n  replicas:")
    tree = {f"{shared}/deployment.yaml": manifest}
    for name, replicas in (("main", main), ("storage", storage)):
        postbuild = f"  postBuild:\n    substitute:\n      REPLICAS: '{replicas}'\n"
        tree[f"kubernetes/{name}/flux/cluster/ks.yaml"] = ks(
            "echo", f"./{shared}", postbuild, "flux-system"
        )
    return tree


def test_two_clusters_a_finding_in_one_names_it(yaml_tree: YamlTree, tmp_path: Path) -> None:
    yaml_tree(_two_clusters(main="2", storage="many"))
    result = lint_path(tmp_path, select=IDS)
    assert result.clusters == ("main", "storage")
    assert _seen(result) == [
        (
            "kubernetes/shared/echo/deployment.yaml",
            7,
            "Deployment echo: spec.replicas: expected integer, got string 'many' "
            "after substituting variables",
            "storage",
        )
    ]
    # --cluster main: storage's finding is not about main.
    config = attrs.evolve(load_config(tmp_path), select=tuple(IDS))
    assert lint(tmp_path, config=config, clusters=("main",)).diagnostics == ()
    chosen = lint(tmp_path, config=config, clusters=("storage",)).diagnostics
    assert [d.cluster for d in chosen] == ["storage"]


def test_two_clusters_each_with_its_own_finding(yaml_tree: YamlTree, tmp_path: Path) -> None:
    yaml_tree(_two_clusters(main="few", storage="many"))
    assert [(m.split("'")[1], c) for _, _, m, c in _seen(lint_path(tmp_path, select=IDS))] == [
        ("few", "main"),
        ("many", "storage"),
    ]


def test_two_clusters_the_same_finding_is_reported_once_without_a_cluster(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    yaml_tree(_two_clusters(main="2", storage="2", typo=True))
    assert _seen(lint_path(tmp_path, select=IDS)) == [
        (
            "kubernetes/shared/echo/deployment.yaml",
            7,
            "Deployment echo: unknown field 'spec.revisionHistoryLimitt' "
            "(did you mean 'revisionHistoryLimit'?)",
            None,
        )
    ]


def test_json_names_the_cluster(yaml_tree: YamlTree, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from homelab_kit.cli import cli

    yaml_tree(_two_clusters(main="2", storage="many"))
    run = CliRunner().invoke(
        cli,
        ["lint", str(tmp_path), "--no-cache", "--format", "json", "--select", "schema-invalid"],
    )
    document = json.loads(run.output)
    assert [(d["line"], d["cluster"]) for d in document["diagnostics"]] == [(7, "storage")]
    run = CliRunner().invoke(
        cli,
        ["lint", str(tmp_path), "--no-cache", "--format", "concise", "--select", "schema-invalid"],
    )
    assert "error[schema-invalid] [cluster storage] Deployment echo" in run.output


def test_a_value_substituted_from_a_secret_is_never_quoted(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    """An unencrypted Secret's variables are substituted; the message names the type only."""
    secret = """
---
apiVersion: v1
kind: Secret
metadata:
  name: cluster-secrets
  namespace: default
stringData:
  REPLICAS: hunter2-planted
"""
    postbuild = (
        "  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: cluster-secrets\n"
    )
    tree = _cluster({f"{APP}/app/deployment.yaml": deployment("${REPLICAS}")})
    tree["kubernetes/apps/default/secrets.yaml"] = secret
    tree["kubernetes/apps/kustomization.yaml"] = (
        "resources:\n  - ./default/secrets.yaml\n  - ./default/echo/ks.yaml\n"
    )
    tree[f"{APP}/ks.yaml"] = ks("echo", f"./{APP}/app", postbuild)
    yaml_tree(tree)
    result = lint_path(tmp_path, select=IDS)
    assert _seen(result) == [
        (
            f"{APP}/app/deployment.yaml",
            7,
            "Deployment echo: spec.replicas: expected integer, got a string "
            "after substituting variables",
            None,
        )
    ]
    assert "hunter2" not in repr(result)
