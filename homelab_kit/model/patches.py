"""What the patches of a repository target: the part the Flux and Helm checks share.

A kustomize patch (in a kustomization.yaml, or in a Flux Kustomization's
``spec.patches``) picks the objects it patches with a ``target``.  Its ``name`` and
``namespace`` are regular expressions matched against the whole value, as
kustomize does; a pattern that is not a valid regular expression matches only
itself.

Which patches reach an object is still each pack's own business: the Flux checks
(``injected_spec``) and the Helm checks (``PatchIndex``) collect them from
different places and read them differently, so merging them would change findings.
"""

from __future__ import annotations

import re


def target_pattern_matches(pattern: str, value: str) -> bool:
    """Whether a patch target's ``name`` or ``namespace`` pattern matches ``value``.

    :param pattern: the pattern as written in the target (``app-.*``, ``podinfo``).
    :param value: the object's name or namespace.
    :returns: True when ``pattern`` matches all of ``value``; an invalid regular
        expression matches only a value equal to it.

    >>> target_pattern_matches("app-.*", "app-podinfo"), target_pattern_matches("app", "app-x")
    (True, False)
    """
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return pattern == value
