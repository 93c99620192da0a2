"""kustomize's ``images`` transformer: new names, tags and digests for container images."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homelab_kit.model.provenance import FieldPath
from homelab_kit.render.fieldspecs import FieldSpec, apply_spec
from homelab_kit.render.origins import reaches
from homelab_kit.render.resource import text as _text


def _split_image(image: str) -> tuple[str, str, str]:
    """``name[:tag][@digest]`` -> (name, tag, digest)."""
    name, _, digest = image.partition("@")
    tag = ""
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest


def _new_image(image: str, spec: Mapping[str, Any]) -> str | None:
    name, tag, digest = _split_image(image)
    if name != spec.get("name"):
        return None
    new_name = _text(spec.get("newName")) or name
    new_tag = _text(spec.get("newTag"))
    new_digest = _text(spec.get("digest"))
    if new_tag and new_digest:
        return f"{new_name}:{new_tag}@{new_digest}"
    if new_digest:
        return f"{new_name}@{new_digest}"
    if new_tag:
        return f"{new_name}:{new_tag}"
    suffix = (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    return new_name + suffix


def update_images(
    node: Any, spec: Mapping[str, Any], extra: list[FieldSpec], path: FieldPath = ()
) -> list[FieldPath]:
    """Apply one ``images`` entry below ``node``; the paths of the images it changed."""
    changed: list[FieldPath] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                for number, container in enumerate(value):
                    if isinstance(container, dict) and isinstance(container.get("image"), str):
                        new = _new_image(container["image"], spec)
                        if new is not None:
                            container["image"] = new
                            changed.append((*path, key, number, "image"))
            changed += update_images(value, spec, [], (*path, key))
    elif isinstance(node, list):
        for number, item in enumerate(node):
            changed += update_images(item, spec, [], (*path, number))
    if extra and isinstance(node, dict):

        def setter(parent: dict[str, Any], key: str) -> None:
            value = parent.get(key)
            if isinstance(value, str):
                new = _new_image(value, spec)
                if new is not None:
                    parent[key] = new

        for fs in extra:
            if fs.selects(node):
                apply_spec(node, fs, setter)
                if reaches(node, fs.path):
                    changed.append((*path, *fs.path))
    return changed
