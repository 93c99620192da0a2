"""Checks that belong to the engine itself (registered like any plugin's)."""

from __future__ import annotations

from typing import Any

from homelab_kit.lint import unused_suppression
from homelab_kit.plugins import hookimpl


@hookimpl
def homelab_kit_register_checks() -> list[Any]:
    return [unused_suppression]
