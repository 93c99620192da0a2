"""Fixtures for the example plugin's tests.

``homelab_kit.testing`` provides ``yaml_tree`` (write a YAML tree into ``tmp_path``) and
``lint_tree`` (lint it; ``(path, line, check_id)`` tuples).  They lint with the
plugins installed in the environment; when this plugin is only on ``sys.path``, not
installed (homelab-kit's own checkout runs these tests so), it is registered for the
duration of each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from homelab_kit.plugins import get_plugin_manager

import homelab_kit_example

pytest_plugins = ["homelab_kit.testing"]

PLUGIN_NAME = "example"  # the entry point's name in pyproject.toml


@pytest.fixture(autouse=True)
def _plugin_loaded() -> Iterator[None]:
    """Make sure homelab-kit sees this plugin, installed or not."""
    manager = get_plugin_manager().pm
    if manager.get_plugin(PLUGIN_NAME) is not None:
        yield  # installed: homelab-kit loaded it from the entry point
        return
    manager.register(homelab_kit_example, name=PLUGIN_NAME)
    try:
        yield
    finally:
        manager.unregister(name=PLUGIN_NAME)
