"""The built-in output formats, registered as any plugin registers its own."""

from __future__ import annotations

from typing import Any

from homelab_kit.plugins import hookimpl
from homelab_kit.report.github import GithubReporter
from homelab_kit.report.json import JsonReporter
from homelab_kit.report.junit import JunitReporter
from homelab_kit.report.sarif import SarifReporter
from homelab_kit.report.text import ConciseReporter, TextReporter


@hookimpl
def homelab_kit_register_formats() -> list[Any]:
    """Register ``text``, ``concise``, ``json``, ``sarif``, ``github`` and ``junit``."""
    return [
        TextReporter,
        ConciseReporter,
        JsonReporter,
        SarifReporter,
        GithubReporter,
        JunitReporter,
    ]
