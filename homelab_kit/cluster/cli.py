"""``homelab-kit status``, ``drift``, ``reconcile``, ``doctor`` and ``schemas pull``.

Thin: parse the flags, load the repository, ask the library, print.  The kubernetes
client is imported only when a command runs, so other commands start fast.

Exit codes: 0 all Ready (no drift, reconciled, healthy), 1 something is not Ready
(drift found, reconciliation failed or timed out, a problem found), 2 the cluster
could not be asked (no kubeconfig, unknown context, connection refused, timeout, 401,
403, Flux or the Infisical operator not installed, the object not found): one line on
standard error, no traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from homelab_kit.cli import REPO_HELP, repository_path

if TYPE_CHECKING:
    from homelab_kit.cluster.client import Cluster
    from homelab_kit.model.clusters import Cluster as RepoCluster
    from homelab_kit.model.repo import Repo

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_NOT_READY = 1


def cluster_options(function: F) -> F:
    """``--kubeconfig``, ``--context`` and ``--request-timeout``, as kubectl spells them."""
    return _decorate(function, _CLUSTER_OPTIONS)


def repository_cluster_option(function: F) -> F:
    """``--cluster NAME``: a cluster of the repository, and its kubeconfig context."""
    return click.option(
        "--cluster",
        "cluster_name",
        metavar="NAME",
        help="The repository's cluster to work on; the kubeconfig context used is the one "
        "named NAME, else USER@NAME (talosctl), else the one whose cluster entry is NAME. "
        "--context wins. Default: the current context.",
    )(function)


def _repo_option(function: F) -> F:
    return click.option(
        "--repo",
        "repo_path",
        default=".",
        show_default=True,
        type=click.Path(file_okay=False),
        help=REPO_HELP,
    )(function)


def _decorate(function: F, decorators: tuple[Callable[[F], F], ...]) -> F:
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


_CLUSTER_OPTIONS: tuple[Callable[[Any], Any], ...] = (
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


def _connect(
    kubeconfig: str | None,
    context: str | None,
    request_timeout: str,
    cluster_name: str | None = None,
) -> Cluster:
    from homelab_kit.cluster.kubeconfig import ClusterOptions, connect, parse_timeout

    return connect(
        ClusterOptions(kubeconfig, context, parse_timeout(request_timeout), cluster_name)
    )


def _load(path: str) -> Repo:
    from homelab_kit.config import load_config
    from homelab_kit.lint import load_options
    from homelab_kit.model.loader import find_root, load

    root = find_root(path)
    return load(root, load_options(load_config(root)))


@click.command()
@click.argument("path", required=False, type=click.Path(file_okay=True, dir_okay=True))
@repository_cluster_option
@cluster_options
@_format_option
@repository_path
def status(
    path: str,
    cluster_name: str | None,
    kubeconfig: str | None,
    context: str | None,
    request_timeout: str,
    output_format: str,
) -> None:
    """Show every app of the repository at PATH as the cluster has it.

    For each app: its Flux Kustomizations and HelmReleases (present, Ready,
    suspended, last reconciled revision, the message when not Ready) and its
    InfisicalSecrets (sync condition, whether each managed Secret exists; Secret
    values are never read).  In a repository of several clusters, apps are listed
    cluster by cluster; --cluster NAME asks only about that one's.

    Exit codes: 0 all Ready, 1 something is not Ready, 2 the cluster could not be
    asked.
    """
    from homelab_kit.cluster.status import gather_status

    repo = _load(path)
    scope = _repository_cluster(repo, cluster_name)
    with _connect(kubeconfig, context, request_timeout, cluster_name) as cluster:
        result = gather_status(repo, cluster, scope=scope)
    if output_format == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        from homelab_kit.cluster.output import make_console, render_status

        render_status(result, make_console())
    sys.exit(EXIT_OK if result.ok else EXIT_NOT_READY)


@click.command()
@click.argument("path", required=False, type=click.Path(file_okay=True, dir_okay=True))
@repository_cluster_option
@cluster_options
@_format_option
@repository_path
def drift(
    path: str,
    cluster_name: str | None,
    kubeconfig: str | None,
    context: str | None,
    request_timeout: str,
    output_format: str,
) -> None:
    """Compare the repository at PATH with the cluster.

    Lists objects declared in git but missing from the cluster, objects Flux applied
    that git no longer declares, and Flux Kustomizations whose applied revision lags
    their last attempt or their source's artifact.

    With --cluster NAME, in a repository of several clusters, only what that
    cluster applies is expected in the cluster.

    Exit codes: 0 no drift, 1 drift, 2 the cluster could not be asked.
    """
    from homelab_kit.cluster.drift import gather_drift

    repo = _load(path)
    scope = _repository_cluster(repo, cluster_name)
    with _connect(kubeconfig, context, request_timeout, cluster_name) as cluster:
        report = gather_drift(repo, cluster, scope=scope)
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


# ---------------------------------------------------------------------- reconcile


@click.command()
@click.argument("target", required=False, metavar="[NAMESPACE/NAME]")
@click.option(
    "--kind",
    "-k",
    type=click.Choice(
        [
            "kustomization",
            "helmrelease",
            "source",
            "gitrepository",
            "ocirepository",
            "helmrepository",
            "helmchart",
            "bucket",
        ]
    ),
    default="kustomization",
    show_default=True,
    help="What NAMESPACE/NAME is; source: whichever Flux source has that name.",
)
@click.option("--with-source", is_flag=True, help="Reconcile its source first, and wait for it.")
@click.option(
    "--force",
    is_flag=True,
    help="HelmRelease: a one-off install or upgrade even if nothing changed "
    "(reconcile.fluxcd.io/forceAt).",
)
@click.option(
    "--timeout",
    default="5m",
    show_default=True,
    metavar="DURATION",
    help="Stop waiting after this long (Go durations: 90s, 5m, 1h30m).",
)
@click.option(
    "--poll-interval",
    default="2s",
    show_default=True,
    metavar="DURATION",
    help="How often to read the object while waiting.",
)
@click.option("--no-wait", is_flag=True, help="Ask for the reconciliation and return at once.")
@_repo_option
@repository_cluster_option
@cluster_options
@_format_option
def reconcile(
    target: str | None,
    kind: str,
    with_source: bool,
    force: bool,
    timeout: str,
    poll_interval: str,
    no_wait: bool,
    repo_path: str,
    cluster_name: str | None,
    kubeconfig: str | None,
    context: str | None,
    request_timeout: str,
    output_format: str,
) -> None:
    """Make Flux reconcile NAMESPACE/NAME now, and wait until it did.

    Sets reconcile.fluxcd.io/requestedAt (and forceAt for a HelmRelease with
    --force), its source first with --with-source, then waits until the object has
    handled the request and is Ready, or failed (its reason and message are printed),
    or --timeout passes.  NAME alone means flux-system/NAME.  With no target: the
    cluster's root Kustomization and its source (as flux reconcile ks flux-system
    --with-source does).

    Exit codes: 0 reconciled and Ready, 1 failed, timed out or suspended, 2 the
    cluster could not be asked (including the object not found, or RBAC refusing
    the patch).
    """
    from homelab_kit.cluster.reconcile import (
        WaitOptions,
        find_target,
        parse_target,
        root_kustomization,
    )
    from homelab_kit.cluster.reconcile import reconcile as run_reconcile

    if force and kind != "helmrelease":
        raise click.UsageError("--force applies to HelmReleases only (--kind helmrelease)")
    options = WaitOptions(
        wait=not no_wait,
        timeout=_duration(timeout, "--timeout"),
        interval=_duration(poll_interval, "--poll-interval"),
    )
    named = parse_target(target) if target else None
    repo = None
    if named is None:
        from homelab_kit.errors import RepoNotFoundError

        try:
            repo = _load(repo_path)
        except RepoNotFoundError:  # outside a repository: flux-system/flux-system
            repo = None
    progress = _Progress(enabled=output_format == "text")
    with _connect(kubeconfig, context, request_timeout, cluster_name) as cluster:
        if named is None:
            goal = root_kustomization(repo, cluster)
            with_source = True
        else:
            goal = find_target(cluster, kind, *named)
        outcomes = run_reconcile(
            cluster,
            goal,
            with_source=with_source,
            force=force,
            options=options,
            on_event=progress,
        )
    progress.clear()
    ok = all(o.ok for o in outcomes)
    if output_format == "json":
        click.echo(
            json.dumps(
                {"version": 1, "ok": ok, "objects": [o.to_json() for o in outcomes]}, indent=2
            )
        )
    else:
        for outcome in outcomes:
            mark = "✔" if outcome.ok else "✗"
            click.echo(f"{mark} {outcome.describe()}")
    sys.exit(EXIT_OK if ok else EXIT_NOT_READY)


def _duration(text: str, flag: str) -> float:
    from homelab_kit.cluster.kubeconfig import parse_duration

    seconds = parse_duration(text)
    if seconds is None:
        raise click.BadParameter(
            f"{text!r} is not a duration such as 90s, 5m or 1h30m", param_hint=flag
        )
    return seconds


class _Progress:
    """The progress line on standard error: rewritten in place on a terminal, one line
    per change of state elsewhere (a log, CI)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.terminal = sys.stderr.isatty()
        self.last = ""
        self.width = 0

    def __call__(self, event: str, target: Any, progress: Any) -> None:
        if not self.enabled:
            return
        if event == "annotated":
            self._line(f"► asked Flux to reconcile {target.label}", final=True)
        elif event == "waiting" and progress is not None:
            state = "handled" if progress.handled else "not handled yet"
            why = ": ".join(p for p in (progress.reason, progress.message) if p)
            text = f"◎ waiting for {target.label} ({state}{', ' + why if why else ''})"
            if self.terminal:
                self._line(f"{text} {progress.seconds:.0f}s", final=False)
            elif text != self.last:
                self._line(text, final=True)
            self.last = text
        elif event == "done":
            self.clear()
            self.last = ""

    def _line(self, text: str, *, final: bool) -> None:
        if self.terminal:
            if not final:  # a line longer than the terminal could not be rewritten
                import shutil

                text = text[: max(20, shutil.get_terminal_size().columns - 1)]
            pad = " " * max(0, self.width - len(text))
            sys.stderr.write(f"\r{text}{pad}" + ("\n" if final else ""))
            self.width = 0 if final else len(text)
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.terminal and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
            self.width = 0


# ---------------------------------------------------------------------- doctor


@click.command()
@click.argument("app", required=False, metavar="[NAMESPACE/APP]")
@_repo_option
@repository_cluster_option
@cluster_options
@_format_option
def doctor(
    app: str | None,
    repo_path: str,
    cluster_name: str | None,
    kubeconfig: str | None,
    context: str | None,
    request_timeout: str,
    output_format: str,
) -> None:
    """Walk every app (or NAMESPACE/APP) from git to pod and say what is broken.

    For each app, in order, stopping at the first broken link: its Flux
    Kustomizations Ready, their dependsOn Ready, its HelmReleases Ready (last
    failure, remediation state), the charts' sources Ready, its InfisicalSecrets /
    ExternalSecrets synced and their Secrets present (never their values), its pods
    (CrashLoopBackOff, ImagePullBackOff, Pending and why, not Ready, restarts), and
    the Warning events about them.  One line per problem, with the command to run
    next; a summary.

    Exit codes: 0 healthy (warnings allowed), 1 problems, 2 the cluster could not be
    asked.
    """
    from homelab_kit.cluster.doctor import diagnose

    repo = _load(repo_path)
    scope = _repository_cluster(repo, cluster_name)
    pool = scope.apps if scope is not None else repo.apps
    apps = None
    if app is not None:
        namespace, _, name = app.partition("/")
        found = next((a for a in pool if (a.namespace, a.name) == (namespace, name)), None)
        if found is None:
            known = ", ".join(f"{a.namespace}/{a.name}" for a in pool[:8]) or "none"
            more = ", ..." if len(pool) > 8 else ""
            raise click.BadParameter(
                f"no app {app!r} in the repository (apps: {known}{more})",
                param_hint="NAMESPACE/APP",
            )
        apps = [found]
    with _connect(kubeconfig, context, request_timeout, cluster_name) as cluster:
        report = diagnose(repo, cluster, apps, scope=scope)
    if output_format == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        from homelab_kit.cluster.output import make_console, render_doctor

        render_doctor(report, make_console())
    sys.exit(EXIT_OK if report.ok else EXIT_NOT_READY)


def _repository_cluster(repo: Repo, name: str | None) -> RepoCluster | None:
    """The repository's cluster ``--cluster`` names, when the repository holds several.

    With one cluster (or no ``--cluster``) every app is walked and ``--cluster`` only
    picks the kubeconfig context; with several, an unknown name is a usage error
    listing the known ones.
    """
    if name is None or len(repo.clusters) < 2:
        return None
    from homelab_kit.model.clusters import select_clusters

    return select_clusters(repo.clusters, [name])[0]
