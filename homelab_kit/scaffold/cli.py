"""``new-app``, ``new-namespace`` and ``add-secret``: thin click commands over the library.

They are plain :class:`click.Command` objects, attached to the main ``homelab-kit``
group by :mod:`homelab_kit.cli`.  On a terminal they ask for what is missing; with
``--no-input`` (or without a terminal) they never ask, and a missing value is an
error with exit code 2.  ``--dry-run`` prints the diff of everything and writes
nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

import click

from homelab_kit.config import load_config
from homelab_kit.errors import HomelabKitError, ScaffoldError
from homelab_kit.model.loader import find_root
from homelab_kit.scaffold.builders import (
    app_template_needs,
    plan_add_secret,
    plan_new_app,
    plan_new_namespace,
)
from homelab_kit.scaffold.generator import find_generator, registered_generators
from homelab_kit.scaffold.layout import PROVIDERS, ClusterChoiceError
from homelab_kit.scaffold.names import (
    Chart,
    Image,
    check_namespace,
    check_port,
    check_version,
    parse_target,
)
from homelab_kit.scaffold.plan import Plan
from homelab_kit.scaffold.settings import KEYS, parse_overrides
from homelab_kit.scaffold.state import JOURNAL, RepositoryLock, state_dir

T = TypeVar("T")

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_SET_HELP = "Override a repository setting (repeatable): " + ", ".join(KEYS) + "."


def _interactive() -> bool:
    """Whether a person is at the keyboard (both ends of the terminal)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _error(exc: HomelabKitError) -> NoReturn:
    click.echo(f"homelab-kit: error: {exc}", err=True)
    sys.exit(exc.exit_code)


def _checked(check: Callable[[str], T]) -> Callable[[str], T]:
    """A prompt's ``value_proc``: bad input is asked again, with the reason."""

    def proc(value: str) -> T:
        try:
            return check(value)
        except ScaffoldError as exc:
            raise click.UsageError(exc.message) from None

    return proc


def _valid(check: Callable[[str], Any]) -> Callable[[str], str]:
    """A check that gives back the text it accepted."""

    def proc(value: str) -> str:
        check(value.strip())
        return value.strip()

    return proc


def _optional(check: Callable[[str], T]) -> Callable[[str], T | None]:
    def proc(value: str) -> T | None:
        return _checked(check)(value) if value.strip() else None

    return proc


def _locked(path: str, make: Callable[[], Plan], dry_run: bool) -> None:
    """Plan and apply under the repository's lock, so that concurrent runs queue.

    A dry run writes nothing, so it takes no lock and rolls nothing back; it says
    when an earlier run was interrupted (its plan reads the files as they are).
    """
    root = find_root(path)
    if dry_run:
        if (state_dir(root) / JOURNAL).exists():
            click.echo(
                "homelab-kit: note: an earlier run was interrupted while writing its plan; "
                "the next run without --dry-run rolls it back first",
                err=True,
            )
        _report(make(), dry_run)
        return
    with RepositoryLock(
        root, on_wait=lambda line: click.echo(f"homelab-kit: {line}", err=True)
    ) as lock:
        if lock.note:
            click.echo(f"homelab-kit: note: {lock.note}", err=True)
        _report(make(), dry_run)


def _report(plan: Plan, dry_run: bool) -> None:
    if plan.empty:
        click.echo(f"Nothing to do: {plan.title} is already in place.")
        for note in plan.notes:
            click.echo(f"Note: {note}")
        return
    if dry_run:
        click.echo(plan.diff(), nl=False)
        lines = [f"Dry run ({plan.title}); nothing was written."]
        lines += ["Would create:", *(f"  {c.path}" for c in plan.creates)] if plan.creates else []
        lines += ["Would change:", *(f"  {e.path}" for e in plan.edits)] if plan.edits else []
        _steps(lines, plan.next_steps, plan.notes)
        click.echo("\n".join(lines), err=True)
        return
    result = plan.apply()
    lines = [f"Done: {result.title}."]
    lines += ["Created:", *(f"  {p}" for p in result.created)] if result.created else []
    lines += ["Changed:", *(f"  {p}" for p in result.changed)] if result.changed else []
    _steps(lines, result.next_steps, result.notes)
    click.echo("\n".join(lines))


def _steps(lines: list[str], steps: Sequence[str], notes: Sequence[str]) -> None:
    if steps:
        lines.append("Next steps:")
        lines += [f"  {n}. {step}" for n, step in enumerate(steps, start=1)]
    lines += [f"Note: {note}" for note in notes]


def _list_templates() -> None:
    generators = [g for g in registered_generators() if g.kind == "app"]
    width = max((len(g.name) for g in generators), default=7)
    click.echo("App templates (new-app --template NAME):")
    for g in generators:
        click.echo(f"  {g.name:<{width}}  {g.description}  [{g.plugin}]")


_repo_option = click.option(
    "--repo",
    "--path",
    "path",
    default=".",
    type=click.Path(file_okay=False),
    help="The repository: any folder inside it (default: .). --path is an alias.",
)


class _NewAppCommand(click.Command):
    """``new-app``, whose help ends with the installed app templates."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        try:
            generators = [g for g in registered_generators() if g.kind == "app"]
        except HomelabKitError:  # a broken plugin must not break --help
            return
        if generators:
            with formatter.section("App templates (--template NAME)"):
                formatter.write_dl([(g.name, f"{g.description} [{g.plugin}]") for g in generators])


@click.command("new-app", cls=_NewAppCommand, context_settings=CONTEXT_SETTINGS)
@click.argument("target", metavar="NAMESPACE/APP", required=False)
@click.option("--chart", metavar="oci://REGISTRY/PATH/CHART", help="The Helm chart (OCI).")
@click.option("--version", "chart_version", metavar="X.Y.Z", help="The chart version to pin.")
@click.option("--image", metavar="REPO:TAG", help="The container image for the values.")
@click.option("--port", type=int, metavar="N", help="The container port (probes, service).")
@click.option(
    "--secrets/--no-secrets",
    default=None,
    help="Wire a Secret the app reads (envFrom), from the repository's secrets provider.",
)
@click.option(
    "--secrets-provider",
    type=click.Choice(list(PROVIDERS)),
    help="The secrets provider (default: the one the repository's secrets use).",
)
@click.option(
    "--cluster",
    metavar="NAME",
    help="The cluster whose apps folder takes the app (asked when several could).",
)
@click.option(
    "--template",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="NAME",
    help="The app template; `--template` alone lists the installed ones.",
)
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help=_SET_HELP)
@click.option("--no-input", is_flag=True, help="Never ask; a missing value is an error.")
@click.option("--dry-run", is_flag=True, help="Print the files and diffs; write nothing.")
@_repo_option
def new_app(
    target: str | None,
    chart: str | None,
    chart_version: str | None,
    image: str | None,
    port: int | None,
    secrets: bool | None,
    secrets_provider: str | None,
    cluster: str | None,
    template: str | None,
    settings: tuple[str, ...],
    no_input: bool,
    dry_run: bool,
    path: str,
) -> None:
    """Create an app: kubernetes/apps/NAMESPACE/APP with its Flux and Helm wiring.

    In the layout of the repository's other apps: writes ks.yaml, the HelmRelease
    and its OCIRepository, the kustomization.yaml and the values (inline or
    app/helm/values.yaml) where the namespace's other apps keep them (app/ or the
    app's own folder), lists the app in the namespace's kustomization.yaml, and
    creates the namespace first when it does not exist.  With several clusters, the
    apps folder is that of --cluster.  With --secrets, also the app's Secret from the
    repository's provider (InfisicalSecret, ExternalSecret, or a SOPS placeholder to
    encrypt).

    Example: homelab-kit new-app media/jellyfin --chart
    oci://ghcr.io/jellyfin/charts/jellyfin --version 2.1.0 --port 8096 --secrets
    """
    try:
        if template == "":
            _list_templates()
            return
        ask = not no_input and _interactive()
        overrides = parse_overrides(settings)
        if target is None:
            if not ask:
                raise ScaffoldError("new-app needs NAMESPACE/APP (for example media/jellyfin)")
            target = click.prompt("App (NAMESPACE/APP)", value_proc=_checked(_valid(parse_target)))
        parse_target(target)
        name = template or overrides.get("template")
        if name is None:
            configured = load_config(find_root(path)).scaffold.get("template")
            name = configured if isinstance(configured, str) else None
        generator = find_generator("app", name, chart=chart)
        needs = app_template_needs(generator)
        if "--chart" in needs and not chart:
            if not ask:
                raise ScaffoldError("new-app needs --chart oci://REGISTRY/PATH/CHART")
            chart = click.prompt(
                "Chart (oci://REGISTRY/PATH/CHART)", value_proc=_checked(_valid(Chart.parse))
            )
        if "--version" in needs and not chart_version:
            if not ask:
                raise ScaffoldError("new-app needs --version X.Y.Z (the chart version to pin)")
            chart_version = click.prompt("Chart version", value_proc=_checked(check_version))
        if ask and image is None:
            image = click.prompt(
                "Image (REPO:TAG, empty to fill in later)",
                default="",
                show_default=False,
                value_proc=_optional(_valid(Image.parse)),
            )
        if ask and port is None:
            port = click.prompt(
                "Container port (empty for none)",
                default="",
                show_default=False,
                value_proc=_optional(check_port),
            )
        if ask and secrets is None:
            secrets = click.confirm("Does the app read secrets?", default=False)
        if secrets_provider is not None and secrets is False:
            raise ScaffoldError("--secrets-provider needs --secrets")
        secrets = secrets or secrets_provider is not None
        _in_cluster(
            path,
            lambda chosen: plan_new_app(
                path,
                target,
                chart=chart,
                version=chart_version,
                image=image,
                port=port,
                secrets=bool(secrets),
                template=name,
                overrides=overrides,
                cluster=chosen,
                provider=secrets_provider,
            ),
            dry_run,
            cluster,
            ask,
        )
    except HomelabKitError as exc:
        _error(exc)


def _in_cluster(
    path: str, make: Callable[[str | None], Plan], dry_run: bool, cluster: str | None, ask: bool
) -> None:
    """:func:`_locked` with the plan of ``cluster``; when that is ambiguous and a person
    is there, ask which cluster."""
    try:
        _locked(path, lambda: make(cluster), dry_run)
    except ClusterChoiceError as exc:
        if not ask or cluster is not None:
            raise
        click.echo(f"homelab-kit: {exc.message}", err=True)
        chosen = click.prompt("Cluster", type=click.Choice(exc.choices))
        _locked(path, lambda: make(chosen), dry_run)


@click.command("new-namespace", context_settings=CONTEXT_SETTINGS)
@click.argument("namespace", required=False)
@click.option("--cluster", metavar="NAME", help="The cluster whose apps folder takes it.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help=_SET_HELP)
@click.option("--no-input", is_flag=True, help="Never ask; a missing value is an error.")
@click.option("--dry-run", is_flag=True, help="Print the files and diffs; write nothing.")
@_repo_option
def new_namespace(
    namespace: str | None,
    cluster: str | None,
    settings: tuple[str, ...],
    no_input: bool,
    dry_run: bool,
    path: str,
) -> None:
    """Create a namespace: kubernetes/apps/NAMESPACE with its kustomization and secrets.

    The kustomization.yaml sets the namespace and lists the repository's namespace
    components; the secrets/ folder holds the namespace's InfisicalSecrets behind a
    Flux Kustomization `secrets` (wait: true) that depends on the Infisical operator.
    The namespace is listed in kubernetes/apps/kustomization.yaml.
    """
    try:
        overrides = parse_overrides(settings)
        if namespace is None:
            if no_input or not _interactive():
                raise ScaffoldError("new-namespace needs NAMESPACE")
            namespace = click.prompt("Namespace", value_proc=_checked(check_namespace))
        ns = namespace

        def make(chosen: str | None) -> Plan:
            return plan_new_namespace(path, ns, overrides=overrides, cluster=chosen)

        _in_cluster(path, make, dry_run, cluster, not no_input and _interactive())
    except HomelabKitError as exc:
        _error(exc)


@click.command("add-secret", context_settings=CONTEXT_SETTINGS)
@click.argument("target", metavar="NAMESPACE/APP", required=False)
@click.option(
    "--secrets-provider",
    type=click.Choice(list(PROVIDERS)),
    help="The secrets provider (default: the one the repository's secrets use).",
)
@click.option("--cluster", metavar="NAME", help="The cluster, when several have this app.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help=_SET_HELP)
@click.option("--no-input", is_flag=True, help="Never ask; a missing value is an error.")
@click.option("--dry-run", is_flag=True, help="Print the files and diffs; write nothing.")
@_repo_option
def add_secret(
    target: str | None,
    secrets_provider: str | None,
    cluster: str | None,
    settings: tuple[str, ...],
    no_input: bool,
    dry_run: bool,
    path: str,
) -> None:
    """Wire a Secret, APP-secret, into an existing app.

    Reuses the Secret's producer when it has one.  Otherwise writes one from the
    repository's secrets provider (or --secrets-provider): an InfisicalSecret for
    the Infisical folder /APP (in NAMESPACE/secrets/ with the app's dependsOn, or
    beside the HelmRelease where the repository keeps them), an ExternalSecret in
    the repository's store, or a SOPS placeholder Secret to encrypt; then has the
    values read the Secret through envFrom when their shape allows.  Steps already
    done are skipped.
    """
    try:
        overrides = parse_overrides(settings)
        if target is None:
            if no_input or not _interactive():
                raise ScaffoldError("add-secret needs NAMESPACE/APP")
            target = click.prompt("App (NAMESPACE/APP)", value_proc=_checked(_valid(parse_target)))
        app = target

        def make(chosen: str | None) -> Plan:
            return plan_add_secret(
                path, app, overrides=overrides, provider=secrets_provider, cluster=chosen
            )

        _in_cluster(path, make, dry_run, cluster, not no_input and _interactive())
    except HomelabKitError as exc:
        _error(exc)


COMMANDS: tuple[click.Command, ...] = (new_app, new_namespace, add_secret)
