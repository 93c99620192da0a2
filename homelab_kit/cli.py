"""The ``homelab-kit`` command: thin, it parses arguments, calls the library, prints.

Bad input never produces a traceback: a :class:`HomelabKitError` becomes one line
on standard error and exit code 2.  Set ``HOMELAB_KIT_DEBUG=1`` to see the
traceback of an unexpected internal error.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from homelab_kit import __version__
from homelab_kit.presets import PRESETS

if TYPE_CHECKING:
    from homelab_kit.config import Config
    from homelab_kit.lint import LintResult
    from homelab_kit.model.loader import Progress
    from homelab_kit.plugins import PluginManager

# What this module imports at the top is what every command pays for, ``--version``
# and ``--help`` included (docs/performance.md#start-up): click and nothing heavy.
# The rest is imported by the command that needs it.

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    from homelab_kit.report._style import one_line

    click.echo(f"homelab-kit: error: {one_line(message)}", err=True)
    sys.exit(code)


def use_color(option: bool | str | None, stream: Any) -> bool:
    """Colour only on a terminal, unless NO_COLOR/FORCE_COLOR or a flag says otherwise.

    ``option`` is ``--color [auto|always|never]`` (``--color`` alone is ``always``,
    ``--no-color`` is ``never``); ``auto`` or None asks the environment, then the stream.
    """
    if option in (True, "always"):
        return True
    if option in (False, "never"):
        return False
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


def _plugin_manager() -> PluginManager:
    from homelab_kit.plugins import get_plugin_manager

    return get_plugin_manager()


def _formats(pm: PluginManager) -> dict[str, Any]:
    return {cls.name: cls for _, cls in pm.registered("homelab_kit_register_formats")}


def _config(path: str, config_file: str | None) -> Config:
    from homelab_kit.config import load_config
    from homelab_kit.root import find_root

    root = find_root(path)
    return load_config(root, Path(config_file) if config_file else None)


def _collector_paused(function: F) -> F:
    """Run the command with the cyclic garbage collector paused (homelab_kit/gcpause.py).

    ``lint`` imports a few hundred modules and reads the configuration before the
    loader pauses the collector, and reports after it: some seventy collections over
    objects that live as long as the process (16 ms of a reference-cluster lint, 7 of
    a warm one, docs/performance.md).  Only for a command whose run is bounded.
    """

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        from homelab_kit.gcpause import paused_gc

        with paused_gc():
            return function(*args, **kwargs)

    return run  # type: ignore[return-value]


REPO_HELP = "The repository: any folder inside it (default: the current folder)."


def repository_path(function: F) -> F:
    """``--repo PATH`` beside a command's positional ``PATH``: two spellings, one folder.

    Every command that reads the repository takes ``--repo PATH`` (``doctor`` and
    ``reconcile``, whose argument names an object, take only that); where a command
    also takes ``PATH`` as its argument (``lint PATH``, as ruff does), the two are the
    same.  The command's ``path`` argument must default to None; it receives the
    folder given either way, else ``"."``.  Two different folders are a usage error.
    """

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        option = kwargs.pop("repo_option", None)
        given = kwargs.get("path")
        if (
            option is not None
            and given is not None
            and os.path.realpath(option) != os.path.realpath(given)
        ):
            raise click.UsageError(
                f"PATH {given!r} and --repo {option!r} name two folders; give one"
            )
        kwargs["path"] = option or given or "."
        return function(*args, **kwargs)

    decorate = click.option(
        "--repo",
        "repo_option",
        metavar="PATH",
        default=None,
        type=click.Path(file_okay=True, dir_okay=True),
        help="The repository: any folder inside it; the same as PATH.",
    )
    return decorate(run)  # type: ignore[return-value]


def repository_clusters(function: F) -> F:
    """``--cluster NAME``, repeatable: only these clusters of the repository."""
    return click.option(
        "--cluster",
        "clusters",
        multiple=True,
        metavar="NAME",
        help="Only this cluster of the repository (repeatable; default: every cluster, "
        "grouped by cluster when there are several).",
    )(function)


# Commands that live beside their subsystem (scaffolding, the renderer, the cluster,
# schemas...): imported when run, never for ``--help`` or another command.  Each
# with the one line ``homelab-kit --help`` shows for it: its help's first sentence
# (tests/core/test_startup.py holds the two together).
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "new-app": (
        "homelab_kit.scaffold.cli",
        "new_app",
        "Create an app: kubernetes/apps/NAMESPACE/APP with its Flux and Helm wiring.",
    ),
    "new-namespace": (
        "homelab_kit.scaffold.cli",
        "new_namespace",
        "Create a namespace: kubernetes/apps/NAMESPACE with its kustomization and secrets.",
    ),
    "add-secret": (
        "homelab_kit.scaffold.cli",
        "add_secret",
        "Wire a Secret, APP-secret, into an existing app.",
    ),
    "build": (
        "homelab_kit.render.cli",
        "build",
        "Print the objects the Flux Kustomization NAMESPACE/NAME applies, or a folder's.",
    ),
    "diff": (
        "homelab_kit.diff.cli",
        "diff",
        "Show what each cluster would apply differently between two revisions.",
    ),
    "validate": (
        "homelab_kit.schema.cli",
        "validate",
        "Validate Kubernetes manifests strictly against their schemas, like kubeconform.",
    ),
    "schemas": (
        "homelab_kit.schema.cli",
        "schemas",
        "Manage the schema cache that validation reads offline.",
    ),
    "status": (
        "homelab_kit.cluster.cli",
        "status",
        "Show every app of the repository at PATH as the cluster has it.",
    ),
    "drift": (
        "homelab_kit.cluster.cli",
        "drift",
        "Compare the repository at PATH with the cluster.",
    ),
    "reconcile": (
        "homelab_kit.cluster.cli",
        "reconcile",
        "Make Flux reconcile NAMESPACE/NAME now, and wait until it did.",
    ),
    "doctor": (
        "homelab_kit.cluster.cli",
        "doctor",
        "Walk every app (or NAMESPACE/APP) from git to pod and say what is broken.",
    ),
    "graph": (
        "homelab_kit.graph_cli",
        "graph",
        "Draw the Flux dependency graph of the repository at PATH.",
    ),
    "secrets": (
        "homelab_kit.graph_cli",
        "secrets",
        "Map the Secrets of the repository at PATH, namespace by namespace.",
    ),
    "report": (
        "homelab_kit.graph_cli",
        "report",
        "Write one HTML file about the repository at PATH: summary, findings, graph, secrets.",
    ),
    "init": (
        "homelab_kit.conventions.cli",
        "init",
        "Detect the repository's conventions and write .homelab-kit.yaml.",
    ),
}


class LazyGroup(click.Group):
    """A group whose :data:`LAZY_COMMANDS` are imported when one of them is asked for.

    ``--help`` lists them by the line the table holds, without importing them.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            _load(cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(name) for name in names), default=0)
        for name in names:
            command = self.commands.get(name)
            if command is None:  # not imported: the table's line, shortened as click does
                command = click.Command(name, help=LAZY_COMMANDS[name][2])
            elif command.hidden:
                continue
            rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _load(name: str) -> None:
    """Import the module of lazy command ``name`` and attach its command."""
    import importlib

    module_name, attribute, _ = LAZY_COMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return  # a subsystem not present in this build
        raise
    command = getattr(module, attribute, None)
    if isinstance(command, click.Command):
        cli.add_command(command, name)
    if name == "schemas" and isinstance(command, click.Group) and "pull" not in command.commands:
        from homelab_kit.cluster.cli import schemas_pull

        command.add_command(schemas_pull)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="homelab-kit")
def cli() -> None:
    """Lint, model and scaffold Talos + Flux + Infisical homelab GitOps repositories.

    Run `homelab-kit lint` inside a repository to check it against the
    conventions, strict schemas and workload best practices.
    """


@cli.command()
@click.argument("path", required=False, type=click.Path(file_okay=True, dir_okay=True))
@repository_path
@click.option(
    "--format",
    "-f",
    "output_format",
    metavar="FORMAT",
    help="Output format: text, concise, json, sarif, github, junit (or a plugin's). "
    "Default: github inside GitHub Actions, else text.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report here.")
@click.option(
    "--select",
    multiple=True,
    metavar="IDS",
    help="Only these checks: IDs, globs, pack prefixes or categories (replaces the preset).",
)
@click.option(
    "--extend-select", multiple=True, metavar="IDS", help="These checks as well as the selected."
)
@click.option("--ignore", multiple=True, metavar="IDS", help="Skip these checks.")
@click.option(
    "--preset",
    type=click.Choice(sorted(PRESETS)),
    help="The checks run unless selected otherwise (default: the configuration's, "
    "else recommended).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    help="Exit 1 when findings at or above this severity remain (default: error).",
)
@click.option("--kubernetes-version", metavar="X.Y.Z", help="Validate against this version.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Config file.")
@click.option("--fix", is_flag=True, help="Apply the safe automatic fixes checks offer.")
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="With --fix or --diff: unsafe fixes too (they may change how the cluster behaves).",
)
@click.option("--show-fixes", is_flag=True, help="With --fix: list the fixes applied, per file.")
@click.option("--diff", "show_diff", is_flag=True, help="Show the fixes as a diff; write nothing.")
@click.option(
    "--statistics", is_flag=True, help="Print the number of findings of each check instead."
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain.")
@click.option("--quiet", "-q", is_flag=True, help="Print the findings and nothing else.")
@click.option(
    "--add-noqa",
    is_flag=True,
    help="Suppress every finding with an inline comment (a reason to fill in).",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Report only findings not in FILE (written with today's findings when absent); "
    "report its stale entries.",
)
@click.option(
    "--no-respect-gitignore",
    is_flag=True,
    help="Lint files the repository's .gitignore ignores, too.",
)
@click.option("--no-cache", is_flag=True, help="Ignore and do not write the cache.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Processes to parse and check with: N, or 0 to use the spare CPUs on a large "
    "repository (by the load average).",
)
@click.option(
    "--color",
    "color",
    type=click.Choice(["auto", "always", "never"]),
    is_flag=False,
    flag_value="always",
    default=None,
    help="Colour: auto (a terminal; NO_COLOR and FORCE_COLOR are honoured), always, never. "
    "--color alone is always.",
)
@click.option("--no-color", "no_color", is_flag=True, help="The same as --color never.")
@click.option("--no-source", is_flag=True, help="Do not quote source lines.")
@click.option(
    "--cluster",
    "clusters",
    multiple=True,
    metavar="NAME",
    help="Only the files of this cluster (repeatable; default: every cluster).",
)
@click.option(
    "--diff-base",
    metavar="REF",
    help="Report only findings on lines and objects changed since the Git revision REF "
    "(the whole repository is still checked).",
)
@_collector_paused
def lint(
    path: str,
    output_format: str | None,
    output: str | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    preset: str | None,
    fail_on: str | None,
    kubernetes_version: str | None,
    config_file: str | None,
    fix: bool,
    unsafe_fixes: bool,
    show_fixes: bool,
    show_diff: bool,
    statistics: bool,
    exit_zero: bool,
    quiet: bool,
    add_noqa: bool,
    baseline: str | None,
    no_respect_gitignore: bool,
    no_cache: bool,
    jobs: int,
    color: str | None,
    no_color: bool,
    no_source: bool,
    clusters: tuple[str, ...],
    diff_base: str | None,
) -> None:
    """Check the repository at PATH (default: the current folder).

    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or
    configuration error.
    """
    import importlib

    import attrs

    from homelab_kit.config import Selection, is_kubernetes_version
    from homelab_kit.diagnostic import Severity
    from homelab_kit.lint import lint as run_lint
    from homelab_kit.report import choose_default_format

    # With the cache on and the plugins' registrations remembered, a run with nothing
    # changed is answered before any plugin, the model or the engine is imported
    # (homelab_kit/lint/warm.py); any other run loads them.
    snapshot = None
    if not (no_cache or fix or show_diff):
        from homelab_kit import plugin_cache

        snapshot = plugin_cache.current()
    pm: PluginManager | None = None
    if no_cache:  # workers parse while the plugins load (docs/performance.md)
        from homelab_kit.lint import start_parsing
        from homelab_kit.model.loader import cancel_started

        gitignore = False if no_respect_gitignore else None
        start_parsing(path, config_file, jobs=jobs, respect_gitignore=gitignore)
        # Not taken over (the run failed first): never left for a later run.
        click.get_current_context().call_on_close(cancel_started)
    if snapshot is not None:
        known = set(snapshot["formats"])
    else:
        pm = _plugin_manager()
        known = set(_formats(pm))
    name = output_format or choose_default_format(os.environ)
    if name not in known:
        _fail(f"unknown format {name!r} (choose from {', '.join(sorted(known))})")
    config = _config(path, config_file)
    overrides: dict[str, Any] = {
        "command_line": Selection(
            _split(select) if select else None, _split(extend_select), _split(ignore)
        )
    }
    if preset:
        overrides["preset"] = preset
    if fail_on:
        overrides["fail_on"] = Severity.parse(fail_on)
    if kubernetes_version:
        if not is_kubernetes_version(kubernetes_version):
            _fail(f"--kubernetes-version: {kubernetes_version!r} is not a version like 1.33.4")
        overrides["kubernetes_version"] = kubernetes_version
    if no_respect_gitignore:
        overrides["respect_gitignore"] = False
    config = attrs.evolve(config, **overrides)
    result = None
    walked = None  # the warm look's stat walk, for the run to key its result by
    if snapshot is not None:
        from homelab_kit.lint.warm import Walk, cached_result

        found = cached_result(path, config, clusters, snapshot)
        if isinstance(found, Walk):
            walked = found
        else:
            result = found
    reporter = None
    if result is not None:
        assert snapshot is not None
        module_name, qualname = snapshot["formats"][name]
        # Only our own formats are imported by the name the file holds; a plugin's
        # format is found by loading the plugins (the result cache still answers).
        if module_name.startswith("homelab_kit.report."):
            reporter = getattr(importlib.import_module(module_name), qualname, None)
    if reporter is None:
        pm = pm or _plugin_manager()
        reporter = _formats(pm).get(name)
        if reporter is None:  # the remembered formats were stale
            _fail(f"unknown format {name!r} (choose from {', '.join(sorted(_formats(pm)))})")
    if result is None:
        assert pm is not None
        with progress_bar(sys.stderr) as progress:
            result = run_lint(
                path,
                config=config,
                pm=pm,
                cache=not no_cache,
                jobs=jobs,
                progress=progress,
                clusters=clusters,
                walked=walked,
            )
        if not no_cache:
            from homelab_kit import plugin_cache

            plugin_cache.remember(pm)
    if fix or show_diff:
        from homelab_kit.lint.fix import apply_fixes

        outcome = apply_fixes(result, write=fix and not show_diff, unsafe=unsafe_fixes)
        if show_diff:
            click.echo(outcome.diff, nl=False)
            sys.exit(EXIT_OK if not outcome.changed else EXIT_FINDINGS)
        if not quiet:
            for line in outcome.summary_lines(show_fixes=show_fixes):
                click.echo(line, err=True)
        if outcome.changed:
            result = run_lint(
                path, config=config, pm=pm or _plugin_manager(), jobs=jobs, clusters=clusters
            )
    if diff_base is not None:
        from homelab_kit.diff.changed import changed_since, only_changed

        result = only_changed(result, changed_since(path, diff_base))
    if add_noqa:
        _add_noqa(result, quiet)
        return
    if baseline:
        result = _baseline(result, Path(baseline), quiet)
    if statistics:
        click.echo(_statistics(result), nl=False)
    else:
        _emit_report(result, reporter, output, "never" if no_color else color, no_source, quiet)
    failing = [d for d in result.diagnostics if d.severity >= config.fail_on]
    if not quiet and not statistics and name in ("text", "concise"):
        _fix_hint(result, fix)
    sys.exit(EXIT_FINDINGS if failing and not exit_zero else EXIT_OK)


def _emit_report(
    result: LintResult,
    reporter: Any,
    output: str | None,
    color: str | None,
    no_source: bool,
    quiet: bool,
) -> None:
    from homelab_kit.report.base import ReportOptions

    options = ReportOptions(
        color=False if output else use_color(color, sys.stdout),
        show_source=not no_source,
        summary=not quiet,
    )
    text = reporter().render(result, options)
    if output:
        from homelab_kit.fsutil import atomic_write_text

        try:
            atomic_write_text(Path(output), text)
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror or exc}")
    else:
        click.echo(text, nl=False, color=options.color)  # click strips colour on a pipe


def _fix_hint(result: LintResult, fixed: bool) -> None:
    """ruff's closing hint: how many findings --fix (or --unsafe-fixes) would fix."""
    safe = sum(1 for d in result.diagnostics if d.fix is not None and d.fix.safe)
    unsafe = sum(1 for d in result.diagnostics if d.fix is not None and not d.fix.safe)
    if safe and not fixed:
        hidden = f" ({unsafe} more with `--unsafe-fixes`)" if unsafe else ""
        click.echo(f"{safe} fixable with `--fix`{hidden}.", err=True)
    elif unsafe:
        click.echo(f"{unsafe} fixable with `--fix --unsafe-fixes`.", err=True)


def _statistics(result: LintResult) -> str:
    """One line per check: count, ID, whether fixable, its summary (ruff's --statistics)."""
    counts = result.counts_by_check()
    if not counts:
        return ""
    fixable = {d.check_id for d in result.diagnostics if d.fix is not None and d.fix.safe}
    width = max(len(str(n)) for n in counts.values())
    id_width = max(len(i) for i in counts)
    lines = []
    for check_id, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        info = result.check(check_id)
        mark = "[*]" if check_id in fixable else "   "
        summary = info.summary if info else ""
        lines.append(f"{n:>{width}}  {check_id:<{id_width}}  {mark} {summary}".rstrip())
    return "\n".join(lines) + "\n"


def _add_noqa(result: LintResult, quiet: bool) -> None:
    from homelab_kit.lint.noqa import add_noqa

    outcome = add_noqa(Path(result.root), result.diagnostics)
    if not quiet:
        click.echo(
            f"Added {outcome.added} suppression comment(s) in {len(outcome.changed)} file(s); "
            "replace each TODO with the reason.",
            err=True,
        )
    for reason in outcome.skipped:
        click.echo(f"  not changed: {reason}", err=True)
    sys.exit(EXIT_FINDINGS if outcome.skipped else EXIT_OK)


def _baseline(result: LintResult, path: Path, quiet: bool) -> LintResult:
    """Drop the findings the baseline lists (writing it first when it is absent)."""
    import attrs

    from homelab_kit.lint.baseline import apply_baseline, read_baseline, write_baseline

    if not path.exists():
        try:
            count = write_baseline(path, result.diagnostics)
        except OSError as exc:
            _fail(f"cannot write {path}: {exc.strerror or exc}")
        if not quiet:
            click.echo(f"Wrote the baseline {path} with {count} finding(s).", err=True)
        entries = read_baseline(path)
    else:
        entries = read_baseline(path)
    ran = {c.id for c in result.checks}
    outcome = apply_baseline(result.diagnostics, entries, ran=ran)
    for file, check_id, message in outcome.stale:
        click.echo(
            f"{path}: stale entry, no longer found: {file}: [{check_id}] {message}", err=True
        )
    if outcome.stale and not quiet:
        click.echo(
            f"{len(outcome.stale)} stale baseline entr{'y' if len(outcome.stale) == 1 else 'ies'}:"
            f" remove them, or delete {path} to write it anew.",
            err=True,
        )
    return attrs.evolve(
        result, diagnostics=outcome.kept, suppressed=result.suppressed + outcome.matched
    )


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
    """List every check by category: ID, default severity, whether it can fix, plugin."""
    from homelab_kit.plugin_cache import check_listing

    checks = check_listing()
    if output_format == "json":
        import json

        data = [
            {
                "id": c["id"],
                "severity": c["severity"],
                "plugin": c["plugin"],
                "category": c["category"],
                "fixable": c["fixable"],
                "summary": c["summary"],
            }
            for c in checks
        ]
        click.echo(json.dumps(data, indent=2))
        return
    width = max((len(c["id"]) for c in checks), default=10)
    for c in checks:
        fixable = "fix" if c["fixable"] else "   "
        click.echo(
            f"{c['id']:<{width}}  {c['severity']:<7}  {c['category']:<11}  {fixable}  "
            f"{c['summary']}  [{c['plugin']}]"
        )
    click.echo(
        "\nPresets: "
        + "; ".join(f"{name}: {', '.join(cats)}" for name, cats in PRESETS.items())
        + ". The default is recommended; see docs/lint.md."
    )


@cli.command()
@click.argument("check_id")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    help="Render the Markdown for a terminal (auto: on a terminal), or print it as written.",
)
def explain(check_id: str, color: str) -> None:
    """Print the documentation of check CHECK_ID (rendered on a terminal)."""
    from homelab_kit.plugin_cache import check_listing

    checks = {c["id"]: c for c in check_listing()}
    check = checks.get(check_id)
    if check is None:
        import difflib

        close = difflib.get_close_matches(check_id, list(checks), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        _fail(f"unknown check {check_id!r}{hint}; `homelab-kit rules` lists them")
    text = (
        f"# {check['id']}\n\n"
        f"Severity: {check['severity']}. Category: {check['category']}. "
        f"Plugin: {check['plugin']}. Fixable: {'yes' if check['fixable'] else 'no'}.\n\n"
        f"{check['doc'].rstrip()}\n"
    )
    if not use_color(color, sys.stdout):
        click.echo(text)  # Markdown as written: for a pipe, a file, a pager
        return
    from rich.console import Console
    from rich.markdown import Markdown

    Console(force_terminal=True).print(Markdown(text))


@cli.group()
def cache() -> None:
    """Where homelab-kit caches parsed files, lint results and fetched schemas."""


def _cache_dirs(path: str) -> list[Path]:
    """The cache folder used for ``path``: the user's choice, never the repository's."""
    from homelab_kit.cachedir import cache_directory
    from homelab_kit.config import load_config
    from homelab_kit.errors import RepoNotFoundError
    from homelab_kit.root import find_root

    try:
        configured = load_config(find_root(path)).cache_dir
    except RepoNotFoundError:
        configured = None
    return [cache_directory(configured)]


@cache.command("dir")
@click.argument("path", required=False, type=click.Path(file_okay=False))
@repository_path
def cache_dir_command(path: str) -> None:
    """Print the cache folders the repository at PATH uses."""
    for folder in _cache_dirs(path):
        click.echo(str(folder))


@cache.command("clean")
@click.argument("path", required=False, type=click.Path(file_okay=False))
@repository_path
def cache_clean(path: str) -> None:
    """Remove the lint caches, the plugin listing and fetched schemas (not pulled ones)."""
    from homelab_kit import plugin_cache
    from homelab_kit.cache import clean

    for folder in _cache_dirs(path):
        files, size = clean(folder)
        more_files, more_size = plugin_cache.clean(str(folder))
        files, size = files + more_files, size + more_size
        click.echo(
            f"removed {files} file{'s' if files != 1 else ''} ({size:,} bytes) from {folder}"
        )


@cli.command()
def plugins() -> None:
    """List loaded plugins, their versions and the hooks each implements."""
    from homelab_kit.plugins import DISABLE_AUTOLOAD_ENV, get_plugin_manager

    pm = get_plugin_manager()
    for info in pm.plugins():
        origin = "built-in" if info.builtin else f"{info.distribution} {info.version}".strip()
        click.echo(f"{info.name}  ({origin})")
        for hook in info.hooks:
            click.echo(f"    {hook}")
    if os.environ.get(DISABLE_AUTOLOAD_ENV):
        click.echo(f"(third-party plugins not loaded: {DISABLE_AUTOLOAD_ENV} is set)")


def _warning_printer(fallback: Callable[..., None]) -> Callable[..., None]:
    """Print our own warnings as one line on standard error, like the errors."""
    from homelab_kit.errors import HomelabKitWarning

    def show(message: Warning | str, category: type[Warning], *args: Any, **kw: Any) -> None:
        if issubclass(category, HomelabKitWarning):
            from homelab_kit.report._style import one_line

            click.echo(f"homelab-kit: warning: {one_line(str(message))}", err=True)
        else:
            fallback(message, category, *args, **kw)

    return show


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command ``argv`` (default: the process's arguments); always raises SystemExit.

    What tests and other programs call: it returns control the ordinary way.  The
    console script and ``python -m homelab_kit`` run :func:`console_main`.
    """
    from homelab_kit.errors import HomelabKitError, HomelabKitWarning

    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default", HomelabKitWarning)
            warnings.showwarning = _warning_printer(warnings.showwarning)
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
            import traceback

            traceback.print_exc()
        _fail(
            f"internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            " (set HOMELAB_KIT_DEBUG=1 for a traceback; please report it)",
            EXIT_INTERNAL,
        )
    sys.exit(EXIT_OK)


def console_main() -> NoReturn:
    """Entry point of the console script and ``python -m homelab_kit``: :func:`main`, then exit.

    Once the command is done, the interpreter would free every object the run made
    before the process ends (0.6-0.7 s after a lint of 1,000 apps): nothing anyone
    can see.  As mypy does, the process ends at once instead, when :func:`_exit_now`
    finds that safe; otherwise the ordinary way, exactly as before.

    Its attrs classes take their compiled methods from the cache beside the
    package's bytecode (:mod:`homelab_kit._attrs_cache`).
    """
    from homelab_kit import _attrs_cache

    _attrs_cache.install()
    _file_names_as_read()
    try:
        main()
    except SystemExit as exc:
        _exit_now(exc.code)
        raise
    _exit_now(EXIT_OK)
    sys.exit(EXIT_OK)


def _file_names_as_read() -> None:
    """Let the standard streams write a file name that is not UTF-8 (a POSIX name
    may hold any bytes; Python reads them as lone surrogates) as its own bytes, as
    they do by default under a POSIX locale, where ``PYTHONIOENCODING`` made them
    strict: a finding about such a file is printed, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        encoding = str(getattr(stream, "encoding", "")).lower().replace("-", "").replace("_", "")
        if reconfigure is not None and stream.errors == "strict" and encoding == "utf8":
            reconfigure(errors="surrogateescape")


def _exit_now(code: object) -> None:
    """End the process with ``code`` without the interpreter's teardown; or return.

    What the interpreter's exit does that anyone could see is done here first: the
    ``atexit`` functions run (a plugin's, logging's, multiprocessing's) and the
    standard streams are flushed.  It returns, and the ordinary exit follows as it
    always did, when a flush fails (a closed pipe), a thread is still running, a
    regular file is still open for writing (a write not finished, a buffer not
    flushed), the code is not a plain status, or a profiler, a tracer (coverage) or
    ``python -i`` waits for the interpreter's own exit.  What is skipped is freeing
    memory and the finalizers of objects still alive.
    """
    if code is None:
        code = EXIT_OK
    if not isinstance(code, int) or not 0 <= code <= 255:
        return  # a message to print, or a status the interpreter maps
    if sys.flags.inspect or sys.gettrace() is not None or sys.getprofile() is not None:
        return
    if _monitored():
        return
    if "threading" in sys.modules:
        import threading

        main = threading.main_thread()
        if any(t is not main and t.is_alive() and not t.daemon for t in threading.enumerate()):
            return
    if not _flush_standard_streams():
        return
    import atexit

    atexit._run_exitfuncs()
    if not _flush_standard_streams() or _writing_files():
        return
    os._exit(code)


def _monitored() -> bool:
    """Whether a tool of ``sys.monitoring`` (Python 3.12+: cProfile, coverage) is on.

    Such a profiler writes its report in the interpreter's exit, and
    ``sys.getprofile()`` no longer shows it.
    """
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:
        return False
    return any(monitoring.get_tool(tool) is not None for tool in range(6))


def _flush_standard_streams() -> bool:
    """Flush standard output and error (and the originals, if replaced); False on failure."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is None:
            continue
        try:
            stream.flush()
        except Exception:
            return False
    return True


def _writing_files() -> bool:
    """Whether a regular file is still open for writing (or the answer is unknown).

    An unclosed file may hold buffered data its finalizer would write; a cache or
    report written the usual way (``with open(...)``, then renamed) is closed by now.
    """
    import stat

    try:
        import fcntl

        folder = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
        fds = [int(name) for name in os.listdir(folder)]
    except (ImportError, OSError, ValueError):
        return True
    for fd in fds:
        if fd <= 2:
            continue
        try:
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            mode = os.fstat(fd).st_mode
        except OSError:
            continue  # the folder's own descriptor, closed since listing
        if stat.S_ISREG(mode) and flags & (os.O_WRONLY | os.O_RDWR):
            return True
    return False
