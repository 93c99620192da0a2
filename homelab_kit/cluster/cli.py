"""``homelab-kit status``, ``homelab-kit drift`` and ``homelab-kit schemas pull``.

Thin: parse the flags, load the repository, ask the library, print.  The kubernetes
client is imported only when a command runs, so other commands start fast.

Exit codes: 0 all Ready (no drift), 1 something is not Ready (drift found), 2 the
cluster could not be asked (no kubeconfig, unknown context, connection refused,
timeout, 401, 403, Flux or the Infisical operator not installed): one line on
standard error, no traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from homelab_kit.cluster.client import Cluster
    from homelab_kit.model.repo import Repo

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_NOT_READY = 1


def cluster_options(function: F) -> F:
    """``--kubeconfig``, ``--context`` and ``--request-timeout``, as kubectl spells them."""
    decorators = (
        click.option(
            "--kubeconfig",
            type=click.Path(dir_okay=False),
            help="Kubeconfig file. Default: $KUBECONFIG, else ~/.kube/config, else the "
            "pod's service account.",
        ),
        click.option("--context", help="Kubeconfig context. Default: its current context."),
        click.option(
            "--request-timeout",
            default="10s",
            show_default=True,
            metavar="DURATION",
            help="Give up on a request after this long (500ms, 10s, 1m; 0: never).",
        ),
    )
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _format_option(function: F) -> F:
    return click.option(
        "--format",
        "-f",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="A table for people, or JSON for scripts.",
    )(function)


def _connect(kubeconfig: str | None, context: str | None, request_timeout: str) -> Cluster:
    from homelab_kit.cluster.client import ClusterOptions, connect, parse_timeout

    return connect(ClusterOptions(kubeconfig, context, parse_timeout(request_timeout)))


def _load(path: str) -> Repo:
    from homelab_kit.config import load_config
    from homelab_kit.lint import load_options
    from homelab_kit.model.loader import find_root, load

    root = find_root(path)
    return load(root, load_options(load_config(root)))


@click.command()
@click.argument("path", default=".", type=click.Path(file_okay=True, dir_okay=True))
@cluster_options
@_format_option
def status(
    path: str,
    kubeconfig: str | None,
    context: str | None,
    request_timeout: str,
    output_format: str,
) -> None:
    """Show every app of the repository at PATH as the cluster has it.

    For each app: its Flux Kustomizations and HelmReleases (present, Ready,
    suspended, last reconciled revision, the message when not Ready) and its
    InfisicalSecrets (sync condition, whether each managed Secret exists; Secret
    values are never read).

    Exit codes: 0 all Ready, 1 something is not Ready, 2 the cluster could not be
    asked.
    """
    from homelab_kit.cluster.status import gather_status

    repo = _load(path)
    with _connect(kubeconfig, context, request_timeout) as cluster:
        result = gather_status(repo, cluster)
    if output_format == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        from homelab_kit.cluster.output import make_console, render_status

        render_status(result, make_console())
    sys.exit(EXIT_OK if result.ok else EXIT_NOT_READY)


@click.command()
@click.argument("path", default=".", type=click.Path(file_okay=True, dir_okay=True))
@cluster_options
@_format_option
def drift(
    path: str,
    kubeconfig: str | None,
    context: str | None,
    request_timeout: str,
    output_format: str,
) -> None:
    """Compare the repository at PATH with the cluster.

    Lists objects declared in git but missing from the cluster, objects Flux applied
    that git no longer declares, and Flux Kustomizations whose applied revision lags
    their last attempt or their source's artifact.

    Exit codes: 0 no drift, 1 drift, 2 the cluster could not be asked.
    """
    from homelab_kit.cluster.drift import gather_drift

    repo = _load(path)
    with _connect(kubeconfig, context, request_timeout) as cluster:
        report = gather_drift(repo, cluster)
    if output_format == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        from homelab_kit.cluster.output import make_console, render_drift

        render_drift(report, make_console())
    sys.exit(EXIT_OK if report.clean else EXIT_NOT_READY)


@click.command("pull")
@cluster_options
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="The schema cache. Default: $XDG_CACHE_HOME/homelab-kit/schemas.",
)
def schemas_pull(
    kubeconfig: str | None,
    context: str | None,
    request_timeout: str,
    cache_dir: str | None,
) -> None:
    """Write the cluster's CRDs as strict JSON schemas into the schema cache.

    Later lint runs validate custom resources against them offline.  Exit codes:
    0 written, 2 the cluster could not be asked.
    """
    from homelab_kit.cluster.schemas import pull_schemas
    from homelab_kit.schema.crd import default_cache_dir

    target = Path(cache_dir) if cache_dir else default_cache_dir()

    def skipped(name: str, reason: str) -> None:
        click.echo(f"homelab-kit: warning: CRD {name} skipped: {reason}", err=True)

    with _connect(kubeconfig, context, request_timeout) as cluster:
        paths = pull_schemas(cluster, target, on_skip=skipped)
    for path in paths:
        click.echo(path.relative_to(target).as_posix())
    click.echo(f"{len(paths)} schemas in {target}")
