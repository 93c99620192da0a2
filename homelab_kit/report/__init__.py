"""Reporters: turn a :class:`~homelab_kit.lint.result.LintResult` into text.

Every built-in format registers through ``homelab_kit_register_formats`` (see
:mod:`homelab_kit.report.builtin`); a reporter's ``render`` returns the whole
output, ending in a newline, and never prints.  docs/output-formats.md documents
each format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from homelab_kit._lazy import attach

if TYPE_CHECKING:
    from homelab_kit.report.base import Reporter, ReportOptions
    from homelab_kit.report.github import GithubReporter
    from homelab_kit.report.json import JsonReporter
    from homelab_kit.report.junit import JunitReporter
    from homelab_kit.report.sarif import SarifReporter
    from homelab_kit.report.text import ConciseReporter, TextReporter

# Imported on first use (PEP 562): a run prints one format, not all six.
_LAZY = {
    "Reporter": "homelab_kit.report.base",
    "ReportOptions": "homelab_kit.report.base",
    "GithubReporter": "homelab_kit.report.github",
    "JsonReporter": "homelab_kit.report.json",
    "JunitReporter": "homelab_kit.report.junit",
    "SarifReporter": "homelab_kit.report.sarif",
    "ConciseReporter": "homelab_kit.report.text",
    "TextReporter": "homelab_kit.report.text",
}


__getattr__ = attach("homelab_kit.report", _LAZY, globals())


DEFAULT_FORMAT = "text"
GITHUB_FORMAT = "github"


def choose_default_format(env: Mapping[str, str]) -> str:
    """The format used when ``--format`` is not given.

    ``"github"`` inside GitHub Actions (``GITHUB_ACTIONS=true``), ``"text"`` elsewhere.

    :param env: the environment, usually ``os.environ``.
    :returns: a format name.
    """
    if env.get("GITHUB_ACTIONS", "").strip().lower() == "true":
        return GITHUB_FORMAT
    return DEFAULT_FORMAT


__all__ = [
    "DEFAULT_FORMAT",
    "ConciseReporter",
    "GithubReporter",
    "JsonReporter",
    "JunitReporter",
    "ReportOptions",
    "Reporter",
    "SarifReporter",
    "TextReporter",
    "choose_default_format",
]
