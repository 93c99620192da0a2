"""go-yaml's folded-scalar round trip, as ``kubectl kustomize`` shows it."""

from __future__ import annotations

import pytest

from homelab_kit.render import render_directory
from homelab_kit.render.goyaml import kustomize_folded
from homelab_kit.testing import YamlTree
from tests.render.conftest import assert_same_as_kubectl

# (source value, what kubectl kustomize gives back), checked with kustomize v5.5
CASES = [
    ("one long line without breaks", "one long line without breaks"),
    ("first\n  more indented\nlast", "first\n\n  more indented\nlast"),
    ("one\ntwo\n", "one\ntwo\n"),
    ("one two\n\n\n", "one two\n\n\n\n"),
    ("  lead\nx y", "  lead\nx y"),
    ("a\n b\nc d\n", "a\n\n b\nc d\n"),
    ("trailing space \nx", "trailing space \nx"),  # written quoted: unchanged
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_folded_value_after_the_round_trip(value: str, expected: str) -> None:
    assert kustomize_folded(value) == expected


def test_renderer_applies_it_to_folded_scalars_only(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": "resources: [cm.yaml]\n",
            "app/cm.yaml": """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: x}
                data:
                  folded: >
                    a
                     b
                    c d
                  literal: |
                    a
                     b
                  quoted: "a\\n b\\nc"
                """,
        }
    )
    objects = assert_same_as_kubectl(root / "app", root)
    assert objects[0]["data"] == {
        "folded": "a\n\n b\nc d\n",
        "literal": "a\n b\n",
        "quoted": "a\n b\nc",
    }
    assert render_directory(root / "app", root=root).objects == tuple(objects)
