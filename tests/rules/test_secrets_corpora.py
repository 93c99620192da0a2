"""The secrets pack on real repositories: per-check finding counts, reviewed and recorded.

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
# - yamshy__homelab drifted from its guide: all 17 InfisicalSecrets read the project
#   root recursively (`secretsPath: /`); they omit hostAPI, as Infisical Cloud
#   users may (the guide's self-hosted instance wants `require-host-api: true`);
#   14 sit in app folders or components instead of the namespace's secrets/
#   folder; coder's values name a `coder-tls` Secret under `ingress.tls` that nothing
#   creates, but its ingress is Tailscale's, which does not read it: since stop 24 a
#   chart's `tls.secretName` is not read as a Secret that must exist (2 -> 1).
# - vrozaksen keeps every InfisicalSecret next to its app or in `${APP}` components
#   (74, its convention: `allowed` clears them); the Secrets `kanidm-*-oidc` are
#   made at run time by kanidm-provision from its `kanidm_config` ConfigMaps, a
#   producer of the table since (the 12 findings that were false went 12 -> 0); the
#   attic-secrets InfisicalSecret is in a file nothing deploys and its Secrets are
#   named nowhere; renovate-operator-valkey is a committed plaintext Secret (a URL).
# - LukasParke (cluster-template family) keeps 8 app SOPS files under kubernetes/:
#   against the bootstrap-only rule by design (`sops-allowlist` clears them).
# - onedr0p and bjw-s use ExternalSecret throughout: nothing to report.
# - Issue 16 items 1-3: secrets-consumed-secret-exists and the secrets-infisical-*
#   checks read what each cluster applies (readers and producers after substitution,
#   in the namespace Flux applies them to, producers only in their own cluster).
#   Every count is unchanged; reviewed: vrozaksen's 4 InfisicalSecrets with
#   substituted names (components cnpg, anubis, kafka, clickhouse: `${APP}-...`)
#   are now one producer per app applying them (postgres-arr-app, ...), each in its
#   app's namespace, where the old reading spread every name over every namespace;
#   the readers of its unlisted apps (recyclarr, rxresume, sentry: 24) are no longer
#   readers at all (they never were judged: not deployed).  yamshy's consumed
#   finding (cert-manager's substituteFrom cluster-secrets) is now reported once,
#   by flux-ks-substitute-from, which owns substituteFrom.
EXPECTED: dict[str, dict[str, int]] = {
    "yamshy__homelab": {
        "secrets-infisical-location": 13,
        "secrets-infisical-scope": 16,
    },
    "onedr0p__home-ops": {},
    "bjw-s-labs__home-ops": {},
    "vrozaksen__home-ops": {
        "secrets-infisical-location": 63,
        "secrets-plaintext-secret": 1,
    },
    "LukasParke__home-ops": {"secrets-sops-allowlist": 8},
}


def _counts(root: Path, **changes: Any) -> dict[str, int]:
    result = lint_path(root, select=["secrets-*"], **changes)
    return dict(sorted(collections.Counter(d.check_id for d in result.diagnostics).items()))


@pytest.mark.corpora
@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_secrets_pack_on_corpora(name: str) -> None:
    assert _counts(corpus_path(name)) == EXPECTED[name]


@pytest.mark.corpora
def test_vrozaksen_configured_for_its_conventions() -> None:
    options = {
        "secrets-infisical-location": {"allowed": ["kubernetes/**"]},
        "secrets-consumed-secret-exists": {
            "external": ["infisical-credentials"],
        },
    }
    counts = _counts(corpus_path("vrozaksen__home-ops"), check_options=options)
    # attic's unused InfisicalSecret is in a file no kustomization.yaml lists (issue 14).
    assert counts == {"secrets-plaintext-secret": 1}


@pytest.mark.corpora
def test_yamshy_with_the_guides_host_api_convention() -> None:
    options = {"secrets-infisical-well-formed": {"require-host-api": True}}
    counts = _counts(corpus_path("yamshy__homelab"), check_options=options)
    assert counts["secrets-infisical-well-formed"] == 16  # every deployed one omits hostAPI


@pytest.mark.corpora
def test_lukasparke_configured_for_its_conventions() -> None:
    allowlist = ("kubernetes/**/*.sops.yaml", "talos/*.sops.yaml", "bootstrap/**")
    counts = _counts(corpus_path("LukasParke__home-ops"), sops_allowlist=allowlist)
    assert counts == {}


@pytest.mark.corpora
@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_no_diagnostic_carries_a_secret_value(name: str) -> None:
    root = corpus_path(name)
    result = lint_path(root, select=["secrets-*"])
    repo_secrets = [value for path in root.rglob("*.yaml") for value in _stringdata_values(path)]
    text = "\n".join(str(d) for d in result.diagnostics)
    assert not [v for v in repo_secrets if v in text]


def _stringdata_values(path: Path) -> list[str]:
    """Values under stringData/data of plaintext Secrets (long enough to be telling)."""
    from homelab_kit.yaml import load_file

    out: list[str] = []
    for doc in load_file(str(path), path.name).documents:
        data = doc.data
        if not isinstance(data, dict) or data.get("kind") != "Secret" or "sops" in data:
            continue
        for field in ("data", "stringData"):
            values = data.get(field)
            if isinstance(values, dict):
                out += [v for v in values.values() if isinstance(v, str) and len(v) >= 8]
    return out


def test_secrets_pack_on_the_reference_cluster(reference_root: Path) -> None:
    assert findings(lint_path(reference_root, select=["secrets-*"])) == []
