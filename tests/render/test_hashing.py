"""kustomize's hash suffix, against values kubectl v1.32 (kustomize v5.5) produced."""

from __future__ import annotations

import pytest

from homelab_kit.render import name_hash, render_directory
from homelab_kit.render.hashing import encode_hash, go_json
from homelab_kit.testing import YamlTree
from tests.render.conftest import assert_same_as_kubectl, needs_kubectl


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"A": "1"}}, "89g4tffbfk"),
        # the name is not part of the hash (kustomize looks it up under a wrong path)
        ({"kind": "ConfigMap", "metadata": {"name": "other"}, "data": {"A": "1"}}, "89g4tffbfk"),
        (
            {"kind": "Secret", "type": "Opaque", "metadata": {"name": "s"}, "data": {"A": "MQ=="}},
            "526mcbf5c2",
        ),
        (
            {"kind": "Secret", "type": "kubernetes.io/tls", "data": {"A": "PCY+"}},
            "85cm2md4h8",
        ),
        (
            {
                "kind": "ConfigMap",
                "data": {
                    "A": "1",
                    "B": "q u",
                    "C": "x",
                    "E1": "a b",
                    "E2": '"quoted"',
                    "E3": "x=y",
                },
            },
            "g852chfm6g",
        ),
    ],
)
def test_known_hashes(obj: dict[str, object], expected: str) -> None:
    assert name_hash(obj) == expected


def test_encode_and_go_json() -> None:
    assert encode_hash("0123456789abcdef") == "gh2k456789"
    assert go_json({"b": "<&>", "a": "\u2028é"}) == '{"a":"\\u2028é","b":"\\u003c\\u0026\\u003e"}'
    with pytest.raises(ValueError, match="at least 10"):
        encode_hash("abc")


@needs_kubectl
def test_hashes_match_kubectl_on_awkward_data(yaml_tree: YamlTree) -> None:
    root = yaml_tree(
        {
            "app/kustomization.yaml": """
                configMapGenerator:
                  - name: text
                    files: [unicode.txt, html.txt]
                    literals: ["TAB=a\\tb", "EMPTY="]
                  - name: binary
                    files: [blob.bin]
                secretGenerator:
                  - name: sec
                    files: [html.txt]
                    type: Opaque
                """,
            "app/unicode.txt": "héllo wörld \u2028 ✓\n",
            "app/html.txt": "<a href='x'>&amp;</a>\r\n",
            "app/blob.bin": bytes(range(256)),
        }
    )
    objects = assert_same_as_kubectl(root / "app", root)
    assert {o["metadata"]["name"].rsplit("-", 1)[0] for o in objects} == {"text", "binary", "sec"}
    binary = next(o for o in objects if o["metadata"]["name"].startswith("binary"))
    assert "blob.bin" in binary["binaryData"]
    assert render_directory(root / "app", root=root).objects == tuple(objects)
