"""The YAML pack on real repositories: per-check finding counts, reviewed and recorded.

A change in these numbers is a change in behaviour on real input: review the new
findings (true or false positives?) before updating the record.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from homelab_kit.testing import findings, lint_path
from tests.conftest import CORPUS_NAMES, corpus_path

# Reviewed: yamshy__homelab's single-use `&app`/`&namespace` anchors in
# helmrelease.yaml files and its files without a final newline or leading `---`
# are drift from its own guide; LukasParke's `base_url` keys that override a `<<`
# merge are not duplicates (valid YAML, not reported); the document-start findings
# elsewhere are talos patches and one-off files (SOPS files and local Helm charts are
# exempt).
EXPECTED: dict[str, dict[str, int]] = {
    "yamshy__homelab": {
        "yaml-document-start": 35,
        "yaml-final-newline": 20,
        "yaml-unused-anchor": 14,
    },
    "onedr0p__home-ops": {
        "yaml-document-start": 1,
    },
    "bjw-s-labs__home-ops": {
        "yaml-document-start": 1,
    },
    "vrozaksen__home-ops": {
        "yaml-document-start": 6,
        "yaml-unused-anchor": 11,
    },
    "LukasParke__home-ops": {
        "yaml-document-start": 9,
        "yaml-final-newline": 1,
    },
}


@pytest.mark.corpora
@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_yaml_pack_on_corpora(name: str) -> None:
    result = lint_path(corpus_path(name), select=["yaml-*"])
    found = collections.Counter(d.check_id for d in result.diagnostics)
    assert dict(sorted(found.items())) == EXPECTED[name]


def test_yaml_pack_on_the_reference_cluster(reference_root: Path) -> None:
    assert findings(lint_path(reference_root, select=["yaml-*"])) == []
