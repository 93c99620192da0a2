"""``homelab-kit report --html``: one self-contained HTML file about a repository.

The page holds a summary, the lint findings grouped by namespace and check (each
linking to its file and line), the Flux dependency graph and the secrets map.
Styles and the few lines of script are inline: the file opens from disk, from a
CI artifact or an e-mail attachment, and loads nothing from the network (its
Content-Security-Policy forbids it).

Only names, paths, keys and the checks' messages appear: the report never reads
a secret value, let alone shows one.
"""

from __future__ import annotations

import html
import os
import posixpath
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

from homelab_kit.diagnostic import Diagnostic, Severity
from homelab_kit.graph.model import FluxGraph, GraphNode
from homelab_kit.graph.render import GRAPH_SCRIPT, WHOLE_REPOSITORY, graph_views, html_page
from homelab_kit.lint.result import LintResult
from homelab_kit.location import Location
from homelab_kit.model.repo import Repo
from homelab_kit.secrets_map import (
    MappedSecret,
    NamespaceSecrets,
    SecretsMap,
    exposure_line,
    percent,
)

REPOSITORY = "(repository)"
# The findings open when there are at most this many; the secrets map's
# namespaces when they list at most this many Secrets in all.
OPEN_FINDINGS_UP_TO = 40
OPEN_SECRETS_UP_TO = 60


@attrs.frozen
class Links:
    """How the report links to a file and line.

    With ``base`` (``https://github.com/me/home-ops/blob/main/``) links are
    ``base + path#Lline``; without, they are relative to the report's folder
    (``from_dir``), so the report works when opened next to the repository.
    """

    root: Path
    from_dir: Path
    base: str | None = None

    def href(self, location: Location) -> str:
        """The link of ``location``."""
        anchor = f"#L{location.line}" if location.line > 0 else ""
        if self.base:
            return self.base.rstrip("/") + "/" + location.path + anchor
        # The file itself, never where a symbolic link leads (a loop has no end).
        target = self.root.resolve() / location.path
        try:
            rel = os.path.relpath(target, self.from_dir.resolve())
        except ValueError:  # another drive (Windows)
            return target.as_uri() + anchor
        return posixpath.join(*Path(rel).parts) + anchor


def render_report(
    repo: Repo,
    result: LintResult,
    graph: FluxGraph,
    secrets: SecretsMap,
    *,
    links: Links,
    title: str = "",
    clusters: Sequence[tuple[str, FluxGraph]] = (),
) -> str:
    """The whole report as one HTML document.

    :param repo: the loaded repository (for namespaces of files).
    :param result: the lint findings.
    :param graph: the dependency graph to draw.
    :param secrets: the secrets map.
    :param links: how to link to files.
    :param title: the page title (default: the repository folder's name).
    :param clusters: one graph per cluster, ``(name, graph)``, when there are
        several: a selector shows ``graph`` (the whole repository) or one of them.
    :returns: the HTML text.
    """
    name = title or f"homelab-kit report: {repo.root.name}"
    subtitle = (
        f"homelab-kit {result.tool_version or ''} · {result.files} files, {result.apps} apps, "
        f"{result.namespaces} namespaces"
    )
    body = "\n".join(
        [
            _nav(),
            '<section id="summary"><h2>Summary</h2>',
            _summary(result, graph, secrets),
            "</section>",
            '<section id="findings"><h2>Findings</h2>',
            _findings(repo, result, links),
            "</section>",
            '<section id="graph"><h2>Dependency graph</h2>',
            '<p class="muted">Flux Kustomizations by namespace; an arrow runs from a '
            "dependency to what depends on it, so everything left of a node is applied "
            "before it.</p>",
            graph_views(
                [(WHOLE_REPOSITORY, graph), *clusters],
                id_prefix="report",
                link=_node_link(links),
                href=links.href,
            ),
            "</section>",
            '<section id="secrets"><h2>Secrets map</h2>',
            _secrets(secrets, links),
            "</section>",
        ]
    )
    return html_page(name, body, subtitle=subtitle, scripts=(GRAPH_SCRIPT,))


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _nav() -> str:
    items = (
        ("summary", "Summary"),
        ("findings", "Findings"),
        ("graph", "Dependency graph"),
        ("secrets", "Secrets map"),
    )
    links = " · ".join(f'<a href="#{anchor}">{label}</a>' for anchor, label in items)
    return f'<nav class="top">{links}</nav>'


def _link(links: Links, location: Location) -> str:
    return f'<a class="mono" href="{_esc(links.href(location))}">{_esc(location)}</a>'


def _node_link(links: Links) -> Callable[[GraphNode], str | None]:
    def link(node: GraphNode) -> str | None:
        return links.href(node.location) if node.location is not None else None

    return link


def _card(value: object, label: str, tone: str = "") -> str:
    return f'<div class="card {tone}"><b>{_esc(value)}</b><span>{_esc(label)}</span></div>'


def _summary(result: LintResult, graph: FluxGraph, secrets: SecretsMap) -> str:
    counts = result.counts_by_severity()
    errors, warnings, info = counts[Severity.ERROR], counts[Severity.WARNING], counts[Severity.INFO]
    reduction = secrets.reduction
    cards = [
        _card(errors, "errors", "bad" if errors else "good"),
        _card(warnings, "warnings", "warn" if warnings else "good"),
        _card(info, "info"),
        _card(result.apps, "apps"),
        _card(result.namespaces, "namespaces"),
        _card(len(graph.cycles), "dependency cycles", "bad" if graph.cycles else "good"),
        _card(len(graph.dangling), "dangling dependsOn", "warn" if graph.dangling else "good"),
        _card(len(secrets.findings), "secrets findings", "warn" if secrets.findings else "good"),
        _card(percent(reduction), "secret exposure below shared"),
    ]
    by_check = result.counts_by_check()
    rows = "".join(
        f"<tr><td><code>{_esc(check)}</code></td><td>{_esc(_summary_of(result, check))}</td>"
        f"<td>{count}</td></tr>"
        for check, count in by_check.items()
    )
    table = (
        f"<table><thead><tr><th>Check</th><th>What it checks</th><th>Findings</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if rows
        else '<p class="muted">All checks passed.</p>'
    )
    return f'<div class="cards">{"".join(cards)}</div>{table}'


def _summary_of(result: LintResult, check_id: str) -> str:
    info = result.check(check_id)
    return info.summary if info else ""


def namespace_of(repo: Repo, path: str) -> str:
    """The namespace a finding in ``path`` belongs to, for grouping."""
    app = repo.app_of_file(path)
    if app is not None:
        return app.namespace
    return repo.namespace_of_file(path) or REPOSITORY


def _findings(repo: Repo, result: LintResult, links: Links) -> str:
    if not result.diagnostics:
        return '<p class="muted">No findings.</p>'
    groups: dict[str, dict[str, list[Diagnostic]]] = {}
    for d in result.diagnostics:
        ns = namespace_of(repo, d.location.path)
        groups.setdefault(ns, {}).setdefault(d.check_id, []).append(d)
    parts: list[str] = []
    expand = " open" if len(result.diagnostics) <= OPEN_FINDINGS_UP_TO else ""
    for ns in sorted(groups, key=lambda n: (n == REPOSITORY, n)):
        checks = groups[ns]
        total = sum(len(v) for v in checks.values())
        worst = max(d.severity for v in checks.values() for d in v)
        parts.append(
            f'<details{expand} id="ns-{_esc(ns)}"><summary><b>{_esc(ns)}</b> '
            f'<span class="sev {worst}">{total}</span></summary>'
        )
        for check_id in sorted(checks):
            diags = checks[check_id]
            parts.append(
                f"<h3><code>{_esc(check_id)}</code> "
                f'<span class="muted">{_esc(_summary_of(result, check_id))}</span></h3>'
            )
            parts.append(
                "<table><thead><tr><th>Severity</th><th>Where</th><th>Problem</th>"
                "<th>Fix</th></tr></thead><tbody>"
            )
            for d in diags:
                parts.append(
                    f'<tr><td><span class="sev {d.severity}">{d.severity}</span></td>'
                    f"<td>{_link(links, d.location)}</td><td>{_esc(d.labelled_message)}</td>"
                    f"<td>{_esc(d.remediation)}</td></tr>"
                )
            parts.append("</tbody></table>")
        parts.append("</details>")
    return "\n".join(parts)


def _secrets(secrets: SecretsMap, links: Links) -> str:
    parts = [
        '<p class="muted">Per namespace: what creates each Secret, where its values come from, '
        "and the apps that read it. <b>Apps</b> counts the apps reading it out of the apps "
        "that could mount it; exposure counts app-secret pairs, compared with one shared "
        "namespace Secret read by every app (the conventions' pattern claims 87% less).</p>",
        '<div class="cards">',
        _card(secrets.exposure, "exposure (app-secret pairs)"),
        _card(secrets.least_privilege, "least privilege"),
        _card(secrets.shared, "one shared secret per namespace"),
        _card(percent(secrets.reduction), "below shared"),
        "</div>",
    ]
    if secrets.findings:
        parts.append("<h3>Findings</h3><table><thead><tr><th>Flag</th><th>Where</th>")
        parts.append("<th>Problem</th></tr></thead><tbody>")
        for f in secrets.findings:
            parts.append(
                f'<tr><td><span class="flag {_flag_tone(f.kind)}">{_esc(f.kind)}</span></td>'
                f"<td>{_link(links, f.location)}</td><td>{_esc(f.message)}</td></tr>"
            )
        parts.append("</tbody></table>")
    # a large map opens folded: one line per namespace, each opened on its own
    rows = sum(len(ns.secrets) for ns in secrets.namespaces)
    expand = rows <= OPEN_SECRETS_UP_TO
    for ns in secrets.namespaces:
        parts.append(_namespace_secrets(ns, links, expand=expand))
    return "\n".join(parts)


def _flag_tone(kind: str) -> str:
    return "bad" if kind in ("missing-producer", "over-broad-scope") else ""


def _namespace_secrets(ns: NamespaceSecrets, links: Links, *, expand: bool) -> str:
    rows = "".join(_secret_row(s, links) for s in ns.secrets)
    flagged = sum(1 for s in ns.secrets if s.flags)
    flags = f' <span class="flag bad">{flagged} flagged</span>' if flagged else ""
    return (
        f'<details class="secrets"{" open" if expand else ""}><summary>'
        f'<h3 id="secrets-{_esc(ns.namespace)}">{_esc(ns.namespace)} '
        f'<span class="muted">{_esc(exposure_line(ns))}</span>{flags}</h3></summary>'
        "<table><thead><tr><th>Producer</th><th>Source</th><th>Secret</th><th>Read by</th>"
        f"<th>Apps</th><th>Flags</th></tr></thead><tbody>{rows}</tbody></table></details>"
    )


def _secret_row(secret: MappedSecret, links: Links) -> str:
    if secret.producers:
        producers = "<br>".join(
            f'{_esc(p.kind)} <a href="{_esc(links.href(p.location))}">{_esc(p.name)}</a>'
            for p in secret.producers
        )
        sources = "<br>".join(
            f'<span class="mono">{_esc(s)}</span>'
            for s in dict.fromkeys(p.source for p in secret.producers)
        )
    else:
        producers = '<span class="muted">(external)</span>' if secret.external else "(none)"
        sources = "-"
    readers = _readers(secret, links)
    apps = f"{len(secret.reader_apps)}/{secret.apps_in_namespace}" if secret.counted else "-"
    if secret.counted and secret.breadth > 1:
        apps += f" x{secret.breadth}"
    keys = next((p.keys for p in secret.producers if p.keys), None)
    key_line = f'<br><span class="muted mono">keys: {_esc(", ".join(keys))}</span>' if keys else ""
    flags = "".join(f'<span class="flag {_flag_tone(f)}">{_esc(f)}</span>' for f in secret.flags)
    return (
        f"<tr><td>{producers}</td><td>{sources}</td><td><b>{_esc(secret.name)}</b>{key_line}</td>"
        f"<td>{readers}</td><td>{_esc(apps)}</td><td>{flags}</td></tr>"
    )


def _readers(secret: MappedSecret, links: Links) -> str:
    if not secret.readers:
        return '<span class="muted">nothing</span>'
    items: list[str] = []
    for r in secret.readers:
        who = r.consumer
        if r.app:
            ns, _, app = r.app.partition("/")
            who = app if ns == secret.namespace else r.app
        items.append(
            f'<a href="{_esc(links.href(r.location))}" title="{_esc(r.consumer)} at '
            f'{_esc(r.location)}">{_esc(who)}</a> <span class="muted">({_esc(r.usage)})</span>'
        )
    return "<br>".join(_unique(items))


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))
