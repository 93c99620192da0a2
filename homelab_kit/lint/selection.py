"""Which checks run: presets, categories and ruff's select / extend-select / ignore.

A *selector* is ``ALL`` (or ``*``), a category (``convention``), a pack prefix
(``flux``, meaning ``flux-*``), a glob (``flux-ks-*``) or a check ID.  The preset
chooses categories; each :class:`~homelab_kit.config.Selection` layer (the file's,
then the command line's) then selects, extends and ignores.  A selector that names
no registered check is a configuration error with a "did you mean" hint: a typo
must never turn CI green by running nothing.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence

from homelab_kit.config import PRESETS, Config, Selection
from homelab_kit.errors import ConfigError
from homelab_kit.lint.check import CATEGORIES, Check
from homelab_kit.location import Location

ALL = ("ALL", "all", "*")


def specificity(selector: str, check: Check) -> int:
    """How specifically ``selector`` names ``check``: -1 not at all, 0 ALL ... 3 its ID."""
    if selector in ALL:
        return 0
    if selector in CATEGORIES:
        return 1 if check.category == selector else -1
    if selector == check.id:
        return 3
    if any(c in selector for c in "*?["):
        return 2 if fnmatch.fnmatchcase(check.id, selector) else -1
    return 2 if check.id.startswith(selector + "-") else -1


def resolve(checks: Sequence[Check], config: Config) -> list[Check]:
    """The checks ``config`` runs, in ``checks`` order; unknown selectors are errors."""
    validate(checks, config)
    ids = enabled(checks, config)
    return [c for c in checks if c.id in ids]


def enabled(checks: Sequence[Check], config: Config) -> set[str]:
    """The IDs of the checks ``config`` selects, without validating it (see :func:`resolve`)."""
    categories = PRESETS[config.preset]
    ids = {c.id for c in checks if c.category in categories}
    for layer in (config.file_selection, config.command_line):
        ids = _apply(layer, checks, ids)
    return ids


def _apply(layer: Selection, checks: Sequence[Check], enabled: set[str]) -> set[str]:
    base = set() if layer.select is not None else set(enabled)
    selectors = (*(layer.select or ()), *layer.extend_select)
    out: set[str] = set()
    for check in checks:
        chosen = max((specificity(s, check) for s in selectors), default=-1)
        ignored = max((specificity(s, check) for s in layer.ignore), default=-1)
        on = check.id in base or chosen >= 0
        if ignored >= 0 and ignored >= chosen:
            on = False
        if on:
            out.add(check.id)
    return out


def validate(checks: Sequence[Check], config: Config) -> None:
    """Every selector and every check ID the configuration names must exist."""
    where = config.locations
    ids = {c.id for c in checks}
    for key, selectors in (
        ("select", config.select or ()),
        ("extend-select", config.extend_select),
        ("ignore", config.ignore),
    ):
        for selector in selectors:
            at = where.get(f"{key}/{selector}") or where.get(key)
            _known_selector(checks, selector, key, at)
    cli = config.command_line
    for key, selectors in (
        ("--select", cli.select or ()),
        ("--extend-select", cli.extend_select),
        ("--ignore", cli.ignore),
    ):
        for selector in selectors:
            _known_selector(checks, selector, key, None)
    for pattern, selectors in config.per_path_ignores.items():
        for selector in selectors:
            if selector in CATEGORIES:
                raise ConfigError(
                    f"per-path-ignores takes check IDs, globs or pack prefixes, not the "
                    f"category {selector!r}",
                    where.get(f"per-path-ignores/{pattern}"),
                )
            _known_selector(
                checks, selector, "per-path-ignores", where.get(f"per-path-ignores/{pattern}")
            )
    for key, named in (("severity", config.severity), ("checks", config.check_options)):
        for check_id in named:
            if check_id not in ids:
                raise ConfigError(
                    f"unknown check {check_id!r} in {key}{did_you_mean(check_id, ids)}",
                    config.check_option_locations.get(check_id) or where.get(f"{key}/{check_id}"),
                )
    by_id = {c.id: c for c in checks}
    for check_id, values in config.check_options.items():
        by_id[check_id].build_options(values, config.check_option_locations.get(check_id))


def _known_selector(
    checks: Sequence[Check], selector: str, key: str, where: Location | None
) -> None:
    if any(specificity(selector, c) >= 0 for c in checks):
        return
    names = [c.id for c in checks] + list(CATEGORIES) + sorted(_packs(checks))
    raise ConfigError(
        f"{key}: {selector!r} names no check{did_you_mean(selector, names)}; "
        "`homelab-kit rules` lists them",
        where,
    )


def _packs(checks: Iterable[Check]) -> set[str]:
    return {c.id.split("-")[0] for c in checks}


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or nothing."""
    import difflib  # only for a name nothing matched

    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def categories_of(checks: Sequence[Check]) -> Mapping[str, list[Check]]:
    """The checks of each category, in :data:`CATEGORIES` order."""
    return {name: [c for c in checks if c.category == name] for name in CATEGORIES}
