"""Values the model works out per object, kept from one ``lint`` run to the next.

The model's shared indexes over the desired state (who reads each Secret, the
workloads' values) are rebuilt on every run, but most of what they work out, they
work out for one object at a time.  When ``lint`` runs with its cache, it puts a
:class:`homelab_kit.lint.reuse.Reuse` in the repository (``Repo._memo``), which
keeps such values by what each object is (:func:`homelab_kit.lint.reuse.per_object`):
after one change, only the changed objects are worked out again.  Without it (a
library's ``load``, ``--no-cache``) :func:`kept_per_object` answers None and every
value is worked out, as always.

The lint layer fills this slot; the model only reads it (layers import downwards).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from homelab_kit.model.repo import Repo

# Where a Repo linted with a cache holds its check-result reuse (``Repo._memo``).
REUSE = "_reuse"

T = TypeVar("T")


class PerObject(Protocol):
    """A table of values kept per object (:class:`homelab_kit.lint.reuse.ObjectResults`)."""

    keeps: bool

    def get(self, subject: Any, compute: Callable[[], T], *extra: Hashable) -> T: ...

    def name(self, subject: Any) -> str | None: ...


def kept_per_object(repo: Repo, name: str, *, provenance: bool = True) -> PerObject | None:
    """The table ``name`` of values kept per object in this run, if it keeps any.

    :param repo: the repository being linted.
    :param name: the table's name (the model's own start with ``homelab-kit/model/``).
    :param provenance: the values depend on where the object's fields are edited
        (they hold locations): objects are named by their provenance too.
    :returns: the table, or None without a cache (work every value out).
    """
    reuse = repo._memo.get(REUSE)
    if reuse is None or getattr(reuse, "repo", None) is not repo:
        return None
    table: PerObject = reuse.per_object(name, "", provenance)
    return table if table.keeps else None
