"""Test helpers for homelab-kit and its plugins' authors.

Use as a pytest plugin (``pytest_plugins = ["homelab_kit.testing"]``)::

    def test_prune(yaml_tree, lint_tree):
        yaml_tree({"kubernetes/apps/default/echo/ks.yaml": KS_WITHOUT_PRUNE})
        assert lint_tree(select=["flux-ks-prune"]) == [
            ("kubernetes/apps/default/echo/ks.yaml", 9, "flux-ks-prune"),
        ]
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

from homelab_kit.config import Config, load_config
from homelab_kit.lint import LintResult, lint
from homelab_kit.plugins import PluginManager

YamlTree = Callable[[Mapping[str, str | bytes]], Path]
LintTree = Callable[..., list[tuple[str, int, str]]]


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``{relative path: text}`` under ``root`` (text is dedented)."""
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def lint_path(
    root: Path,
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    plugins: Iterable[Any] = (),
    **config_changes: Any,
) -> LintResult:
    """Lint ``root`` with its own config plus the given overrides.

    ``plugins`` are extra plugin objects (modules) registered for this run only,
    beside the built-in and installed ones.
    """
    config: Config = load_config(root)
    changes: dict[str, Any] = dict(config_changes)
    if select is not None:
        changes["select"] = tuple(select)
    if ignore:
        changes["ignore"] = tuple(ignore)
    extra = tuple(plugins)
    pm = PluginManager(extra=extra) if extra else None
    return lint(root, config=attrs.evolve(config, **changes), pm=pm)


def findings(result: LintResult) -> list[tuple[str, int, str]]:
    """``(path, line, check_id)`` of each finding, as a user sees them."""
    return [(d.location.path, d.location.line, d.check_id) for d in result.diagnostics]


@pytest.fixture
def yaml_tree(tmp_path: Path) -> YamlTree:
    """Write a YAML tree into ``tmp_path`` (a ``kubernetes/`` folder makes it a repo)."""

    def make(files: Mapping[str, str | bytes]) -> Path:
        (tmp_path / "kubernetes").mkdir(exist_ok=True)
        return write_tree(tmp_path, files)

    return make


@pytest.fixture
def lint_tree(tmp_path: Path) -> LintTree:
    """Lint the tree in ``tmp_path``; returns ``(path, line, check_id)`` tuples."""

    def run(**kwargs: Any) -> list[tuple[str, int, str]]:
        return findings(lint_path(tmp_path, **kwargs))

    return run
