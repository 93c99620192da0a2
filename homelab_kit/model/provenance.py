"""Where an object of the desired state, and each field of it, came from.

An object Flux applies is written in one file, then changed on its way to the
cluster: kustomize patches and ``replacements``, ``namePrefix``, a parent Flux
Kustomization's ``spec.patches``, ``postBuild`` substitution.  A finding about such
an object must point at the line the user has to edit: the field's provenance.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from homelab_kit.location import Location

FieldPath = tuple[str | int, ...]


@attrs.frozen
class Provenance:
    """Where one rendered object was written, and where its changed fields were set.

    ``source`` is the document the object was written in (a generated object: the
    generator's entry in its kustomization.yaml).  ``fields`` maps the path of each
    field that a patch, replacement or substitution set or changed to where that
    change was written (the patch document's field, the replacement entry, the
    ``postBuild.substitute`` key).  Paths are tuples of mapping keys and list indexes
    of the rendered object (``("spec", "interval")``).

    >>> p = Provenance(Location("a.yaml", 1, 1), {("spec",): Location("patch.yaml", 3, 1)})
    >>> str(p.location_of(("spec", "interval"))), str(p.location_of(("kind",)))
    ('patch.yaml:3:1', 'a.yaml:1:1')
    """

    source: Location
    fields: Mapping[FieldPath, Location] = attrs.field(factory=dict)

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
