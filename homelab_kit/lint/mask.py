"""Secret values that substitution put in the desired state, masked in every finding.

A Flux Kustomization's ``postBuild.substituteFrom`` may name a Secret whose values
the repository holds in clear (``stringData``, or base64 ``data``).  Substitution
writes them into the objects the checks read, so a message quoting a substituted
field (a name, an image) would quote the Secret's value.  Rather than ask every
check to tell, the lint run replaces each occurrence of such a value in every
finding's message, remediation and fix description with :data:`MASK`, before the
findings are reported, handed to plugins or cached; ``report``, ``secrets`` and
``graph`` mask what they write the same way (:func:`mask_text`).

Only values of at least :data:`MIN_LENGTH` characters are masked, and not YAML's
words (``true``, ``false``, ``null``, ``yes``, ...): a shorter value (``1``, ``443``,
``abc``) or such a word would garble messages wherever it occurs, and is no
credential.  A ConfigMap's values are not secret and stay
quoted; so does a Secret's value no ``substituteFrom`` names (substitution never
writes it into a field).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from homelab_kit.diagnostic import Diagnostic
    from homelab_kit.lint.result import LintResult
    from homelab_kit.model.repo import Repo

MASK = "****"
MIN_LENGTH = 4
_MEMO = "_substituted_secret_values"
# YAML's booleans and null of MIN_LENGTH or more, in any case: never masked.
_WORDS = frozenset({"true", "false", "null"})  # the rest are shorter


def mask_result(repo: Repo, result: LintResult) -> LintResult:
    """``result`` with every value :func:`substituted_secret_values` finds in
    ``repo`` masked in its findings (``result`` itself when there is none)."""
    pattern = masker(substituted_secret_values(repo))
    if pattern is None:
        return result
    return attrs.evolve(result, diagnostics=mask_diagnostics(result.diagnostics, pattern))


def substituted_secret_values(repo: Repo) -> frozenset[str]:
    """Every value (at least :data:`MIN_LENGTH` characters, not a YAML word) of a
    Secret some Flux Kustomization of ``repo``'s clusters names in
    ``postBuild.substituteFrom``.

    Worked out once per repository (kept in its memo).  The Secrets are looked for
    among the clusters' desired objects (where the build finds them) by name,
    whatever their namespace: masking a value too many is harmless.  A value is
    taken as written and as substitution writes it (newlines removed).
    """
    found = repo._memo.get(_MEMO)
    if isinstance(found, frozenset):
        return found
    found = repo._memo[_MEMO] = _secret_values(repo)
    return found


def _secret_values(repo: Repo) -> frozenset[str]:
    from homelab_kit.model.flux import substitute_from_refs

    names: set[str] = set()
    for cluster in repo.clusters:
        for ks in cluster.kustomizations:
            for ref in substitute_from_refs(ks.object.data):
                if ref.get("kind") == "Secret" and isinstance(ref.get("name"), str):
                    names.add(ref["name"])
    if not names:
        return frozenset()
    from homelab_kit.diff.values import secret_entries  # only when a Secret is named

    values: set[str] = set()
    for cluster in repo.clusters:
        for obj in cluster.objects:
            if obj.kind == "Secret" and obj.name in names and not _is_sops(obj.data):
                for value in secret_entries(obj.data).values():
                    for text in (value, value.replace("\n", "")) if value else ():
                        if len(text.strip()) >= MIN_LENGTH and text.lower() not in _WORDS:
                            values.add(text)
    return frozenset(values)


def _is_sops(data: Mapping[str, Any]) -> bool:
    return isinstance(data.get("sops"), Mapping)


def mask_text(repo: Repo, text: str) -> str:
    """``text`` (a page or table a command writes) with every value
    :func:`substituted_secret_values` finds masked."""
    pattern = masker(substituted_secret_values(repo))
    return pattern.sub(MASK, text) if pattern is not None else text


def masker(values: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern matching any of ``values`` (the longest first), None for none.

    Each value matches as written and as a message (``!r``), JSON or HTML escapes it.
    """
    forms = {
        form
        for value in values
        for form in (value, repr(value)[1:-1], json.dumps(value)[1:-1], html.escape(value))
    }
    ordered = sorted(forms, key=lambda v: (-len(v), v))
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


def mask_diagnostics(
    diagnostics: tuple[Diagnostic, ...], pattern: re.Pattern[str] | None
) -> tuple[Diagnostic, ...]:
    """``diagnostics`` with every match of ``pattern`` in their text replaced by
    :data:`MASK` (the same objects when nothing matched)."""
    if pattern is None:
        return diagnostics
    out: list[Diagnostic] = []
    for diagnostic in diagnostics:
        changes: dict[str, Any] = {}
        for field in ("message", "remediation"):
            text = getattr(diagnostic, field)
            masked = pattern.sub(MASK, text)
            if masked != text:
                changes[field] = masked
        fix = diagnostic.fix
        if fix is not None and pattern.search(fix.description):
            changes["fix"] = attrs.evolve(fix, description=pattern.sub(MASK, fix.description))
        out.append(attrs.evolve(diagnostic, **changes) if changes else diagnostic)
    return tuple(out)
