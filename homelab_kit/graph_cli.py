"""The ``graph``, ``secrets`` and ``report`` commands (attached by :mod:`homelab_kit.cli`).

Thin, as every command: load the repository, call the library, print or write
the output (``--output`` is written atomically).  Bad input (no repository, an
unknown ``--focus`` app, Graphviz asked for and missing) is one line on standard
error and exit code 2.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from homelab_kit import __version__
from homelab_kit.cli import repository_clusters, repository_path
from homelab_kit.config import Config, load_config
from homelab_kit.errors import ConfigError
from homelab_kit.model.clusters import Cluster, select_clusters
from homelab_kit.model.loader import find_root
from homelab_kit.model.repo import Repo
from homelab_kit.plugins import PluginManager, get_plugin_manager
from homelab_kit.yaml.reader import PARSED_FORMAT

GRAPH_FORMATS = ("mermaid", "dot", "json", "svg", "html")
SECRET_CHECK = "secrets-consumed-secret-exists"
UNUSED_CHECK = "secrets-infisical-unused"

_path_argument = click.argument(
    "path", required=False, type=click.Path(file_okay=True, dir_okay=True)
)
_config_option = click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), help="Config file."
)
_cache_option = click.option("--no-cache", is_flag=True, help="Ignore and do not write the cache.")


def load_repo(
    path: str, config_file: str | None, *, cache: bool = True
) -> tuple[Repo, Config, PluginManager]:
    """The repository at ``path`` as ``lint`` loads it (configuration, plugin kinds, cache)."""
    from homelab_kit.cache import open_cache
    from homelab_kit.lint import load_options
    from homelab_kit.model.loader import load

    root = find_root(path)
    config = load_config(root, Path(config_file) if config_file else None)
    pm = get_plugin_manager()
    pm.hook.homelab_kit_configure(config=config)
    options = load_options(config, pm)
    salt = f"{__version__}:{PARSED_FORMAT}:{options.max_file_size}"
    store = open_cache(config.cache_dir, root, salt) if cache else None
    kinds = [k for _, k in pm.registered("homelab_kit_register_kinds")]
    repo = load(root, options, kinds=kinds, cache=store)
    pm.hook.homelab_kit_repo_loaded(repo=repo)
    return repo, config, pm


def secrets_options(config: Config) -> dict[str, tuple[str, ...]]:
    """The secrets checks' configured options that the map shares (names, producers)."""
    out: dict[str, tuple[str, ...]] = {}
    for check_id, key, param in (
        (SECRET_CHECK, "external", "external"),
        (SECRET_CHECK, "generated", "generated"),
        (UNUSED_CHECK, "read-implicitly", "read_implicitly"),
    ):
        opts = config.check_options.get(check_id, {})
        value = opts.get(key, opts.get(key.replace("-", "_")))
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(
                f"option {key} of {check_id} must be a list of strings",
                config.check_option_locations.get(check_id),
            )
        out[param] = tuple(value)
    return out


def _emit(text: str, output: str | None) -> None:
    """Print ``text``, or write it to ``output`` atomically (creating its folder)."""
    if not output:
        click.echo(text, nl=False)
        return
    import os

    from homelab_kit.errors import HomelabKitError
    from homelab_kit.fsutil import atomic_write_text

    target = Path(output)
    existed = target.exists()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, text)
        if not existed:  # a new file gets the usual permissions, not mkstemp's 0600
            umask = os.umask(0)
            os.umask(umask)
            target.chmod(0o666 & ~umask)
    except OSError as exc:
        raise HomelabKitError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}", err=True)


@click.command()
@_path_argument
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(GRAPH_FORMATS),
    default="mermaid",
    show_default=True,
    help="mermaid (for GitHub), dot (Graphviz), json, svg or a standalone html page.",
)
@click.option("--helm", is_flag=True, help="Also show HelmReleases and their dependsOn.")
@click.option(
    "--focus",
    metavar="APP",
    help="Only APP (NAME or NAMESPACE/NAME), what it depends on and what depends on it.",
)
@click.option(
    "--layout",
    type=click.Choice(["builtin", "graphviz"]),
    default="builtin",
    show_default=True,
    help="Who lays out svg and html: homelab-kit itself, or Graphviz's dot (if installed).",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here.")
@repository_clusters
@_config_option
@_cache_option
@repository_path
def graph(
    path: str,
    output_format: str,
    helm: bool,
    focus: str | None,
    layout: str,
    output: str | None,
    clusters: tuple[str, ...],
    config_file: str | None,
    no_cache: bool,
) -> None:
    """Draw the Flux dependency graph of the repository at PATH.

    Kustomizations (and, with --helm, HelmReleases) grouped by namespace (by
    cluster, then namespace, when the repository holds several clusters), an
    arrow from each dependency to what depends on it; cycles in red, dangling
    dependsOn in amber.  Exit codes: 0, or 2 for bad input.
    """
    from homelab_kit.graph import build_cluster_graphs, build_graph, focus_graph, render
    from homelab_kit.lint.mask import mask_text

    repo, _, _ = load_repo(path, config_file, cache=not no_cache)
    chosen = _chosen(repo, clusters)
    flux = build_cluster_graphs(repo, chosen, helm=helm) if chosen else build_graph(repo, helm=helm)
    if focus:
        flux = focus_graph(flux, focus)
    title = f"Flux dependency graph: {repo.root.name}"
    title += f" ({', '.join(clusters)})" if clusters else ""
    title += f" around {focus}" if focus else ""
    views = cluster_graphs(repo, helm, focus) if output_format == "html" and not clusters else ()
    text = render(flux, output_format, layout=layout, title=title, clusters=views)
    _emit(mask_text(repo, text), output)


def cluster_graphs(repo: Repo, helm: bool, focus: str | None = None) -> list[tuple[str, Any]]:
    """``(name, graph)`` of each cluster, for the page's cluster selector.

    None when the repository has a single cluster (the whole repository is it);
    with ``focus``, the clusters where the app is found.
    """
    from homelab_kit.errors import HomelabKitError
    from homelab_kit.graph import build_graph, focus_graph

    if len(repo.clusters) < 2:
        return []
    views: list[tuple[str, Any]] = []
    for each in repo.clusters:
        flux = build_graph(repo, helm=helm, cluster=each)
        if focus:
            try:
                flux = focus_graph(flux, focus)
            except HomelabKitError:  # not in this cluster
                continue
        views.append((each.name, flux))
    return views


def _chosen(repo: Repo, names: Sequence[str]) -> tuple[Cluster, ...]:
    """The clusters ``--cluster`` names; with none, every cluster when there are several.

    Empty when the repository holds one cluster (or none) and ``--cluster`` is not
    given: the output is the whole repository's, as before clusters existed.

    :raises HomelabKitError: a name no cluster has (the message lists the known ones).
    """
    if names:
        return select_clusters(repo.clusters, names)
    return tuple(repo.clusters) if len(repo.clusters) > 1 else ()


@click.command()
@_path_argument
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--namespace", "-n", "namespaces", multiple=True, help="Only these namespaces.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here.")
@repository_clusters
@_config_option
@_cache_option
@repository_path
def secrets(
    path: str,
    output_format: str,
    namespaces: Sequence[str],
    output: str | None,
    clusters: tuple[str, ...],
    config_file: str | None,
    no_cache: bool,
) -> None:
    """Map the Secrets of the repository at PATH, namespace by namespace.

    Each InfisicalSecret, ExternalSecret or SOPS Secret, the path its values come
    from, the Secret it creates and the apps that read it (and how); missing
    producers, unused secrets and over-broad scopes flagged; exposure per
    namespace against the conventions' app-scoped pattern.  A repository of
    several clusters gets one map per cluster (a Secret of one never satisfies a
    reader of another).  Never prints a secret value.  Exit codes: 0, or 2 for
    bad input.
    """
    import json

    import attrs

    from homelab_kit.lint.mask import mask_text
    from homelab_kit.secrets_map import build_secrets_map, clusters_to_dict, clusters_to_text

    repo, config, _ = load_repo(path, config_file, cache=not no_cache)
    options: dict[str, Any] = dict(secrets_options(config))
    chosen = _chosen(repo, clusters)
    maps = [build_secrets_map(repo, **options, cluster=c) for c in chosen] or [
        build_secrets_map(repo, **options)
    ]
    if namespaces:
        wanted = set(namespaces)
        known = {ns.namespace for smap in maps for ns in smap.namespaces}
        unknown = sorted(wanted - known)
        if unknown:
            raise ConfigError(
                f"--namespace: no Secrets in {', '.join(unknown)} "
                f"(namespaces with Secrets: {', '.join(sorted(known)) or 'none'})"
            )
        maps = [
            attrs.evolve(
                smap,
                namespaces=tuple(ns for ns in smap.namespaces if ns.namespace in wanted),
                findings=tuple(f for f in smap.findings if f.namespace in wanted),
            )
            for smap in maps
        ]
    if output_format == "json":
        text = json.dumps(clusters_to_dict(maps), indent=2) + "\n"
    else:
        # A terminal's width when printing to one; a file or a pipe gets whole cells.
        tty = output is None and sys.stdout.isatty()
        text = clusters_to_text(maps, width=shutil.get_terminal_size().columns if tty else None)
    _emit(mask_text(repo, text), output)


@click.command()
@_path_argument
@click.option(
    "--html",
    "html_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Write the self-contained HTML report here.",
)
@click.option("--helm", is_flag=True, help="Also show HelmReleases in the graph.")
@click.option(
    "--link-base",
    metavar="URL",
    help="Link files to URL/path#Lline (e.g. a GitHub blob URL); default: relative links.",
)
@click.option("--title", help="The report's title.")
@click.option(
    "--cluster",
    metavar="NAME",
    help="Only this cluster of the repository: its findings, graph and secrets "
    "(default: every cluster).",
)
@_config_option
@_cache_option
@repository_path
def report(
    path: str,
    html_file: str,
    helm: bool,
    link_base: str | None,
    title: str | None,
    cluster: str | None,
    config_file: str | None,
    no_cache: bool,
) -> None:
    """Write one HTML file about the repository at PATH: summary, findings, graph, secrets.

    No network is needed to view it: styles and scripts are inline.  Exit
    codes: 0 (whatever the findings), or 2 for bad input.
    """
    import time

    from homelab_kit.graph import build_graph
    from homelab_kit.html_report import Links, render_report
    from homelab_kit.lint import registered_checks, run_checks, selected_checks
    from homelab_kit.lint.mask import mask_result, mask_text
    from homelab_kit.secrets_map import build_secrets_map

    started = time.perf_counter()
    repo, config, pm = load_repo(path, config_file, cache=not no_cache)
    chosen = select_clusters(repo.clusters, (cluster,))[0] if cluster else None
    checks = selected_checks(registered_checks(pm), config)
    result = run_checks(repo, checks, config, started=started, tool_version=__version__)
    result = mask_result(repo, result)  # no substituted Secret value in the page
    if chosen is not None:
        import attrs

        from homelab_kit.model.clusters import outside

        kept = [
            d for d in result.diagnostics if not outside(repo.clusters, [chosen], d.location.path)
        ]
        result = attrs.evolve(result, diagnostics=tuple(kept), clusters=(chosen.name,))
    pm.hook.homelab_kit_lint_finished(result=result)
    flux = build_graph(repo, helm=helm, cluster=chosen)
    smap = build_secrets_map(repo, **secrets_options(config), cluster=chosen)
    target = Path(html_file)
    links = Links(repo.root, target.parent if str(target.parent) else Path("."), link_base)
    text = render_report(
        repo,
        result,
        flux,
        smap,
        links=links,
        title=title or "",
        clusters=cluster_graphs(repo, helm) if chosen is None else [],
    )
    _emit(mask_text(repo, text), html_file)


COMMANDS = (graph, secrets, report)


def _attach_siblings() -> None:
    """Put ``secrets`` and ``report`` beside ``graph`` on the ``homelab-kit`` group.

    :mod:`homelab_kit.cli` attaches the commands it lists from this module; until
    it lists all three, importing this module adds the missing ones (adding a
    command twice replaces it, so this stays harmless afterwards).
    """
    main_module = sys.modules.get("homelab_kit.cli")
    group = getattr(main_module, "cli", None)
    if isinstance(group, click.Group):
        for command in COMMANDS:
            if command.name not in group.commands:
                group.add_command(command)


_attach_siblings()
