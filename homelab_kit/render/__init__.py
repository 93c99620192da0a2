"""Rendering: the objects Flux would apply for a kustomization directory."""

from homelab_kit.render.hashing import name_hash
from homelab_kit.render.kustomize import Rendered, render_directory

__all__ = ["Rendered", "name_hash", "render_directory"]
