"""The API versions pack on real repositories: per-check finding counts, reviewed and recorded.

A change in these numbers is a change in behaviour on real input: review the new
findings (true or false positives?) before updating the record.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from homelab_kit.testing import findings, lint_path
from tests.conftest import CORPUS_NAMES, corpus_path

# All five repositories use current apiVersions (yamshy__homelab's
# image.toolkit.fluxcd.io/v1beta2 is current for the Flux 2.6.4 its
# FluxInstance pins).
#
# Since issue 16 the checks read the objects as each cluster applies them (patches,
# substitution, health checks a parent's patch injects; the cluster named when
# clusters differ): no count moved.  No corpus changes an apiVersion or a health
# check by patch or substitution.
#
# onedr0p__home-ops-2024 (recorded below) had 2 api-removed errors, its two
# clusters' OCIRepository flux-manifests at source.toolkit.fluxcd.io/v1beta2: judged
# against the newest Flux, as no FluxInstance pins one.  Both clusters pin Flux
# v2.3.0 (that OCIRepository's ref.tag, and bootstrap/flux/kustomization.yaml's
# github.com/fluxcd/flux2/manifests/install?ref=v2.3.0), where v1beta2 is the
# newest OCIRepository API: since flux_version reads those pins, 0 findings (false
# positives gone; no other finding of any corpus moved).
EXPECTED: dict[str, dict[str, int]] = {
    "yamshy__homelab": {},
    "onedr0p__home-ops": {},
    "bjw-s-labs__home-ops": {},
    "vrozaksen__home-ops": {},
    "LukasParke__home-ops": {},
}


@pytest.mark.corpora
@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_apiversions_pack_on_corpora(name: str) -> None:
    result = lint_path(corpus_path(name), select=["api-*"])
    found = collections.Counter(d.check_id for d in result.diagnostics)
    assert dict(sorted(found.items())) == EXPECTED[name]


def test_apiversions_pack_on_the_reference_cluster(reference_root: Path) -> None:
    assert findings(lint_path(reference_root, select=["api-*"])) == []


@pytest.mark.corpora
def test_a_repository_pinning_flux_by_its_install_manifests_is_judged_by_that_release() -> None:
    result = lint_path(corpus_path("onedr0p__home-ops-2024"), select=["api-*"])
    assert findings(result) == []
