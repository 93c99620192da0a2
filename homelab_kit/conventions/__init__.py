"""The conventions a repository follows, detected from what it does consistently.

``homelab-kit init`` writes them to ``.homelab-kit.yaml``; scaffolding reads them to
create files that fit the repository.  Each convention check (category
``convention``) is *probed*: run over the repository with each candidate option
value (``placement: helmrelease`` and ``folder``, ``present: true`` and
``false``, ...), and the value most objects follow wins.  A convention is
consistent when at least :data:`CONSISTENT` of the objects it is about follow it;
an inconsistent one is left out (``ignore``), with its exceptions listed, rather
than enforced on a repository that does something else on purpose.

Facts that are not checks (the secrets backends, where values come from) are
counted from the model.  Nothing here reads a file: it all comes from the
loaded :class:`~homelab_kit.model.repo.Repo`.
"""

from __future__ import annotations

import math
import posixpath
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from homelab_kit.config import CONFIG_FILENAME, DEFAULT_SOPS_ALLOWLIST, path_matches
from homelab_kit.diagnostic import Diagnostic
from homelab_kit.errors import ConfigError
from homelab_kit.lint.check import Check
from homelab_kit.location import Location
from homelab_kit.model.repo import Repo

CONSISTENT = 0.9  # the share of objects that must follow a convention for it to be kept
SHOWN = 5  # exceptions listed per convention


@attrs.frozen
class Convention:
    """One convention check, probed: what most objects do and which do not.

    :param check_id: the convention check.
    :param title: what it is about (``chart source placement``).
    :param choice: the detected variant, in words (``in the HelmRelease's file``).
    :param options: the check options that variant needs (empty: the defaults).
    :param follows: objects that follow it.
    :param total: objects it is about (0: nothing to judge).
    :param unit: what the objects are (``HelmReleases``).
    :param exceptions: ``path:line`` of the objects that do not (all of them).
    """

    check_id: str
    title: str
    choice: str
    options: Mapping[str, Any]
    follows: int
    total: int
    unit: str
    exceptions: tuple[str, ...] = ()

    @property
    def consistent(self) -> bool:
        """Followed by at least :data:`CONSISTENT` of its objects (or nothing to judge)."""
        return self.total == 0 or self.follows >= math.ceil(CONSISTENT * self.total)


@attrs.frozen
class Conventions:
    """Everything detected: the probed conventions and the repository's facts.

    :param conventions: one per convention check, in check ID order.
    :param secrets: objects per secrets backend (``Infisical``, ``External Secrets``,
        ``SOPS``), most used first.
    :param values: HelmReleases' values by origin (``inline``, ``generated ConfigMap``).
    :param sops_allowlist: the allowlist SOPS files need, or None when the default
        covers them.
    """

    conventions: tuple[Convention, ...]
    secrets: Mapping[str, int]
    values: Mapping[str, int]
    sops_allowlist: tuple[str, ...] | None = None

    def get(self, check_id: str) -> Convention | None:
        return next((c for c in self.conventions if c.check_id == check_id), None)

    @property
    def followed(self) -> tuple[Convention, ...]:
        return tuple(c for c in self.conventions if c.consistent and c.total)

    @property
    def not_followed(self) -> tuple[Convention, ...]:
        return tuple(c for c in self.conventions if not c.consistent)

    @property
    def guide_style(self) -> bool:
        """Whether the repository is laid out as the guide's: Infisical secrets, chart
        sources in the HelmRelease's file, values from a generated helm/values.yaml."""
        signature = ("helm-chart-source-placement", "structure-values-file")
        for check_id in signature:
            found = self.get(check_id)
            if found is not None and found.total and not (found.consistent and not found.options):
                return False
        return self.secrets_backend == "Infisical"

    @property
    def secrets_backend(self) -> str | None:
        """The backend most secrets come from, or None when there are none."""
        return next((name for name, n in self.secrets.items() if n), None)

    def configuration(self) -> dict[str, Any]:
        """The ``.homelab-kit.yaml`` keys these conventions call for.

        The guide's preset, ``homelab-kit``, when the repository is laid out as the
        guide's (:attr:`guide_style`), less the conventions it does not follow;
        otherwise ``recommended`` and the conventions it does follow as
        ``extend-select`` (so conventions added later are not forced on it).
        """
        data: dict[str, Any] = {}
        if self.guide_style:
            data["preset"] = "homelab-kit"
            if self.not_followed:
                data["ignore"] = [c.check_id for c in self.not_followed]
        else:
            data["preset"] = "recommended"
            if self.followed:
                data["extend-select"] = [c.check_id for c in self.followed]
        options = {c.check_id: dict(c.options) for c in self.followed if c.options}
        if options:
            data["checks"] = options
        if self.sops_allowlist is not None:
            data["sops-allowlist"] = list(self.sops_allowlist)
        return data


# --------------------------------------------------------------------------- probes


@attrs.frozen
class _Probe:
    title: str
    unit: str
    total: Callable[[Repo], int]
    # (what it means, options) for each variant; the first is the check's default
    variants: Callable[[Repo], list[tuple[str, dict[str, Any]]]]
    otherwise: str = "no one way"  # what the repository does when no variant is consistent


def _default_variant(description: str) -> Callable[[Repo], list[tuple[str, dict[str, Any]]]]:
    return lambda repo: [(description, {})]


def _values_files(repo: Repo) -> list[tuple[str, dict[str, Any]]]:
    """``helm/values.yaml`` (the default), then what generated values files are called."""
    found: Counter[str] = Counter()
    for values in repo.values:
        if values.origin == "configmap":
            parts = values.path.split("/")
            found["/".join(parts[-2:]) if parts[-2:-1] == ["helm"] else parts[-1]] += 1
    variants: list[tuple[str, dict[str, Any]]] = [
        ("helm/values.yaml beside the kustomization.yaml", {})
    ]
    for name, _ in found.most_common():
        if name != "helm/values.yaml":
            variants.append((f"{name} beside the kustomization.yaml", {"values-file": name}))
    return variants


PROBES: dict[str, _Probe] = {
    "helm-chart-source-placement": _Probe(
        "chart source placement",
        "HelmReleases",
        lambda r: len(r.helm_releases),
        lambda r: [
            ("in the HelmRelease's own file", {}),
            (
                "in its own file beside the HelmRelease (ocirepository.yaml, ...)",
                {"placement": "folder"},
            ),
        ],
    ),
    "structure-values-file": _Probe(
        "values file",
        "values ConfigMaps",
        lambda r: sum(1 for v in r.values if v.origin == "configmap"),
        _values_files,
    ),
    "yaml-document-start": _Probe(
        "document start",
        "YAML files",
        lambda r: sum(1 for f in r.files.values() if f.documents),
        lambda r: [
            ("files start with ---", {}),
            ("files do not start with ---", {"present": False}),
        ],
    ),
    "flux-ks-wait": _Probe(
        "wait policy",
        "Flux Kustomizations",
        lambda r: len(r.kustomizations),
        _default_variant("every Kustomization waits (wait: true or healthChecks)"),
        "only where something depends on it (flux-ks-dependency-wait still checks those)",
    ),
    "flux-ks-secrets-dependency": _Probe(
        "namespace secrets dependency",
        "Flux Kustomizations",
        lambda r: len(r.kustomizations),
        _default_variant("apps depend on their namespace's secrets Kustomization"),
    ),
    "helm-remediation-retries": _Probe(
        "remediation retries",
        "HelmReleases",
        lambda r: len(r.helm_releases),
        _default_variant("HelmReleases retry failed installs and upgrades"),
    ),
    "secrets-infisical-location": _Probe(
        "InfisicalSecret location",
        "InfisicalSecrets",
        lambda r: len(r.infisical_secrets),
        _default_variant("in the namespace's secrets/ folder"),
    ),
    "secrets-infisical-scope": _Probe(
        "Infisical scope",
        "InfisicalSecrets",
        lambda r: len(r.infisical_secrets),
        _default_variant("each reads its app's folder only"),
    ),
    "secrets-sops-allowlist": _Probe(
        "SOPS file locations",
        "SOPS files",
        lambda r: len(r.sops_files),
        _default_variant("only where bootstrap needs them"),
    ),
    "structure-app-kustomization": _Probe(
        "app kustomization.yaml",
        "Flux Kustomizations",
        lambda r: len(r.kustomizations),
        _default_variant("every deployed folder has a kustomization.yaml"),
    ),
    "structure-app-layout": _Probe(
        "app layout",
        "Flux Kustomizations",
        lambda r: len(r.kustomizations),
        _default_variant("ks.yaml deploys the app/ folder beside it"),
    ),
    "structure-helmrelease-file": _Probe(
        "HelmRelease file",
        "HelmReleases",
        lambda r: len(r.helm_releases),
        _default_variant("each HelmRelease in helmrelease.yaml"),
    ),
    "talos-control-plane-ha": _Probe(
        "control plane",
        "Talos clusters",
        lambda r: 1 if r.talos is not None else 0,
        _default_variant("three or more control-plane nodes"),
    ),
    "talos-version-source": _Probe(
        "Talos versions",
        "Talos clusters",
        lambda r: 1 if r.talos is not None else 0,
        _default_variant("talconfig.yaml takes its versions from talenv.yaml"),
    ),
}


def detect(repo: Repo, checks: Sequence[Check]) -> Conventions:
    """Probe every convention check in ``checks`` over ``repo``.

    :param repo: the loaded repository.
    :param checks: the registered checks (their ``convention`` ones are probed; a
        third-party convention with no probe counts as followed when it finds nothing).
    :returns: the detected :class:`Conventions`.
    """
    allowlist = _sops_allowlist(repo)
    if allowlist is not None:
        repo = attrs.evolve(repo, settings=attrs.evolve(repo.settings, sops_allowlist=allowlist))
    conventions = tuple(_probe(repo, c) for c in checks if c.category == "convention")
    return Conventions(conventions, _secrets(repo), _values(repo), allowlist)


def _probe(repo: Repo, check: Check) -> Convention:
    probe = PROBES.get(check.id)
    if probe is None:
        found = _findings(repo, check, {})
        objects = _objects(repo, found)
        total = max(len(objects), 1)
        return Convention(
            check.id,
            check.summary,
            "as the check says",
            {},
            total - len(objects),
            total,
            "objects",
            objects,
        )
    total = probe.total(repo)
    best: Convention | None = None
    for choice, options in probe.variants(repo):
        objects = _objects(repo, _findings(repo, check, options))
        follows = max(total - len(objects), 0)
        candidate = Convention(
            check.id, probe.title, choice, options, follows, total, probe.unit, objects
        )
        if best is None or candidate.follows > best.follows:
            best = candidate
    assert best is not None
    if not best.consistent:
        best = attrs.evolve(best, choice=f"{probe.otherwise} (the most followed: {best.choice})")
    return best


def _findings(repo: Repo, check: Check, options: Mapping[str, Any]) -> list[Diagnostic]:
    built = check.build_options(options) if options else check.default_options()
    try:
        return [d for d in check.function(repo, built) if isinstance(d, Diagnostic)]
    except Exception:  # a plugin's bug: nothing learnt from this check
        return []


def _objects(repo: Repo, found: Sequence[Diagnostic]) -> tuple[str, ...]:
    """The objects (documents) findings are about, as ``path:line`` of each document."""
    seen: dict[tuple[str, int], str] = {}
    for diag in found:
        path, line = diag.location.path, diag.location.line
        yfile = repo.files.get(path)
        doc = yfile.document_at(line) if yfile is not None and line > 0 else None
        start = doc.start_line if doc is not None else line
        seen.setdefault((path, start), f"{path}:{max(line, 1)}")
    return tuple(seen[k] for k in sorted(seen))


def _sops_allowlist(repo: Repo) -> tuple[str, ...] | None:
    """The default allowlist plus the places the repository keeps SOPS files, or None."""
    outside = [
        s.path
        for s in repo.sops_files
        if not any(path_matches(s.path, p) for p in repo.settings.sops_allowlist)
    ]
    if not outside:
        return None
    patterns = list(repo.settings.sops_allowlist or DEFAULT_SOPS_ALLOWLIST)
    for path in outside:
        pattern = _generalise(path)
        if pattern not in patterns:
            patterns.append(pattern)
    return tuple(patterns)


def _generalise(path: str) -> str:
    """``kubernetes/apps/net/dns/app/s.sops.yaml`` -> ``kubernetes/apps/*/*/app/*.sops.yaml``."""
    parts = path.split("/")
    folder, name = parts[:-1], parts[-1]
    if "apps" in folder:
        i = folder.index("apps")
        folder = folder[: i + 1] + ["*" for _ in folder[i + 1 : i + 3]] + folder[i + 3 :]
    suffix = next((s for s in (".sops.yaml", ".sops.yml") if name.endswith(s)), None)
    glob = f"*{suffix}" if suffix else name
    return posixpath.join(*folder, glob) if folder else glob


def _secrets(repo: Repo) -> dict[str, int]:
    counts = {
        "Infisical": len(repo.infisical_secrets),
        "External Secrets": len(repo.external_secrets),
        "SOPS": len(repo.sops_files),
    }
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def _values(repo: Repo) -> dict[str, int]:
    counts = Counter(
        "generated ConfigMap" if v.origin == "configmap" else "inline" for v in repo.values
    )
    return dict(counts.most_common())


# --------------------------------------------------------------------------- report


def describe(found: Conventions) -> list[str]:
    """What ``init`` prints: each convention with its counts and exceptions."""
    lines: list[str] = []
    secrets = ", ".join(f"{name} {n}" for name, n in found.secrets.items() if n) or "none found"
    lines.append(f"secrets backend: {found.secrets_backend or 'none'} ({secrets})")
    values = ", ".join(f"{origin} {n}" for origin, n in found.values.items()) or "none found"
    lines.append(f"HelmRelease values: {values}")
    if found.sops_allowlist is not None:
        lines.append(
            "SOPS files also live in: "
            + ", ".join(p for p in found.sops_allowlist if p not in DEFAULT_SOPS_ALLOWLIST)
        )
    for c in found.conventions:
        if not c.total:
            lines.append(f"{c.title}: nothing to judge (no {c.unit}) [{c.check_id}]")
            continue
        verdict = "kept" if c.consistent else "not followed: ignored"
        lines.append(
            f"{c.title}: {c.choice}: {c.follows}/{c.total} {c.unit} [{c.check_id}, {verdict}]"
        )
        if c.exceptions:
            more = len(c.exceptions) - SHOWN
            shown = ", ".join(c.exceptions[:SHOWN]) + (f" and {more} more" if more > 0 else "")
            lines.append(f"    exceptions: {shown}")
    return lines


def render_config(found: Conventions, existing: str | None = None) -> str:
    """The text of ``.homelab-kit.yaml`` for ``found``.

    ``existing`` (the current file, with ``init --force``) keeps every key and
    comment ``init`` does not manage; the managed keys (``preset``, ``select``,
    ``extend-select``, ``ignore``, ``sops-allowlist`` and the detected checks'
    options) are replaced.
    """
    data = found.configuration()
    notes = {c.check_id: _note(c) for c in found.conventions}
    if existing is not None and existing.strip():
        return _merge(existing, data)
    lines = [
        "---",
        "# Written by `homelab-kit init` from what this repository does consistently.",
        "# Edit freely (docs/lint.md lists every key); `homelab-kit init --force` detects again.",
        f"preset: {data['preset']}",
    ]
    for key in ("extend-select", "ignore"):
        if key in data:
            lines.append(f"{key}:")
            lines += [f"  - {check_id}  # {notes[check_id]}" for check_id in data[key]]
    if "checks" in data:
        lines.append("checks:")
        for check_id, options in data["checks"].items():
            lines.append(f"  {check_id}:  # {notes[check_id]}")
            lines += [f"    {k}: {_scalar(v)}" for k, v in options.items()]
    if "sops-allowlist" in data:
        lines.append("sops-allowlist:  # where this repository keeps SOPS files")
        lines += [f"  - {_scalar(p)}" for p in data["sops-allowlist"]]
    return "\n".join(lines) + "\n"


def _note(c: Convention) -> str:
    return f"{c.title}: {c.follows}/{c.total} {c.unit} follow it"


def _scalar(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    plain = text and not any(ch in text for ch in ":#{}[],&*!|>'\"%@`") and text.strip() == text
    return text if plain and text[0] not in "-?" else json.dumps(text)


def _merge(existing: str, data: Mapping[str, Any]) -> str:
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML()  # round-trip: the user's comments and order survive
    yaml.preserve_quotes = True
    yaml.explicit_start = existing.lstrip().startswith("---")
    try:
        document = yaml.load(existing)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Location(CONFIG_FILENAME, mark.line + 1, mark.column + 1) if mark else None
        raise ConfigError(
            "not valid YAML, so its other keys cannot be kept: fix it or move it away", where
        ) from None
    if not isinstance(document, dict):
        raise ConfigError(
            "not a mapping, so its other keys cannot be kept: fix it or move it away",
            Location(CONFIG_FILENAME, 1, 1),
        )
    for key in ("preset", "select", "extend-select", "ignore", "sops-allowlist"):
        if key in document:
            del document[key]
    for key in ("preset", "extend-select", "ignore", "sops-allowlist"):
        if key in data:
            document[key] = data[key]
    if "checks" in data:
        checks = document.get("checks")
        if not isinstance(checks, dict):
            checks = document["checks"] = {}
        for check_id, options in data["checks"].items():
            checks[check_id] = options
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


# --------------------------------------------------------------------------- scaffolding facts


def secrets_backend(repo: Repo) -> str | None:
    """The backend most of ``repo``'s secrets come from (``Infisical``, ``External
    Secrets``, ``SOPS``), or None when it has none: what ``add-secret`` writes."""
    return next((name for name, n in _secrets(repo).items() if n), None)


@attrs.frozen
class ExternalSecretStyle:
    """How ``repo``'s ExternalSecrets are written: the most used apiVersion and store.

    :param example: the path of an ExternalSecret written so (to copy its head from).
    """

    api_version: str
    store_kind: str
    store_name: str
    example: str


def external_secret_style(repo: Repo, namespace: str | None = None) -> ExternalSecretStyle | None:
    """The most used store of ``repo``'s ExternalSecrets (those of ``namespace``
    first, when it has any), or None when it has no ExternalSecret with a store."""
    found = [e for e in repo.external_secrets if e.store_name]
    local = [e for e in found if namespace is not None and e.namespace == namespace]
    chosen = local or found
    if not chosen:
        return None

    def style(e: Any) -> tuple[str, str, str]:
        return (e.doc.api_version, e.store_kind or "SecretStore", str(e.store_name))

    (api, kind, name), _ = Counter(style(e) for e in chosen).most_common(1)[0]
    example = next(e.doc.path for e in chosen if style(e) == (api, kind, name))
    return ExternalSecretStyle(api or "external-secrets.io/v1", kind, str(name), example)


@attrs.frozen
class AppLayout:
    """How ``repo``'s apps are laid out, as ``new-app`` needs it (majorities).

    :param chart_source_file: the file an app's OCIRepository lives in beside its
        HelmRelease (``ocirepository.yaml``), or ``""`` for the HelmRelease's own file.
    :param inline_values: values written in the HelmRelease (``spec.values``), not
        a generated ConfigMap from ``helm/values.yaml``.
    :param wait: the Flux Kustomizations' ``spec.wait`` (True when none says).
    :param namespace_file: every namespace folder has a ``namespace.yaml``.
    """

    chart_source_file: str = ""
    inline_values: bool = False
    wait: bool = True
    namespace_file: bool = False


def app_layout(repo: Repo) -> AppLayout:
    """The :class:`AppLayout` most of ``repo``'s apps follow (the defaults when it
    has none to learn from)."""
    sources = {(o.namespace, o.name): o.doc.path for o in repo.oci_repositories}
    placement: Counter[str] = Counter()
    for hr in repo.helm_releases:
        ref = hr.chart_ref
        if ref is None or ref.kind != "OCIRepository":
            continue
        path = sources.get((ref.namespace or hr.namespace, ref.name))
        path = path or next((p for (_, n), p in sources.items() if n == ref.name), None)
        if path is None:
            continue
        same = posixpath.dirname(path) == posixpath.dirname(hr.doc.path)
        placement["" if path == hr.doc.path else posixpath.basename(path) if same else "?"] += 1
    chart_file = placement.most_common(1)[0][0] if placement else ""
    values = _values(repo)
    inline = values.get("inline", 0) > values.get("generated ConfigMap", 0)
    waits = Counter(ks.wait for ks in repo.kustomizations if ks.wait is not None)
    wait = waits.get(False, 0) <= waits.get(True, 0)
    namespaces = [n for n in repo.namespaces if n.apps]
    with_file = sum(1 for n in namespaces if f"{n.directory}/namespace.yaml" in repo.files)
    return AppLayout(
        chart_file if chart_file != "?" else "",
        inline,
        wait,
        bool(namespaces) and with_file >= math.ceil(CONSISTENT * len(namespaces)),
    )
