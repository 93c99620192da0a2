"""Building a Flux Kustomization: render its path, then postBuild substitution.

:func:`build_flux_kustomization` is what ``homelab-kit build <flux-kustomization>``
and ``Repo.render`` need: the objects kustomize-controller would apply for one
``kustomize.toolkit.fluxcd.io`` Kustomization whose source is the repository.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from homelab_kit.errors import HomelabKitError
from homelab_kit.render.backend import render
from homelab_kit.render.kustomize import KUSTOMIZATION_FILES
from homelab_kit.render.substitute import collect_variables, substitute_objects

# spec fields kustomize-controller folds into the build that we do not apply yet
_NOT_APPLIED = (
    "patches",
    "images",
    "targetNamespace",
    "components",
    "namePrefix",
    "nameSuffix",
    "commonMetadata",
)


@attrs.frozen
class FluxBuild:
    """The objects one Flux Kustomization applies, and what could not be resolved.

    ``unresolved`` names variables used but not set (left as ``${NAME}``);
    ``errors`` name objects Flux could not substitute; ``objects`` may hold secret
    values (never log them).
    """

    objects: tuple[dict[str, Any], ...] = attrs.field(repr=False)
    warnings: tuple[str, ...] = ()
    unresolved: frozenset[str] = frozenset()
    errors: tuple[str, ...] = ()
    backend: str = "python"


def _find(
    candidates: list[Mapping[str, Any]], kind: str, name: str, namespace: str
) -> Mapping[str, Any] | None:
    for obj in candidates:
        meta = obj.get("metadata")
        if obj.get("kind") != kind or not isinstance(meta, Mapping):
            continue
        if meta.get("name") == name and (meta.get("namespace") or namespace) == namespace:
            return obj
    return None


def build_flux_kustomization(
    kustomization: Mapping[str, Any],
    *,
    root: Path | str,
    source_objects: Iterable[Mapping[str, Any]] = (),
    backend: str = "auto",
) -> FluxBuild:
    """Render a Flux Kustomization's ``spec.path`` and apply its ``spec.postBuild``.

    :param kustomization: the Flux Kustomization object (a mapping).
    :param root: the repository root; ``spec.path`` is relative to it.
    :param source_objects: objects of the repository among which the ConfigMaps and
        Secrets named by ``spec.postBuild.substituteFrom`` are looked up (in the
        Kustomization's namespace).
    :param backend: see :func:`~homelab_kit.render.render`.
    :raises HomelabKitError: a bad path, a build failure, or a non-optional
        ``substituteFrom`` object missing from ``source_objects``.
    """
    root = Path(root)
    spec = kustomization.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    meta = kustomization.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    label = f"Kustomization/{meta.get('name', '?')}"
    namespace = str(meta.get("namespace") or "flux-system")
    path = str(spec.get("path") or "./")
    directory = (root / path).resolve()
    if not directory.is_relative_to(root.resolve()):
        raise HomelabKitError(f"{label}: spec.path {path!r} is outside the repository root")
    if not any((directory / n).is_file() for n in KUSTOMIZATION_FILES):
        raise HomelabKitError(
            f"{label}: {path} has no kustomization file; Flux would generate one, "
            "which is not supported yet"
        )
    rendered = render(directory, root=root, backend=backend)
    warnings = list(rendered.warnings)
    warnings += [
        f"{label}: spec.{field} is not applied by homelab-kit yet"
        for field in _NOT_APPLIED
        if spec.get(field)
    ]
    post_build = spec.get("postBuild")
    if not isinstance(post_build, Mapping):
        return FluxBuild(rendered.objects, tuple(warnings), backend=rendered.backend)
    candidates = list(source_objects)
    found: list[Mapping[str, Any]] = []
    for reference in post_build.get("substituteFrom") or []:
        if not isinstance(reference, Mapping):
            continue
        kind, name = str(reference.get("kind") or ""), str(reference.get("name") or "")
        obj = _find(candidates, kind, name, namespace)
        if obj is not None:
            found.append(obj)
        elif reference.get("optional"):
            warnings.append(f"{label}: optional substituteFrom {kind}/{name} not found")
        else:
            raise HomelabKitError(
                f"{label}: substituteFrom {kind}/{name} is not in the repository "
                f"(namespace {namespace})"
            )
    substitute = post_build.get("substitute")
    variables = collect_variables(substitute if isinstance(substitute, Mapping) else {}, found)
    result = substitute_objects(rendered.objects, variables)
    return FluxBuild(
        objects=result.objects,
        warnings=tuple(warnings),
        unresolved=result.unresolved,
        errors=result.errors,
        backend=rendered.backend,
    )
