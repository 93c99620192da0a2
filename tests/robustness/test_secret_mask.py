"""No value of a Secret that ``postBuild`` substitution wrote into the desired state
appears in lint output, in any format (homelab_kit.lint.mask)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.robustness.conftest import run_main

MARKER = "zzmarkerqq"  # stringData
ENCODED = "zzbasesixqq"  # base64 data
SHORT = "zqx"  # below the threshold: quoted
WORD = "true"  # a YAML word, not a credential: quoted
PLAIN = "zzplainqq"  # a ConfigMap's: quoted
FORMATS = ("text", "concise", "json", "sarif", "github", "junit")


def _plant(root: Path) -> None:
    """A Secret of clear values named by jellyfin's substituteFrom, used in its values."""
    common = root / "kubernetes/components/common"
    encoded = base64.b64encode(ENCODED.encode()).decode()
    (common / "cluster-secrets.yaml").write_text(
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: cluster-secrets\n"
        f"stringData:\n  SECRET_TOKEN: {MARKER}\n  SHORT_TOKEN: {SHORT}\n  WORD_TOKEN: '{WORD}'\n"
        f"data:\n  ENCODED_TOKEN: {encoded}\n"
    )
    _insert(
        common / "kustomization.yaml",
        "  - ./cluster-settings.yaml\n",
        "  - ./cluster-secrets.yaml\n",
    )
    settings = common / "cluster-settings.yaml"
    settings.write_text(settings.read_text() + f"  PLAIN_NAME: {PLAIN}\n")
    app = root / "kubernetes/apps/media/jellyfin"
    _insert(
        app / "ks.yaml",
        "        name: cluster-settings\n",
        "      - kind: Secret\n        name: cluster-secrets\n",
    )
    values = app / "app/helm/values.yaml"
    env = "".join(
        f"          {var}:\n            valueFrom:\n              secretKeyRef:\n"
        f"                name: {name}\n                key: x\n"
        for var, name in (
            ("ONE", "s-${SECRET_TOKEN}"),
            ("TWO", "e-${ENCODED_TOKEN}"),
            ("THREE", "short-${SHORT_TOKEN}"),
            ("FOUR", "p-${PLAIN_NAME}"),
            ("FIVE", "w-${WORD_TOKEN}"),
        )
    )
    text = values.read_text().replace("tag: 10.10.7", "tag: latest")
    text = text.replace(
        "repository: ghcr.io/jellyfin/jellyfin", "repository: ghcr.io/${SECRET_TOKEN}/bar"
    )
    text = text.replace("          TZ: ${TIMEZONE}\n", "          TZ: ${TIMEZONE}\n" + env)
    values.write_text(text)


def _insert(path: Path, after: str, text: str) -> None:
    """Write ``text`` after ``after`` in ``path``."""
    assert after in path.read_text()
    path.write_text(path.read_text().replace(after, after + text))


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.robustness.conftest import copy_reference_cluster

    root = copy_reference_cluster(tmp_path_factory.mktemp("mask") / "repo")
    _plant(root)
    return root


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_substituted_secret_value_in_any_format(planted: Path, fmt: str) -> None:
    run = run_main("lint", str(planted), "--no-cache", "--format", fmt)
    assert "Traceback" not in run.output
    assert MARKER not in run.output
    assert ENCODED not in run.output
    # The findings are still reported, the value masked.
    assert "s-****" in run.output
    assert "e-****" in run.output
    assert "ghcr.io/****/bar" in run.output
    # A value shorter than the threshold, and a ConfigMap's, are quoted.
    assert f"short-{SHORT}" in run.output
    assert f"w-{WORD}" in run.output
    assert f"p-{PLAIN}" in run.output


def test_the_cached_result_holds_no_substituted_secret_value(planted: Path) -> None:
    first = run_main("lint", str(planted), "--format", "concise")
    second = run_main("lint", str(planted), "--format", "concise")  # from the cache
    assert first.stdout.splitlines()[:-1] == second.stdout.splitlines()[:-1]
    assert "s-****" in second.stdout
    assert MARKER not in second.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("secrets",),
        ("secrets", "--format", "json"),
        ("graph", "--helm", "--format", "json"),
    ],
)
def test_no_substituted_secret_value_in_secrets_or_graph(
    planted: Path, args: tuple[str, ...]
) -> None:
    run = run_main(*args, str(planted), "--no-cache")
    assert run.returncode == 0, run.output
    assert MARKER not in run.output
    assert ENCODED not in run.output
    if args[0] == "secrets":
        assert "s-****" in run.output
        assert f"p-{PLAIN}" in run.output


def test_no_substituted_secret_value_in_the_html_report(planted: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    run = run_main("report", str(planted), "--html", str(page), "--no-cache")
    assert run.returncode == 0, run.output
    text = page.read_text()
    assert MARKER not in text
    assert ENCODED not in text
    assert "s-****" in text
    assert f"p-{PLAIN}" in text


def test_masking_replaces_long_values_only() -> None:
    from homelab_kit.diagnostic import Diagnostic, Fix
    from homelab_kit.lint.mask import MASK, mask_diagnostics, masker
    from homelab_kit.location import Location

    found = Diagnostic(
        Location("a.yaml", 1, 1),
        "some-check",
        "image ghcr.io/hunter22/x, flag true",
        remediation="use hunter22-free names",
        fix=Fix("rename hunter22", ()),
    )
    (masked,) = mask_diagnostics((found,), masker(["hunter22"]))
    assert masked.message == f"image ghcr.io/{MASK}/x, flag true"
    assert masked.remediation == f"use {MASK}-free names"
    assert masked.fix is not None
    assert masked.fix.description == f"rename {MASK}"
    assert mask_diagnostics((found,), masker([])) == (found,)


def test_masking_matches_escaped_forms() -> None:
    from homelab_kit.lint.mask import MASK, masker

    pattern = masker(['a\\b"c<d'])
    assert pattern is not None
    for text in ('a\\b"c<d', repr('a\\b"c<d'), '"a\\\\b\\"c<d"', "a\\b&quot;c&lt;d"):
        assert pattern.sub(MASK, text) in (MASK, f"'{MASK}'", f'"{MASK}"'), text
