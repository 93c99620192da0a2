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

import functools
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import attrs
import click

from homelab_kit.cli import REPO_HELP, repository_path

if TYPE_CHECKING:
    from homelab_kit.cluster.client import Cluster
    from homelab_kit.cluster.doctor import DoctorReport
    from homelab_kit.cluster.kubeconfig import ClusterOptions
    from homelab_kit.cluster.reconcile import Target
    from homelab_kit.cluster.targets import Plan
    from homelab_kit.model.clusters import Cluster as RepoCluster
    from homelab_kit.model.repo import Repo

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")

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
    return _load_with_contexts(path)[0]


def _load_with_contexts(path: str) -> tuple[Repo, Mapping[str, str]]:
    """The repository at ``path`` and ``contexts:`` of its configuration."""
    from homelab_kit.config import load_config
    from homelab_kit.lint import load_options
    from homelab_kit.model.loader import find_root, load

    root = find_root(path)
    config = load_config(root)
    return load(root, load_options(config)), config.contexts


def _plan(
    path: str,
    cluster_name: str | None,
    kubeconfig: str | None,
    context: str | None,
    request_timeout: str,
) -> tuple[Repo, Plan]:
    """The repository and the clusters to ask (homelab_kit.cluster.targets)."""
    from homelab_kit.cluster.kubeconfig import ClusterOptions, parse_timeout
    from homelab_kit.cluster.targets import plan_targets

    repo, contexts = _load_with_contexts(path)
    options = ClusterOptions(kubeconfig, context, parse_timeout(request_timeout), cluster_name)
    return repo, plan_targets(repo, contexts, options)


def _each_cluster(
    plan: Plan,
    gather: Callable[[Cluster, RepoCluster | None], R],
    *,
    ok: Callable[[R], bool],
    render: Callable[[R, Any], None],
    output_format: str,
    ok_key: str,
) -> NoReturn:
    """Ask every cluster of ``plan``, print the results, exit with the summed code.

    One cluster (no grouping): its document as before, a failure to ask it raises.
    Several: one section (JSON: one ``clusters`` entry) per cluster of the
    repository; a cluster that cannot be asked is one error line and exit code 2
    once the others are done; skipped clusters are one warning line.
    """
    from homelab_kit.cluster.kubeconfig import connect
    from homelab_kit.errors import ClusterError

    if not plan.targets:
        raise ClusterError(plan.skipped_message() or "no cluster of the repository to ask")
    if not plan.grouped:
        target = plan.targets[0]
        with connect(target.options) as cluster:
            result = gather(cluster, target.scope)
        if output_format == "json":
            click.echo(json.dumps(result.to_json(), indent=2))  # type: ignore[attr-defined]
        else:
            from homelab_kit.cluster.output import make_console

            render(result, make_console())
        sys.exit(EXIT_OK if ok(result) else EXIT_NOT_READY)
    skipped = plan.skipped_message()
    if skipped is not None:
        click.echo(f"homelab-kit: warning: {skipped}", err=True)
    console = None
    if output_format == "text":
        from homelab_kit.cluster.output import make_console

        console = make_console()
    documents: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    all_ok = True
    for target in plan.targets:
        try:
            with connect(target.options) as cluster:
                result = gather(cluster, target.scope)
        except ClusterError as exc:
            click.echo(f"homelab-kit: error: cluster {target.name}: {exc}", err=True)
            errors.append({"cluster": str(target.name), "error": str(exc)})
            continue
        all_ok = all_ok and ok(result)
        if console is not None:
            from homelab_kit.cluster.output import render_heading

            render_heading(str(target.name), console)
            render(result, console)
        documents.append({"cluster": target.name, **result.to_json()})  # type: ignore[attr-defined]
    if output_format == "json":
        document = {
            "version": 1,
            ok_key: all_ok and not errors and not plan.skipped,
            "clusters": documents,
            "skipped": [s.to_json() for s in plan.skipped],
            "errors": errors,
        }
        click.echo(json.dumps(document, indent=2))
    if errors:
        sys.exit(2)
    sys.exit(EXIT_OK if all_ok else EXIT_NOT_READY)


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
    from homelab_kit.cluster.output import render_status
    from homelab_kit.cluster.status import gather_status

    repo, plan = _plan(path, cluster_name, kubeconfig, context, request_timeout)
    _each_cluster(
        plan,
        lambda cluster, scope: gather_status(repo, cluster, scope=scope),
        ok=lambda result: result.ok,
        render=render_status,
        output_format=output_format,
        ok_key="ready",
    )


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
    from homelab_kit.cluster.output import render_drift

    repo, plan = _plan(path, cluster_name, kubeconfig, context, request_timeout)
    _each_cluster(
        plan,
        lambda cluster, scope: gather_drift(repo, cluster, scope=scope),
        ok=lambda report: report.clean,
        render=render_drift,
        output_format=output_format,
        ok_key="clean",
    )


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
    from homelab_kit.cluster.reconcile import WaitOptions, parse_target
    from homelab_kit.cluster.reconcile import reconcile as run_reconcile

    if force and kind != "helmrelease":
        raise click.UsageError("--force applies to HelmReleases only (--kind helmrelease)")
    options_wait = WaitOptions(
        wait=not no_wait,
        timeout=_duration(timeout, "--timeout"),
        interval=_duration(poll_interval, "--poll-interval"),
    )
    named = parse_target(target) if target else None
    progress = _Progress(enabled=output_format == "text")
    outcomes = []
    for goal_of, options in _reconcile_targets(
        repo_path, named, kind, cluster_name, kubeconfig, context, request_timeout
    ):
        from homelab_kit.cluster.kubeconfig import connect

        with connect(options) as cluster:
            goal = goal_of(cluster)
            outcomes += run_reconcile(
                cluster,
                goal,
                with_source=with_source or named is None,
                force=force,
                options=options_wait,
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


def _reconcile_targets(
    repo_path: str,
    named: tuple[str, str] | None,
    kind: str,
    cluster_name: str | None,
    kubeconfig: str | None,
    context: str | None,
    request_timeout: str,
) -> list[tuple[Callable[[Cluster], Target], ClusterOptions]]:
    """What to reconcile on which cluster: the object named, or each root.

    In a repository of several clusters without ``--cluster``, a named object is
    reconciled on the clusters that deploy it (by name, as the repository declares
    it), and no target means every mapped cluster's root Kustomization.
    """
    from homelab_kit.cluster.kubeconfig import ClusterOptions, parse_timeout
    from homelab_kit.cluster.reconcile import find_target, root_kustomization
    from homelab_kit.cluster.targets import plan_targets
    from homelab_kit.errors import ClusterError, RepoNotFoundError

    options = ClusterOptions(kubeconfig, context, parse_timeout(request_timeout), cluster_name)
    try:
        repo, contexts = _load_with_contexts(repo_path)
    except RepoNotFoundError:  # outside a repository: flux-system/flux-system, or NAME
        if named is None:
            return [(lambda cluster: root_kustomization(None, cluster), options)]
        return [(lambda cluster: find_target(cluster, kind, *named), options)]
    plan = plan_targets(repo, contexts, options)
    targets = list(plan.targets)
    if named is not None and plan.grouped and len(targets) > 1:
        targets = [t for t in targets if t.scope is not None and _declares(t.scope, kind, named)]
        if not targets:
            names = ", ".join(t.name or "" for t in plan.targets)
            raise ClusterError(
                f"{named[0]}/{named[1]} is declared by none of the clusters {names}: pass "
                "--cluster NAME (or --context) to say where it runs"
            )
    elif plan.grouped:
        message = plan.skipped_message()
        if message is not None:
            click.echo(f"homelab-kit: warning: {message}", err=True)
    if named is not None:
        return [(lambda cluster: find_target(cluster, kind, *named), t.options) for t in targets]
    return [(functools.partial(_root, repo, t.scope), t.options) for t in targets]


def _root(repo: Repo, scope: RepoCluster | None, cluster: Cluster) -> Target:
    from homelab_kit.cluster.reconcile import root_kustomization

    return root_kustomization(repo, cluster, scope=scope)


def _declares(scope: RepoCluster, kind: str, named: tuple[str, str]) -> bool:
    """Whether the repository's cluster ``scope`` applies a Flux object ``named``."""
    from homelab_kit.cluster.reconcile import KINDS, SOURCE_GROUP

    groups = {SOURCE_GROUP} if kind == "source" else {KINDS[kind][0]}
    kinds = None if kind == "source" else {KINDS[kind][1]}
    namespace, name = named
    return any(
        o.group in groups
        and (kinds is None or o.kind in kinds)
        and (o.namespace or "flux-system") == namespace
        and o.name == name
        for o in scope.objects
    )


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
    from homelab_kit.cluster.output import render_doctor

    repo, plan = _plan(repo_path, cluster_name, kubeconfig, context, request_timeout)
    wanted: tuple[str, str] | None = None
    if app is not None:
        namespace, _, name = app.partition("/")
        wanted = (namespace, name)
        pool = [a for t in plan.targets for a in (t.scope.apps if t.scope else repo.apps)]
        if not any((a.namespace, a.name) == wanted for a in pool):
            known = ", ".join(f"{a.namespace}/{a.name}" for a in pool[:8]) or "none"
            more = ", ..." if len(pool) > 8 else ""
            raise click.BadParameter(
                f"no app {app!r} in the repository (apps: {known}{more})",
                param_hint="NAMESPACE/APP",
            )
        # only the clusters that deploy it are asked about it
        deploys = {
            c.name for c in repo.clusters if any((a.namespace, a.name) == wanted for a in c.apps)
        }
        plan = attrs.evolve(
            plan,
            targets=tuple(t for t in plan.targets if t.scope is None or t.name in deploys),
            skipped=tuple(s for s in plan.skipped if s.cluster in deploys),
        )

    def walk(cluster: Cluster, scope: RepoCluster | None) -> DoctorReport:
        apps = None
        if wanted is not None:
            pool = scope.apps if scope is not None else repo.apps
            apps = [a for a in pool if (a.namespace, a.name) == wanted][:1]
        return diagnose(repo, cluster, apps, scope=scope)

    _each_cluster(
        plan,
        walk,
        ok=lambda report: report.ok,
        render=render_doctor,
        output_format=output_format,
        ok_key="ok",
    )
