"""The workloads pack on real repositories: per-check finding counts, reviewed and recorded.

A change in these numbers is a change in behaviour on real input: review the new
findings (true or false positives?) before updating the record.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from homelab_kit.testing import findings, lint_path
from tests.conftest import CORPUS_NAMES, corpus_path

# Reviewed: every finding is a true positive by the check's definition. The
# non-root and read-only findings are app-template containers that set no
# securityContext (linuxserver.io images in yamshy__homelab start as root); the
# image tags are explicit `latest`; vrozaksen's privileged container is a binfmt
# init container (a genuine privileged container, to suppress with a reason).
# Issue 16 (app-template pod options): `hostUsers: false` counts as a root
# mitigation: onedr0p's zwave (2 -> 1) and bjw-s's dispatcharr and freshrss
# (7 -> 5) go silent, as their owners meant. An init container with
# `restartPolicy: Always` is a sidecar, judged as a container: the gatus-sidecar
# of bjw-s (13 -> 14) and vrozaksen (19 -> 20) has a writable root filesystem.
# (onedr0p__home-ops-2024, not recorded, gains 7 hostPath findings from
# `persistence.*.type: hostPath`: vector's /proc and /sys, the storage node's /eros.)
# Issue 16 item 1 (the checks read each cluster's desired state): no count moves
# on any corpus (`homelab-kit lint DIR --no-cache --select 'workload-*' --format
# json`, before and after). What moved: the anubis component's release in bjw-s
# and vrozaksen (a component HelmRelease forgejo applies, checked as written
# before) is now named as applied, `HelmRelease dev/forgejo-anubis` instead of
# `${APP}-anubis`, same lines; host access an app-template release gets from
# `persistence.*.type: hostPath` or `defaultPodOptions` is reported at that field
# (onedr0p__home-ops-2024's 7 findings move from the controller to the `type:
# hostPath` line). Workloads in files no cluster deploys are no longer read (5 in
# vrozaksen, e.g. apps/downloads/metube, 1 in onedr0p__home-ops-2024: emqx's
# exporter); none had a finding the engine kept, as those files are not live.
# onedr0p__home-ops-2024 is recorded below, per cluster.
EXPECTED: dict[str, dict[str, int]] = {
    "yamshy__homelab": {
        "workload-image-tag": 1,
        "workload-non-root": 9,
        "workload-read-only-root-fs": 9,
    },
    "onedr0p__home-ops": {
        "workload-non-root": 1,
        "workload-read-only-root-fs": 2,
        "workload-resources": 1,
    },
    "bjw-s-labs__home-ops": {
        "workload-non-root": 5,
        "workload-read-only-root-fs": 14,
        "workload-resources": 4,
    },
    "vrozaksen__home-ops": {
        "workload-image-tag": 1,
        "workload-non-root": 7,
        "workload-privilege-escalation": 2,
        "workload-privileged": 1,
        "workload-probes": 4,
        "workload-read-only-root-fs": 20,
        "workload-resources": 7,
    },
    "LukasParke__home-ops": {
        "workload-non-root": 10,
        "workload-read-only-root-fs": 16,
    },
}


@pytest.mark.corpora
@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_workloads_pack_on_corpora(name: str) -> None:
    result = lint_path(corpus_path(name), select=["workload-*"])
    found = collections.Counter(d.check_id for d in result.diagnostics)
    assert dict(sorted(found.items())) == EXPECTED[name]


def test_workloads_pack_on_the_reference_cluster(reference_root: Path) -> None:
    assert findings(lint_path(reference_root, select=["workload-*"])) == []


# Two clusters (main, storage): each finding is in a file only one of them deploys,
# so each names its cluster. Reviewed: vector's agent mounts /proc, /sys, /var/lib
# and /var/log (a log shipper, on both clusters), system-upgrade-controller /etc/ssl
# and /etc/pki, the storage node's apps its /eros disk; the privileged containers
# are vector's agent (both clusters) and rtlamr2mqtt (a USB radio, main).
EXPECTED_TWO_CLUSTERS = {
    ("workload-host-access", "main"): 2,
    ("workload-host-access", "storage"): 5,
    ("workload-non-root", "main"): 4,
    ("workload-non-root", "storage"): 1,
    ("workload-privileged", "main"): 2,
    ("workload-privileged", "storage"): 1,
    ("workload-read-only-root-fs", "main"): 9,
    ("workload-read-only-root-fs", "storage"): 1,
    ("workload-resources", "main"): 4,
    ("workload-resources", "storage"): 2,
}


@pytest.mark.corpora
def test_workloads_pack_on_a_repository_of_two_clusters() -> None:
    result = lint_path(corpus_path("onedr0p__home-ops-2024"), select=["workload-*"])
    found = collections.Counter((d.check_id, d.cluster) for d in result.diagnostics)
    assert dict(sorted(found.items(), key=str)) == EXPECTED_TWO_CLUSTERS
