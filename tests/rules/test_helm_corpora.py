"""The helm pack on real repositories: per-check finding counts, reviewed and recorded.

A change in these numbers is a change in behaviour on real input: review the new
findings (true or false positives?) before updating the record.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import pytest

from homelab_kit.testing import findings, lint_path
from tests.conftest import CORPUS_NAMES, corpus_path

# Reviewed, with the default options (the conventions of yamshy__homelab's guide):
# - helm-chart-source-placement: sources used by one release kept in their own
#   ocirepository.yaml/helmrepository.yaml (onedr0p, bjw-s, LukasParke, some of
#   vrozaksen) - the folder convention, which `placement: folder` accepts (see
#   below); yamshy's external-dns HelmRepository in flux/meta/repos is used by
#   cloudflare-dns alone (drift from its guide).
# - helm-remediation-retries: onedr0p's cluster-apps patch injects upgrade retries
#   and no install retries or RetryOnFailure strategy, so a failed install is not
#   retried (true; `require: [upgrade]` if intended).  The other repositories'
#   injected defaults (bjw-s, vrozaksen via a kustomize patch, LukasParke) count.
# - helm-chart-version-pinned: LukasParke's bifrost chart `version: 2.1.x`.  Read
#   from the applied objects since issue 16 (patches, substitution, cluster): no count
#   moved on any corpus, onedr0p__home-ops-2024 included (0): of 417 HelmReleases
#   and 245 OCIRepositories, 402 and 240 built by a cluster, no version is set by a
#   patch or substitution; the unbuilt ones are judged as written, as before.
# - helm-chart-source-unused (issue 16): none here; on onedr0p__home-ops-2024 (not
#   recorded) one, its bitnami HelmRepository that no release names (true).
# - helm-values-from-resolves: onedr0p__home-ops-2024's loki-bucket and
#   thanos-bucket (10 findings) are made by ObjectBucketClaims, now producers.
#   Since issue 16 items 1-3 the check reads each release as its cluster applies it
#   (namespace, patches, substitution, kustomize name references), and a generated
#   ConfigMap counts only in its cluster, by its applied (hashed) name.  Unchanged (0
#   everywhere): onedr0p-2024's 4 releases (cilium, coredns, spegel,
#   kubelet-csr-approver) and yamshy's 18 name their hashed `*-values` ConfigMaps through
#   a kustomizeconfig.yaml nameReference, so the applied valuesFrom carries the hash
#   and resolves exactly; a reference without it would now be an error (true: Flux
#   looks the ConfigMap up by name).
EXPECTED: dict[str, dict[str, int]] = {
    "yamshy__homelab": {"helm-chart-source-placement": 1},
    "onedr0p__home-ops": {
        "helm-chart-source-placement": 68,
        "helm-remediation-retries": 67,
    },
    "bjw-s-labs__home-ops": {"helm-chart-source-placement": 79},
    "vrozaksen__home-ops": {"helm-chart-source-placement": 5},
    "LukasParke__home-ops": {"helm-chart-source-placement": 40, "helm-chart-version-pinned": 1},
}

# Each repository's own convention, configured: only genuine findings remain.
CONFIGURED: dict[str, dict[str, Any]] = {
    "onedr0p__home-ops": {
        "helm-chart-source-placement": {"placement": "folder"},
        "helm-remediation-retries": {"require": ["upgrade"]},
    },
    "bjw-s-labs__home-ops": {"helm-chart-source-placement": {"placement": "folder"}},
    "vrozaksen__home-ops": {"helm-chart-source-placement": {"placement": "folder"}},
    "LukasParke__home-ops": {
        "helm-chart-source-placement": {
            "placement": "folder",
            "file-names": ["ocirepository.yaml", "helmrepository*.yaml"],
        }
    },
}
CONFIGURED_EXPECTED: dict[str, dict[str, int]] = {
    "onedr0p__home-ops": {},
    "bjw-s-labs__home-ops": {},
    "vrozaksen__home-ops": {},
    "LukasParke__home-ops": {"helm-chart-version-pinned": 1},
}


def _counts(root: Path, **changes: Any) -> dict[str, int]:
    result = lint_path(root, select=["helm-*"], **changes)
    return dict(sorted(collections.Counter(d.check_id for d in result.diagnostics).items()))


@pytest.mark.corpora
@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_helm_pack_on_corpora(name: str) -> None:
    assert _counts(corpus_path(name)) == EXPECTED[name]


@pytest.mark.corpora
@pytest.mark.parametrize("name", sorted(CONFIGURED))
def test_helm_pack_on_corpora_configured_for_their_conventions(name: str) -> None:
    counts = _counts(corpus_path(name), check_options=CONFIGURED[name])
    assert counts == CONFIGURED_EXPECTED[name]


def test_helm_pack_on_the_reference_cluster(reference_root: Path) -> None:
    assert findings(lint_path(reference_root, select=["helm-*"])) == []
