"""A check: one module, one ID, one documented rule.

A check module looks like this (see plugins/ for real ones)::

    \"\"\"Flux Kustomizations must prune what they no longer declare.

    ## What it does
    ...
    ## Why is this bad?
    ...
    ## Example
    ...
    ## Use instead
    ...
    \"\"\"
    ID = "flux-ks-prune"
    SEVERITY = Severity.ERROR
    CATEGORY = "correctness"
    REMEDIATION = "Set spec.prune: true."

    def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
        ...
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from homelab_kit.diagnostic import Diagnostic, Severity
from homelab_kit.errors import ConfigError, PluginError
from homelab_kit.location import Location

ID_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
DOC_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")

# What a check is about; presets select by category (docs/lint.md#categories-and-presets).
CATEGORIES = {
    "correctness": "Flux, Kubernetes or Talos would fail or misbehave",
    "security": "a secret, privilege or supply-chain exposure",
    "convention": "a house rule of one layout (the guide's); valid repositories may differ",
    "style": "YAML hygiene every repository benefits from",
}
# A check that declares no CATEGORY (a third-party plugin written before categories)
# counts as correctness: it keeps running by default, as it did before.
DEFAULT_CATEGORY = "correctness"

CheckFunction = Callable[[Any, Any], Iterable[Diagnostic]]


@attrs.frozen
class Check:
    """A registered check.

    :param id: stable kebab-case ID used by config, suppressions and output.
    :param severity: default severity (config may override it).
    :param doc: the full Markdown documentation (the module docstring).
    :param remediation: default one-line remediation for its findings.
    :param function: ``check(repo, options)`` yielding diagnostics.
    :param options_class: an attrs class of typed options with defaults, or None.
    :param fixable: whether some findings carry an automatic fix.
    :param plugin: the plugin that registered it (filled in at registration).
    :param category: one of :data:`CATEGORIES` (default :data:`DEFAULT_CATEGORY`).
    :param live: the check judges objects as a cluster runs them (module attribute
        ``LIVE = True``): the engine drops its findings in files no cluster deploys
        (``Repo.is_deployed``), which the unreachable-app check reports once instead.
        Checks of files as files (YAML hygiene, plaintext secrets) leave it False.
    :param scope: what the check reads (module attribute ``SCOPE``), so that its
        findings are kept across runs while that is unchanged: ``"file"`` (its
        findings about a file depend on that file alone), a tuple of ``Repo`` field
        names, or None (it runs every time).  See :mod:`homelab_kit.lint.reuse`.
    :param shared: indexes over the repository the check reads that checks of other
        plugins read too (module attribute ``SHARED``: functions of the repository,
        each answering through ``Repo.derived``).  When checks run in several
        processes and checks of more than one plugin declare an index, it is built
        once before the processes are forked instead of in each of them (see
        :func:`homelab_kit.lint.engine.build_shared`); nothing else changes.
    :param cost: about how much CPU the check takes, in milliseconds at the 1,000-app
        benchmark (``benchmarks/generate.py``) without the cache, the indexes it is
        first of its plugin to build included (module attribute ``COST``; 0: unknown
        or negligible).  Only the order in which check processes take plugins' groups
        of checks follows it (the largest first, :func:`homelab_kit.lint.engine.
        claim_order`); nothing else changes.
    """

    id: str
    severity: Severity
    doc: str = attrs.field(repr=False)
    remediation: str
    function: CheckFunction = attrs.field(repr=False, eq=False)
    options_class: type | None = attrs.field(default=None, repr=False)
    fixable: bool = False
    plugin: str = ""
    category: str = DEFAULT_CATEGORY
    live: bool = False
    scope: str | tuple[str, ...] | None = None
    shared: tuple[Callable[[Any], object], ...] = attrs.field(default=(), repr=False)
    cost: float = attrs.field(default=0.0, repr=False)

    @property
    def summary(self) -> str:
        """The first line of the documentation."""
        return self.doc.strip().splitlines()[0].strip() if self.doc.strip() else self.id

    @classmethod
    def from_module(cls, module: types.ModuleType, plugin: str = "") -> Check:
        """Build from a check module (``ID``, ``SEVERITY``, ``REMEDIATION``, ``check``)."""
        name = module.__name__
        try:
            check_id = module.ID
            function = module.check
        except AttributeError as exc:
            raise PluginError(f"check module {name} lacks {exc.name}") from None
        severity = getattr(module, "SEVERITY", Severity.ERROR)
        if isinstance(severity, str):
            severity = Severity.parse(severity)
        return cls(
            id=check_id,
            severity=severity,
            doc=inspect.cleandoc(module.__doc__ or ""),
            remediation=getattr(module, "REMEDIATION", ""),
            function=function,
            options_class=getattr(module, "Options", None),
            fixable=bool(getattr(module, "FIXABLE", False)),
            plugin=plugin,
            category=getattr(module, "CATEGORY", DEFAULT_CATEGORY),
            live=bool(getattr(module, "LIVE", False)),
            scope=_scope(getattr(module, "SCOPE", None)),
            shared=_shared(getattr(module, "SHARED", ())),
            cost=getattr(module, "COST", 0.0),
        )

    def validate(self) -> None:
        if not ID_RE.match(self.id):
            raise PluginError(f"check ID {self.id!r} ({self.plugin}) is not kebab-case")
        if self.category not in CATEGORIES:
            raise PluginError(
                f"check {self.id} ({self.plugin}) has category {self.category!r}; "
                f"choose from {', '.join(CATEGORIES)}"
            )
        if self.scope is not None:
            from homelab_kit.lint.reuse import validate_scope

            problem = validate_scope(self.scope)
            if problem is not None:
                raise PluginError(f"check {self.id} ({self.plugin}): {problem}")
        if not isinstance(self.shared, tuple) or not all(callable(i) for i in self.shared):
            raise PluginError(
                f"check {self.id} ({self.plugin}): SHARED must list functions of the repository"
            )
        if isinstance(self.cost, bool) or not isinstance(self.cost, int | float) or self.cost < 0:
            raise PluginError(
                f"check {self.id} ({self.plugin}): COST must be a number of milliseconds >= 0"
            )

    def default_options(self) -> Any:
        return self.options_class() if self.options_class is not None else None

    def build_options(self, values: Mapping[str, Any], where: Location | None = None) -> Any:
        """Options from a config mapping, type-checked against the attrs class."""
        if self.options_class is None:
            if values:
                raise ConfigError(f"check {self.id} takes no options", where)
            return None
        fields = {f.name.replace("_", "-"): f for f in attrs.fields(self.options_class)}
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            field = fields.get(str(key)) or fields.get(str(key).replace("_", "-"))
            if field is None:
                known = ", ".join(sorted(fields)) or "none"
                raise ConfigError(
                    f"unknown option {key!r} for check {self.id} (options: {known})", where
                )
            kwargs[field.name] = _coerce(self.id, str(key), field, value, where)
        try:
            return self.options_class(**kwargs)
        except (ValueError, TypeError) as exc:  # the class's own validators said no
            raise ConfigError(f"check {self.id}: {_validator_message(exc)}", where) from None


def _shared(value: Any) -> Any:
    """A module's ``SHARED``: one function taken as a tuple of it, a list as a tuple."""
    if callable(value):
        return (value,)
    return tuple(value) if isinstance(value, list | tuple) else value


def _scope(value: Any) -> Any:
    """A module's ``SCOPE``, a list taken as the tuple it means."""
    return tuple(value) if isinstance(value, list) else value


def _coerce(check_id: str, key: str, field: Any, value: Any, where: Location | None) -> Any:
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = default.factory()
    expected: type | tuple[type, ...]
    if isinstance(default, bool):
        expected = bool
    elif isinstance(default, int):
        expected = int
    elif isinstance(default, float):
        expected = (int, float)
    elif isinstance(default, str):
        expected = str
    elif isinstance(default, tuple | list | frozenset):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"option {key} of {check_id} must be a list of strings", where)
        return type(default)(value)
    else:
        return value
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        kind = expected.__name__ if isinstance(expected, type) else "number"
        raise ConfigError(
            f"option {key} of {check_id} must be {kind}, got {type(value).__name__}", where
        )
    return value


def _validator_message(exc: Exception) -> str:
    """attrs' ``in_`` validator raises ``ValueError(msg, attribute, options, value)``."""
    args = exc.args
    if len(args) == 4 and isinstance(args[1], attrs.Attribute):
        name = args[1].name.replace("_", "-")
        choices = ", ".join(map(str, args[2]))
        return f"option {name} must be one of {choices}, got {args[3]!r}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
