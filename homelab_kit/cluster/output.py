"""Tables for ``homelab-kit status`` and ``homelab-kit drift`` on a terminal (rich).

Only names, conditions, revisions and messages are shown: no model here holds a
Secret value, so none can be printed.
"""

from __future__ import annotations

import os

from rich.console import Console
from rich.table import Table
from rich.text import Text

from homelab_kit.cluster.drift import DriftReport
from homelab_kit.cluster.status import ClusterStatus, ObjectStatus, SecretStatus

_WIDTH_OFF_TERMINAL = 160


def make_console() -> Console:
    """A console on standard output; wide when output goes to a file or a pipe."""
    console = Console(highlight=False, soft_wrap=False)
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


def render_status(status: ClusterStatus, console: Console) -> None:
    """Print one row per Kustomization, HelmRelease, InfisicalSecret and managed Secret."""
    table = Table(title=_title(status.server, status.context), title_justify="left", expand=False)
    for header in ("App", "Kind", "Name", "Ready", "Suspended", "Revision"):
        table.add_column(header, no_wrap=True)
    table.add_column("Message", overflow="fold")
    for app in status.apps:
        first = True
        for obj in (*app.kustomizations, *app.helm_releases):
            table.add_row(
                app.label if first else "",
                obj.kind,
                _name(obj.namespace, obj.name, app.namespace),
                _ready(obj),
                "yes" if obj.suspended else "",
                short_revision(obj.revision) if obj.present else "",
                _explain(obj.present, obj.ok, obj.reason, obj.message),
            )
            first = False
        for secret in app.secrets:
            table.add_row(
                app.label if first else "",
                "InfisicalSecret",
                _name(secret.namespace, secret.name, app.namespace),
                _synced(secret),
                "",
                "",
                _explain(secret.present, secret.synced is True, secret.reason, secret.message),
            )
            first = False
            for managed in secret.managed:
                table.add_row(
                    "",
                    "  Secret",
                    _name(managed.namespace, managed.name, app.namespace),
                    Text("exists", style="green")
                    if managed.exists
                    else Text("missing", style="bold red"),
                    "",
                    "",
                    "" if managed.exists else "managed by the InfisicalSecret, not created yet",
                )
        table.add_section()
    console.print(table)
    failing = [app for app in status.apps if not app.ok]
    summary = f"{len(status.apps)} apps, {len(failing)} not ready"
    console.print(Text(summary, style="bold red" if failing else "bold green"))


def render_drift(report: DriftReport, console: Console) -> None:
    """Print the missing, extra and lagging objects, one table each, or that all match."""
    console.print(Text(_title(report.server, report.context), style="bold"))
    if report.clean:
        console.print(Text("No drift: the cluster matches the repository.", style="bold green"))
        return
    if report.missing:
        table = Table(title="Declared in git, missing from the cluster", title_justify="left")
        for header in ("Object", "Declared in", "Reason"):
            table.add_column(header, overflow="fold")
        for item in report.missing:
            table.add_row(str(item.key), f"{item.path}:{item.line}", item.reason)
        console.print(table)
    if report.extra:
        table = Table(title="Applied by Flux, no longer in git", title_justify="left")
        for header in ("Object", "Applied by Kustomization"):
            table.add_column(header, overflow="fold")
        for extra in report.extra:
            table.add_row(str(extra.key), extra.owner)
        console.print(table)
    if report.lagging:
        table = Table(title="Kustomizations behind their revision", title_justify="left")
        for header in ("Kustomization", "Applied", "Reason"):
            table.add_column(header, overflow="fold")
        for lag in report.lagging:
            table.add_row(f"{lag.namespace}/{lag.name}", short_revision(lag.applied), lag.reason)
        console.print(table)
    counts = (
        f"{len(report.missing)} missing, {len(report.extra)} not in git, "
        f"{len(report.lagging)} lagging"
    )
    console.print(Text(counts, style="bold red"))


def _title(server: str, context: str | None) -> str:
    return f"Cluster {server}" + (f" (context {context})" if context else "")


def _name(namespace: str, name: str, app_namespace: str | None) -> str:
    return name if namespace == app_namespace else f"{namespace}/{name}"


def _ready(obj: ObjectStatus) -> Text:
    if not obj.present:
        return Text("missing", style="bold red")
    if obj.ready is True:
        return Text("Ready", style="green")
    if obj.ready is False:
        return Text("not ready", style="bold red")
    return Text("unknown", style="yellow")


def _synced(secret: SecretStatus) -> Text:
    if not secret.present:
        return Text("missing", style="bold red")
    if secret.synced is True:
        return Text("synced", style="green")
    if secret.synced is False:
        return Text("not synced", style="bold red")
    return Text("unknown", style="yellow")


def _explain(present: bool, ok: bool, reason: str | None, message: str | None) -> str:
    if not present:
        return "not in the cluster"
    if ok:
        return ""
    if reason and message:
        return f"{reason}: {message}"
    return reason or message or ""
