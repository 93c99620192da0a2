"""The flux pack on real repositories: per-check finding counts, reviewed and recorded.

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
# - flux-ks-wait: yamshy's app ks.yaml files write `wait: false` although its guide asks
#   for health checks (drift); onedr0p, bjw-s, vrozaksen and LukasParke deliberately
#   wait only where something depends on the result (a different convention: they
#   would ignore flux-ks-wait and keep flux-ks-dependency-wait).
# - flux-ks-dependency-wait: true positives everywhere (a dependency that does not wait
#   is Ready as soon as it is applied, so its dependents race it): yamshy's
#   infisical-secrets-operator and tailscale-operator, onedr0p's victoria-logs,
#   vrozaksen's cilium, rook-ceph, kanidm, mosquitto and others.  A warning since
#   stop 24 (was an error): Flux retries the dependents, so the cluster converges
#   late rather than never, and a dependency of plain manifests is ready once applied.
# - flux-ks-secrets-dependency: yamshy's seven media apps read cluster-secrets from
#   media/secrets and depend only on pvc, which does not depend on secrets (drift).
# - flux-ks-prune: bjw-s's flux-operator, flux-instance and coredns, vrozaksen's
#   flux-instance and cloudnative-pg, and 21 of onedr0p-2024's (cilium, certificates,
#   ...) deliberately set prune: false: the owner's choice, reported only with
#   `allow-false: false` (bjw-s 3 and vrozaksen 2 errors before, 0 now).
# - vrozaksen: sentry-kubernetes depends on sentry/sentry, whose app is commented out of
#   its namespace kustomization; forge's helmrelease.yaml uses ${TZ}, which nothing
#   defines (forge is commented out too, so both wait for the day it comes back).
#   Since issue 14 files no cluster deploys are not judged: both are silent, as are
#   the flux-ks-wait findings of the 7 unlisted apps (78 -> 71); structure-app-unreachable
#   reports those folders once. yamshy's cert-manager reads cluster-secrets, which only
#   an unlisted component (components/common/infisical) created: now reported.
# - flux-ks-substitute-deadlock (issue 16): yamshy's 10 apps with an
#   `app/secrets.infisical.yaml` substitute from the Secret that InfisicalSecret
#   makes, inside their own build (echo, cilium, cert-manager, ...): a fresh
#   cluster never builds them (true; its guide keeps them in secrets/). onedr0p's
#   2024 `cluster` Kustomization reads its own flux/vars, but it is a root that
#   bootstrap applies with its vars: not judged.
# - flux-ks-substitute-from (issue 16 items 1-3): now read from each cluster's desired
#   state (the entries a parent's patch injects, names after substitution, only that
#   cluster's producers).  Unchanged on every corpus (yamshy 1, others 0): yamshy's
#   cert-manager Kustomization (namespace cert-manager) reads cluster-secrets, which
#   only the unlisted components/common/infisical creates (true, as above);
#   onedr0p-2024's patched-in `substituteFrom: cluster-secrets` of every app resolves
#   in both clusters (main and storage each apply their own).
EXPECTED: dict[str, dict[str, int]] = {
    "yamshy__homelab": {
        "flux-ks-dependency-wait": 2,
        "flux-ks-secrets-dependency": 7,
        "flux-ks-substitute-deadlock": 10,
        "flux-ks-substitute-from": 1,
        "flux-ks-wait": 22,
    },
    "onedr0p__home-ops": {
        "flux-ks-dependency-wait": 1,
        "flux-ks-wait": 54,
    },
    "bjw-s-labs__home-ops": {
        "flux-ks-wait": 67,
    },
    "vrozaksen__home-ops": {
        "flux-ks-dependency-wait": 16,
        "flux-ks-wait": 71,
    },
    "LukasParke__home-ops": {
        "flux-ks-wait": 9,
    },
}


@pytest.mark.corpora
@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_flux_pack_on_corpora(name: str) -> None:
    result = lint_path(corpus_path(name), select=["flux-*"])
    found = collections.Counter(d.check_id for d in result.diagnostics)
    assert dict(sorted(found.items())) == EXPECTED[name]


def test_flux_pack_on_the_reference_cluster(reference_root: Path) -> None:
    assert findings(lint_path(reference_root, select=["flux-*"])) == []
