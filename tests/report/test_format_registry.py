"""The built-in formats register through the plugin hook; the default format follows CI."""

from __future__ import annotations

import pytest

from homelab_kit.lint.result import LintResult
from homelab_kit.report import ReportOptions, choose_default_format
from homelab_kit.report import builtin as builtin_formats

NAMES = ["text", "concise", "json", "sarif", "github", "junit"]


def test_the_builtin_plugin_registers_every_format() -> None:
    classes = builtin_formats.homelab_kit_register_formats()
    assert [cls.name for cls in classes] == NAMES
    for cls in classes:
        assert cls.description
        assert callable(cls().render)


def test_formats_come_through_the_plugin_manager() -> None:
    from homelab_kit.plugins import PluginManager

    manager = PluginManager(autoload=False)
    found = [item.name for plugin, item in manager.registered("homelab_kit_register_formats")]
    assert [name for name in found if name in NAMES] == NAMES


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "text"),
        ({"GITHUB_ACTIONS": "true"}, "github"),
        ({"GITHUB_ACTIONS": "True"}, "github"),
        ({"GITHUB_ACTIONS": "false"}, "text"),
        ({"GITHUB_ACTIONS": ""}, "text"),
        ({"CI": "true"}, "text"),
    ],
)
def test_choose_default_format(env: dict[str, str], expected: str) -> None:
    assert choose_default_format(env) == expected


@pytest.mark.parametrize("name", NAMES)
def test_every_format_is_plain_without_colour_and_ends_with_a_newline(
    name: str, sample: LintResult, clean: LintResult
) -> None:
    cls = {c.name: c for c in builtin_formats.homelab_kit_register_formats()}[name]
    for result in (sample, clean):
        text = cls().render(result, ReportOptions(color=False))
        assert "\x1b" not in text
        assert text.endswith("\n")
        assert not text.endswith("\n\n")
