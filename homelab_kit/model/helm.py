"""Helm values: where they come from, the images they name and the workloads they describe."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from homelab_kit.location import Location
from homelab_kit.model.app_template import app_template_workloads
from homelab_kit.model.base import DocumentRef
from homelab_kit.model.secrets import SecretConsumer
from homelab_kit.model.workloads import ImageRef, Workload

_SECRET_VALUE_KEYS = frozenset(
    ("existingSecret", "existingSecretName", "secretName", "existingSecretRef", "envFromSecret")
)
_SCALARS = (str, int, float, type(None))  # YAML scalars (bool is an int)
# Mappings, and mappings or lists: parsed YAML holds dicts, which these find before
# the Mapping ABC's slower check (isinstance tries a tuple's types in order).
_MAPPINGS = (dict, Mapping)
_TREES = (dict, list, Mapping)
_CONTAINERS = (dict, list)


def _under_tls(path: tuple[str | int, ...]) -> bool:
    """``tls.secretName`` (or ``tls[0].secretName``): an Ingress-style TLS secret.

    Ingress controllers and cert-manager's ingress-shim create or replace these
    (Tailscale's ingress ignores them), so they are not read as a Secret that
    must exist, exactly as an Ingress object's own ``spec.tls`` is not.
    """
    keys = [p for p in path if isinstance(p, str)]
    return bool(keys) and keys[-1] == "tls"


@attrs.frozen
class ValuesSource:
    """Values for one HelmRelease: a values file (via a generated ConfigMap) or inline.

    ``doc`` is the document holding them and ``base`` the path to them inside it
    (``()`` for helm/values.yaml, ``("spec", "values")`` for inline values).
    """

    release: str
    namespace: str | None
    origin: str  # "configmap" or "inline"
    doc: DocumentRef = attrs.field(eq=False, repr=False)
    base: tuple[str | int, ...] = ()

    @property
    def data(self) -> Mapping[str, Any]:
        value = self.doc.get(*self.base)
        return value if isinstance(value, Mapping) else {}

    @property
    def path(self) -> str:
        return self.doc.path

    def location(self, *path: str | int) -> Location:
        return self.doc.location(*self.base, *path)

    def key_location(self, *path: str | int) -> Location:
        return self.doc.key_location(*self.base, *path)

    def images(self) -> Iterator[ImageRef]:
        """Every image the values name, in the common chart shapes."""
        stack: list[tuple[tuple[str | int, ...], Any, str]] = [((), self.data, "")]
        while stack:
            path, node, key = stack.pop()
            if isinstance(node, str):  # pushed only below a key ending in "image"
                if "/" in node:
                    yield ImageRef.parse(node, self.location(*path))
            elif isinstance(node, dict) or (
                not isinstance(node, list) and isinstance(node, Mapping)
            ):
                if isinstance(node.get("repository"), str):  # else _image_of finds none
                    image = self._image_of(path, node, key)
                    if image is not None:
                        yield image
                        continue
                for k, v in node.items():
                    # Scalars first: the Mapping ABC is slow on them, and most values are.
                    if isinstance(v, str):
                        if isinstance(k, str) and k.lower().endswith("image"):
                            stack.append(((*path, k), v, k))
                    elif isinstance(v, _CONTAINERS) or (
                        not isinstance(v, _SCALARS) and isinstance(v, Mapping)
                    ):
                        stack.append(((*path, k), v, str(k)))
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    if isinstance(v, _CONTAINERS) or (
                        not isinstance(v, _SCALARS) and isinstance(v, Mapping)
                    ):
                        stack.append(((*path, i), v, key))

    def image_at(self, path: tuple[str | int, ...], node: Mapping[str, Any]) -> ImageRef | None:
        """The image an ``image: {repository, tag}`` mapping at ``path`` names, if any."""
        return self._image_of(path, node, "image")

    def _image_of(
        self, path: tuple[str | int, ...], node: Mapping[str, Any], key: str
    ) -> ImageRef | None:
        repo = node.get("repository")
        if not isinstance(repo, str) or not repo:
            return None
        if not (key.lower().endswith("image") or "tag" in node or "digest" in node):
            return None
        registry = node.get("registry")
        if isinstance(registry, str) and registry and not repo.startswith(registry):
            repo = f"{registry}/{repo}"
        tag = node.get("tag")
        digest = node.get("digest")
        tag_text = None if tag is None or isinstance(tag, bool) else str(tag)
        where = ("tag",) if "tag" in node else ("repository",)
        image = ImageRef.parse(repo, self.location(*path, *where))
        return ImageRef(
            repository=image.repository,
            tag=tag_text or image.tag or None,
            digest=(digest if isinstance(digest, str) and digest else None) or image.digest,
            source=image.source,
        )

    def workloads(self, cluster: str | None = None) -> Iterator[Workload]:
        """Workloads described by the bjw-s app-template ``controllers`` shape.

        ``cluster``: the cluster applying these values, given to each workload.
        """
        return app_template_workloads(self, cluster)

    def secret_consumers(self) -> Iterator[SecretConsumer]:
        """Secrets the values name: ``existingSecret``-style keys and envFrom secrets."""
        consumer = f"HelmRelease {self.release}"
        stack: list[tuple[tuple[str | int, ...], Any]] = [((), self.data)]
        while stack:
            path, node = stack.pop()
            if isinstance(node, _MAPPINGS):
                for k, v in node.items():
                    if isinstance(v, _SCALARS) and k not in _SECRET_VALUE_KEYS:
                        continue  # nothing below to read, and not a secret's name
                    here = (*path, k)
                    if (
                        k in _SECRET_VALUE_KEYS
                        and isinstance(v, str)
                        and v
                        and "{{" not in v
                        and not (k == "secretName" and _under_tls(path))
                    ):
                        yield SecretConsumer(
                            v,
                            self.namespace,
                            "existingSecret",
                            consumer,
                            False,
                            self.location(*here),
                        )
                    elif (
                        k == "secretRef"
                        and isinstance(v, Mapping)
                        and isinstance(v.get("name"), str)
                    ):
                        yield SecretConsumer(
                            v["name"],
                            self.namespace,
                            "envFrom",
                            consumer,
                            v.get("optional") is True,
                            self.location(*here, "name"),
                        )
                    elif (
                        k == "secretKeyRef"
                        and isinstance(v, Mapping)
                        and isinstance(v.get("name"), str)
                    ):
                        yield SecretConsumer(
                            v["name"],
                            self.namespace,
                            "secretKeyRef",
                            consumer,
                            v.get("optional") is True,
                            self.location(*here, "name"),
                        )
                    elif k == "envFrom" and isinstance(v, list):
                        for i, item in enumerate(v):
                            if isinstance(item, Mapping) and isinstance(item.get("secret"), str):
                                yield SecretConsumer(
                                    item["secret"],
                                    self.namespace,
                                    "envFrom",
                                    consumer,
                                    False,
                                    self.location(*here, i, "secret"),
                                )
                        stack.append((here, v))
                    elif isinstance(v, _TREES):
                        stack.append((here, v))
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    if isinstance(v, _TREES):
                        stack.append(((*path, i), v))
