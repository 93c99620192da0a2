"""What a user may type: names, charts, versions, images and ports, checked before any work.

Every value that reaches a template or a path goes through here first, so a name
can never climb out of the repository (``../x``, ``/etc``) and a value can never
smuggle template syntax (``{{ ... }}``) into a rendered file.
"""

from __future__ import annotations

import re

import attrs

from homelab_kit.errors import ScaffoldError

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
MAX_LABEL = 63
# Helm refuses release names longer than 53 characters.
MAX_APP = 53
RESERVED_APPS = frozenset(("secrets",))

_CHART = re.compile(
    r"oci://(?P<registry>[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?)"
    r"(?P<path>(/[a-z0-9]+([._-][a-z0-9]+)*)+)\Z"
)
_VERSION = re.compile(r"v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?([+_][0-9A-Za-z.-]+)?\Z")
_IMAGE_REPO = re.compile(
    r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?/)?"
    r"[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*\Z"
)
_IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")
_TEMPLATE_SYNTAX = ("{{", "}}", "{%", "%}", "{#", "#}")


def check_name(value: str, what: str, *, max_length: int = MAX_LABEL) -> str:
    """A Kubernetes DNS-1123 label (``a-z``, ``0-9``, ``-``), at most ``max_length`` long.

    :raises ScaffoldError: with what is wrong and an example of what is right.
    """
    if not isinstance(value, str) or not value:
        raise ScaffoldError(f"{what} is empty")
    if "/" in value or "\\" in value or value in (".", "..") or value.startswith("."):
        raise ScaffoldError(f"{what} {value!r} is not a plain name (no paths, no '..')")
    if len(value) > max_length:
        raise ScaffoldError(f"{what} {value!r} is longer than {max_length} characters")
    if not DNS_LABEL.match(value):
        hint = value.lower().replace("_", "-").replace(".", "-").strip("-")
        example = f" (for example {hint!r})" if hint and DNS_LABEL.match(hint) else ""
        raise ScaffoldError(
            f"{what} {value!r} must be lower-case letters, digits and '-', starting and "
            f"ending with a letter or digit{example}"
        )
    return value


def check_app_name(value: str) -> str:
    """An app name: a DNS-1123 label a Helm release can carry, not a reserved folder name."""
    check_name(value, "app name", max_length=MAX_APP)
    if value in RESERVED_APPS:
        raise ScaffoldError(f"app name {value!r} is reserved (the namespace's secrets folder)")
    return value


def check_namespace(value: str) -> str:
    """A namespace name (DNS-1123 label)."""
    return check_name(value, "namespace")


def parse_target(value: str) -> tuple[str, str]:
    """``NAMESPACE/APP`` to ``(namespace, app)``, both checked."""
    if not isinstance(value, str) or value.count("/") != 1:
        raise ScaffoldError(f"expected NAMESPACE/APP (like media/jellyfin), got {value!r}")
    namespace, app = value.split("/")
    return check_namespace(namespace), check_app_name(app)


@attrs.frozen
class Chart:
    """A Helm chart in an OCI registry: ``oci://REGISTRY/PATH/CHART``."""

    url: str
    registry: str
    name: str

    @classmethod
    def parse(cls, value: str) -> Chart:
        match = _CHART.match(value or "")
        if match is None or ".." in value:
            raise ScaffoldError(
                f"chart {value!r} is not an OCI chart reference like "
                "oci://ghcr.io/bjw-s-labs/helm/app-template"
            )
        return cls(value, match["registry"], match["path"].rsplit("/", 1)[-1])


def check_version(value: str) -> str:
    """A pinned chart version (``X.Y.Z``, optionally ``v`` and a pre-release)."""
    if not isinstance(value, str) or not _VERSION.match(value):
        raise ScaffoldError(
            f"version {value!r} is not a pinned chart version like 1.2.3 (ranges and "
            "'latest' are not allowed: pin chart versions)"
        )
    return value


@attrs.frozen
class Image:
    """A container image: ``REPOSITORY:TAG`` (optionally ``@sha256:...``)."""

    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, value: str) -> Image:
        rest, _, digest = (value or "").partition("@")
        repo, tag = rest, None
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > slash:
            repo, tag = rest[:colon], rest[colon + 1 :]
        ok = (
            bool(_IMAGE_REPO.match(repo))
            and (tag is None or bool(_IMAGE_TAG.match(tag)))
            and (not digest or bool(_DIGEST.match(digest)))
        )
        if not ok:
            raise ScaffoldError(
                f"image {value!r} is not an image reference like ghcr.io/org/app:1.2.3"
            )
        if tag is None and not digest:
            raise ScaffoldError(f"image {value!r} has no tag: pin it (for example {repo}:1.2.3)")
        if tag == "latest":
            raise ScaffoldError(f"image {value!r} uses 'latest': pin a version tag")
        return cls(repo, tag, digest or None)


def check_port(value: int | str) -> int:
    """A TCP port, 1 to 65535."""
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ScaffoldError(f"port {value!r} is not a number") from None
    if not 1 <= port <= 65535:
        raise ScaffoldError(f"port {port} is not between 1 and 65535")
    return port


def check_no_template_syntax(value: str, what: str) -> str:
    """Refuse values carrying Jinja syntax: they would be rendered, not written."""
    if any(s in value for s in _TEMPLATE_SYNTAX):
        raise ScaffoldError(f"{what} {value!r} contains template syntax ('{{{{', '{{%')")
    return value
