"""The structure pack on real repositories: per-check finding counts, reviewed and recorded.

A change in these numbers is a change in behaviour on real input: review the new
findings (true or false positives?) before updating the record.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from homelab_kit.testing import findings, lint_path
from tests.conftest import CORPUS_NAMES, corpus_path

# Reviewed:
# - structure-kustomize-missing: every one names a shell script or Lua file that the
#   corpus export left out (it keeps YAML/JSON/TOML only); on the real repositories
#   these files exist.  The check is right about the tree it was given.
# - yamshy: media/pvc, network/cloudflare-dns, cloudflare-tunnel and k8s-gateway point
#   spec.path at the folder holding ks.yaml (drift from its guide's app/ layout); the
#   last three have no kustomization.yaml there, so Flux also applies the ks.yaml itself
#   (structure-app-kustomization).
# - vrozaksen: 84 apps use a flat layout (ks.yaml beside the manifests, path "."), a
#   deliberate convention that structure-app-layout reports as such; nine apps are
#   commented out of their namespace kustomization (structure-app-unreachable).
# - onedr0p, bjw-s: inline values and no helm/ folder raise nothing; onedr0p's extra
#   valuesFrom ConfigMap (valuesKey flux-metrics.yaml, no hash suffix) is fine.
EXPECTED: dict[str, dict[str, int]] = {
    "yamshy__homelab": {
        "structure-app-kustomization": 3,
        "structure-app-layout": 4,
        "structure-app-unreachable": 2,
    },
    "onedr0p__home-ops": {
        "structure-app-unreachable": 1,
        "structure-kustomize-missing": 2,
    },
    "bjw-s-labs__home-ops": {
        "structure-kustomize-missing": 3,
    },
    "vrozaksen__home-ops": {
        "structure-app-layout": 84,
        "structure-app-unreachable": 15,
        "structure-kustomize-missing": 4,
    },
    "LukasParke__home-ops": {
        "structure-kustomize-missing": 2,
    },
}


@pytest.mark.corpora
@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_structure_pack_on_corpora(name: str) -> None:
    result = lint_path(corpus_path(name), select=["structure-*"])
    found = collections.Counter(d.check_id for d in result.diagnostics)
    assert dict(sorted(found.items())) == EXPECTED[name]


def test_structure_pack_on_the_reference_cluster(reference_root: Path) -> None:
    assert findings(lint_path(reference_root, select=["structure-*"])) == []
