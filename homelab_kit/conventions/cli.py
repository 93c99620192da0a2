"""``homelab-kit init``: write the ``.homelab-kit.yaml`` the repository's conventions call for."""

from __future__ import annotations

import tempfile
from pathlib import Path

import attrs
import click

from homelab_kit.cli import repository_path
from homelab_kit.config import CONFIG_FILENAME, Config, load_config
from homelab_kit.conventions import describe, detect, render_config
from homelab_kit.errors import ConfigError, HomelabKitError
from homelab_kit.fsutil import atomic_write_text
from homelab_kit.lint import load_options, registered_checks, selected_checks
from homelab_kit.model.loader import find_root, load
from homelab_kit.plugins import get_plugin_manager


@click.command()
@click.argument("path", required=False, type=click.Path(file_okay=False, dir_okay=True))
@repository_path
@click.option(
    "--force", is_flag=True, help="Rewrite an existing .homelab-kit.yaml (its other keys kept)."
)
@click.option("--dry-run", is_flag=True, help="Print the file instead of writing it.")
def init(path: str, force: bool, dry_run: bool) -> None:
    """Detect the repository's conventions and write .homelab-kit.yaml.

    Prints each convention with how many objects follow it and which do not; the
    file selects the preset and options that fit, and ignores what the repository
    does not do consistently.
    """
    root = find_root(path)
    target = root / CONFIG_FILENAME
    existing: str | None = None
    if target.is_symlink():  # never read, quote or write through a link the repository holds
        raise HomelabKitError(f"{target} is a symbolic link; init neither reads nor replaces it")
    if target.exists():
        if not (force or dry_run):
            raise HomelabKitError(
                f"{target} exists; `homelab-kit init --force` rewrites it, keeping its other keys"
            )
        existing = target.read_text(encoding="utf-8")
    try:
        config = load_config(root)
    except ConfigError:
        if not force:
            raise
        config = Config(root=root)
    pm = get_plugin_manager()
    checks = registered_checks(pm)
    kinds = [k for _, k in pm.registered("homelab_kit_register_kinds")]
    repo = load(root, load_options(config, pm), kinds=kinds)
    found = detect(repo, checks)
    for line in describe(found):
        click.echo(line)
    text = render_config(found, existing)
    with tempfile.TemporaryDirectory() as scratch:  # what is written must lint clean
        trial = Path(scratch) / CONFIG_FILENAME
        trial.write_text(text, encoding="utf-8")
        selected_checks(checks, attrs.evolve(load_config(root, trial), root=root))
    if dry_run:
        click.echo(text, nl=False)
        return
    try:
        atomic_write_text(target, text)
    except OSError as exc:
        raise HomelabKitError(f"cannot write {target}: {exc.strerror or exc}") from None
    data = found.configuration()
    click.echo(
        f"Wrote {CONFIG_FILENAME}: preset {data['preset']}, {len(found.followed)} convention(s) "
        f"followed, {len(found.not_followed)} ignored."
    )
