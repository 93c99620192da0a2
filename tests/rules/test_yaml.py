"""The YAML pack: syntax, duplicate keys, anchors and aliases, file style."""

from __future__ import annotations

from homelab_kit.testing import LintTree, YamlTree

NS = "kubernetes/apps/default/ns.yaml"

GOOD = """
---
apiVersion: v1
kind: Namespace
metadata:
  name: default
"""


def test_yaml_syntax_reports_every_problem(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            NS: GOOD,
            "kubernetes/apps/default/tab.yaml": "---\nspec:\n\tinterval: 1h\n",
            "kubernetes/apps/default/broken.yaml": "---\nspec: [1, 2\n",
            "kubernetes/apps/default/latin1.yaml": b"---\nname: caf\xe9\n",
            "kubernetes/apps/default/binary.yaml": b"\x00\x01\x02",
        }
    )
    assert lint_tree(select=["yaml-syntax"]) == [
        ("kubernetes/apps/default/binary.yaml", 0, "yaml-syntax"),
        ("kubernetes/apps/default/broken.yaml", 3, "yaml-syntax"),
        ("kubernetes/apps/default/latin1.yaml", 2, "yaml-syntax"),
        ("kubernetes/apps/default/tab.yaml", 3, "yaml-syntax"),
    ]


def test_yaml_syntax_passes_valid_yaml(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree({NS: GOOD})
    assert lint_tree(select=["yaml-syntax"]) == []


def test_yaml_duplicate_key(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            NS: """
            ---
            apiVersion: v1
            kind: Namespace
            metadata:
              name: default
              name: media
            """,
            "kubernetes/apps/default/ok.yaml": GOOD,
        }
    )
    assert lint_tree(select=["yaml-duplicate-key"]) == [(NS, 6, "yaml-duplicate-key")]


def test_yaml_cross_document_and_undefined_aliases(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(
        {
            NS: """
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: &app echo
            data:
              app: *app
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: *app
            data:
              other: *missing
            """,
        }
    )
    assert lint_tree(select=["yaml-cross-document-alias", "yaml-undefined-alias"]) == [
        (NS, 12, "yaml-cross-document-alias"),
        (NS, 14, "yaml-undefined-alias"),
    ]


def test_yaml_aliases_within_a_document_pass(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            NS: """
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: &app echo
            data:
              app: *app
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: &app other
            data:
              app: *app
            """,
        }
    )
    ids = ["yaml-cross-document-alias", "yaml-undefined-alias", "yaml-unused-anchor"]
    assert lint_tree(select=ids) == []


def test_yaml_unused_anchor(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            NS: """
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: &app echo
              namespace: &namespace default
            data:
              app: *app
            """,
        }
    )
    assert lint_tree(select=["yaml-unused-anchor"]) == [(NS, 6, "yaml-unused-anchor")]


def test_yaml_document_start(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            NS: "# yaml-language-server: $schema=x\napiVersion: v1\nkind: Namespace\n",
            "kubernetes/apps/default/ok.yaml": "# comment\n" + GOOD.lstrip("\n"),
            "kubernetes/apps/default/secret.sops.yaml": (
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
                "stringData:\n  key: ENC[AES256_GCM,data:abc,type:str]\n"
                "sops:\n  age: []\n  version: 3.9.0\n  mac: ENC[AES256_GCM,data:x,type:str]\n"
            ),
            "kubernetes/apps/default/chart/Chart.yaml": "apiVersion: v2\nname: local\n",
            "kubernetes/apps/default/chart/values.yaml": "replicas: 1\n",
        }
    )
    assert lint_tree(select=["yaml-document-start"]) == [(NS, 2, "yaml-document-start")]


def test_yaml_document_start_forbidden(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            ".homelab-kit.yaml": "checks:\n  yaml-document-start:\n    present: false\n",
            NS: GOOD,
            "kubernetes/apps/default/ok.yaml": "apiVersion: v1\nkind: Namespace\n",
        }
    )
    assert lint_tree(select=["yaml-document-start"]) == [(NS, 1, "yaml-document-start")]


def test_yaml_final_newline(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            NS: b"---\napiVersion: v1\nkind: Namespace",
            "kubernetes/apps/default/ok.yaml": GOOD,
            "kubernetes/apps/default/empty.yaml": b"",
        }
    )
    assert lint_tree(select=["yaml-final-newline"]) == [(NS, 3, "yaml-final-newline")]


def test_yaml_new_lines(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        {
            NS: b"---\r\napiVersion: v1\r\nkind: Namespace\r\n",
            "kubernetes/apps/default/bom.yaml": b"\xef\xbb\xbf---\napiVersion: v1\n",
            "kubernetes/apps/default/ok.yaml": GOOD,
        }
    )
    assert lint_tree(select=["yaml-new-lines"]) == [
        ("kubernetes/apps/default/bom.yaml", 1, "yaml-new-lines"),
        (NS, 1, "yaml-new-lines"),
    ]
