"""The lint engine: selection, configuration, suppressions, isolation of crashing plugins."""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import homelab_kit
from homelab_kit import Diagnostic, Location, Severity, hookimpl
from homelab_kit.config import load_config
from homelab_kit.errors import ConfigError, PluginError
from homelab_kit.plugins import PluginManager
from homelab_kit.testing import findings, lint_path, write_tree

KS_PRUNE_FALSE = """\
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: echo
  namespace: default
spec:
  interval: 1h
  path: ./kubernetes/apps/default/echo/app
  prune: false
"""


# A written `prune: false` is a finding only where the owner asks for it.
STRICT = "checks:\n  flux-ks-prune: {allow-false: false}\n"


def _tree(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    files = {
        "kubernetes/apps/default/echo/ks.yaml": KS_PRUNE_FALSE,
        ".homelab-kit.yaml": STRICT,
        **(extra or {}),
    }
    return write_tree(tmp_path, files)


def test_finding_has_position_and_default_severity(tmp_path: Path) -> None:
    result = lint_path(_tree(tmp_path), select=["flux-ks-prune"])
    assert findings(result) == [("kubernetes/apps/default/echo/ks.yaml", 10, "flux-ks-prune")]
    assert result.diagnostics[0].severity is Severity.ERROR
    assert result.diagnostics[0].remediation == "Set spec.prune: true."


def test_config_select_ignore_severity_and_per_path(tmp_path: Path) -> None:
    only = STRICT + "select: [flux-ks-prune]\n"
    root = _tree(tmp_path, {".homelab-kit.yaml": only + "severity:\n  flux-ks-prune: warning\n"})
    result = homelab_kit.lint(root)
    assert [(d.check_id, d.severity) for d in result.diagnostics] == [
        ("flux-ks-prune", Severity.WARNING)
    ]
    (root / ".homelab-kit.yaml").write_text(only + "ignore: [flux-ks-prune]\n")
    assert findings(homelab_kit.lint(root)) == []
    (root / ".homelab-kit.yaml").write_text(
        only + "per-path-ignores:\n  kubernetes/apps/default/**: [flux-ks-prune]\n"
    )
    assert findings(homelab_kit.lint(root)) == []
    (root / ".homelab-kit.yaml").write_text(STRICT + "select: [flux]\n")  # a prefix selects a pack
    ids = {f[2] for f in findings(homelab_kit.lint(root))}
    assert "flux-ks-prune" in ids
    assert all(i.startswith("flux-") for i in ids)


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("selekt: [x]\n", "unknown configuration key 'selekt' (did you mean 'select'?)", 1, 1),
        ("fail-on: fatal\n", "unknown severity 'fatal'", 1, 10),
        ("select: 3\n", "select must be a list of strings", 1, 9),
        ("checks:\n  no-such-check: {}\n", "unknown check 'no-such-check'", 2, 18),
        ("select: [a\n", "did not find expected ','", 2, 1),
        ("bundled-schemas: no-thanks\n", "bundled-schemas must be true or false", 1, 18),
    ],
)
def test_bad_config_is_one_clear_error_with_position(
    tmp_path: Path, text: str, message: str, line: int, column: int
) -> None:
    root = _tree(tmp_path, {".homelab-kit.yaml": text})
    with pytest.raises(ConfigError) as info:
        homelab_kit.lint(root)
    assert message in str(info.value)
    assert info.value.location is not None
    assert (info.value.location.path, info.value.location.line) == (".homelab-kit.yaml", line)
    assert info.value.location.column == column


def test_check_options_are_type_checked(tmp_path: Path) -> None:
    root = _tree(
        tmp_path, {".homelab-kit.yaml": "checks:\n  flux-ks-depends-on:\n    strict: true\n"}
    )
    with pytest.raises(ConfigError, match="takes no options"):
        homelab_kit.lint(root)


def test_inline_suppressions_and_unused_ones(tmp_path: Path) -> None:
    suppressed = KS_PRUNE_FALSE.replace(
        "  prune: false", "  prune: false  # homelab-kit: ignore[flux-ks-prune] on purpose"
    )
    stale = "---\n# homelab-kit: ignore[flux-ks-prune]\napiVersion: v1\nkind: ConfigMap\n"
    root = write_tree(
        tmp_path,
        {
            "kubernetes/apps/default/echo/ks.yaml": suppressed,
            "kubernetes/cm.yaml": stale,
            ".homelab-kit.yaml": STRICT + "select: [flux-ks-prune, unused-suppression]\n",
        },
    )
    result = homelab_kit.lint(root)
    assert findings(result) == [("kubernetes/cm.yaml", 2, "unused-suppression")]
    assert result.suppressed == 1


def test_file_and_document_suppressions(tmp_path: Path) -> None:
    whole_file = "# homelab-kit: ignore-file[flux-ks-prune]\n" + KS_PRUNE_FALSE
    root = write_tree(
        tmp_path,
        {
            "kubernetes/apps/default/echo/ks.yaml": whole_file,
            ".homelab-kit.yaml": STRICT + "select: [flux-ks-prune, unused-suppression]\n",
        },
    )
    assert findings(homelab_kit.lint(root)) == []
    document = KS_PRUNE_FALSE.replace(
        "kind: Kustomization\n",
        "kind: Kustomization\n# homelab-kit: ignore-document[flux-ks-prune]\n",
    )
    (root / "kubernetes/apps/default/echo/ks.yaml").write_text(document)
    assert findings(homelab_kit.lint(root)) == []


def _crashing_plugin() -> types.ModuleType:
    check = types.ModuleType("boom_check")
    check.__doc__ = "Always crashes."
    check.ID = "boom"  # type: ignore[attr-defined]

    def crash(repo: object, options: object) -> Iterator[Diagnostic]:
        raise RuntimeError("kaput")

    check.check = crash  # type: ignore[attr-defined]
    plugin = types.ModuleType("boom_plugin")

    @hookimpl
    def homelab_kit_register_checks() -> list[object]:
        return [check]

    plugin.homelab_kit_register_checks = homelab_kit_register_checks  # type: ignore[attr-defined]
    return plugin


def test_a_crashing_check_is_isolated(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    pm = PluginManager(autoload=False, extra=[_crashing_plugin()])
    result = homelab_kit.lint(root, config=load_config(root), pm=pm)
    ids = [d.check_id for d in result.diagnostics]
    assert ids.count("internal-error") == 1
    assert "flux-ks-prune" in ids  # every other check still ran
    internal = next(d for d in result.diagnostics if d.check_id == "internal-error")
    assert "boom" in internal.message
    assert "boom_plugin" in internal.message
    assert "kaput" in internal.message


def test_duplicate_check_ids_are_a_plugin_error(tmp_path: Path) -> None:
    first, second = _crashing_plugin(), _crashing_plugin()
    second.__name__ = "boom_plugin_two"
    pm = PluginManager(autoload=False, extra=[first, second])
    with pytest.raises(PluginError, match="registered by both"):
        homelab_kit.lint(_tree(tmp_path), pm=pm)


def test_misspelt_hook_is_an_error() -> None:
    plugin = types.ModuleType("typo_plugin")

    @hookimpl
    def homelab_kit_register_chekcs() -> list[object]:
        return []

    plugin.homelab_kit_register_chekcs = homelab_kit_register_chekcs  # type: ignore[attr-defined]
    with pytest.raises(PluginError, match="homelab_kit_register_chekcs"):
        PluginManager(autoload=False, extra=[plugin])


def test_diagnostics_sort_by_location() -> None:
    a = Diagnostic(Location("b.yaml", 1, 1), "x", "m")
    b = Diagnostic(Location("a.yaml", 9, 1), "x", "m")
    c = Diagnostic(Location("a.yaml", 2, 5), "x", "m")
    assert sorted([a, b, c]) == [c, b, a]


def test_plugin_schema_locations_reach_the_repository_settings(tmp_path: Path) -> None:
    from homelab_kit.lint import load_options

    plugin = types.ModuleType("schema_plugin")

    @hookimpl
    def homelab_kit_register_schemas() -> list[object]:
        return [tmp_path / "schemas"]

    plugin.homelab_kit_register_schemas = homelab_kit_register_schemas  # type: ignore[attr-defined]
    pm = PluginManager(autoload=False, extra=[plugin])
    root = _tree(tmp_path, {".homelab-kit.yaml": "schema-locations: [mine]\n"})
    options = load_options(load_config(root), pm)
    assert options.settings.schema_locations == ("mine", str(tmp_path / "schemas"))
