"""kustomize's ConfigMap and Secret generators (``configMapGenerator``, ``secretGenerator``).

Generated objects get kustomize's content hash in their name (unless
``disableNameSuffixHash``), ``behavior: merge``/``replace`` change an object a base
generated, and env files are read as kustomize reads them: a key without ``=`` would
come from the environment, which is never read here.  A Secret literal is never
quoted in a message.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homelab_kit.errors import HomelabKitError
from homelab_kit.render._docs import deep_copy
from homelab_kit.render.resource import Resource as _Resource
from homelab_kit.render.resource import Resources
from homelab_kit.render.resource import id_equals as _id_equals
from homelab_kit.render.resource import text as _text

if TYPE_CHECKING:
    from homelab_kit.render.kustomize import _Kustomization
    from homelab_kit.render.sources import Sources

_ENV_KEY = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


class Generators:
    """The generator steps of the renderer's builder (its file access comes from it)."""

    warnings: list[str]

    sources: Sources

    def local(self, k: _Kustomization, entry: Any, *where: str | int, strict: bool = False) -> str:
        raise NotImplementedError

    def read_text(self, path: str, k: _Kustomization, *where: str | int) -> str:
        raise NotImplementedError

    def rel(self, path: str) -> str:
        raise NotImplementedError

    def append(
        self, resources: Resources, resource: _Resource, k: _Kustomization, *where: str | int
    ) -> None:
        raise NotImplementedError

    def generate(self, k: _Kustomization, resources: Resources) -> None:
        options = k.map("generatorOptions")
        for kind, key in (("ConfigMap", "configMapGenerator"), ("Secret", "secretGenerator")):
            for index, args in enumerate(k.list(key)):
                if not isinstance(args, dict):
                    raise HomelabKitError(
                        f"entry of '{key}' must be a mapping", k.location(key, index)
                    )
                self.generate_one(k, kind, key, index, args, options, resources)

    def generate_one(
        self,
        k: _Kustomization,
        kind: str,
        key: str,
        index: int,
        args: dict[str, Any],
        global_options: dict[str, Any],
        resources: Resources,
    ) -> None:
        name = _text(args.get("name"))
        if not name:
            raise HomelabKitError(f"a {key} entry needs a name", k.location(key, index))
        raw_local = args.get("options")
        local: dict[str, Any] = raw_local if isinstance(raw_local, dict) else {}
        labels = {**string_map(local.get("labels")), **string_map(global_options.get("labels"))}
        annotations = {
            **string_map(local.get("annotations")),
            **string_map(global_options.get("annotations")),
        }
        disable_hash = bool(local.get("disableNameSuffixHash")) or bool(
            global_options.get("disableNameSuffixHash")
        )
        immutable = bool(local.get("immutable")) or bool(global_options.get("immutable"))
        pairs = self.generator_pairs(k, key, index, args)
        metadata: dict[str, Any] = {"name": name}
        if args.get("namespace"):
            metadata["namespace"] = _text(args["namespace"])
        if labels:
            metadata["labels"] = labels
        if annotations:
            metadata["annotations"] = annotations
        obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": metadata}
        if kind == "ConfigMap":
            data: dict[str, str] = {}
            binary: dict[str, str] = {}
            for pair_key, raw in pairs:
                try:
                    data[pair_key] = raw.decode("utf-8")
                except UnicodeDecodeError:
                    binary[pair_key] = _wrapped_base64(raw)
            if data:
                obj["data"] = data
            if binary:
                obj["binaryData"] = binary
        else:
            obj["type"] = _text(args.get("type")) or "Opaque"
            obj["data"] = {pk: _wrapped_base64(raw) for pk, raw in pairs}
        if immutable:
            obj["immutable"] = True
        behavior = _text(args.get("behavior")) or "create"
        new = _Resource(obj, needs_hash=not disable_hash, source=k.location(key, index))
        if behavior == "create":
            self.append(resources, new, k, key, index)
            return
        if behavior not in ("merge", "replace"):
            raise HomelabKitError(
                f"unknown generator behavior {behavior!r}", k.location(key, index, "behavior")
            )
        matches = [r for r in resources if any(_id_equals(i, new.ids[0]) for i in r.ids)]
        if len(matches) != 1:
            raise HomelabKitError(
                f"{behavior} behavior needs exactly one existing {kind} {name!r}; "
                f"found {len(matches)}",
                k.location(key, index),
            )
        old = matches[0]
        _merge_generated(
            old, new, behavior, disable_hash, "options" in args or bool(global_options)
        )

    @staticmethod
    def _list_field(
        k: _Kustomization, key: str, index: int, args: dict[str, Any], field: str
    ) -> list[Any]:
        """``envs``, ``literals`` or ``files`` of a generator: a list, as kustomize demands."""
        value = args.get(field)
        if value is None:
            return []
        if not isinstance(value, list):
            raise HomelabKitError(
                f"{field} must be a list, not {type(value).__name__} (kustomize refuses it)",
                k.location(key, index, field),
            )
        return value

    def generator_pairs(
        self, k: _Kustomization, key: str, index: int, args: dict[str, Any]
    ) -> list[tuple[str, bytes]]:
        pairs: list[tuple[str, bytes]] = []
        envs = list(self._list_field(k, key, index, args, "envs"))
        if args.get("env"):
            envs.append(args["env"])
        for number, entry in enumerate(envs):
            path = self.local(k, entry, key, index, "envs", number)
            text = self.read_text(path, k, key, index, "envs", number)
            for line in text.splitlines():
                line = line.lstrip()
                if not line or line.startswith("#"):
                    continue
                env_key, sep, value = line.partition("=")
                if not sep:
                    self.warnings.append(
                        f"{k.rel}: {self.rel(path)}: a line has no '=' (no value); kustomize "
                        "would read it from the environment, which is never read here; skipped"
                    )
                    continue
                if not _ENV_KEY.match(env_key):
                    raise HomelabKitError(
                        f"{self.rel(path)}: a key that is not an environment variable name "
                        "(never quoted: the line may be a secret)",
                        k.location(key, index),
                    )
                pairs.append((env_key, value.encode("utf-8")))
        for number, literal in enumerate(self._list_field(k, key, index, args, "literals")):
            text = _text(literal)
            lit_key, sep, value = text.partition("=")
            if not sep or not lit_key:
                raise HomelabKitError(  # never quoted: a secretGenerator's literal is a secret
                    "invalid literal (expected key=value)",
                    k.location(key, index, "literals", number),
                )
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            pairs.append((lit_key, value.encode("utf-8")))
        for number, entry in enumerate(self._list_field(k, key, index, args, "files")):
            text = _text(entry)
            file_key, sep, file_path = text.partition("=")
            if not sep:
                file_key, file_path = "", text
            path = self.local(k, file_path, key, index, "files", number)
            if self.sources.is_dir(path):
                for child in sorted(Path(path).iterdir()):
                    if child.is_file():
                        pairs.append((child.name, child.read_bytes()))
                continue
            if not self.sources.is_file(path):
                raise HomelabKitError(
                    f"file {file_path!r} does not exist", k.location(key, index, "files", number)
                )
            pairs.append((file_key or os.path.basename(path), self.sources.read_bytes(path)))
        seen: set[str] = set()
        for pair_key, _ in pairs:
            if pair_key in seen:
                raise HomelabKitError(
                    f"{args.get('name')!r} repeats the key {pair_key!r}", k.location(key, index)
                )
            seen.add(pair_key)
        return pairs


def _wrapped_base64(raw: bytes) -> str:
    """Base64 in lines of 70 characters, as kustomize writes generated Secret data."""
    text = base64.b64encode(raw).decode("ascii")
    if len(text) < 70:
        return text
    return "".join(text[i : i + 70] + "\n" for i in range(0, len(text), 70))


def string_map(value: Any) -> dict[str, str]:
    """A mapping's keys and values as strings (``true``, not ``True``)."""
    if not isinstance(value, Mapping):
        return {}
    return {str(k): scalar_text(v) for k, v in value.items()}


def scalar_text(value: Any) -> str:
    """A scalar as kustomize writes it into a string field."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _merge_generated(
    old: _Resource, new: _Resource, behavior: str, disable_hash: bool, has_options: bool
) -> None:
    if behavior == "replace":
        obj = deep_copy(new.obj)
        obj["metadata"]["name"] = old.name()
        if old.namespace():
            obj["metadata"]["namespace"] = old.namespace()
        old.obj = obj
    else:
        target = old.obj
        for field in ("data", "binaryData"):
            if field in new.obj:
                merged = dict(target.get(field) or {})
                merged.update(new.obj[field])
                target[field] = merged
        for field in ("labels", "annotations"):
            if field in new.metadata:
                merged = dict(old.metadata.get(field) or {})
                merged.update(new.metadata[field])
                old.metadata[field] = merged
        if new.obj.get("immutable"):
            target["immutable"] = True
    if has_options:
        old.needs_hash = not disable_hash
