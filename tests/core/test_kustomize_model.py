"""kustomization.yaml read tolerantly: a field of the wrong type lists nothing, never crashes."""

from __future__ import annotations

from pathlib import Path

import homelab_kit
from homelab_kit.testing import write_tree


def test_generator_fields_that_are_not_lists_list_nothing(tmp_path: Path) -> None:
    """hypothesis found ``files: true`` crashing the loader (tests/robustness/test_fuzz.py)."""
    write_tree(
        tmp_path,
        {
            "kubernetes/apps/app/kustomization.yaml": (
                "apiVersion: kustomize.config.k8s.io/v1beta1\n"
                "kind: Kustomization\n"
                "configMapGenerator:\n"
                "  - {name: values, files: true, envs: 3, literals: a=b}\n"
                "  - {name: good, files: [values.yaml], literals: [c=d]}\n"
            ),
            "kubernetes/apps/app/values.yaml": "replicas: 1\n",
        },
    )
    repo = homelab_kit.load(tmp_path)
    generators = {gen.name: gen for _, gen in repo.generators()}
    assert (generators["values"].files, generators["values"].literal_keys) == ((), ())
    assert generators["good"].file_keys == ("values.yaml",)
    assert generators["good"].literal_keys == ("c",)
