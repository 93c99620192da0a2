"""What users may type: names, charts, versions, images, ports."""

from __future__ import annotations

import pytest

from homelab_kit.errors import ScaffoldError
from homelab_kit.scaffold.names import (
    Chart,
    Image,
    check_port,
    check_version,
    parse_target,
)


@pytest.mark.parametrize(
    "target",
    ["media/jellyfin", "a/b", "kube-system/x1", "0/1", f"{'a' * 63}/{'b' * 53}"],
)
def test_valid_targets(target: str) -> None:
    assert parse_target(target) == tuple(target.split("/"))


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("media", "NAMESPACE/APP"),
        ("media/x/y", "NAMESPACE/APP"),
        ("", "NAMESPACE/APP"),
        ("Media/app", "lower-case"),
        ("media/App", "for example 'app'"),
        ("media/my_app", "for example 'my-app'"),
        ("media/-x", "lower-case"),
        ("media/x-", "lower-case"),
        ("media/..", "not a plain name"),
        ("../x", "not a plain name"),
        ("/x", "empty"),
        ("media/", "empty"),
        ("media/.hidden", "not a plain name"),
        ("media/x\n", "lower-case"),
        ("media/secrets", "reserved"),
        (f"{'a' * 64}/x", "longer than 63"),
        (f"media/{'a' * 54}", "longer than 53"),
    ],
)
def test_invalid_targets(target: str, reason: str) -> None:
    with pytest.raises(ScaffoldError, match=reason):
        parse_target(target)


def test_chart() -> None:
    chart = Chart.parse("oci://ghcr.io/bjw-s-labs/helm/app-template")
    assert (chart.registry, chart.name) == ("ghcr.io", "app-template")
    assert Chart.parse("oci://registry.local:5000/charts/x").name == "x"
    for bad in (
        "https://charts.x/y",
        "oci://ghcr.io",
        "oci://ghcr.io/../x",
        "oci://gh cr.io/x",
        "oci://ghcr.io/{{x}}",
        "ghcr.io/x/y",
    ):
        with pytest.raises(ScaffoldError, match="OCI chart reference"):
            Chart.parse(bad)


def test_version() -> None:
    for good in ("1.2.3", "v1.2.3", "1.2.3-rc.1", "0.0.1+build.5"):
        assert check_version(good) == good
    for bad in ("1.2", "latest", ">=1.0.0", "1.2.x", "", "1.2.3 "):
        with pytest.raises(ScaffoldError, match="pinned"):
            check_version(bad)


def test_image() -> None:
    assert Image.parse("ghcr.io/org/app:1.2.3") == Image("ghcr.io/org/app", "1.2.3", None)
    assert Image.parse("localhost:5000/app:v1").repository == "localhost:5000/app"
    digest = "sha256:" + "a" * 64
    assert Image.parse(f"ghcr.io/a/b@{digest}") == Image("ghcr.io/a/b", None, digest)
    with pytest.raises(ScaffoldError, match="no tag"):
        Image.parse("ghcr.io/a/b")
    with pytest.raises(ScaffoldError, match="latest"):
        Image.parse("ghcr.io/a/b:latest")
    with pytest.raises(ScaffoldError, match="not an image reference"):
        Image.parse("GHCR.io/A:1")


def test_port() -> None:
    assert check_port("8080") == 8080
    for bad in ("0", "65536", "http", "-1"):
        with pytest.raises(ScaffoldError):
            check_port(bad)
