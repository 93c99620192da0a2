"""Where an object of the desired state, and each field of it, came from.

An object Flux applies is written in one file, then changed on its way to the
cluster: kustomize patches and ``replacements``, ``namePrefix``, a parent Flux
Kustomization's ``spec.patches``, ``postBuild`` substitution.  A finding about such
an object must point at the line the user has to edit: the field's provenance.
For a field ``${VAR}`` substitution filled, that is the ``${VAR}`` reference, and
:meth:`Provenance.substituted` says where each variable's value came from
(:mod:`homelab_kit.model.substituted`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from homelab_kit.location import Location

if TYPE_CHECKING:
    from homelab_kit.model.substituted import Substitution

FieldPath = tuple[str | int, ...]
_MAPPINGS = (dict, Mapping)


def value_at(node: Any, path: FieldPath) -> Any:
    """The value at ``path`` (mapping keys, list indexes) under ``node``, or None.

    >>> value_at({"spec": {"ports": [{"port": 80}]}}, ("spec", "ports", 0, "port"))
    80
    """
    for part in path:
        if isinstance(node, _MAPPINGS):  # dict first: the Mapping ABC alone is slow
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


@attrs.frozen
class Provenance:
    """Where one rendered object was written, and where its changed fields were set.

    ``source`` is the document the object was written in (a generated object: the
    generator's entry in its kustomization.yaml).  ``fields`` maps the path of each
    field that a patch, replacement or substitution set or changed to where that
    change was written (the patch document's field, the replacement entry, the
    ``${VAR}`` reference).  Paths are tuples of mapping keys and list indexes of the
    rendered object (``("spec", "interval")``).  ``substitutions`` maps each field
    that ``postBuild`` substitution changed to its
    :class:`~homelab_kit.model.substituted.Substitution` records, one per variable.

    >>> p = Provenance(Location("a.yaml", 1, 1), {("spec",): Location("patch.yaml", 3, 1)})
    >>> str(p.location_of(("spec", "interval"))), str(p.location_of(("kind",)))
    ('patch.yaml:3:1', 'a.yaml:1:1')
    """

    source: Location
    fields: Mapping[FieldPath, Location] = attrs.field(factory=dict)
    substitutions: Mapping[FieldPath, tuple[Substitution, ...]] = attrs.field(
        factory=dict, eq=False, repr=False
    )

    def location_of(self, path: FieldPath) -> Location:
        """Where the field at ``path`` was set: the nearest changed ancestor, else ``source``."""
        return self.changed_by(path) or self.source

    def changed_by(self, path: FieldPath) -> Location | None:
        """Where a patch, replacement or substitution set ``path`` (or an ancestor), if one did."""
        for end in range(len(path), 0, -1):
            found = self.fields.get(path[:end])
            if found is not None:
                return found
        return None

    def substituted(self, path: FieldPath) -> tuple[Substitution, ...]:
        """The ``${VAR}`` substitutions that made the field at ``path`` (none: it was not).

        >>> Provenance(Location("a.yaml", 1, 1)).substituted(("spec", "path"))
        ()
        """
        return self.substitutions.get(path, ())
