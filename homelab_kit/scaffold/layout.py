"""Where a new app goes and how its folder looks, learnt from the apps beside it.

A repository may hold several clusters (``kubernetes/main/apps`` and
``kubernetes/storage/apps``) and, in one cluster, several folders of namespaces
(``kubernetes/apps``, ``kubernetes/core``, ``kubernetes/platform``).  An *apps root*
is such a folder: the parent of namespace folders that hold apps.  ``new-app``
picks the root of the chosen cluster that already holds the namespace, and copies
the shape of that namespace's apps (else the root's, else the repository's): the
folder ``ks.yaml`` deploys (``app/`` or the app's own folder), whether ``ks.yaml``
sets ``metadata.namespace`` and ``spec.commonMetadata``, and where a secret goes
for each secrets provider.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import attrs

from homelab_kit.errors import ScaffoldError
from homelab_kit.model.repo import App, Repo
from homelab_kit.model.secrets import InfisicalSecret

# The providers ``--secrets-provider`` names, and the backend names the conventions use.
PROVIDERS = {"infisical": "Infisical", "external-secrets": "External Secrets", "sops": "SOPS"}


class ClusterChoiceError(ScaffoldError):
    """Several clusters could take the app and none was chosen (``--cluster``)."""

    def __init__(self, message: str, choices: Sequence[str]) -> None:
        super().__init__(message)
        self.choices = tuple(choices)


@attrs.frozen
class AppsRoot:
    """A folder of namespace folders, and the clusters that deploy its apps.

    :param path: ``kubernetes/main/apps``.
    :param clusters: names of the clusters that deploy apps of it (sorted).
    :param namespaces: its namespace folders' names.
    :param apps: how many apps it holds.
    """

    path: str
    clusters: tuple[str, ...]
    namespaces: tuple[str, ...]
    apps: int


def _apps(repo: Repo) -> list[App]:
    return [a for a in repo.apps if not a.is_secrets]


def _cluster_names(repo: Repo) -> list[str]:
    return sorted({c.name for c in repo.clusters})


def apps_roots(repo: Repo, clusters: bool = True) -> list[AppsRoot]:
    """Every apps root of ``repo``, most apps first (a root nested inside another
    root's namespace folder, ``kubernetes/apps/ai/mcp``, is part of that one).

    :param clusters: fill :attr:`AppsRoot.clusters` (builds every cluster's
        desired state: the expensive part).
    """
    of_cluster: dict[str, set[str]] = {}
    for cluster in repo.clusters if clusters else ():
        for app in cluster.apps:
            of_cluster.setdefault(app.directory, set()).add(cluster.name)
    roots: dict[str, list[App]] = {}
    for app in _apps(repo):
        ns_dir = posixpath.dirname(app.directory)
        if ns_dir:
            roots.setdefault(posixpath.dirname(ns_dir), []).append(app)
    nested = {r for r in roots if any(r.startswith(o + "/") for o in roots if o != r)}
    out = []
    for root, apps in roots.items():
        if root in nested or not root:
            continue
        inside = [a for a in _apps(repo) if a.directory.startswith(root + "/")]
        # namespace folders without apps yet (kubernetes/core/default) count too
        depth = root.count("/") + 2
        folders = {
            posixpath.basename(posixpath.dirname(p))
            for p in repo.files
            if p.startswith(root + "/")
            and p.count("/") == depth
            and posixpath.basename(p) in ("kustomization.yaml", "kustomization.yml")
        }
        deploying = sorted({c for a in inside for c in of_cluster.get(a.directory, ())})
        namespaces = sorted(
            folders | {posixpath.basename(posixpath.dirname(a.directory)) for a in apps}
        )
        out.append(AppsRoot(root, tuple(deploying), tuple(namespaces), len(inside)))
    return sorted(out, key=lambda r: (-r.apps, r.path))


def choose_apps_root(
    repo: Repo, namespace: str, cluster: str | None, configured: str
) -> tuple[str, str | None]:
    """The apps root a new app of ``namespace`` goes to, and a note when it was
    inferred among several clusters.

    :param cluster: ``--cluster`` (None: the only cluster, or the only one whose
        apps roots hold ``namespace``).
    :param configured: ``apps-root`` of the configuration, preferred for a new
        namespace when the cluster has several roots.
    :raises ClusterChoiceError: several clusters and none chosen or inferable.
    :raises ScaffoldError: ``cluster`` names no cluster of the repository.
    """
    roots = apps_roots(repo, clusters=False)
    if cluster is None and len(roots) <= 1:  # one apps folder: no cluster to choose
        return (roots[0].path if roots else configured), None
    roots = apps_roots(repo)
    names = _cluster_names(repo)
    listing = ", ".join(
        f"{n} ({', '.join(r.path for r in roots if n in r.clusters) or 'no apps folder'})"
        for n in names
    )
    note = None
    if cluster is not None:
        if cluster not in names:
            known = f"clusters: {listing}" if names else "it has no cluster"
            raise ScaffoldError(f"no cluster {cluster!r} in this repository ({known})")
        roots = [r for r in roots if cluster in r.clusters]
        if not roots:
            raise ScaffoldError(f"cluster {cluster!r} deploys no apps folder to add an app to")
    elif len(names) > 1:
        holding = sorted({c for r in roots if namespace in r.namespaces for c in r.clusters})
        if len(holding) != 1:
            why = "is in several of them" if holding else "is in none of them yet"
            raise ClusterChoiceError(
                f"this repository has {len(names)} clusters and namespace {namespace} {why}: "
                f"choose one with --cluster NAME ({listing})",
                names,
            )
        roots = [r for r in roots if holding[0] in r.clusters]
        note = (
            f"Cluster {holding[0]}: the only one with namespace {namespace} "
            "(--cluster to choose another)."
        )
    if not roots:
        return configured, note
    holding_roots = [r for r in roots if namespace in r.namespaces]
    if holding_roots:
        return holding_roots[0].path, note
    preferred = next((r for r in roots if r.path == configured), roots[0])
    return preferred.path, note


# --------------------------------------------------------------------------- app shape


@attrs.frozen
class AppShape:
    """What the apps beside a new one do (majorities).

    :param app_folder: the folder ``ks.yaml`` deploys, relative to the app's folder
        (``app``), or ``""`` for the app's folder itself (``helmrelease.yaml`` beside
        ``ks.yaml``).
    :param ks_namespace: ``ks.yaml`` sets ``metadata.namespace``.
    :param common_metadata: ``ks.yaml`` sets ``spec.commonMetadata`` (the app label).
    :param ks_object_namespace: the ``metadata.namespace`` the namespace folder's
        ``ks.yaml`` files write (``flux-system``), when it is not the folder's name;
        ``""`` for the folder's name.
    :param target_namespace: the namespace Flux applies the folder's apps to
        (:func:`applied_namespace`), when it is not the folder's name; ``""`` for it.
    """

    app_folder: str = "app"
    ks_namespace: bool = True
    common_metadata: bool = True
    ks_object_namespace: str = ""
    target_namespace: str = ""


def neighbours(repo: Repo, ns_dir: str) -> list[App]:
    """The apps a new app in ``ns_dir`` should look like: those of its namespace,
    else those of its apps root, else all of the repository's."""
    apps = _apps(repo)
    root = posixpath.dirname(ns_dir)
    for group in (
        [a for a in apps if posixpath.dirname(a.directory) == ns_dir],
        [a for a in apps if a.directory.startswith(root + "/")],
        apps,
    ):
        if group:
            return group
    return []


def _majority(votes: Iterable[bool], default: bool) -> bool:
    counts = Counter(votes)
    if not counts:
        return default
    return counts[True] > counts[False] if counts[True] != counts[False] else default


def app_shape(repo: Repo, ns_dir: str) -> AppShape:
    """The :class:`AppShape` of the apps beside a new app in ``ns_dir``."""
    apps = neighbours(repo, ns_dir)
    folders: Counter[str] = Counter()
    docs = []
    for app in apps:
        own = [k for k in app.kustomizations if k.doc.path == app.ks_path]
        if not own:
            continue
        ks = next((k for k in own if k.name == app.name), own[0])
        docs.append(ks.doc)
        path = posixpath.normpath((ks.path or "").removeprefix("./")) if ks.path else ""
        if path == app.directory:
            folders[""] += 1
        elif path.startswith(app.directory + "/"):
            folders[path[len(app.directory) + 1 :]] += 1
    # only the two shapes the templates write: the app/ folder or the app's own
    flat = folders[""] > folders["app"]
    # the namespaces of the apps in the folder itself (another folder's say nothing)
    folder = posixpath.basename(ns_dir)
    mine = [a for a in apps if posixpath.dirname(a.directory) == ns_dir]
    written = (
        d.get("metadata", "namespace")
        for d in docs
        if posixpath.dirname(posixpath.dirname(d.path)) == ns_dir
    )
    return AppShape(
        "" if flat else "app",
        _majority((bool(d.get("metadata", "namespace")) for d in docs), True),
        _majority((bool(d.get("spec", "commonMetadata")) for d in docs), True),
        _most((w for w in written if isinstance(w, str)), folder),
        _most((applied_namespace(repo, a) for a in mine), folder),
    )


def _most(names: Iterable[str], folder: str) -> str:
    """The name most of ``names`` are (a strict majority, no ``${VAR}``), when it is
    not ``folder``; else ``""``."""
    counts = Counter(names)
    if not counts:
        return ""
    name, n = counts.most_common(1)[0]
    if n * 2 <= sum(counts.values()) or name == folder or "$" in name:
        return ""
    return name


@attrs.frozen
class SharedChart:
    """An OCIRepository a namespace component gives every namespace that lists it
    (``components/common/repos/app-template``), which apps reference by name.

    :param name: its ``metadata.name`` (what ``chartRef.name`` says).
    :param path: the file it is written in.
    :param tag: its ``spec.ref.tag`` (the version apps get), when it has one.
    """

    name: str
    path: str
    tag: str | None


def shared_chart(
    repo: Repo, ns_dir: str, components: Sequence[str], chart_url: str
) -> SharedChart | None:
    """The OCIRepository of ``chart_url`` that the namespace folder ``ns_dir`` gets
    from its components and that other HelmReleases reference, else None.

    :param components: the components a new namespace folder would list (ignored for
        an existing one, whose kustomization.yaml says).
    """
    kfile = repo.kustomize_file(ns_dir)
    if kfile is not None:
        folders = [e.target for e in kfile.components if e.target]
    else:
        folders = [posixpath.normpath(posixpath.join(ns_dir, c)) for c in components]
    url = chart_url.rstrip("/")
    used = Counter(
        hr.chart_ref.name
        for hr in repo.helm_releases
        if hr.chart_ref is not None and hr.chart_ref.kind == "OCIRepository"
    )
    for source in repo.oci_repositories:
        path = source.doc.path
        if (source.url or "").rstrip("/") != url or not used.get(source.name):
            continue
        if any(path.startswith(folder + "/") for folder in folders):
            return SharedChart(source.name, path, source.ref.tag)
    return None


# --------------------------------------------------------------------------- secrets


def applied_namespace(repo: Repo, app: App) -> str:
    """The namespace Flux applies ``app``'s objects to, where its workload reads Secrets.

    As the model computes it for the app's files (the outermost of its Flux
    Kustomization's ``targetNamespace`` and the kustomization.yaml ``namespace:``
    fields, as Flux and kustomize apply them): the HelmRelease's file first, then any
    other file the app deploys; else its Flux Kustomization's ``targetNamespace``;
    else the app's folder namespace.
    """
    releases = [h.doc.path for h in repo.helm_releases if h.doc.path in app.files]
    others = [f for f in app.files if f != app.ks_path]
    for path in (*releases, *others):
        landed = repo.namespace_of_file(path)
        if landed:
            return landed
    for ks in app.kustomizations:
        if ks.target_namespace:
            return ks.target_namespace
    return app.namespace


def namespace_secrets_folder(repo: Repo) -> bool:
    """Whether a new namespace gets a ``secrets/`` folder (its own Flux Kustomization
    for the namespace's InfisicalSecrets): when most namespace folders with apps
    have one, or there is none to learn from."""
    folders = [n.directory for n in repo.namespaces if n.apps]
    if not folders:
        return True
    having = sum(1 for d in folders if f"{d}/secrets/ks.yaml" in repo.files)
    return having * 2 > len(folders)


def secrets_provider(repo: Repo, chosen: str | None) -> str:
    """``--secrets-provider`` (checked), else the backend most of ``repo``'s secrets
    use, else ``infisical``."""
    from homelab_kit.conventions import secrets_backend

    if chosen is not None:
        if chosen not in PROVIDERS:
            raise ScaffoldError(
                f"unknown secrets provider {chosen!r} (known: {', '.join(PROVIDERS)})"
            )
        return chosen
    backend = secrets_backend(repo)
    return next((k for k, v in PROVIDERS.items() if v == backend), "infisical")


def infisical_in_app(repo: Repo, ns_dir: str) -> str | None:
    """The file name InfisicalSecrets have in their app's own folder, when most of
    those of the namespace folder ``ns_dir`` (else of ``repo``) live there rather
    than in the namespace's ``secrets/`` folder; else None."""
    inside: Counter[str] = Counter()
    shared = 0
    paths = [s.doc.path for s in repo.infisical_secrets]
    local = [p for p in paths if p.startswith(ns_dir + "/")]
    for path in local or paths:
        app = repo.app_of_file(path)
        if app is None or app.is_secrets or "/secrets/" in path[len(app.directory) :]:
            shared += 1
        else:
            inside[posixpath.basename(path)] += 1
    if sum(inside.values()) <= shared:
        return None
    return inside.most_common(1)[0][0]


#: The guide's Infisical folder for an app's secrets, when the repository shows none.
DEFAULT_SECRETS_PATH = "/<app>"
_SUFFIXES = ("-secrets", "-secret", "-infisical", "-infisicalsecret")


def secrets_path(repo: Repo, ns_dir: str, namespace: str, app: str, app_dir: str) -> str:
    """The Infisical folder (``secretsPath``) for the secrets of ``namespace``/``app``.

    Each InfisicalSecret gives a pattern: its ``secretsPath`` with its own namespace
    written ``<ns>`` and its app ``<app>`` (``/kubernetes/database/pgadmin`` ->
    ``/kubernetes/<ns>/<app>``).  The most common pattern wins (the first written on
    a tie) among those of the apps beside ``app_dir`` (the app's folder: sibling
    folders, as ``ai/mcp/*`` apps keep a path of their own), else of the namespace
    folder ``ns_dir``, else of ``repo``, filled in for this app.  Paths holding a
    ``${VAR}`` or a template are not patterns.  With no InfisicalSecret to learn
    from: :data:`DEFAULT_SECRETS_PATH`, the guide's ``/<app>``.

    >>> secrets_path(repo, "kubernetes/apps/media", "media", "sonarr",
    ...              "kubernetes/apps/media/sonarr")  # doctest: +SKIP
    '/kubernetes/media/sonarr'
    """
    parent = posixpath.dirname(app_dir)
    levels: tuple[Counter[str], Counter[str], Counter[str]] = (Counter(), Counter(), Counter())
    for infisical in repo.infisical_secrets:
        path = infisical.secrets_path
        if not path or "${" in path or "{{" in path:
            continue
        pattern = _secrets_path_pattern(repo, infisical, path)
        owner = repo.app_of_file(infisical.doc.path)
        levels[2][pattern] += 1
        if infisical.doc.path.startswith(ns_dir + "/"):
            levels[1][pattern] += 1
        beside = owner is not None and posixpath.dirname(owner.directory) == parent
        if beside and owner is not None and not owner.is_secrets:
            levels[0][pattern] += 1
    counts = next((level for level in levels if level), None)
    pattern = counts.most_common(1)[0][0] if counts else DEFAULT_SECRETS_PATH
    return pattern.replace("<ns>", namespace).replace("<app>", app)


def _secrets_path_pattern(repo: Repo, infisical: InfisicalSecret, path: str) -> str:
    """``path`` with the InfisicalSecret's app (its last mention) as ``<app>`` and its
    namespace as ``<ns>``.  Its app: the app folder holding it, else its file's, its
    own or its Secret's name less ``-secrets``/``-secret``."""
    owner = repo.app_of_file(infisical.doc.path)
    names = [posixpath.basename(infisical.doc.path).rsplit(".", 1)[0], infisical.name]
    names += [m.name for m in infisical.managed_secrets]
    apps = {_strip(n) for n in names if n}
    if owner is not None and not owner.is_secrets:
        apps = {owner.name}
    namespace = infisical.namespace or (owner.namespace if owner is not None else None)
    parts = path.split("/")
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] in apps:
            parts[index] = "<app>"
            break
    return "/".join("<ns>" if p and p == namespace else p for p in parts)


def _strip(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def app_file_name(repo: Repo, paths: Iterable[str], app: str, default: str) -> str:
    """The name most files of one kind (``paths``) have in their apps' folders, with
    their app's name replaced by ``app`` (``radarr.secret.sops.yaml`` ->
    ``<app>.secret.sops.yaml``); ``default`` when none is in an app's folder."""
    names: Counter[str] = Counter()
    for path in paths:
        owner = repo.app_of_file(path)
        if owner is None or owner.is_secrets or not path.startswith(owner.directory + "/"):
            continue
        base = posixpath.basename(path)
        names[base.replace(owner.name, "{app}") if owner.name in base else base] += 1
    if not names:
        return default
    return names.most_common(1)[0][0].replace("{app}", app)


def sops_rule_matches(text: str | None, path: str) -> bool | None:
    """Whether a creation rule of ``.sops.yaml`` (its ``text``) applies to ``path``:
    None when there is no ``.sops.yaml`` or it cannot be read."""
    if text is None:
        return None
    from homelab_kit.yaml import parse_text

    docs, problems = parse_text(text, ".sops.yaml")
    if problems or not docs or not isinstance(docs[0].data, dict):
        return None
    rules = docs[0].data.get("creation_rules")
    if not isinstance(rules, list):
        return None
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        pattern = rule.get("path_regex")
        if pattern is None:
            return True  # a rule without path_regex applies to every file
        try:
            if re.search(str(pattern), path):
                return True
        except re.error:
            continue
    return False
