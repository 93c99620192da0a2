"""kustomize's name references: a renamed object's new name in the fields that name it.

After ``namePrefix``/``nameSuffix`` and name hashes, every field a
:class:`~homelab_kit.render.fieldspecs.NameReference` lists (a Deployment's
``configMapRef``, a RoleBinding's ``roleRef``...) that holds an old name of a renamed
object gets its new name, picking among candidates as kustomize does: same
namespace, then the same prefix and suffix history.
"""

from __future__ import annotations

from typing import Any

from homelab_kit.errors import HomelabKitError
from homelab_kit.render.fieldspecs import (
    CLUSTER_SCOPED,
    FieldSpec,
    NameReference,
    apply_spec,
    split_api_version,
)
from homelab_kit.render.resource import Resource as _Resource
from homelab_kit.render.resource import effective_ns as _effective_ns
from homelab_kit.render.resource import id_text as _id_text
from homelab_kit.render.resource import text as _text


def fix_name_references(
    resources: list[_Resource], references: list[NameReference], warnings: list[str]
) -> None:
    renamed = [r for r in resources if len({i[4] for i in r.ids}) > 1]
    if not renamed:
        return
    kinds = [(referrer, referrer.kind) for referrer in resources]
    for reference in references:
        targets = [
            r
            for r in renamed
            if r.kind == reference.kind
            and (
                not reference.group
                or split_api_version(r.obj.get("apiVersion"))[0] == reference.group
            )
        ]
        if not targets:
            continue
        by_kind = _referrers_by_kind(reference)
        for referrer, kind in kinds:
            specs = by_kind.get(kind)
            if specs is None:
                specs = by_kind[kind] = [
                    s for s in reference.referrers if not s.kind or s.kind == kind
                ]
            for spec in specs:
                if spec.selects(referrer.obj):
                    apply_spec(referrer.obj, spec, _ref_setter(referrer, targets, reference))


# Each reference's referrer specs that may select an object of each kind, in their
# order: the same for every build (the built-in references, and configurations files
# parsed once per text), so kept by the reference's identity.
_BY_KIND: dict[int, tuple[NameReference, dict[str, list[FieldSpec]]]] = {}


def _referrers_by_kind(reference: NameReference) -> dict[str, list[FieldSpec]]:
    known = _BY_KIND.get(id(reference))
    if known is None or known[0] is not reference:
        if len(_BY_KIND) > 4096:  # references of configurations files no build keeps
            _BY_KIND.clear()
        known = _BY_KIND[id(reference)] = (reference, {})
    return known[1]


def _ref_setter(referrer: _Resource, targets: list[_Resource], reference: NameReference) -> Any:
    referrer_cluster = referrer.kind in CLUSTER_SCOPED
    referrer_ns = _effective_ns(referrer.kind, referrer.namespace())

    def new_name(old: Any, namespace: str | None = None) -> str | None:
        if not isinstance(old, str):
            return None
        for target in targets:
            if target.name() == old:
                return None
        wanted = namespace if namespace is not None else (None if referrer_cluster else referrer_ns)
        candidates = [
            target
            for target in targets
            if old in {i[4] for i in target.ids[:-1]}
            and (
                target.kind in CLUSTER_SCOPED
                or wanted is None
                or wanted == _effective_ns(target.kind, target.namespace())
            )
        ]
        if len(candidates) > 1:
            candidates = [t for t in candidates if _same_affixes(referrer, t)]
        if not candidates:
            return None
        names = {t.name() for t in candidates}
        if len(names) > 1:
            raise HomelabKitError(
                f"found multiple possible referrals for {reference.kind} {old!r} in "
                f"{_id_text(referrer.cur_id())}: {', '.join(sorted(names))}"
            )
        return candidates[0].name()

    def setter(node: dict[str, Any], key: str) -> None:
        value = node.get(key)
        if isinstance(value, str):
            replaced = new_name(value)
            if replaced is not None:
                node[key] = replaced
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    replaced = new_name(item)
                    if replaced is not None:
                        value[i] = replaced
                elif isinstance(item, dict):
                    _fix_named_map(item, reference, new_name)
        elif isinstance(value, dict):
            _fix_named_map(value, reference, new_name)

    return setter


def _same_ending(a: list[str], b: list[str]) -> bool:
    """kustomize's ``SameEndingSubSlice``: the shorter list ends the longer one."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if not short:
        return not long
    return long[len(long) - len(short) :] == short


def _same_affixes(referrer: _Resource, target: _Resource) -> bool:
    return _same_ending(referrer.prefixes, target.prefixes) and _same_ending(
        referrer.suffixes, target.suffixes
    )


def _fix_named_map(item: dict[str, Any], reference: NameReference, new_name: Any) -> None:
    if "kind" in item and item.get("kind") != reference.kind:
        return
    namespace = item.get("namespace")
    replaced = new_name(item.get("name"), _text(namespace) if namespace else None)
    if replaced is not None:
        item["name"] = replaced
