"""Flux ``postBuild`` variable substitution, applied to names (never to values).

Flux replaces ``${VAR}``, ``${VAR:=default}`` and ``${VAR:-default}`` in what a
Kustomization deploys, from ``postBuild.substitute`` and ``substituteFrom``.  A
name still holding a variable after the inline substitutions may take any value
at apply time (it comes from a ConfigMap or Secret): :func:`names_match` treats
such a variable as a wildcard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# ${VAR}, ${VAR:=default}, ${VAR:-default}; a default may itself be one ${VAR}.
VARIABLE_RE = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-=]((?:[^{}$]|\$(?!\{)|\$\{[^{}]*\})*))?\}"
)


def has_variables(text: str) -> bool:
    """Whether ``text`` holds a ``${VAR}`` Flux would substitute."""
    return VARIABLE_RE.search(text) is not None


def substitute(text: str, variables: Mapping[str, str], *, defaults: bool = True) -> str:
    """``text`` with the ``variables`` it names replaced.

    With ``defaults``, a variable missing from ``variables`` that carries a
    default (``${VAR:=default}``) takes it; otherwise it is kept as written.
    """

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in variables:
            return variables[name]
        if defaults and default is not None:
            return substitute(default, variables, defaults=defaults)
        return match.group(0)

    return VARIABLE_RE.sub(replace, text)


def _pattern(text: str) -> re.Pattern[str]:
    regex, last = [], 0
    for match in VARIABLE_RE.finditer(text):
        regex += [re.escape(text[last : match.start()]), ".+"]
        last = match.end()
    regex.append(re.escape(text[last:]))
    return re.compile("".join(regex))


def names_match(a: str, b: str) -> bool:
    """Whether names ``a`` and ``b`` can be the same once remaining variables are set."""
    if a == b:
        return True
    if has_variables(a) and _pattern(a).fullmatch(b):
        return True
    return has_variables(b) and _pattern(b).fullmatch(a) is not None


def any_match(names: Iterable[str], others: Iterable[str]) -> bool:
    """Whether some name of ``names`` matches some name of ``others``."""
    pool = tuple(others)
    return any(names_match(a, b) for a in names for b in pool)
