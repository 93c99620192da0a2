"""The values that vary between repositories, learnt from the repository itself.

Generated files must look like their neighbours: the Flux ``sourceRef``, the
intervals, the namespace components, the Infisical host, project, environment and
credentials.  Each is, in order of precedence:

1. a command-line ``--set KEY=VALUE``;
2. the ``scaffold:`` mapping of ``.homelab-kit.yaml``;
3. the most common value in the repository's own files;
4. a default that matches the reference cluster.

The keys (``--set`` and ``scaffold:`` alike) are listed in :data:`KEYS`; nested
``scaffold:`` mappings use dotted ``--set`` keys (``sourceRef.name=flux-system``).
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import attrs

from homelab_kit.config import Config
from homelab_kit.errors import ConfigError
from homelab_kit.model.repo import Repo

T = TypeVar("T")

# User-facing key -> (field, description).
KEYS: Mapping[str, tuple[str, str]] = {
    "hostAPI": ("host_api", "InfisicalSecret spec.hostAPI ('' leaves it out)"),
    "projectSlug": ("project_slug", "Infisical project slug"),
    "envSlug": ("env_slug", "Infisical environment slug"),
    "credentialsRef.secretName": ("credentials_secret", "universal-auth credentials Secret"),
    "credentialsRef.secretNamespace": ("credentials_namespace", "its namespace"),
    "resyncInterval": ("resync_interval", "InfisicalSecret resyncInterval (seconds)"),
    "infisicalOperator.name": ("operator_name", "Kustomization secrets depend on ('' for none)"),
    "infisicalOperator.namespace": ("operator_namespace", "its namespace"),
    "sourceRef.kind": ("source_kind", "Flux Kustomization sourceRef kind"),
    "sourceRef.name": ("source_name", "Flux Kustomization sourceRef name"),
    "sourceRef.namespace": ("source_namespace", "Flux Kustomization sourceRef namespace"),
    "interval": ("interval", "Flux Kustomization interval"),
    "retryInterval": ("retry_interval", "Flux Kustomization retryInterval"),
    "timeout": ("timeout", "Flux Kustomization timeout"),
    "chartInterval": ("chart_interval", "OCIRepository interval"),
    "releaseInterval": ("release_interval", "HelmRelease interval"),
    "components": ("components", "components of a new namespace (comma-separated)"),
    "template": ("template", "the app template new-app uses by default"),
}

_DURATION = re.compile(r"([0-9]+(\.[0-9]+)?(ms|s|m|h))+\Z")
_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?\Z")
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\Z")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\Z")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
_COMPONENT = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*\Z")
_SOURCE_KINDS = ("GitRepository", "OCIRepository", "Bucket", "ExternalArtifact")


def _duration(value: Any) -> str | None:
    return value if isinstance(value, str) and _DURATION.match(value) else None


def _optional(pattern: re.Pattern[str]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None or value == "" or value is False:
            return ""
        return value if isinstance(value, str) and pattern.match(value) else None

    return check


def _matching(pattern: re.Pattern[str]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return value if isinstance(value, str) and pattern.match(value) else None

    return check


def _kind(value: Any) -> str | None:
    return value if value in _SOURCE_KINDS else None


def _seconds(value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**7:
        return value
    return None


def _components(value: Any) -> tuple[str, ...] | None:
    if value is None or value == "" or value is False:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        return None
    out = tuple(str(i).strip() for i in items if str(i).strip())
    ok = all(_COMPONENT.match(i) and not i.startswith("/") for i in out)
    return out if ok else None


_CHECKS: Mapping[str, Callable[[Any], Any]] = {
    "host_api": _optional(_URL),
    "project_slug": _matching(_SLUG),
    "env_slug": _matching(_SLUG),
    "credentials_secret": _matching(_SUBDOMAIN),
    "credentials_namespace": _matching(_LABEL),
    "resync_interval": _seconds,
    "operator_name": _optional(_SUBDOMAIN),
    "operator_namespace": _optional(_LABEL),
    "source_kind": _kind,
    "source_name": _matching(_SUBDOMAIN),
    "source_namespace": _optional(_LABEL),
    "interval": _duration,
    "retry_interval": _duration,
    "timeout": _duration,
    "chart_interval": _duration,
    "release_interval": _duration,
    "components": _components,
    "template": _matching(_LABEL),
}


@attrs.frozen
class ScaffoldSettings:
    """Repository-specific values generated files use; build with :func:`resolve_settings`.

    ``origins`` says where each value came from: ``flag``, ``config``,
    ``repository`` or ``default``.
    """

    apps_root: str = "kubernetes/apps"
    host_api: str = "https://app.infisical.com/api"
    project_slug: str = "homelab"
    env_slug: str = "prod"
    credentials_secret: str = "universal-auth-credentials"
    credentials_namespace: str = "infisical-system"
    resync_interval: int = 60
    operator_name: str = ""
    operator_namespace: str = ""
    source_kind: str = "GitRepository"
    source_name: str = "flux-system"
    source_namespace: str = "flux-system"
    interval: str = "1h"
    retry_interval: str = "2m"
    timeout: str = "5m"
    chart_interval: str = "1h"
    release_interval: str = "1h"
    components: tuple[str, ...] = ()
    template: str = "default"
    origins: Mapping[str, str] = attrs.field(factory=dict, eq=False)

    def origin(self, field: str) -> str:
        return self.origins.get(field, "default")

    def context(self) -> dict[str, Any]:
        """The template variables these settings fill (see ``CONTEXT_VARIABLES``)."""
        return {
            "apps_root": self.apps_root,
            "host_api": self.host_api,
            "project_slug": self.project_slug,
            "env_slug": self.env_slug,
            "credentials_secret": self.credentials_secret,
            "credentials_namespace": self.credentials_namespace,
            "resync_interval": str(self.resync_interval),
            "operator_name": self.operator_name,
            "operator_namespace": self.operator_namespace,
            "source_kind": self.source_kind,
            "source_name": self.source_name,
            "source_namespace": self.source_namespace,
            "interval": self.interval,
            "retry_interval": self.retry_interval,
            "timeout": self.timeout,
            "chart_interval": self.chart_interval,
            "release_interval": self.release_interval,
            "components": ",".join(self.components),
        }


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings (``--set``) to a mapping; unknown keys are errors."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set expects KEY=VALUE, got {pair!r}")
        if key not in KEYS:
            raise ConfigError(f"unknown scaffold setting {key!r} (known: {', '.join(KEYS)})")
        out[key] = value.strip()
    return out


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        elif value in (None, False) and f"{name}.name" in KEYS:
            out[f"{name}.name"] = ""  # infisicalOperator: false
        else:
            out[name] = value
    return out


def _most_common(values: Iterable[T]) -> T | None:
    counts = Counter(values)
    if not counts:
        return None
    best = max(counts.values())
    return next(v for v in counts if counts[v] == best)


def learn(repo: Repo, apps_root: str) -> dict[str, Any]:
    """The most common value of each setting among the repository's files."""
    prefix = apps_root.rstrip("/") + "/"
    learnt: dict[str, Any] = {}
    app_ks = [k for k in repo.kustomizations if k.doc.path.startswith(prefix)]
    for field, attr in (
        ("interval", "interval"),
        ("retry_interval", "retry_interval"),
        ("timeout", "timeout"),
    ):
        value = _most_common(getattr(k, attr) for k in app_ks if getattr(k, attr))
        if value is not None:
            learnt[field] = value
    source = _most_common(
        (k.source_ref.kind, k.source_ref.name, k.source_ref.resolved_namespace or "")
        for k in app_ks
        if k.source_ref is not None
    )
    if source is not None:
        learnt["source_kind"], learnt["source_name"], learnt["source_namespace"] = source
    chart = _most_common(
        o.interval for o in repo.oci_repositories if o.interval and o.doc.path.startswith(prefix)
    )
    if chart is not None:
        learnt["chart_interval"] = chart
    release = _most_common(
        h.interval for h in repo.helm_releases if h.interval and h.doc.path.startswith(prefix)
    )
    if release is not None:
        learnt["release_interval"] = release
    components = _most_common(
        tuple(e.value for e in ns.kustomization.components)
        for ns in repo.namespaces
        if ns.kustomization is not None
    )
    if components is not None:
        learnt["components"] = components
    else:
        common = posixpath.join(posixpath.dirname(apps_root.rstrip("/")), "components", "common")
        kfile = repo.kustomize_file(common)
        if kfile is not None and kfile.is_component:
            learnt["components"] = (posixpath.relpath(common, f"{apps_root}/namespace"),)
    operator = _most_common(
        (d.name, d.resolved_namespace or "")
        for k in app_ks
        if k.name == "secrets" or k.doc.path.endswith("/secrets/ks.yaml")
        for d in k.depends_on
    )
    if operator is None:
        operator = _infisical_operator(repo)
    if operator is not None:
        learnt["operator_name"], learnt["operator_namespace"] = operator
    secrets = [s for s in repo.infisical_secrets if s.auth_method in (None, "universalAuth")]
    if secrets:
        host = _most_common(s.host_api for s in secrets if s.host_api)
        if host is not None:
            learnt["host_api"] = host
        for field, attr in (
            ("project_slug", "project_slug"),
            ("env_slug", "env_slug"),
            ("credentials_secret", "credentials_secret"),
            ("credentials_namespace", "credentials_namespace"),
        ):
            value = _most_common(getattr(s, attr) for s in secrets if getattr(s, attr))
            if value is not None:
                learnt[field] = value
        resync = _most_common(
            r for s in secrets if (r := s.doc.get("spec", "resyncInterval")) is not None
        )
        if resync is not None:
            learnt["resync_interval"] = resync
    return learnt


def resolve_settings(
    repo: Repo | None,
    config: Config,
    overrides: Mapping[str, str] | None = None,
    apps_root: str | None = None,
) -> ScaffoldSettings:
    """Flags over ``.homelab-kit.yaml`` over the repository over the defaults.

    :param apps_root: the apps folder new files go to (default: the configured one);
        its files are the ones values are learnt from.
    :raises ConfigError: for an unknown key or an invalid value in config or flags.
    """
    apps_root = (apps_root or config.apps_root).strip("/") or "kubernetes/apps"
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    if repo is not None:
        for field, value in learn(repo, apps_root).items():
            checked = _CHECKS[field](value)
            if checked is not None:
                values[field], origins[field] = checked, "repository"
    configured = _flatten(config.scaffold)
    for layer, origin in ((configured, "config"), (dict(overrides or {}), "flag")):
        for key, value in layer.items():
            if key not in KEYS:
                raise ConfigError(
                    f"unknown scaffold setting {key!r} in {origin} (known: {', '.join(KEYS)})"
                )
            field = KEYS[key][0]
            checked = _CHECKS[field](value)
            if checked is None:
                where = ".homelab-kit.yaml scaffold:" if origin == "config" else "--set"
                raise ConfigError(f"{where} {key}: invalid value {value!r}")
            values[field], origins[field] = checked, origin
    return ScaffoldSettings(apps_root=apps_root, origins=origins, **values)


def _infisical_operator(repo: Repo) -> tuple[str, str] | None:
    """The Flux Kustomization that deploys the Infisical *operator* (the
    ``secrets-operator`` chart), never the Infisical server; by name as a last resort
    (``infisical`` and ``operator`` both in it)."""
    sources = {o.name: o.url or "" for o in repo.oci_repositories}
    for hr in repo.helm_releases:
        chart = (hr.chart.chart or "") if hr.chart is not None else ""
        if hr.chart_ref is not None:
            chart = sources.get(hr.chart_ref.name, "")
        if not chart.rstrip("/").endswith("secrets-operator"):
            continue
        app = repo.app_of_file(hr.doc.path)
        if app is not None and app.kustomizations:
            ks = app.kustomizations[0]
            return ks.name, ks.namespace or ""
    named = sorted(
        k.name for k in repo.kustomizations if "infisical" in k.name and "operator" in k.name
    )
    if named:
        ks = next(k for k in repo.kustomizations if k.name == named[0])
        return ks.name, ks.namespace or ""
    return None
