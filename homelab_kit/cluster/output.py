"""``homelab-kit status``, ``drift`` and ``doctor`` on a terminal (rich).

The tables hold short cells only; long texts (a condition's message, a drift's
reason) follow the table, one line each, so they stay readable at any width and
whole for ``grep``.  Only names, conditions, revisions and messages are shown: no
model here holds a Secret value, so none can be printed.
"""

from __future__ import annotations

import os

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from homelab_kit.cluster.doctor import DoctorReport
from homelab_kit.cluster.drift import DriftReport
from homelab_kit.cluster.status import AppStatus, ClusterStatus, ObjectStatus, SecretStatus

_WIDTH_OFF_TERMINAL = 160


def make_console() -> Console:
    """A console on standard output; wide when output goes to a file or a pipe."""
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = _WIDTH_OFF_TERMINAL
    return console


def short_revision(revision: str | None) -> str:
    """``main@sha1:0123456789abcdef...`` as ``main@sha1:01234567``; others unchanged."""
    if not revision:
        return "-"
    head, sep, digest = revision.rpartition(":")
    if sep and len(digest) > 12 and all(c in "0123456789abcdef" for c in digest):
        return f"{head}:{digest[:8]}"
    return revision


# ---------------------------------------------------------------------- status


def render_status(status: ClusterStatus, console: Console) -> None:
    """One row per Kustomization, HelmRelease, InfisicalSecret and managed Secret, then
    why each one that is not Ready is not, then a summary line."""
    console.print(Text(_title(status.server, status.context), style="bold"))
    problems: list[tuple[str, str]] = []
    groups: dict[str | None, list[AppStatus]] = {}
    for app in status.apps:
        groups.setdefault(app.cluster, []).append(app)
    for name, apps in groups.items():
        if name is not None and len(groups) > 1:
            console.print(Text(f"Cluster {name} of the repository", style="bold"))
        console.print(_status_table(apps, problems))
    for what, why in problems:
        console.print(Text.assemble((what, "bold"), ": ", why), soft_wrap=True)
    failing = [app for app in status.apps if not app.ok]
    summary = f"{len(status.apps)} apps, {len(failing)} not ready"
    console.print(Text(summary, style="bold red" if failing else "bold green"))


def _status_table(apps: list[AppStatus], problems: list[tuple[str, str]]) -> Table:
    table = _table("App", "Kind", "Name", "Ready", "Revision")
    for app in apps:
        first = True
        for obj in (*app.kustomizations, *app.helm_releases):
            name = _name(obj.namespace, obj.name, app.namespace)
            table.add_row(
                app.label if first else "",
                obj.kind,
                name,
                _ready(obj),
                short_revision(obj.revision) if obj.present else "",
            )
            first = False
            if not obj.ok:
                why = _why(obj.present, obj.reason, obj.message, "not Ready")
                problems.append((f"{app.label} {obj.kind} {name}", why))
        for secret in app.secrets:
            name = _name(secret.namespace, secret.name, app.namespace)
            table.add_row(app.label if first else "", "InfisicalSecret", name, _synced(secret), "")
            first = False
            if secret.synced is not True:
                why = _why(secret.present, secret.reason, secret.message, "not synced")
                problems.append((f"{app.label} InfisicalSecret {name}", why))
            _managed_rows(table, app, secret, problems)
        table.add_section()
    return table


def _managed_rows(
    table: Table, app: AppStatus, secret: SecretStatus, problems: list[tuple[str, str]]
) -> None:
    for managed in secret.managed:
        name = _name(managed.namespace, managed.name, app.namespace)
        cell = Text("exists", style="green") if managed.exists else Text("missing", "bold red")
        table.add_row("", "  Secret", name, cell, "")
        if not managed.exists:
            problems.append(
                (
                    f"{app.label} Secret {name}",
                    f"not in the cluster; InfisicalSecret {secret.name} has not created it",
                )
            )


def _ready(obj: ObjectStatus) -> Text:
    if not obj.present:
        return Text("missing", style="bold red")
    if obj.ready is True:
        text = Text("Ready", style="green")
    elif obj.ready is False:
        text = Text("not ready", style="bold red")
    else:
        text = Text("unknown", style="yellow")
    if obj.suspended:
        text.append(" (suspended)", style="yellow")
    return text


def _synced(secret: SecretStatus) -> Text:
    if not secret.present:
        return Text("missing", style="bold red")
    if secret.synced is True:
        return Text("synced", style="green")
    if secret.synced is False:
        return Text("not synced", style="bold red")
    return Text("unknown", style="yellow")


def _why(present: bool, reason: str | None, message: str | None, fallback: str) -> str:
    if not present:
        return "not in the cluster"
    if reason and message:
        return f"{reason}: {message}"
    return reason or message or fallback


# ---------------------------------------------------------------------- drift


def render_drift(report: DriftReport, console: Console) -> None:
    """The missing, extra and lagging objects, one table each, or that all match."""
    console.print(Text(_title(report.server, report.context), style="bold"))
    if report.clean:
        console.print(Text("No drift: the cluster matches the repository.", style="bold green"))
        return
    if report.missing:
        console.print(Text("Declared in git, missing from the cluster", style="bold"))
        table = _table("Object", "Declared in", "Reason")
        for item in report.missing:
            table.add_row(str(item.key), f"{item.path}:{item.line}", item.reason)
        console.print(table)
    if report.extra:
        console.print(Text("Applied by Flux, no longer in git", style="bold"))
        table = _table("Object", "Applied by Kustomization")
        for extra in report.extra:
            table.add_row(str(extra.key), extra.owner)
        console.print(table)
    if report.lagging:
        console.print(Text("Kustomizations behind their revision", style="bold"))
        for lag in report.lagging:
            what = f"  {lag.namespace}/{lag.name}"
            console.print(Text.assemble((what, "bold"), ": ", lag.reason), soft_wrap=True)
    counts = (
        f"{len(report.missing)} missing, {len(report.extra)} not in git, "
        f"{len(report.lagging)} lagging"
    )
    console.print(Text(counts, style="bold red"))


# ---------------------------------------------------------------------- doctor


def render_doctor(report: DoctorReport, console: Console) -> None:
    """One line per broken link (app, object, problem, next command), its details
    indented below it, then the summary."""
    console.print(Text(_title(report.server, report.context), style="bold"))
    for app in report.apps:
        for finding in app.findings:
            error = finding.severity == "error"
            console.print(
                Text.assemble(
                    (app.label, "bold"),
                    " ",
                    ("✗" if error else "!", "bold red" if error else "yellow"),
                    " ",
                    (finding.label, "bold"),
                    " ",
                    finding.problem,
                    ("  → ", "dim"),
                    (finding.next_command, "cyan"),
                ),
                soft_wrap=True,
            )
            for detail in finding.details:
                console.print(Text(f"    {detail}", style="dim"), soft_wrap=True)
    console.print(Text(report.summary(), style="bold green" if report.ok else "bold red"))


# ---------------------------------------------------------------------- shared


def render_heading(cluster: str, console: Console) -> None:
    """The line that opens one cluster's section when several are asked."""
    console.print(Text(f"Cluster {cluster} of the repository", style="bold underline"))


def _table(*headers: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold", no_wrap=header in ("Kind", "Ready"))
    return table


def _title(server: str, context: str | None) -> str:
    return f"Cluster {server}" + (f" (context {context})" if context else "")


def _name(namespace: str, name: str, app_namespace: str | None) -> str:
    return name if namespace == app_namespace else f"{namespace}/{name}"
