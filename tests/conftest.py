"""Shared fixtures: the project root, ../shared, and homelab_kit.testing's helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["homelab_kit.testing"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
CORPUS_NAMES = (
    "yamshy__homelab",
    "onedr0p__home-ops",
    "bjw-s-labs__home-ops",
    "vrozaksen__home-ops",
    "LukasParke__home-ops",
)


def corpus_path(name: str) -> Path:
    """A corpus repository, or skip the test with a reason when ../shared is absent."""
    path = CORPORA / name
    if not path.is_dir():
        pytest.skip(f"{path} is absent (../shared/corpora is not available on this machine)")
    return path


@pytest.fixture
def reference_root() -> Path:
    """The reference cluster: the project root (kubernetes/ and talos/)."""
    return PROJECT_ROOT


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the test suite's caches out of the user's ~/.cache."""
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture(autouse=True, scope="session")
def _offline() -> None:
    """No test reaches the network: remote schema locations are not fetched.

    Tests of fetching unset it and serve schemas from 127.0.0.1.
    """
    import os

    os.environ["HOMELAB_KIT_OFFLINE"] = "1"
