"""The scaffolding commands as library functions: each returns a :class:`Plan`.

``plan_new_app``, ``plan_new_namespace`` and ``plan_add_secret`` read the repository,
render the generators and compute every file to create and every edit to make;
they write nothing.  ``plan.diff()`` shows it all; ``plan.apply()`` writes it as one
transaction.  Edits to existing files go through :mod:`homelab_kit.yaml.edit`, so
every line they do not touch stays byte-identical.
"""

from __future__ import annotations

import os
import posixpath
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from homelab_kit.config import Config, load_config
from homelab_kit.conventions import app_layout, external_secret_style
from homelab_kit.errors import ScaffoldError
from homelab_kit.model.loader import find_root, load
from homelab_kit.model.repo import App, Repo
from homelab_kit.plugins import PluginManager, get_plugin_manager
from homelab_kit.scaffold.generator import Generator, find_generator, render
from homelab_kit.scaffold.layout import (
    ClusterChoiceError,
    app_file_name,
    app_shape,
    applied_namespace,
    choose_apps_root,
    infisical_in_app,
    namespace_secrets_folder,
    secrets_path,
    secrets_provider,
    shared_chart,
    sops_rule_matches,
)
from homelab_kit.scaffold.names import (
    Chart,
    Image,
    check_namespace,
    check_port,
    check_version,
    parse_target,
)
from homelab_kit.scaffold.plan import Plan, Workspace
from homelab_kit.scaffold.settings import ScaffoldSettings, resolve_settings
from homelab_kit.yaml import parse_text
from homelab_kit.yaml.edit import EditError, append_to_sequence

SECRETS_KS = "secrets"


class _Context:
    """What every builder needs: the repository, its settings and the workspace."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        overrides: Mapping[str, str] | None,
        pm: PluginManager | None,
        *,
        namespace: str | None = None,
        cluster: str | None = None,
    ) -> None:
        self.root: Path = find_root(path)
        self.config: Config = load_config(self.root)
        self.pm = pm or get_plugin_manager()
        self.repo: Repo = _load(self.root, self.config, self.pm)
        self.steps: list[str] = []
        self.notes: list[str] = []
        #: The Infisical folder the new InfisicalSecret syncs (set when one is written).
        self.secrets_path: str | None = None
        apps_root = None
        configured = self.config.apps_root.strip("/")
        explicit = configured != attrs.fields(Config).apps_root.default  # apps-root: set
        if namespace is not None and (cluster is not None or not explicit):
            apps_root, note = choose_apps_root(self.repo, namespace, cluster, configured)
            if note:
                self.notes.append(note)
        self.overrides = overrides
        self.settings: ScaffoldSettings = resolve_settings(
            self.repo, self.config, overrides, apps_root
        )
        self.ws = Workspace(self.root)

    def use_apps_root(self, apps_root: str) -> None:
        """Work in ``apps_root`` (an existing app's), learning the settings there."""
        if apps_root != self.apps_root:
            self.settings = resolve_settings(self.repo, self.config, self.overrides, apps_root)

    @property
    def apps_root(self) -> str:
        return self.settings.apps_root

    def ns_dir(self, namespace: str) -> str:
        return f"{self.apps_root}/{namespace}"

    def plan(self, title: str) -> Plan:
        return self.ws.plan(title, tuple(self.steps), tuple(dict.fromkeys(self.notes)))


def _load(root: Path, config: Config, pm: PluginManager) -> Repo:
    from homelab_kit.lint import load_options

    kinds = [k for _, k in pm.registered("homelab_kit_register_kinds")]
    return load(root, load_options(config, pm), kinds=kinds)


# --------------------------------------------------------------------------- shared steps


def _kustomization_doc(text: str, path: str) -> int:
    docs, problems = parse_text(text, path)
    if problems:
        p = problems[0]
        raise ScaffoldError(f"{path}:{p.line}: {p.message}; fix it before scaffolding")
    for doc in docs:
        if isinstance(doc.data, dict):
            return doc.index
    raise ScaffoldError(f"{path} holds no kustomization")


def _register(
    ctx: _Context, kfile: str, entry: str, *, first: bool = False, keep_sorted: bool = False
) -> None:
    """List ``entry`` in ``kfile``'s resources (in the style of the entries there)."""
    text = ctx.ws.read(kfile)
    if text is None:
        raise ScaffoldError(f"{kfile} does not exist")
    index = _kustomization_doc(text, kfile)
    docs, _ = parse_text(text, kfile)
    resources = docs[index].data.get("resources")
    items = [r for r in resources if isinstance(r, str)] if isinstance(resources, list) else []
    if items and not any(r.startswith("./") for r in items):
        entry = entry.removeprefix("./")
    wanted = posixpath.normpath(entry)
    if any(posixpath.normpath(r.rstrip("/")) == wanted for r in items):
        return
    position = 0 if first else _sorted_position(resources, entry) if keep_sorted else None
    try:
        ctx.ws.update(
            kfile,
            lambda t: append_to_sequence(t, index, ("resources",), entry, index=position),
        )
    except EditError as exc:
        raise ScaffoldError(f"{kfile}: cannot add {entry} to resources: {exc.message}") from None


def _check_values_keys(ctx: _Context, generator: Generator, created: list[str]) -> None:
    """A generated value the chart would ignore is the generator's error, never written."""
    if not generator.values_keys:
        return
    for path in created:
        docs, _ = parse_text(ctx.ws.read(path) or "", path)
        for doc in docs:
            data = doc.data if isinstance(doc.data, dict) else {}
            if data.get("kind") == "HelmRelease":
                values = (data.get("spec") or {}).get("values") or {}
            elif path.endswith("/helm/values.yaml"):
                values = data
            else:
                continue
            ignored = sorted(str(k) for k in values if k not in generator.values_keys)
            if ignored:
                raise ScaffoldError(
                    f"template {generator.name!r} writes values its chart ignores "
                    f"({', '.join(ignored)} in {path}); nothing was written"
                )


def _shape(entry: str) -> str:
    """``./radarr/ks.yaml`` -> ``*/ks.yaml``: entries of one kind share a shape."""
    parts = entry.removeprefix("./").split("/")
    return "/".join(["*", *parts[1:]]) if len(parts) > 1 else "*"


def _sorted_position(resources: Any, entry: str) -> int | None:
    """Where ``entry`` goes among the entries of its shape when those are sorted
    (``./namespace.yaml`` before them does not count), else None (the end)."""
    items = list(resources) if isinstance(resources, list) else []
    shape = _shape(entry)
    alike = [
        (i, r.removeprefix("./"))
        for i, r in enumerate(items)
        if isinstance(r, str) and _shape(r) == shape
    ]
    names = [name for _, name in alike]
    if len(alike) < 2 or names != sorted(names):
        return None
    key = entry.removeprefix("./")
    after = next((i for i, name in alike if name > key), None)
    return after if after is not None else alike[-1][0] + 1


def _render_into(
    ctx: _Context,
    generator: Generator,
    values: Mapping[str, Any],
    top: str,
    base: str,
    only: str = "",
    app_folder: str = "app",
    skip: str = "",
) -> list[str]:
    """Render ``generator`` and plan its files under ``base``; the paths created.

    ``app_folder`` ``""`` moves what the template writes in ``<top>/app/`` up into
    ``<top>/`` (apps whose ks.yaml deploys the app's own folder)."""
    files = render(generator, values)
    created = []
    for rel, text in files.items():
        head, _, inner = rel.partition("/")
        if head != top:
            raise ScaffoldError(
                f"template {generator.name!r} rendered folder {head!r}, expected {top!r}"
            )
        if (only and not inner.startswith(only)) or (skip and inner.startswith(skip)):
            continue
        if app_folder != "app" and inner.startswith("app/"):
            inner = posixpath.join(app_folder, inner[len("app/") :])
            if f"{head}/{inner}" in files:
                raise ScaffoldError(
                    f"template {generator.name!r}: app/{inner} and {inner} would be one file"
                )
            rel = f"{head}/{inner}"
        target = f"{base}/{rel}"
        ctx.ws.create(target, text)
        created.append(target)
    return created


_SCHEMA = "# yaml-language-server: $schema="
_SCHEMA_KINDS = {
    "schema_ks": "kustomize.toolkit.fluxcd.io/Kustomization",
    "schema_helmrelease": "helm.toolkit.fluxcd.io/HelmRelease",
    "schema_ocirepository": "source.toolkit.fluxcd.io/OCIRepository",
    "schema_kustomization": "kustomize.config.k8s.io/Kustomization",
}


def _schema_urls(ctx: _Context, app_template: bool = False) -> dict[str, str]:
    """The schema comment URL the repository writes above each kind new-app writes
    (the most used one; ``""`` when most such documents have none).  A HelmRelease
    schema of the app-template chart counts only for an app-template app."""
    seen: dict[str, Counter[str]] = {key: Counter() for key in _SCHEMA_KINDS}
    wanted = {kind: key for key, kind in _SCHEMA_KINDS.items()}
    texts: dict[str, list[str]] = {}
    for doc in ctx.repo.documents:
        key = wanted.get(f"{doc.api_version.split('/')[0]}/{doc.kind}")
        if key is None or sum(seen[key].values()) >= 40:
            continue
        if doc.path not in texts:
            texts[doc.path] = (ctx.ws.read(doc.path) or "").splitlines()
        lines = texts[doc.path]
        above = lines[max(doc.start_line - 3, 0) : doc.start_line + 1]
        url = next((x[len(_SCHEMA) :].strip() for x in above if x.startswith(_SCHEMA)), "")
        if key == "schema_helmrelease" and ("app-template" in url) != app_template:
            continue
        seen[key][url] += 1
    return {key: counts.most_common(1)[0][0] for key, counts in seen.items() if counts}


def _layout_values(ctx: _Context, app_template: bool = False) -> dict[str, Any]:
    """The template variables that make a new app look like the repository's others."""
    layout = app_layout(ctx.repo)
    return {
        "chart_source_file": layout.chart_source_file,
        "inline_values": layout.inline_values,
        "wait": layout.wait,
        "namespace_file": layout.namespace_file,
        **_schema_urls(ctx, app_template),
    }


def _add_namespace(ctx: _Context, namespace: str) -> None:
    """Plan a new namespace folder, its secrets folder, and list it in the apps root."""
    generator = find_generator("namespace", None, ctx.pm)
    secrets_folder = namespace_secrets_folder(ctx.repo)
    values = {
        **ctx.settings.context(),
        "namespace": namespace,
        "secrets_ks": SECRETS_KS,
        "namespace_file": app_layout(ctx.repo).namespace_file,
        "secrets_folder": secrets_folder,
    }
    _render_into(
        ctx, generator, values, namespace, ctx.apps_root, skip="" if secrets_folder else "secrets/"
    )
    if not ctx.ws.is_file(f"{ctx.ns_dir(namespace)}/kustomization.yaml"):
        raise ScaffoldError(f"template {generator.name!r} made no kustomization.yaml")
    parent = f"{ctx.apps_root}/kustomization.yaml"
    if ctx.ws.is_file(parent):
        _register(ctx, parent, f"./{namespace}", keep_sorted=True)
    elif (deployer := _deployed_whole(ctx, ctx.apps_root)) is not None:
        ctx.notes.append(
            f"{ctx.apps_root} has no kustomization.yaml: Flux Kustomization {deployer} "
            f"deploys every folder in it, {ctx.ns_dir(namespace)}/ too."
        )
    else:
        ctx.steps.append(
            f"{parent} does not exist: make sure Flux deploys {ctx.ns_dir(namespace)}/."
        )
    if not ctx.settings.components:
        ctx.notes.append(
            "No namespace component (kubernetes/components/common) in the repository: the "
            "namespace folder declares its own Namespace."
        )


def _deployed_whole(ctx: _Context, folder: str) -> str | None:
    """The Flux Kustomization whose ``spec.path`` is ``folder`` (which has no
    kustomization.yaml, so Flux generates one listing every folder in it)."""
    for ks in ctx.repo.kustomizations:
        if ks.path and posixpath.normpath(ks.path.removeprefix("./")) == folder:
            return f"{ks.namespace}/{ks.name}" if ks.namespace else ks.name
    return None


def _secrets_ks_name(ctx: _Context, namespace: str) -> str:
    path = f"{ctx.ns_dir(namespace)}/secrets/ks.yaml"
    for ks in ctx.repo.kustomizations:
        if ks.doc.path == path and ks.name:
            return ks.name
    return SECRETS_KS


def _ensure_secrets_folder(ctx: _Context, namespace: str) -> str:
    """The namespace's secrets folder, created and listed first when missing; its ks name."""
    ns_dir = ctx.ns_dir(namespace)
    folder = f"{ns_dir}/secrets"
    missing = [n for n in ("ks.yaml", "kustomization.yaml") if not ctx.ws.is_file(f"{folder}/{n}")]
    if missing:
        generator = find_generator("namespace", None, ctx.pm)
        values = {**ctx.settings.context(), "namespace": namespace, "secrets_ks": SECRETS_KS}
        for name in missing:
            _render_into(ctx, generator, values, namespace, ctx.apps_root, only=f"secrets/{name}")
            if not ctx.ws.is_file(f"{folder}/{name}"):
                raise ScaffoldError(f"template {generator.name!r} made no secrets/{name}")
        if not ctx.settings.operator_name:
            ctx.notes.append(
                "No Infisical operator Kustomization found in the repository: the secrets "
                "Kustomization depends on nothing (set scaffold.infisicalOperator)."
            )
    _register(ctx, f"{ns_dir}/kustomization.yaml", "./secrets/ks.yaml", first=True)
    return SECRETS_KS if "ks.yaml" in missing else _secrets_ks_name(ctx, namespace)


def _infisical_values(
    ctx: _Context, namespace: str, app: str, secret: str, app_dir: str, lands: str, home: str
) -> dict[str, Any]:
    """The secret template's variables: one app's InfisicalSecret for the Infisical
    folder the repository's convention gives it (layout.secrets_path; /<app> when
    none), remembered for the steps.  The InfisicalSecret lives in ``home`` and
    writes the Secret into ``lands``, where Flux applies the app (its folder's name
    ``namespace`` may be another)."""
    ctx.secrets_path = secrets_path(ctx.repo, ctx.ns_dir(namespace), namespace, app, app_dir)
    return {
        **ctx.settings.context(),
        "namespace": home,
        "secret_namespace": lands,
        "app": app,
        "secret_name": secret,
        "secrets_path": ctx.secrets_path,
    }


def _add_secret_file(
    ctx: _Context, namespace: str, app: str, *, existing_ok: bool, lands: str | None = None
) -> bool:
    """Plan ``<ns>/secrets/<app>-secrets.yaml`` and list it; whether it was added.

    The Secret goes to ``lands``, the namespace Flux applies the app to (default:
    ``namespace``, the folder's)."""
    lands = lands or namespace
    folder = f"{ctx.ns_dir(namespace)}/secrets"
    path = f"{folder}/{app}-secrets.yaml"
    secret = f"{app}-secret"
    for infisical in ctx.repo.infisical_secrets:
        for managed in infisical.managed_secrets:
            ns = managed.namespace or infisical.namespace
            if managed.name == secret and ns == lands and infisical.doc.path != path:
                raise ScaffoldError(
                    f"Secret {lands}/{secret} is already written by "
                    f"{infisical.doc.path}; nothing was written"
                )
    if ctx.ws.exists(path):
        if existing_ok:
            _register(ctx, f"{folder}/kustomization.yaml", f"./{app}-secrets.yaml")
            return False
        raise ScaffoldError(f"{path} already exists; nothing was written")
    generator = find_generator("secret", None, ctx.pm)
    app_dir = f"{ctx.ns_dir(namespace)}/{app}"
    values = _infisical_values(ctx, namespace, app, secret, app_dir, lands, namespace)
    created = _render_into(ctx, generator, values, namespace, ctx.apps_root, only="secrets/")
    if path not in created:
        raise ScaffoldError(f"template {generator.name!r} made no secrets/{app}-secrets.yaml")
    _register(ctx, f"{folder}/kustomization.yaml", f"./{app}-secrets.yaml")
    return True


def _ensure_depends_on(ctx: _Context, ks_path: str, app: str, namespace: str, name: str) -> bool:
    """The app's Flux Kustomization depends on the namespace's secrets; whether it changed."""
    text = ctx.ws.read(ks_path)
    if text is None:
        raise ScaffoldError(f"{ks_path} does not exist")
    docs, problems = parse_text(text, ks_path)
    if problems:
        raise ScaffoldError(f"{ks_path}:{problems[0].line}: {problems[0].message}")
    candidates = [
        d
        for d in docs
        if isinstance(d.data, dict)
        and d.data.get("kind") == "Kustomization"
        and str(d.data.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/")
    ]
    if not candidates:
        raise ScaffoldError(f"{ks_path} holds no Flux Kustomization")
    doc = next(
        (d for d in candidates if (d.data.get("metadata") or {}).get("name") == app), candidates[0]
    )
    spec = doc.data.get("spec") if isinstance(doc.data.get("spec"), dict) else {}
    own = (doc.data.get("metadata") or {}).get("namespace") or namespace
    for dep in spec.get("dependsOn") or ():
        if (
            isinstance(dep, dict)
            and dep.get("name") == name
            and (dep.get("namespace") or own) == namespace
        ):
            return False
    try:
        return ctx.ws.update(
            ks_path,
            lambda t: append_to_sequence(
                t, doc.index, ("spec", "dependsOn"), {"name": name, "namespace": namespace}
            ),
        )
    except EditError as exc:
        raise ScaffoldError(f"{ks_path}: cannot add dependsOn {name}: {exc.message}") from None


def _infisical_steps(ctx: _Context, app: str, namespace: str) -> None:
    s = ctx.settings
    host = f" on {s.host_api.removesuffix('/api')}" if s.host_api else ""
    ctx.steps.append(
        f"Create the app's secrets in Infisical{host}: project {s.project_slug}, environment "
        f"{s.env_slug}, folder {ctx.secrets_path or '/' + app}. "
        "The operator syncs them into Secret "
        f"{namespace}/{app}-secret."
    )
    learnt = [f for f in ("project_slug", "env_slug") if s.origin(f) == "default"]
    if learnt:
        ctx.notes.append(
            "No InfisicalSecret in the repository to learn from: projectSlug "
            f"{s.project_slug!r} and envSlug {s.env_slug!r} are defaults (set "
            "scaffold.projectSlug and scaffold.envSlug in .homelab-kit.yaml, or --set)."
        )


# --------------------------------------------------------------------------- commands


def app_template_needs(generator: Generator) -> list[str]:
    """The options a template cannot do without (``--chart``, ``--version``)."""
    declared = generator.variables()
    return [
        flag
        for var, flag in (("chart_url", "--chart"), ("chart_version", "--version"))
        if var in declared and declared[var] in ("", None)
    ]


def plan_new_app(
    path: str | os.PathLike[str],
    target: str,
    *,
    chart: str | None = None,
    version: str | None = None,
    image: str | None = None,
    port: int | str | None = None,
    secrets: bool = False,
    template: str | None = None,
    overrides: Mapping[str, str] | None = None,
    pm: PluginManager | None = None,
    cluster: str | None = None,
    provider: str | None = None,
) -> Plan:
    """Plan ``new-app NAMESPACE/APP``: the app folder, its wiring, its namespace if new.

    :param path: any folder inside the repository.
    :param target: ``NAMESPACE/APP``.
    :param chart: ``oci://REGISTRY/PATH/CHART``.
    :param version: the chart version to pin (the OCIRepository tag).
    :param image: ``REPOSITORY:TAG`` for the values (optional).
    :param port: the container port, for probes and the service (optional).
    :param secrets: wire a Secret ``<app>-secret`` the app reads, from ``provider``.
    :param template: the app generator (``default`` unless configured).
    :param overrides: ``--set`` values (see :mod:`homelab_kit.scaffold.settings`).
    :param cluster: the cluster whose apps folder takes the app (needed when the
        repository has several and the namespace does not tell which).
    :param provider: ``infisical``, ``external-secrets`` or ``sops`` (default: the
        one the repository's secrets use).
    :returns: the plan; nothing is written.
    :raises ScaffoldError: for invalid names, an existing app, or a broken template;
        :class:`~homelab_kit.scaffold.layout.ClusterChoiceError` when the cluster
        is ambiguous.
    """
    namespace, app = parse_target(target)
    chart_ref = Chart.parse(chart) if chart else None
    version = check_version(version) if version else None
    image_ref = Image.parse(image) if image else None
    port_number = check_port(port) if port not in (None, "") else None
    ctx = _Context(path, overrides, pm, namespace=namespace, cluster=cluster)
    kind = secrets_provider(ctx.repo, provider) if secrets else None
    configured = ctx.settings.template if ctx.settings.origin("template") != "default" else None
    generator = find_generator(
        "app", template or configured, ctx.pm, chart=chart_ref.url if chart_ref else None
    )
    app_template = generator.context.get("values_shape") == "app-template"
    if app_template and image_ref is None:
        raise ScaffoldError(
            f"new-app needs --image REPO:TAG for template {generator.name!r} (the chart has "
            "no default image)"
        )
    missing = [
        flag
        for flag in app_template_needs(generator)
        if (flag == "--chart" and chart_ref is None) or (flag == "--version" and version is None)
    ]
    if missing:
        raise ScaffoldError(f"new-app needs {' and '.join(missing)} (template {generator.name!r})")
    ns_dir = ctx.ns_dir(namespace)
    app_dir = f"{ns_dir}/{app}"
    if ctx.ws.exists(app_dir):
        raise ScaffoldError(
            f"app {namespace}/{app} already exists ({app_dir}); nothing was written"
        )
    new_namespace = not ctx.ws.is_file(f"{ns_dir}/kustomization.yaml")
    if new_namespace:
        if ctx.ws.exists(ns_dir):
            raise ScaffoldError(
                f"{ns_dir} exists but has no kustomization.yaml; add one (or remove the "
                "folder) first"
            )
        _add_namespace(ctx, namespace)
    secrets_ks = SECRETS_KS
    shared = kind == "infisical" and infisical_in_app(ctx.repo, ns_dir) is None
    shape = app_shape(ctx.repo, ns_dir)
    lands = shape.target_namespace or namespace  # where Flux applies the new app
    if shared:  # the namespace's secrets/ folder, behind its own Flux Kustomization
        secrets_ks = _ensure_secrets_folder(ctx, namespace)
        _add_secret_file(ctx, namespace, app, existing_ok=False, lands=lands)
    values: dict[str, Any] = {
        **ctx.settings.context(),
        **_layout_values(ctx, app_template),
        "app": app,
        "namespace": namespace,
        "secrets": secrets,
        "secret_name": f"{app}-secret",
        "secrets_ks": secrets_ks,
        "secrets_depends": shared,
        "app_folder": shape.app_folder,
        "ks_namespace": shape.ks_namespace,
        "ks_object_namespace": shape.ks_object_namespace,
        "target_namespace": shape.target_namespace,
        "common_metadata": shape.common_metadata,
    }
    if chart_ref is not None:
        values.update(chart_url=chart_ref.url, chart_name=chart_ref.name)
        source = shared_chart(ctx.repo, ns_dir, ctx.settings.components, chart_ref.url)
        if source is not None:
            values["chart_source_name"] = source.name
            unused = f"; --version {version} is not used" if version != source.tag else ""
            ctx.notes.append(
                f"The HelmRelease uses OCIRepository {source.name} ({source.path}, tag "
                f"{source.tag or 'unpinned'}), which the namespace gets from its components, "
                f"as the other apps of this chart do{unused}."
            )
    if version is not None:
        values["chart_version"] = version
    if image_ref is not None:
        values.update(
            image_repository=image_ref.repository,
            image_tag=image_ref.tag or "",
            image_digest=image_ref.digest or "",
        )
    if port_number is not None:
        values["port"] = str(port_number)
    created = _render_into(ctx, generator, values, app, ns_dir, app_folder=shape.app_folder)
    _check_values_keys(ctx, generator, created)
    ks_path = f"{app_dir}/ks.yaml"
    if not ctx.ws.is_file(ks_path):
        raise ScaffoldError(f"template {generator.name!r} made no ks.yaml")
    deployed = posixpath.join(app_dir, shape.app_folder) if shape.app_folder else app_dir
    if shared:
        _ensure_depends_on(ctx, ks_path, app, namespace, secrets_ks)
    elif kind is not None:
        _add_app_secret(ctx, kind, deployed, app, namespace, f"{app}-secret", lands)
    _register(ctx, f"{ns_dir}/kustomization.yaml", f"./{app}/ks.yaml", keep_sorted=True)
    values_file = f"{deployed}/helm/values.yaml"
    if image_ref is None and ctx.ws.is_file(values_file):
        ctx.steps.append(f"Pin the app's image in {values_file} (image.repository and image.tag).")
    if kind == "infisical":
        _infisical_steps(ctx, app, lands)
    ctx.steps.append(f"Review the values in {deployed}/ against the chart's own values.yaml.")
    ctx.steps.append("Run `homelab-kit lint`, then commit and push: Flux deploys the app.")
    title = f"new app {namespace}/{app}" + (" in a new namespace" if new_namespace else "")
    return ctx.plan(title)


def plan_new_namespace(
    path: str | os.PathLike[str],
    namespace: str,
    *,
    overrides: Mapping[str, str] | None = None,
    pm: PluginManager | None = None,
    cluster: str | None = None,
) -> Plan:
    """Plan ``new-namespace NAMESPACE``: its folder, kustomization, secrets folder, listing.

    :param cluster: the cluster whose apps folder takes it (as for ``new-app``).
    :raises ScaffoldError: for an invalid name or an existing namespace folder.
    """
    check_namespace(namespace)
    ctx = _Context(path, overrides, pm, namespace=namespace, cluster=cluster)
    ns_dir = ctx.ns_dir(namespace)
    if ctx.ws.exists(ns_dir):
        raise ScaffoldError(f"namespace {namespace} already exists ({ns_dir}); nothing was written")
    _add_namespace(ctx, namespace)
    ctx.steps.append(
        f"Add apps with `homelab-kit new-app {namespace}/APP --chart oci://... --version X.Y.Z`."
    )
    ctx.steps.append("Run `homelab-kit lint`, then commit and push.")
    return ctx.plan(f"new namespace {namespace}")


def plan_add_secret(
    path: str | os.PathLike[str],
    target: str,
    *,
    overrides: Mapping[str, str] | None = None,
    pm: PluginManager | None = None,
    provider: str | None = None,
    cluster: str | None = None,
) -> Plan:
    """Plan ``add-secret NAMESPACE/APP``: wire a Secret into an existing app.

    Each step is done only when missing, so running it twice changes nothing.  The
    Secret is ``<app>-secret``; a producer that already exists for it (or for a
    Secret the app reads, in the app's own folder) is reused, never doubled.  A new
    one is written by ``provider`` (default: the repository's backend): an
    InfisicalSecret in ``<ns>/secrets/`` with the ``dependsOn`` on the secrets
    Kustomization (or beside the HelmRelease, where the repository keeps them), an
    ExternalSecret beside the HelmRelease in the repository's store, or a SOPS
    placeholder Secret beside it to encrypt.  The values read the Secret through
    ``envFrom``.

    :param cluster: the cluster whose app it is, when several have one so named.
    :raises ScaffoldError: when the app does not exist, another app's object
        produces the Secret, or the values have no shape that ``envFrom`` can be
        added to (nothing is written).
    """
    namespace, app_name = parse_target(target)
    ctx = _Context(path, overrides, pm)
    kind = secrets_provider(ctx.repo, provider)
    app = _find_app(ctx, namespace, app_name, cluster)
    if app is None:
        where = f"{ctx.ns_dir(namespace)}/{app_name}/ks.yaml"
        raise ScaffoldError(
            f"no app {namespace}/{app_name} ({where} not found); create it with "
            f"`homelab-kit new-app {namespace}/{app_name} ...`"
        )
    if posixpath.basename(posixpath.dirname(app.directory)) == namespace:
        ctx.use_apps_root(posixpath.dirname(posixpath.dirname(app.directory)))
    lands = applied_namespace(ctx.repo, app)  # where the app reads its Secret
    secret = f"{app_name}-secret"
    reused = _existing_producer(ctx, app, lands, secret)
    if reused is not None:
        secret, producer, read = reused
        if read or _reads(ctx, app, lands, secret):
            ctx.notes.append(
                f"{namespace}/{app_name} already reads Secret {secret}, produced by "
                f"{producer}: add its keys there"
            )
            return ctx.plan(f"secrets for {namespace}/{app_name}")
        ctx.notes.append(f"Secret {secret} already has a producer ({producer}): reused")
    elif kind == "infisical" and infisical_in_app(ctx.repo, ctx.ns_dir(namespace)) is None:
        secrets_ks = _ensure_secrets_folder(ctx, namespace)
        _add_secret_file(ctx, namespace, app_name, existing_ok=True, lands=lands)
        _ensure_depends_on(ctx, app.ks_path, app_name, namespace, secrets_ks)
    else:
        releases = [h for h in ctx.repo.helm_releases if _in_app(app, h.doc.path)]
        folder = posixpath.dirname(releases[0].doc.path) if releases else f"{app.directory}/app"
        _add_app_secret(ctx, kind, folder, app_name, namespace, secret, lands)
    if not _reads(ctx, app, lands, secret) and not _wire_values(ctx, app, secret):
        raise ScaffoldError(
            f"{app_name}'s values have no envFrom this command recognises, so nothing would "
            f"read Secret {secret}: add one in the chart's own shape (e.g. `envFrom: "
            f"[{{secretRef: {{name: {secret}}}}}]`) and run add-secret again; nothing was written"
        )
    if reused is None and kind != "infisical":
        ctx.steps.append("Run `homelab-kit lint`, then commit and push.")
        return ctx.plan(f"secrets for {namespace}/{app_name}")
    if reused is not None:
        return ctx.plan(f"secrets for {namespace}/{app_name}")
    if not ctx.ws.plan("").empty:
        _infisical_steps(ctx, app_name, lands)
        ctx.steps.append("Run `homelab-kit lint`, then commit and push.")
    return ctx.plan(f"secrets for {namespace}/{app_name}")


def _in_app(app: App, path: str) -> bool:
    return path in app.files or path.startswith(app.directory + "/")


def _reads(ctx: _Context, app: App, namespace: str, secret: str) -> bool:
    """Whether the app's own objects already read Secret ``secret``."""
    from homelab_kit.model.secret_index import resolved_consumers

    return any(
        name == secret and c.namespace in (namespace, None) and _in_app(app, c.source.path)
        for c, name in resolved_consumers(ctx.repo)
    )


def _existing_producer(
    ctx: _Context, app: App, lands: str, secret: str
) -> tuple[str, str, bool] | None:
    """A Secret the app should use that something already produces: ``(name, producer,
    whether the app reads it already)``.

    The Secret ``secret`` when anything produces it, else one the app reads whose
    producer lives in the app's own folder.  The namespace's ``secrets/`` folder
    (``add-secret``'s own InfisicalSecret) is not reused here: the Infisical steps
    are idempotent.  A producer of ``secret`` that belongs to another app is refused.

    :raises ScaffoldError: when ``secret`` is produced by another app's files.
    """
    from homelab_kit.secrets_map import build_secrets_map

    smap = build_secrets_map(ctx.repo)
    lane = smap.namespace(lands)  # the Secrets of the namespace the app reads from
    if lane is None:
        return None
    namespace = app.namespace  # the app's folder's: paths and the map's app keys
    own = f"{ctx.ns_dir(namespace)}/secrets/{app.name}-secrets.yaml"
    key = f"{namespace}/{app.name}"
    candidates = [s for s in lane.secrets if s.name == secret and s.producers]
    candidates += [
        s
        for s in lane.secrets
        if s.name != secret
        and key in s.reader_apps
        and any(_in_app(app, p.location.path) for p in s.producers)
    ]
    for mapped in candidates:
        producers = [p for p in mapped.producers if p.location.path != own]
        if not producers:
            return None
        producer = producers[0]
        where = f"{producer.kind} at {producer.location.path}:{producer.location.line}"
        mine = _in_app(app, producer.location.path) or producer.location.path.startswith(
            f"{ctx.ns_dir(namespace)}/secrets/"
        )
        if not mine and (producer.app or key) != key:
            raise ScaffoldError(
                f"Secret {lands}/{mapped.name} is already produced by {where} (app "
                f"{producer.app}); nothing was written"
            )
        return mapped.name, where, key in mapped.reader_apps
    return None


def _find_app(ctx: _Context, namespace: str, name: str, cluster: str | None) -> App | None:
    """The app ``namespace/name``; with several clusters holding one so named, the
    one of ``cluster`` (a :class:`ClusterChoiceError` without it)."""
    found = [a for a in ctx.repo.apps if a.namespace == namespace and a.name == name]
    clusters = {a.directory: [c.name for c in ctx.repo.clusters if a in c.apps] for a in found}
    if cluster is not None:
        if cluster not in {c.name for c in ctx.repo.clusters}:
            known = ", ".join(c.name for c in ctx.repo.clusters) or "none"
            raise ScaffoldError(f"no cluster {cluster!r} in this repository (clusters: {known})")
        found = [a for a in found if cluster in clusters[a.directory]]
    if len(found) > 1:
        listing = ", ".join(
            f"{'/'.join(clusters[a.directory]) or 'no cluster'} ({a.directory})" for a in found
        )
        raise ClusterChoiceError(
            f"{len(found)} apps are called {namespace}/{name}: choose one with --cluster NAME "
            f"({listing})",
            sorted({c for a in found for c in clusters[a.directory]}),
        )
    return found[0] if found else None


def _add_app_secret(
    ctx: _Context, kind: str, folder: str, app: str, namespace: str, secret: str, lands: str
) -> None:
    """The app's Secret ``secret`` from provider ``kind``, in a file of the app's
    ``folder`` (beside its HelmRelease) named as the repository names such files,
    listed in the folder's kustomization.yaml; ``lands`` is the namespace Flux
    applies the app to (``namespace`` is its folder's)."""
    kfile = f"{folder}/kustomization.yaml"
    if not ctx.ws.is_file(kfile):
        raise ScaffoldError(f"{kfile} does not exist: nowhere to list the app's secret")
    repo = ctx.repo
    if kind == "external-secrets":
        paths = [e.doc.path for e in repo.external_secrets]
        name = app_file_name(repo, paths, app, "externalsecret.yaml")
    elif kind == "sops":
        name = app_file_name(repo, [f.path for f in repo.sops_files], app, "secret.sops.yaml")
        if not name.endswith((".sops.yaml", ".sops.yml")):
            name = "secret.sops.yaml"
    else:
        name = infisical_in_app(repo, ctx.ns_dir(namespace)) or "infisicalsecret.yaml"
    path = f"{folder}/{name}"
    if ctx.ws.exists(path):
        raise ScaffoldError(f"{path} already exists; nothing was written")
    if kind == "external-secrets":
        _write_external_secret(ctx, folder, name, app, lands, secret)
    elif kind == "sops":
        generator = find_generator("secret", "sops", ctx.pm)
        values = {
            "folder": posixpath.basename(folder),
            "file_name": name,
            "path": path,
            "secret_name": secret,
        }
        _render_into(ctx, generator, values, posixpath.basename(folder), posixpath.dirname(folder))
        _sops_steps(ctx, path)
    else:
        generator = find_generator("secret", None, ctx.pm)
        owner = ctx.repo.app_of_file(kfile)
        app_dir = owner.directory if owner is not None else f"{ctx.ns_dir(namespace)}/{app}"
        values = _infisical_values(ctx, namespace, app, secret, app_dir, lands, lands)
        text = render(generator, values).get(f"{lands}/secrets/{app}-secrets.yaml")
        if text is None:
            raise ScaffoldError(f"template {generator.name!r} made no secrets/{app}-secrets.yaml")
        ctx.ws.create(path, text)
    if not ctx.ws.is_file(path):
        raise ScaffoldError(f"the {kind} template made no {path}")
    _register(ctx, kfile, f"./{name}", keep_sorted=True)


def _sops_steps(ctx: _Context, path: str) -> None:
    rules = sops_rule_matches(ctx.ws.read(".sops.yaml"), path)
    ctx.steps.append(
        f"Add the app's keys and values to {path}, then encrypt "
        f"it: `sops --encrypt --in-place {path}` (lint reports it until then)."
    )
    if rules is False:
        ctx.notes.append(
            f"No creation rule of .sops.yaml matches {path}: add one (its path_regex and "
            "key) before encrypting."
        )
    elif rules is None:
        ctx.notes.append("No .sops.yaml at the repository root: sops needs --age or --pgp.")
    decrypts = any(
        k.doc.get("spec", "decryption") or "decryption" in str(k.patches)
        for k in ctx.repo.kustomizations
    )
    if not decrypts:
        ctx.notes.append(
            "No Flux Kustomization of the repository decrypts SOPS files (spec.decryption): "
            "add one to the Kustomization that applies this Secret."
        )


def _write_external_secret(
    ctx: _Context, folder: str, name: str, app: str, namespace: str, secret: str
) -> None:
    """An ExternalSecret in ``folder``, in the repository's store."""
    style = external_secret_style(ctx.repo, namespace)
    if style is None:
        raise ScaffoldError(
            "this repository's ExternalSecrets name no secretStoreRef to copy; nothing was written"
        )
    head = (ctx.ws.read(style.example) or "").splitlines()
    schema = next(
        (line for line in head[:3] if line.startswith("# yaml-language-server: $schema=")), ""
    )
    generator = find_generator("secret", "external-secrets", ctx.pm)
    values = {
        "folder": posixpath.basename(folder),
        "app": app,
        "secret_name": secret,
        "api_version": style.api_version,
        "store_kind": style.store_kind,
        "store_name": style.store_name,
        "remote_key": app,
        "schema_comment": schema,
        "document_start": bool(head) and head[0].strip() == "---",
    }
    files = render(generator, values)
    text = files.get(f"{posixpath.basename(folder)}/externalsecret.yaml")
    if text is None:
        raise ScaffoldError(f"template {generator.name!r} made no externalsecret.yaml")
    ctx.ws.create(f"{folder}/{name}", text)
    ctx.steps.append(
        f"Create item {app} in the {style.store_kind} {style.store_name}; External Secrets "
        f"syncs it into Secret {namespace}/{secret}."
    )


def _common_layout(data: Mapping[str, Any]) -> bool:
    """Values in the layout most charts share (and new-app's default template writes)."""
    image = data.get("image")
    return (
        isinstance(data.get("securityContext"), dict)
        and isinstance(data.get("podSecurityContext"), dict)
        and (image is None or (isinstance(image, dict) and "repository" in image))
    )


def _wire_values(ctx: _Context, app: App, secret: str) -> bool:
    """Add ``envFrom: [{secretRef: {name: secret}}]`` where the values allow it.

    Where: the app-template shape (``controllers.<c>.containers.<c>.envFrom``), an
    existing top-level ``envFrom`` list, or top-level ``envFrom`` in the common
    layout (as ``new-app --secrets`` writes it).
    """
    item = {"secretRef": {"name": secret}}
    for source in ctx.repo.values:
        if not (source.path in app.files or source.path.startswith(app.directory + "/")):
            continue
        data = source.data
        path: tuple[str | int, ...] | None = None
        controllers = data.get("controllers")
        if isinstance(controllers, dict) and controllers:
            name = app.name if app.name in controllers else next(iter(controllers))
            containers = (controllers.get(name) or {}).get("containers")
            if isinstance(containers, dict) and containers:
                container = "app" if "app" in containers else next(iter(containers))
                path = ("controllers", name, "containers", container, "envFrom")
        elif isinstance(data.get("envFrom"), list) or (
            "envFrom" not in data and _common_layout(data)
        ):
            path = ("envFrom",)
            if "envFrom" not in data:
                ctx.notes.append(
                    f"{source.path}: added a top-level envFrom (the common chart layout); "
                    "check that the chart reads it."
                )
        if path is None:
            continue
        full = (*source.base, *path)
        index = source.doc.index

        def change(text: str, index: int = index, full: tuple[str | int, ...] = full) -> str:
            return append_to_sequence(text, index, full, item)

        try:
            ctx.ws.update(source.path, change)
        except EditError as exc:
            ctx.notes.append(f"{source.path}: could not add envFrom ({exc.message}).")
            return False
        return True
    return False
