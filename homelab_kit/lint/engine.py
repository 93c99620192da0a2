"""Run the selected checks over a repository and collect their findings."""

from __future__ import annotations

import time
import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from homelab_kit.config import Config
from homelab_kit.diagnostic import Diagnostic, Severity
from homelab_kit.errors import ConfigError, PluginError
from homelab_kit.lint.check import Check
from homelab_kit.lint.result import CheckInfo, LintResult
from homelab_kit.location import Location
from homelab_kit.model.repo import Repo
from homelab_kit.plugins import PluginManager
from homelab_kit.yaml import Suppression

INTERNAL_ERROR_ID = "internal-error"
UNUSED_SUPPRESSION_ID = "unused-suppression"


def registered_checks(pm: PluginManager) -> list[Check]:
    """Every check every plugin registered, in ID order; duplicate IDs are an error."""
    checks: dict[str, Check] = {}
    for plugin_name, item in pm.registered("homelab_kit_register_checks"):
        if isinstance(item, types.ModuleType):
            check = Check.from_module(item, plugin=plugin_name)
        elif isinstance(item, Check):
            check = attrs.evolve(item, plugin=item.plugin or plugin_name)
        else:
            raise PluginError(
                f"plugin {plugin_name!r} registered {item!r}, which is not a check module or Check"
            )
        check.validate()
        if check.id in checks:
            raise PluginError(
                f"check ID {check.id!r} is registered by both {checks[check.id].plugin!r} "
                f"and {plugin_name!r}"
            )
        checks[check.id] = check
    return [checks[k] for k in sorted(checks)]


def selected_checks(checks: Sequence[Check], config: Config) -> list[Check]:
    """The checks the configuration selects; unknown IDs in config are errors."""
    known = {c.id for c in checks}
    for check_id in (*config.severity, *config.check_options):
        if check_id not in known:
            where = config.check_option_locations.get(check_id)
            raise ConfigError(f"unknown check {check_id!r} in configuration", where)
    return [c for c in checks if config.is_selected(c.id)]


def run_checks(
    repo: Repo,
    checks: Sequence[Check],
    config: Config,
    *,
    started: float | None = None,
    tool_version: str = "",
    progress: Callable[[str, int, int], None] | None = None,
) -> LintResult:
    """Run ``checks`` over ``repo``; a check that raises becomes one internal error.

    ``progress``, when given, is called as ``progress("check", done, total)``.
    """
    started = time.perf_counter() if started is None else started
    raw: list[Diagnostic] = []
    for done, check in enumerate(checks):
        if progress is not None:
            progress("check", done, len(checks))
        options = (
            check.build_options(
                config.check_options.get(check.id, {}),
                config.check_option_locations.get(check.id),
            )
            if check.id in config.check_options
            else check.default_options()
        )
        severity = config.severity.get(check.id, check.severity)
        try:
            found: list[Any] = list(check.function(repo, options))
        except Exception as exc:  # isolation: one plugin's bug must not stop the others
            raw.append(
                Diagnostic(
                    Location("."),
                    INTERNAL_ERROR_ID,
                    f"check {check.id} (plugin {check.plugin}) crashed: "
                    f"{type(exc).__name__}: {_first_line(exc)}",
                    Severity.ERROR,
                    "Report this to the plugin's authors; other checks still ran.",
                )
            )
            continue
        for diag in found:
            if not isinstance(diag, Diagnostic):
                continue
            raw.append(
                attrs.evolve(
                    diag,
                    check_id=check.id,
                    severity=severity,
                    remediation=diag.remediation or check.remediation,
                )
            )
    if progress is not None:
        progress("check", len(checks), len(checks))
    selected_ids = {c.id for c in checks}
    kept, suppressed = _apply_suppressions(repo, raw, config, selected_ids)
    diagnostics = tuple(sorted(set(kept)))
    return LintResult(
        root=repo.root,
        diagnostics=diagnostics,
        checks=tuple(
            CheckInfo(c.id, config.severity.get(c.id, c.severity), c.summary, c.plugin, c.fixable)
            for c in checks
        ),
        files=len(repo.files),
        apps=len(repo.apps),
        namespaces=len(repo.namespaces),
        suppressed=suppressed,
        duration=time.perf_counter() - started,
        tool_version=tool_version,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "(no message)"


def _apply_suppressions(
    repo: Repo, diagnostics: Iterable[Diagnostic], config: Config, selected: set[str]
) -> tuple[list[Diagnostic], int]:
    used: set[tuple[str, int, int]] = set()
    kept: list[Diagnostic] = []
    suppressed = 0
    for diag in diagnostics:
        path = diag.location.path
        if diag.check_id != INTERNAL_ERROR_ID and config.ignored_at(diag.check_id, path):
            suppressed += 1
            continue
        yfile = repo.files.get(path)
        hit = _suppressing(yfile, diag) if yfile is not None else None
        if hit is not None and diag.check_id != INTERNAL_ERROR_ID:
            used.add((path, hit.line, hit.column))
            suppressed += 1
            continue
        kept.append(diag)
    if config.is_selected(UNUSED_SUPPRESSION_ID):
        for path, yfile in repo.files.items():
            for sup in yfile.suppressions:
                if (path, sup.line, sup.column) in used:
                    continue
                if sup.check_ids and not any(i in selected for i in sup.check_ids):
                    continue  # names only checks that did not run: nothing to judge
                if config.ignored_at(UNUSED_SUPPRESSION_ID, path):
                    continue
                names = ", ".join(sup.check_ids) or "all checks"
                kept.append(
                    Diagnostic(
                        Location(path, sup.line, sup.column),
                        UNUSED_SUPPRESSION_ID,
                        f"suppression of {names} suppresses nothing",
                        config.severity.get(UNUSED_SUPPRESSION_ID, Severity.WARNING),
                        "Remove the comment, or fix its check ID or placement.",
                    )
                )
    return kept, suppressed


def _suppressing(yfile: Any, diag: Diagnostic) -> Suppression | None:
    line = diag.location.line
    for sup in yfile.suppressions:
        if sup.check_ids and diag.check_id not in sup.check_ids:
            continue
        if sup.scope == "file":
            return sup  # type: ignore[no-any-return]
        if sup.scope == "line" and line == sup.target_line:
            return sup  # type: ignore[no-any-return]
        if sup.scope == "document" and line > 0:
            doc = yfile.document_at(sup.line)
            if doc is not None and doc.start_line <= line <= doc.end_line:
                return sup  # type: ignore[no-any-return]
    return None
