"""How a :class:`DiffResult` is printed: text (coloured on a terminal), markdown, json.

The markdown is made for a pull request comment: a summary table, then one
collapsible ``<details>`` section per Flux Kustomization, and never more than
:data:`MARKDOWN_LIMIT` characters (GitHub refuses a longer comment): objects that
do not fit are counted in one "N more objects changed" line.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

import attrs
import click

from homelab_kit.diff.compare import DiffResult, ObjectChange

MARKDOWN_LIMIT = 65_536
MARKER = "<!-- homelab-kit diff -->"
"""The first line of the markdown: lets a CI job find, and update, its earlier comment."""
_MARK = {"added": "+", "removed": "-", "changed": "~"}
_COLOUR = {"added": "green", "removed": "red", "changed": "yellow"}
JSON_VERSION = 1


def summary_line(result: DiffResult) -> str:
    counts = result.counts()
    total = sum(counts.values())
    if not total:
        return f"No changes between {result.base} and {result.head}."
    groups = len(result.groups())
    return (
        f"{total} object{'s' if total != 1 else ''} changed in {groups} "
        f"Kustomization{'s' if groups != 1 else ''} ({counts['added']} added, "
        f"{counts['removed']} removed, {counts['changed']} changed) "
        f"between {result.base} and {result.head}."
    )


# --------------------------------------------------------------------------- text


def render_text(result: DiffResult, *, color: bool = False) -> str:
    """Grouped by cluster, then Flux Kustomization; unified diffs indented below each object."""

    def style(text: str, **kwargs: Any) -> str:
        return click.style(text, **kwargs) if color else text

    out: list[str] = []
    cluster = None
    for name, ks, changes in result.groups():
        if name != cluster:
            cluster = name
            out.append(style(f"cluster {name}", bold=True))
        out.append(style(f"  Kustomization {ks}", bold=True))
        for change in changes:
            mark = _MARK[change.status]
            head = f"    {mark} {change.title}"
            out.append(f"{style(head, fg=_COLOUR[change.status])}  ({change.source})")
            out.extend(f"        {note}" for note in change.notes)
            for line in change.diff:
                out.append("        " + _diff_line(line, style))
    for error in result.errors:
        out.append(
            style(
                f"error: cluster {error.cluster}: Kustomization {error.kustomization}: ", fg="red"
            )
            + f"{error.message} ({error.source})"
        )
    out.append(summary_line(result))
    return "\n".join(out) + "\n"


def _diff_line(line: str, style: Callable[..., str]) -> str:
    if line.startswith(("+++", "---")):
        return style(line, bold=True)
    if line.startswith("+"):
        return style(line, fg="green")
    if line.startswith("-"):
        return style(line, fg="red")
    if line.startswith("@@"):
        return style(line, fg="cyan")
    return line


# --------------------------------------------------------------------------- json


def render_json(result: DiffResult) -> str:
    """The documented JSON shape (docs/diff.md), ``version`` 1."""
    document = {
        "version": JSON_VERSION,
        "base": result.base,
        "head": result.head,
        "clusters": list(result.clusters),
        "summary": result.counts(),
        "changes": [
            {
                "cluster": c.cluster,
                "kustomization": c.kustomization,
                "status": c.status,
                "apiVersion": c.api_version,
                "kind": c.kind,
                "namespace": c.namespace,
                "name": c.name,
                "source": str(c.source),
                "notes": list(c.notes),
                "diff": "\n".join(c.diff),
            }
            for c in result.changes
        ],
        "errors": [
            {
                "cluster": e.cluster,
                "kustomization": e.kustomization,
                "message": e.message,
                "source": str(e.source),
            }
            for e in result.errors
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- markdown


def render_markdown(result: DiffResult, *, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull request comment: a summary table, one ``<details>`` per Kustomization.

    Never longer than ``limit`` characters: what does not fit is counted.
    """
    head = [MARKER, f"### homelab-kit diff: `{result.base}` → `{result.head}`", ""]
    groups = result.groups()
    if not groups and not result.errors:
        return "\n".join([*head, "No changes to any cluster's desired state.", ""])
    table = ["| Cluster | Kustomization | Added | Removed | Changed |", "|---|---|--:|--:|--:|"]
    for cluster, ks, changes in groups:
        n = {s: sum(1 for c in changes if c.status == s) for s in _MARK}
        table.append(
            f"| {_cell(cluster)} | {_cell(ks)} | {n['added']} | {n['removed']} | {n['changed']} |"
        )
    errors = [
        f"> **Error** in `{_code(e.cluster)}` Kustomization `{_code(e.kustomization)}`: "
        f"{_cell(e.message)} ({_cell(str(e.source))})"
        for e in result.errors
    ]
    top = "\n".join([*head, summary_line(result), "", *table, "", *errors, ""]) + "\n"
    reserve = 400  # room for the "N more objects" note
    budget = limit - len(top) - reserve
    sections: list[str] = []
    shown = 0
    for cluster, ks, changes in groups:
        count = f"{len(changes)} object{'s' if len(changes) != 1 else ''}"
        opening = (
            f"<details><summary><code>{_html(cluster)}</code> · "
            f"<code>{_html(ks)}</code>: {count}</summary>\n\n"
        )
        closing = "</details>\n"
        body: list[str] = []
        used = len(opening) + len(closing)
        for change in changes:
            piece = _markdown_change(change)
            if used + len(piece) > budget and not body and shown == 0:
                piece = _markdown_change(change, room=budget - used)  # one huge object
            if used + len(piece) > budget:
                break
            body.append(piece)
            used += len(piece)
        if not body:
            break
        sections.append(opening + "".join(body) + closing)
        budget -= used
        shown += len(body)
        if len(body) < len(changes):
            break
    total = len(result.changes)
    text = top + "\n".join(sections)
    if shown < total:
        more = total - shown
        text += (
            f"\n**{more} more object{'s' if more != 1 else ''} changed** (not shown: a pull "
            "request comment holds at most 65,536 characters). Run `homelab-kit diff` for all.\n"
        )
    return text


def _markdown_change(change: ObjectChange, room: int | None = None) -> str:
    """One object; with ``room``, its diff cut to fit in that many characters."""
    if room is not None:
        diff = change.diff
        cut = len(diff)
        while cut > 0 and len(_markdown_change(attrs.evolve(change, diff=diff[:cut]))) > room - 200:
            cut = cut * 3 // 4
        note = f"... {len(diff) - cut} more lines of this diff: run `homelab-kit diff`"
        change = attrs.evolve(change, diff=(*diff[:cut], note))
    lines = [
        f"**{_MARK[change.status]} {_cell(change.title)}** "
        f"({change.status}, `{_code(str(change.source))}`)",
        "",
    ]
    lines += [f"- {_cell(note)}" for note in change.notes]
    if change.notes:
        lines.append("")
    if change.diff:
        body = "\n".join(change.diff)
        fence = "`" * max(3, _longest_backticks(body) + 1)
        lines += [f"{fence}diff", body, fence, ""]
    return "\n".join(lines) + "\n"


def _longest_backticks(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def _html(text: str) -> str:
    return html.escape(text, quote=True)


def _code(text: str) -> str:
    return text.replace("`", "'")


def _cell(text: str) -> str:
    """Text safe in a table cell and in running Markdown (no HTML, no pipes)."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")  # no tag can open
    return escaped.replace("|", "\\|").replace("\n", " ")
