"""Names a package re-exports, imported on first use (PEP 562; scientific-python's lazy_loader).

Start-up cost is what every command pays (docs/performance.md#start-up): a package
that re-exports its modules' names imports them only when one is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any


def attach(
    package: str, names: Mapping[str, str], namespace: MutableMapping[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``names[name]`` when asked.

    :param names: each re-exported name and the module that defines it.
    :param namespace: the package's ``globals()``; a name is kept there once imported.
    """

    def __getattr__(name: str) -> Any:
        module_name = names.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_name), name)
        namespace[name] = value
        return value

    return __getattr__
