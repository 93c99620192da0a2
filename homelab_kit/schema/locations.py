"""User schema locations, as kubeconform's ``-schema-location`` reads them.

A location is one of:

* a **directory** laid out like the CRDs catalog: ``{group}/{kind}_{version}.json``, or
  flat ``{kind}_{version}.json``;
* a **schema file**: the schema of the kinds it declares (``x-kubernetes-group-version-kind``,
  else the ``apiVersion``/``kind`` enums of its root); one that declares none is the
  schema of every kind no earlier source knows, as in kubeconform;
* a **template** with kubeconform's fields (:data:`TEMPLATE_FIELDS`), such as
  ``/schemas/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json``;
* a **remote template** (``https://...``, or ``default``: kubeconform's own location),
  fetched with a timeout and a size limit, cached on disk by the SHA-256 of its URL
  (a 404 is not cached); when the network is unreachable (or ``HOMELAB_KIT_OFFLINE``
  is set) the location is dropped with one warning and the cache still answers.

A location that does not exist, or a template with an unknown field, is a usage error
(:class:`~homelab_kit.errors.HomelabKitError`) when the location is created.  A kind,
group or version that could leave the location (``../``) names no schema.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from homelab_kit.errors import HomelabKitError
from homelab_kit.fsutil import atomic_write_bytes

DEFAULT_LOCATION = (
    "https://raw.githubusercontent.com/yannh/kubernetes-json-schema/master/"
    "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/"
    "{{ .ResourceKind }}{{ .KindSuffix }}.json"
)
TEMPLATE_FIELDS = (
    "Group",
    "ResourceKind",
    "ResourceAPIVersion",
    "KindSuffix",
    "NormalizedKubernetesVersion",
    "StrictSuffix",
)
OFFLINE_VARIABLE = "HOMELAB_KIT_OFFLINE"
TIMEOUT = 10.0
MAX_SCHEMA_BYTES = 32 * 1024 * 1024

_TEMPLATE_FIELD = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")
_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*\Z")

# A schema as read: (where it came from, the JSON document), or None.
Found = tuple[str, Any] | None


def is_remote(spec: str) -> bool:
    """Whether a location is fetched over HTTP(S)."""
    return spec == "default" or spec.startswith(("http://", "https://"))


def parse_location(spec: str, kubernetes_version: str, cache_dir: Path | None) -> Location:
    """The location ``spec`` names; raises :class:`HomelabKitError` for a bad one."""
    if is_remote(spec):
        return RemoteLocation(spec, kubernetes_version, cache_dir)
    return LocalLocation(spec, kubernetes_version)


class Location:
    """Where to look for the schema of a kind; see the module docstring."""

    spec: str
    warnings: list[str]

    def find(self, group: str, version: str, kind: str) -> Found:
        """The raw schema of a kind here, with its source (path or URL), or None."""
        raise NotImplementedError


class _Template:
    """A kubeconform template and the values of its fields for one kind."""

    def __init__(self, spec: str, kubernetes_version: str) -> None:
        self.spec = spec
        self.kubernetes_version = kubernetes_version.lstrip("v")
        unknown = sorted({f for f in _TEMPLATE_FIELD.findall(spec) if f not in TEMPLATE_FIELDS})
        if unknown:
            raise HomelabKitError(
                f"schema location {spec!r}: unknown template field "
                f"{', '.join('.' + f for f in unknown)} (known: "
                f"{', '.join('.' + f for f in TEMPLATE_FIELDS)})"
            )

    def expand(self, group: str, version: str, kind: str) -> str | None:
        lower = kind.lower()
        if not all(_SAFE_NAME.match(part) for part in (group or "x", version, lower)):
            return None  # a name that could leave the location (../, /) names no schema
        suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
        values = {
            "Group": group,
            "ResourceKind": lower,
            "ResourceAPIVersion": version,
            "KindSuffix": suffix,
            "NormalizedKubernetesVersion": f"v{self.kubernetes_version}",
            "StrictSuffix": "-strict",
        }
        return _TEMPLATE_FIELD.sub(lambda m: values[m.group(1)], self.spec)


class LocalLocation(Location):
    """A directory, a schema file or a local template."""

    def __init__(self, spec: str, kubernetes_version: str) -> None:
        self.spec = spec
        self.warnings = []
        self._template = _Template(spec, kubernetes_version) if "{{" in spec else None
        self._declared: list[tuple[str, str, str]] | None = None
        if self._template is not None:
            prefix = spec[: spec.index("{{")]
            folder = Path(prefix) if prefix.endswith(("/", os.sep)) else Path(prefix).parent
            if prefix and not folder.is_dir():
                raise HomelabKitError(f"schema location {spec!r}: no such directory {folder}")
        elif not Path(spec).exists():
            raise HomelabKitError(f"schema location {spec!r}: no such file or directory")

    def find(self, group: str, version: str, kind: str) -> Found:
        for path in self._candidates(group, version, kind):
            if path.is_file():
                return str(path), _read_json(path)
        return None

    def _candidates(self, group: str, version: str, kind: str) -> list[Path]:
        if self._template is not None:
            expanded = self._template.expand(group, version, kind)
            return [Path(expanded)] if expanded is not None else []
        lower = kind.lower()
        if not all(_SAFE_NAME.match(part) for part in (group or "x", version, lower)):
            return []
        root = Path(self.spec)
        if root.is_file():
            return [root] if self._declares(root, group, version, kind) else []
        found = [root / f"{lower}_{version}.json"]
        if group:
            found.insert(0, root / group / f"{lower}_{version}.json")
        return found

    def _declares(self, path: Path, group: str, version: str, kind: str) -> bool:
        if self._declared is None:
            self._declared = declared_kinds(_read_json(path))
        return not self._declared or (group, version, kind) in self._declared


def declared_kinds(schema: Any) -> list[tuple[str, str, str]]:
    """The ``(group, version, kind)`` a schema says it is for (none: it does not say)."""
    if not isinstance(schema, Mapping):
        return []
    found: list[tuple[str, str, str]] = []
    for gvk in schema.get("x-kubernetes-group-version-kind") or ():
        if isinstance(gvk, Mapping):
            found.append((str(gvk.get("group", "")), str(gvk.get("version", "")), str(gvk["kind"])))
    properties = schema.get("properties")
    if not found and isinstance(properties, Mapping):
        kinds = _enum(properties.get("kind"))
        for api_version in _enum(properties.get("apiVersion")):
            group, _, version = api_version.rpartition("/")
            found.extend((group, version, kind) for kind in kinds)
    return found


def _enum(node: Any) -> list[str]:
    values = node.get("enum") if isinstance(node, Mapping) else None
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaUnreadable(f"schema file {path} unreadable: {exc}") from None


class SchemaUnreadable(Exception):
    """A schema file or response that is not JSON: noted, then the next source is tried."""


class RemoteLocation(Location):
    """A template fetched over HTTP(S), cached on disk; see the module docstring."""

    def __init__(self, spec: str, kubernetes_version: str, cache_dir: Path | None) -> None:
        self.spec = spec
        self.warnings = []
        self._template = _Template(
            DEFAULT_LOCATION if spec == "default" else spec, kubernetes_version
        )
        self._cache = cache_dir / "remote" if cache_dir is not None else None
        self._offline = bool(os.environ.get(OFFLINE_VARIABLE))
        self._unreachable = False

    def find(self, group: str, version: str, kind: str) -> Found:
        url = self._template.expand(group, version, kind)
        if url is None:
            return None
        cached = (
            self._cache / (hashlib.sha256(url.encode()).hexdigest() + ".json")
            if self._cache
            else None
        )
        if cached is not None and cached.is_file():
            return url, _read_json(cached)
        if self._unreachable:
            return None
        if self._offline:
            self._drop(f"{OFFLINE_VARIABLE} is set")
            return None
        data = self._fetch(url)
        if data is None:
            return None
        try:
            schema = json.loads(data)
        except ValueError as exc:
            raise SchemaUnreadable(f"schema {url} is not JSON: {exc}") from None
        if cached is not None:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(cached, data)
            except OSError as exc:
                self.warnings.append(f"schema cache {cached} not written: {exc}")
        return url, schema

    def _fetch(self, url: str) -> bytes | None:
        # Imported here: the HTTP client (ssl, http.client, email) costs every lint
        # about 9 ms of start-up, and only a remote schema location fetches.
        import urllib.error
        import urllib.request

        request = urllib.request.Request(url, headers={"User-Agent": "homelab-kit"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                data: bytes = response.read(MAX_SCHEMA_BYTES + 1)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None  # this location has no such kind: never cached
            self._drop(f"HTTP {exc.code} for {url}")
            return None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            self._drop(f"{url}: {reason}")
            return None
        if len(data) > MAX_SCHEMA_BYTES:
            raise SchemaUnreadable(f"schema {url} is larger than {MAX_SCHEMA_BYTES} bytes")
        return data

    def _drop(self, reason: str) -> None:
        """Stop asking this location (one warning): offline is not a failure."""
        self._unreachable = True
        self.warnings.append(
            f"schema location {self.spec} not reachable ({reason}): "
            "its kinds are validated only from the cache"
        )
