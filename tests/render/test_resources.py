"""The id cache of :class:`~homelab_kit.render.resource.Resources` follows every change.

kustomize refuses to add an object whose id is already there; ``Resources.has``
answers from a cache of ids that must follow renames (``Resource.record``),
removals and objects moved from another list.
"""

from __future__ import annotations

from typing import Any

from homelab_kit.render.resource import Resource, Resources


def _cm(name: str, namespace: str = "") -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def _id(name: str, namespace: str = "") -> tuple[str, str, str, str, str]:
    return Resource(_cm(name, namespace)).cur_id()


def test_has_follows_adds_renames_and_removals() -> None:
    resources = Resources()
    a, b = Resource(_cm("a")), Resource(_cm("b"))
    assert not resources.has(a.cur_id())
    resources.add(a)
    assert resources.has(_id("a"))
    assert resources.has(_id("a", "default"))
    resources.add(b)
    a.metadata["name"] = "renamed"
    a.record()
    assert resources.has(_id("renamed"))
    assert not resources.has(_id("a"))
    resources.remove(b)
    resources.add(Resource(_cm("c")))
    assert not resources.has(_id("b"))
    assert resources.has(_id("c"))


def test_objects_moved_from_a_nested_list_are_followed_there() -> None:
    nested, parent = Resources(), Resources()
    moved = Resource(_cm("x"))
    nested.add(moved)
    assert nested.has(_id("x"))
    parent.add(Resource(_cm("y")))
    assert parent.has(_id("y"))
    parent.add(moved)
    moved.metadata["namespace"] = "apps"
    moved.record()
    assert parent.has(_id("x", "apps"))
    assert not parent.has(_id("x"))
