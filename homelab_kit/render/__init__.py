"""Rendering: the objects Flux would apply for a kustomization directory.

* :func:`render` builds a kustomization with a kustomize binary (``kustomize`` or
  ``kubectl kustomize``) when one is on PATH, else with :func:`render_directory`,
  the pure-Python renderer; both return :class:`Rendered`.
* :func:`collect_variables` and :func:`substitute_objects` are Flux's postBuild
  substitution; unset variables are reported, never guessed.
* :func:`build_flux_kustomization` does both for one Flux Kustomization, the way
  kustomize-controller does (:func:`generate_kustomization` folds its spec into the
  kustomization file, then build, substitution and ``commonMetadata``).
* :func:`name_hash` is kustomize's hash suffix for generated ConfigMaps and Secrets.
"""

from homelab_kit.render._docs import QuotedStr, canonical_json
from homelab_kit.render.backend import BACKENDS, Backend, available_backend, render
from homelab_kit.render.envsubst import SubstitutionSyntaxError, expand
from homelab_kit.render.flux import FluxBuild, build_flux_kustomization, generate_kustomization
from homelab_kit.render.hashing import name_hash
from homelab_kit.render.kustomize import KUSTOMIZATION_FILES, Rendered, render_directory
from homelab_kit.render.substitute import (
    SubstitutionResult,
    collect_variables,
    substitute_objects,
)

__all__ = [
    "BACKENDS",
    "KUSTOMIZATION_FILES",
    "Backend",
    "FluxBuild",
    "QuotedStr",
    "Rendered",
    "SubstitutionResult",
    "SubstitutionSyntaxError",
    "available_backend",
    "build_flux_kustomization",
    "canonical_json",
    "collect_variables",
    "expand",
    "generate_kustomization",
    "name_hash",
    "render",
    "render_directory",
    "substitute_objects",
]
