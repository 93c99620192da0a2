"""The ``homelab-kit`` command: thin, it parses arguments, calls the library, prints.

Bad input never produces a traceback: a :class:`HomelabKitError` becomes one line
on standard error and exit code 2.  Set ``HOMELAB_KIT_DEBUG=1`` to see the
traceback of an unexpected internal error.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import attrs
import click

from homelab_kit import __version__
from homelab_kit.config import Config, load_config
from homelab_kit.diagnostic import Severity
from homelab_kit.errors import HomelabKitError
from homelab_kit.lint import lint as run_lint
from homelab_kit.lint import registered_checks
from homelab_kit.model.loader import Progress, find_root
from homelab_kit.plugins import PluginManager, get_plugin_manager
from homelab_kit.report.base import ReportOptions

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"homelab-kit: error: {message}", err=True)
    sys.exit(code)


def use_color(option: bool | None, stream: Any) -> bool:
    """Colour only on a terminal, unless NO_COLOR/FORCE_COLOR or a flag says otherwise."""
    if option is not None:
        return option
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


PROGRESS_DELAY = 0.5  # seconds: a run done sooner never shows a progress bar


def shows_progress(stream: Any) -> bool:
    """A progress bar only on a terminal, never in CI or with ``TERM=dumb``."""
    if os.environ.get("CI") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


@contextlib.contextmanager
def progress_bar(stream: Any) -> Iterator[Progress | None]:
    """A ``progress(phase, done, total)`` callback drawing a bar on ``stream``.

    Yields None (nothing to call) when :func:`shows_progress` says no.  The bar
    (rich, imported only then) appears once a run has taken ``PROGRESS_DELAY``
    seconds, and is erased when it ends.
    """
    if not shows_progress(stream):
        yield None
        return
    started = time.monotonic()
    state: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if "bar" not in state:
            if time.monotonic() - started < PROGRESS_DELAY or done >= total:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
            from rich.progress import Progress as Bar

            # No refresh thread (auto_refresh): parsing forks processes, and a fork
            # must not copy a thread that may hold the console's lock.
            bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=Console(file=stream),
                transient=True,
                auto_refresh=False,
            )
            bar.start()
            state["bar"], state["tasks"] = bar, {}
        tasks: dict[str, Any] = state["tasks"]
        if phase not in tasks:
            label = {"parse": "Reading YAML files", "check": "Running checks"}.get(phase, phase)
            tasks[phase] = state["bar"].add_task(label, total=total)
        state["bar"].update(tasks[phase], completed=done, total=total, refresh=True)

    try:
        yield update
    finally:
        if "bar" in state:
            state["bar"].stop()


def _split(values: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        out += [v.strip() for v in value.split(",") if v.strip()]
    return tuple(out)


def _formats(pm: PluginManager) -> dict[str, Any]:
    return {cls.name: cls for _, cls in pm.registered("homelab_kit_register_formats")}


def _config(path: str, config_file: str | None) -> Config:
    root = find_root(path)
    return load_config(root, Path(config_file) if config_file else None)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="homelab-kit")
def cli() -> None:
    """Lint, model and scaffold Talos + Flux + Infisical homelab GitOps repositories.

    Run `homelab-kit lint` inside a repository to check it against the
    conventions, strict schemas and workload best practices.
    """


@cli.command()
@click.argument("path", default=".", type=click.Path(file_okay=True, dir_okay=True))
@click.option(
    "--format",
    "-f",
    "output_format",
    metavar="FORMAT",
    help="Output format: text, concise, json, sarif, github, junit (or a plugin's). "
    "Default: github inside GitHub Actions, else text.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report here.")
@click.option("--select", multiple=True, metavar="IDS", help="Only these checks (IDs or globs).")
@click.option("--ignore", multiple=True, metavar="IDS", help="Skip these checks.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    help="Exit 1 when findings at or above this severity remain (default: error).",
)
@click.option("--kubernetes-version", metavar="X.Y.Z", help="Validate against this version.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Config file.")
@click.option("--fix", is_flag=True, help="Apply the automatic fixes checks offer.")
@click.option("--diff", "show_diff", is_flag=True, help="Show the fixes as a diff; write nothing.")
@click.option("--no-cache", is_flag=True, help="Ignore and do not write the cache.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Processes to parse and check with: N, or 0 to parse with one per CPU on a "
    "large repository.",
)
@click.option("--color/--no-color", default=None, help="Force colour on or off.")
@click.option("--no-source", is_flag=True, help="Do not quote source lines.")
def lint(
    path: str,
    output_format: str | None,
    output: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    fail_on: str | None,
    kubernetes_version: str | None,
    config_file: str | None,
    fix: bool,
    show_diff: bool,
    no_cache: bool,
    jobs: int,
    color: bool | None,
    no_source: bool,
) -> None:
    """Check the repository at PATH (default: the current folder).

    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or
    configuration error.
    """
    from homelab_kit.report import choose_default_format

    pm = get_plugin_manager()
    formats = _formats(pm)
    name = output_format or choose_default_format(os.environ)
    if name not in formats:
        _fail(f"unknown format {name!r} (choose from {', '.join(sorted(formats))})")
    config = _config(path, config_file)
    overrides: dict[str, Any] = {}
    if select:
        overrides["select"] = _split(select)
    if ignore:
        overrides["ignore"] = config.ignore + _split(ignore)
    if fail_on:
        overrides["fail_on"] = Severity.parse(fail_on)
    if kubernetes_version:
        overrides["kubernetes_version"] = kubernetes_version
    config = attrs.evolve(config, **overrides)
    with progress_bar(sys.stderr) as progress:
        result = run_lint(
            path, config=config, pm=pm, cache=not no_cache, jobs=jobs, progress=progress
        )
    if fix or show_diff:
        from homelab_kit.lint.fix import apply_fixes

        outcome = apply_fixes(result, write=fix and not show_diff)
        if show_diff:
            click.echo(outcome.diff, nl=False)
            sys.exit(EXIT_OK if not outcome.changed else EXIT_FINDINGS)
        for line in outcome.summary_lines():
            click.echo(line, err=True)
        if outcome.changed:
            result = run_lint(path, config=config, pm=pm, jobs=jobs)
    stream = sys.stdout
    options = ReportOptions(
        color=False if output else use_color(color, stream), show_source=not no_source
    )
    text = formats[name]().render(result, options)
    if output:
        from homelab_kit.fsutil import atomic_write_text

        try:
            atomic_write_text(Path(output), text)
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror or exc}")
    else:
        click.echo(text, nl=False)
    failing = [d for d in result.diagnostics if d.severity >= config.fail_on]
    sys.exit(EXIT_FINDINGS if failing else EXIT_OK)


@cli.command()
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    help="Output format.",
)
def rules(output_format: str) -> None:
    """List every check: ID, default severity, plugin, whether it can fix."""
    checks = registered_checks(get_plugin_manager())
    if output_format == "json":
        import json

        data = [
            {
                "id": c.id,
                "severity": str(c.severity),
                "plugin": c.plugin,
                "fixable": c.fixable,
                "summary": c.summary,
            }
            for c in checks
        ]
        click.echo(json.dumps(data, indent=2))
        return
    width = max((len(c.id) for c in checks), default=10)
    for c in checks:
        fixable = "fix" if c.fixable else "   "
        click.echo(f"{c.id:<{width}}  {c.severity!s:<7}  {fixable}  {c.summary}  [{c.plugin}]")


@cli.command()
@click.argument("check_id")
def explain(check_id: str) -> None:
    """Print the documentation of check CHECK_ID."""
    checks = {c.id: c for c in registered_checks(get_plugin_manager())}
    check = checks.get(check_id)
    if check is None:
        import difflib

        close = difflib.get_close_matches(check_id, list(checks), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        _fail(f"unknown check {check_id!r}{hint}; `homelab-kit rules` lists them")
    click.echo(f"# {check.id}\n")
    click.echo(
        f"Severity: {check.severity}. Plugin: {check.plugin}. "
        f"Fixable: {'yes' if check.fixable else 'no'}.\n"
    )
    click.echo(check.doc.rstrip() + "\n")


@cli.command()
def plugins() -> None:
    """List loaded plugins, their versions and the hooks each implements."""
    from homelab_kit.plugins import DISABLE_AUTOLOAD_ENV

    pm = get_plugin_manager()
    for info in pm.plugins():
        origin = "built-in" if info.builtin else f"{info.distribution} {info.version}".strip()
        click.echo(f"{info.name}  ({origin})")
        for hook in info.hooks:
            click.echo(f"    {hook}")
    if os.environ.get(DISABLE_AUTOLOAD_ENV):
        click.echo(f"(third-party plugins not loaded: {DISABLE_AUTOLOAD_ENV} is set)")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script and ``python -m homelab_kit``."""
    args = list(argv) if argv is not None else sys.argv[1:]
    if _wants_optional_commands(args):
        _attach_optional_commands()
    try:
        cli.main(
            args=args,
            prog_name="homelab-kit",
            standalone_mode=False,
        )
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except HomelabKitError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(EXIT_OK)
    except SystemExit:
        raise
    except Exception as exc:
        if os.environ.get("HOMELAB_KIT_DEBUG"):
            traceback.print_exc()
        _fail(
            f"internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            " (set HOMELAB_KIT_DEBUG=1 for a traceback; please report it)",
            EXIT_INTERNAL,
        )
    sys.exit(EXIT_OK)


_ATTACHED = False


def _wants_optional_commands(args: Sequence[str]) -> bool:
    """Whether the command line may need a command that lives beside its subsystem.

    The core commands (``lint``, ``rules``, ``explain``, ``plugins``) start without
    importing the optional subsystems (the Kubernetes client, cookiecutter, the
    renderer): a quarter of a second a run.  ``--help`` alone lists them all.
    """
    command = next((a for a in args if not a.startswith("-")), None)
    return command is None or command not in cli.commands


def _attach_optional_commands() -> None:
    """Commands that live beside their subsystem (scaffolding, cluster, schemas, ...)."""
    global _ATTACHED
    if _ATTACHED:
        return
    _ATTACHED = True
    import importlib

    for module_name, names in (
        ("homelab_kit.scaffold.cli", ("new_app", "new_namespace", "add_secret")),
        ("homelab_kit.render.cli", ("build",)),
        ("homelab_kit.schema.cli", ("validate", "schemas")),
        ("homelab_kit.cluster.cli", ("status", "drift", "reconcile", "doctor")),
        ("homelab_kit.graph_cli", ("graph", "secrets", "report")),
    ):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        for name in names:
            command = getattr(module, name, None)
            if isinstance(command, click.Command):
                cli.add_command(command)
    group = cli.commands.get("schemas")
    if isinstance(group, click.Group) and "pull" not in group.commands:
        from homelab_kit.cluster.cli import schemas_pull

        group.add_command(schemas_pull)
