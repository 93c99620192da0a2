"""Generators: cookiecutter templates that plugins register, and rendering them.

A generator is a cookiecutter template directory plus what it creates (``kind``):

* ``app``: one top-level folder ``{{cookiecutter.app}}/`` that becomes
  ``<apps-root>/<namespace>/<app>/`` (ks.yaml, app/...);
* ``namespace``: ``{{cookiecutter.namespace}}/`` that becomes ``<apps-root>/<namespace>/``;
* ``secret``: ``{{cookiecutter.namespace}}/secrets/<file>`` for one app's secret.

Templates are rendered with cookiecutter's API into a temporary directory; hooks
are never run (not ours, not a plugin's, never anything from the repository), the
user's cookiecutter configuration and replay files are not touched.  A template
receives only the variables its ``cookiecutter.json`` declares; the variables
homelab-kit fills are listed in :data:`CONTEXT_VARIABLES`.  A template file that
renders to nothing but whitespace is not created.  The Jinja filter ``yaml``
(``{{ cookiecutter.port | yaml }}``) writes a value as a safe YAML scalar.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from homelab_kit.errors import PluginError, ScaffoldError
from homelab_kit.plugins import PluginManager, get_plugin_manager
from homelab_kit.scaffold.names import check_no_template_syntax
from homelab_kit.yaml import parse_text

KINDS = ("app", "namespace", "secret")
DEFAULT_NAME = "default"

# What homelab-kit fills in, when a template declares the variable.
CONTEXT_VARIABLES: Mapping[str, str] = {
    "app": "the app name (a DNS-1123 label)",
    "namespace": "the namespace",
    "apps_root": "the folder holding the namespace folders (kubernetes/apps)",
    "chart_url": "the chart, oci://REGISTRY/PATH/CHART (--chart)",
    "chart_name": "the last part of chart_url",
    "chart_version": "the pinned chart version (--version)",
    "image_repository": "the image repository (--image), when given",
    "image_tag": "the image tag (--image), when given",
    "image_digest": "the image digest (--image ...@sha256:...), when given",
    "port": "the container port (--port), when given, as a string",
    "secrets": "true when the app reads its Secret (--secrets)",
    "secret_name": "the Secret the app reads (<app>-secret)",
    "secrets_ks": "the name of the namespace's secrets Kustomization (secrets)",
    "chart_source_name": "the shared OCIRepository the HelmRelease uses ('' to write its own)",
    "secrets_folder": "true when a new namespace gets a secrets/ folder, as the others have",
    "secrets_depends": "true when ks.yaml depends on secrets_ks (Infisical in <ns>/secrets/)",
    "app_folder": "the folder ks.yaml deploys, under the app's ('app'; '' for the app's own)",
    "ks_namespace": "true when ks.yaml sets metadata.namespace, as the other apps' do",
    "ks_object_namespace": "the metadata.namespace the namespace's other ks.yaml write, when "
    "not the folder's name ('' for it)",
    "target_namespace": "the namespace Flux applies the namespace's other apps to, when not "
    "the folder's name ('' for it)",
    "common_metadata": "true when ks.yaml sets spec.commonMetadata, as the other apps' do",
    "interval": "the Flux Kustomization interval used in the repository",
    "retry_interval": "the Flux Kustomization retryInterval used in the repository",
    "timeout": "the Flux Kustomization timeout used in the repository",
    "chart_interval": "the OCIRepository interval used in the repository",
    "release_interval": "the HelmRelease interval used in the repository",
    "source_kind": "the Flux sourceRef kind used in the repository",
    "source_name": "the Flux sourceRef name used in the repository",
    "source_namespace": "the Flux sourceRef namespace used in the repository ('' for none)",
    "components": "the components a namespace kustomization.yaml lists, comma-separated",
    "operator_name": "the Infisical operator Kustomization secrets depend on ('' for none)",
    "operator_namespace": "its namespace",
    "host_api": "InfisicalSecret spec.hostAPI ('' to leave it out)",
    "project_slug": "Infisical project slug",
    "env_slug": "Infisical environment slug",
    "credentials_secret": "the universal-auth credentials Secret",
    "credentials_namespace": "its namespace",
    "secret_namespace": "the namespace Flux applies the app to, where the Secret goes "
    "(its folder's name unless targetNamespace or a kustomization.yaml namespace says)",
    "resync_interval": "InfisicalSecret spec.resyncInterval, in seconds",
    "secrets_path": "the Infisical folder the app's secrets live in (as the repository's "
    "InfisicalSecrets name theirs, else /<app>)",
}


@attrs.frozen
class Generator:
    """A scaffolding template a plugin offers.

    :param name: what ``--template`` selects (unique per kind).
    :param kind: ``app``, ``namespace`` or ``secret``.
    :param template: the cookiecutter template directory (holds ``cookiecutter.json``).
    :param description: one line for ``new-app --template`` listings.
    :param plugin: the plugin that registered it (filled in by homelab-kit).
    :param context: template variables this generator fixes (one template directory
        can serve several generators: ``{"values_shape": "app-template"}``).
    :param charts: chart URLs (``oci://...`` or ``https://...`` repositories, a
        trailing ``*`` matches any rest) for which ``new-app`` picks this app
        generator when no ``--template`` is given.
    :param values_keys: the top-level values keys the chart reads; a generated
        value under any other key is an error of the generator (empty: any key).
    """

    name: str
    kind: str = attrs.field()
    template: Path = attrs.field(converter=Path)
    description: str = ""
    plugin: str = attrs.field(default="", eq=False)
    context: Mapping[str, Any] = attrs.field(factory=dict, eq=False)
    charts: tuple[str, ...] = attrs.field(default=(), converter=tuple, eq=False)
    values_keys: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset, eq=False)

    def serves(self, chart_url: str) -> bool:
        """Whether ``new-app`` picks this generator for ``chart_url``."""
        url = chart_url.rstrip("/")
        return any(
            url.startswith(c[:-1]) if c.endswith("*") else url == c.rstrip("/") for c in self.charts
        )

    @kind.validator
    def _check_kind(self, _attribute: Any, value: str) -> None:
        if value not in KINDS:
            raise PluginError(f"generator kind {value!r} is not one of {', '.join(KINDS)}")

    def variables(self) -> dict[str, Any]:
        """The template's ``cookiecutter.json``: its variables and their defaults."""
        path = self.template / "cookiecutter.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ScaffoldError(f"generator {self.name!r}: cannot read {path}: {exc}") from None
        if not isinstance(data, dict):
            raise ScaffoldError(f"generator {self.name!r}: {path} is not a JSON object")
        return data

    def top_folder(self) -> Path:
        """The template's one top-level folder (``{{cookiecutter.app}}`` and the like)."""
        found = (
            [
                p
                for p in self.template.iterdir()
                if p.is_dir() and "cookiecutter" in p.name and "{{" in p.name
            ]
            if self.template.is_dir()
            else []
        )
        if len(found) != 1:
            raise ScaffoldError(
                f"generator {self.name!r}: {self.template} must hold exactly one "
                "'{{cookiecutter.<name>}}' folder"
            )
        return found[0]


def registered_generators(pm: PluginManager | None = None) -> list[Generator]:
    """Every generator plugins registered (built-in ones included), by kind then name."""
    pm = pm or get_plugin_manager()
    found: dict[tuple[str, str], Generator] = {}
    for plugin_name, item in pm.registered("homelab_kit_register_generators"):
        if not isinstance(item, Generator):
            raise PluginError(
                f"plugin {plugin_name!r} registered {item!r}, which is not a "
                "homelab_kit.scaffold.Generator"
            )
        key = (item.kind, item.name)
        if key in found:
            raise PluginError(
                f"{item.kind} generator {item.name!r} is registered by both "
                f"{found[key].plugin!r} and {plugin_name!r}"
            )
        found[key] = attrs.evolve(item, plugin=item.plugin or plugin_name)
    return [found[k] for k in sorted(found)]


def find_generator(
    kind: str, name: str | None = None, pm: PluginManager | None = None, chart: str | None = None
) -> Generator:
    """The generator of ``kind`` called ``name``; without a name, the one that serves
    ``chart`` (an app generator's :attr:`Generator.charts`), else ``default``."""
    choices = [g for g in registered_generators(pm) if g.kind == kind]
    if name is None and chart:
        name = next((g.name for g in choices if g.serves(chart)), None)
    wanted = name or DEFAULT_NAME
    for generator in choices:
        if generator.name == wanted:
            return generator
    names = ", ".join(g.name for g in choices) or "none registered"
    raise ScaffoldError(f"no {kind} template called {wanted!r} (available: {names})")


# --------------------------------------------------------------------------- rendering


def render(generator: Generator, values: Mapping[str, Any]) -> dict[str, str]:
    """Render ``generator`` with ``values``: ``{"<top folder>/<path>": text}``.

    Only the variables the template declares are passed.  Rendering happens in a
    temporary directory that is removed afterwards; nothing else is written.

    :raises ScaffoldError: when the template is broken or renders invalid YAML.
    """
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.generate import generate_context, generate_files
    from cookiecutter.prompt import prompt_for_config
    from jinja2 import TemplateError

    declared = generator.variables()
    merged = {**values, **generator.context}
    provided = {k: v for k, v in merged.items() if k in declared}
    for key, value in provided.items():
        if isinstance(value, str):
            check_no_template_syntax(value, key)
    generator.top_folder()
    with tempfile.TemporaryDirectory(prefix="homelab-kit-render-") as out:
        try:
            context = generate_context(
                context_file=str(generator.template / "cookiecutter.json"),
                extra_context=dict(provided),
            )
            filled = prompt_for_config(context, no_input=True)
            filled.update(provided)  # verbatim: a value is never rendered as a template
            filled.update(
                _template=str(generator.template),
                _output_dir=out,
                _repo_dir=str(generator.template),
                _checkout=None,
            )
            context["cookiecutter"] = filled
            project = generate_files(
                repo_dir=str(generator.template),
                context=context,
                output_dir=out,
                overwrite_if_exists=False,
                accept_hooks=False,
            )
        except (CookiecutterException, TemplateError, ValueError, OSError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ScaffoldError(f"template {generator.name!r} failed: {message}") from None
        project_dir = Path(project)
        if project_dir.parent != Path(out) or len(os.listdir(out)) != 1:
            raise ScaffoldError(f"template {generator.name!r} rendered outside its folder")
        files: dict[str, str] = {}
        for path in sorted(project_dir.rglob("*")):
            if path.is_symlink():
                raise ScaffoldError(f"template {generator.name!r} renders a symbolic link")
            if not path.is_file():
                continue
            rel = path.relative_to(project_dir).as_posix()
            text = path.read_text(encoding="utf-8")
            if not text.strip():
                continue
            files[rel] = _tidy(generator, f"{project_dir.name}/{rel}", text)
        return {f"{project_dir.name}/{rel}": text for rel, text in files.items()}


def _tidy(generator: Generator, rel: str, text: str) -> str:
    """Every generated YAML file starts with ``---`` and ends with one newline."""
    text = text.rstrip() + "\n"
    if not rel.endswith((".yaml", ".yml")):
        return text
    if not text.startswith("---"):
        text = "---\n" + text
    docs, problems = parse_text(text, rel)
    if problems:
        p = problems[0]
        raise ScaffoldError(
            f"template {generator.name!r} rendered invalid YAML in {rel}:{p.line}: {p.message}"
        )
    for doc in docs:
        for anchor in doc.anchors:
            if anchor.uses == 0:
                raise ScaffoldError(
                    f"template {generator.name!r}: {rel}:{anchor.line}: anchor &{anchor.name} "
                    "is never used in its document (use anchors only when aliased)"
                )
    return text
