"""The ``homelab-kit diff`` command."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from homelab_kit.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, _fail, repository_path, use_color
from homelab_kit.diff.git import WORKING_TREE


@click.command()
@click.argument("path", required=False, type=click.Path(file_okay=True, dir_okay=True))
@repository_path
@click.option(
    "--base",
    metavar="REF",
    help="The revision to compare with (default: the merge base of HEAD and the default "
    "branch: origin/HEAD, else main, else master).",
)
@click.option(
    "--head",
    metavar="REF",
    default=WORKING_TREE,
    show_default=True,
    help=f"The revision to compare (default: the working tree, {WORKING_TREE}).",
)
@click.option(
    "--cluster",
    "clusters",
    multiple=True,
    metavar="NAME",
    help="Only this cluster (repeatable; default: every cluster).",
)
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text (coloured on a terminal), markdown (a pull request comment) or json.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the diff here.")
@click.option("--color/--no-color", default=None, help="Force colour on or off (text).")
def diff(
    path: str,
    base: str | None,
    head: str,
    clusters: tuple[str, ...],
    output_format: str,
    output: str | None,
    color: bool | None,
) -> None:
    """Show what each cluster would apply differently between two revisions.

    Builds every cluster's desired state at --base and --head (read from Git's
    objects: nothing is checked out) and lists the objects added, removed and
    changed, grouped by cluster and Flux Kustomization.  Secret values are never
    shown.

    Exit codes: 0 no change, 1 changes, 2 errors (including a Kustomization that
    no longer builds at --head).
    """
    from homelab_kit.diff import diff as run_diff
    from homelab_kit.diff.report import render_json, render_markdown, render_text

    coloured = False
    result = run_diff(path, base=base, head=head, clusters=clusters)
    if output_format == "json":
        text = render_json(result)
    elif output_format == "markdown":
        text = render_markdown(result)
    else:
        coloured = not output and use_color(color, sys.stdout)
        text = render_text(result, color=coloured)
    if output:
        from homelab_kit.fsutil import atomic_write_text

        try:
            atomic_write_text(Path(output), text)
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror or exc}")
    else:
        click.echo(text, nl=False, color=(output_format == "text" and coloured) or None)
    if result.errors:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_FINDINGS if result.changes else EXIT_OK)
