"""Flux ``postBuild`` variable substitution, applied to names (never to values).

Flux replaces ``${VAR}``, ``${VAR:=default}`` and ``${VAR:-default}`` in what a
Kustomization deploys, from ``postBuild.substitute`` and ``substituteFrom``.  A
name still holding a variable after the inline substitutions may take any value
at apply time (it comes from a ConfigMap or Secret): :func:`names_match` treats
such a variable as a wildcard.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")

# ${VAR}, ${VAR:=default}, ${VAR:-default}; a default may itself be one ${VAR}.
VARIABLE_RE = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-=]((?:[^{}$]|\$(?!\{)|\$\{[^{}]*\})*))?\}"
)


def has_variables(text: str) -> bool:
    """Whether ``text`` holds a ``${VAR}`` Flux would substitute."""
    return "${" in text and VARIABLE_RE.search(text) is not None


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


@functools.lru_cache(maxsize=4096)
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


class NameIndex(Generic[T]):
    """Items looked up by name, a name holding a variable matching as :func:`names_match` does.

    Each item is added with its possible names (``repo.expand`` gives them);
    :meth:`matching` returns the items some name of which matches some name asked
    for, in the order they were added: what a scan with :func:`any_match` finds,
    without comparing every pair.
    """

    def __init__(self, entries: Iterable[tuple[Iterable[str], T]] = ()) -> None:
        self._items: list[T] = []
        self._exact: dict[str, list[int]] = {}
        self._variable: list[tuple[str, int]] = []  # names still holding a ${VAR}
        # What users of the index derive from its matches, by question; cleared by add.
        self.memo: dict[object, object] = {}
        for names, item in entries:
            self.add(names, item)

    def add(self, names: Iterable[str], item: T) -> None:
        self.memo.clear()
        number = len(self._items)
        self._items.append(item)
        for name in names:
            if has_variables(name):
                self._variable.append((name, number))
            else:
                self._exact.setdefault(name, []).append(number)

    def __len__(self) -> int:
        return len(self._items)

    def matching(self, names: Iterable[str]) -> list[T]:
        """The items that ``any_match(names, item_names)`` would accept, in order."""
        hits: set[int] = set()
        for name in names:
            if has_variables(name):  # rare: compare with every name
                for other, numbers in self._exact.items():
                    if names_match(name, other):
                        hits.update(numbers)
            else:
                hits.update(self._exact.get(name, ()))
            for other, number in self._variable:
                if number not in hits and names_match(name, other):
                    hits.add(number)
        return [self._items[n] for n in sorted(hits)]

    def any_matching(self, names: Iterable[str]) -> bool:
        """Whether some item matches some name of ``names``."""
        return bool(self.matching(names))
