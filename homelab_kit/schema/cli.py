"""``homelab-kit validate FILE...|-`` and the ``homelab-kit schemas`` group.

Thin: parse the flags, find the settings (flags, then the repository's
``.homelab-kit.yaml``, then ``talos/talenv.yaml``), ask :mod:`homelab_kit.schema`, print.

Exit codes: 0 no error, 1 a schema violation (or a kind without schema with
``--missing-schema error``), 2 bad input (unknown Kubernetes version, unreadable file).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from homelab_kit.errors import HomelabKitError, RepoNotFoundError

EXIT_OK = 0
EXIT_FINDINGS = 1


def _decoded(name: str, data: bytes) -> str:
    """Text as the linter reads it (UTF-8, or UTF-16/32 with a BOM); else a clear error."""
    from homelab_kit.yaml.reader import decode

    text, _, problem = decode(data)
    if text is None:
        assert problem is not None
        reason = problem.message.removesuffix("; skipped")
        if problem.line:
            reason += f" at line {problem.line}, column {problem.column}"
        raise HomelabKitError(f"{name}: cannot read: {reason}")
    return text


def _settings(anchor: str) -> dict[str, Any]:
    """What the repository around ``anchor`` configures (nothing outside a repository)."""
    from homelab_kit.config import load_config
    from homelab_kit.model.loader import find_root
    from homelab_kit.yaml import load_file

    try:
        root = find_root(anchor)
    except RepoNotFoundError:
        return {}
    config = load_config(root)
    settings: dict[str, Any] = {
        "root": root,
        "kubernetes_version": config.kubernetes_version,
        "locations": [
            loc if "://" in loc or Path(loc).is_absolute() else str(root / loc)
            for loc in config.schema_locations
        ],
        "missing_schema": config.missing_schema,
    }
    if settings["kubernetes_version"] is None:
        for name in ("talos/talenv.yaml", "talos/talenv.yml"):
            talenv = root / name
            if talenv.is_file():
                documents = load_file(str(talenv), name).documents
                data = documents[0].data if documents else None
                if isinstance(data, dict) and isinstance(data.get("kubernetesVersion"), str):
                    settings["kubernetes_version"] = data["kubernetesVersion"]
                break
    return settings


def _variables(pairs: Sequence[str]) -> dict[str, str] | None:
    if not pairs:
        return None
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise HomelabKitError(f"--var {pair!r}: expected NAME=VALUE")
        found[name] = value
    return found


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...|-")
@click.option(
    "--kubernetes-version",
    metavar="VERSION",
    help="Validate against this Kubernetes version. Default: the repository's "
    "kubernetes-version, else talos/talenv.yaml, else the newest available.",
)
@click.option(
    "--schema-location",
    "locations",
    multiple=True,
    metavar="DIR|TEMPLATE",
    help="Extra schema directory or kubeconform-style template (repeatable).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="The schema cache ('homelab-kit schemas pull'). "
    "Default: $XDG_CACHE_HOME/homelab-kit/schemas.",
)
@click.option(
    "--missing-schema",
    type=click.Choice(["error", "warning", "ignore"]),
    help="What a kind without any schema is. Default: the repository's setting, else warning.",
)
@click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE", help="A Flux variable.")
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def validate(
    files: tuple[str, ...],
    kubernetes_version: str | None,
    locations: tuple[str, ...],
    cache_dir: str | None,
    missing_schema: str | None,
    var_pairs: tuple[str, ...],
    output_format: str,
) -> None:
    """Validate Kubernetes manifests strictly against their schemas ('-' reads stdin).

    CustomResourceDefinitions among the files validate the custom resources beside them.
    """
    from homelab_kit.schema.catalog import available_versions
    from homelab_kit.schema.crd import default_cache_dir
    from homelab_kit.schema.registry import SchemaRegistry
    from homelab_kit.schema.validate import validate_stream
    from homelab_kit.yaml import parse_text

    settings = _settings(next((f for f in files if f != "-"), "."))
    version = kubernetes_version or settings.get("kubernetes_version")
    if version is None:
        versions = available_versions()
        if not versions:
            raise HomelabKitError("no Kubernetes schemas: install 'kubernetes-validate'")
        version = versions[-1]
    policy = missing_schema or settings.get("missing_schema") or "warning"
    texts: list[tuple[str, str]] = []
    for name in files:
        if name == "-":
            stdin = getattr(sys.stdin, "buffer", None)
            data = stdin.read() if stdin is not None else sys.stdin.read().encode("utf-8")
            texts.append(("<stdin>", _decoded("<stdin>", data)))
            continue
        try:
            texts.append((name, _decoded(name, Path(name).read_bytes())))
        except OSError as exc:
            raise HomelabKitError(f"{name}: cannot read: {exc}") from exc
    crds = [
        document.data
        for _, text in texts
        for document in parse_text(text)[0]
        if isinstance(document.data, dict)
        and document.data.get("kind") == "CustomResourceDefinition"
    ]
    registry = SchemaRegistry(
        version,
        locations=[*locations, *settings.get("locations", ())],
        crds=crds,
        cache_dir=Path(cache_dir) if cache_dir else default_cache_dir(),
    )
    variables = _variables(var_pairs)
    results: list[dict[str, Any]] = []
    failing = False
    for name, text in texts:
        for violation in validate_stream(text, registry, variables=variables):
            if violation.code == "no-schema":
                if policy == "ignore":
                    continue
                severity = policy
            else:
                severity = "error"
            failing = failing or severity == "error"
            results.append(
                {
                    "file": name,
                    "line": violation.line,
                    "column": violation.column,
                    "severity": severity,
                    "code": violation.code,
                    "message": violation.message,
                }
            )
    if output_format == "json":
        click.echo(json.dumps(results, indent=2))
    else:
        for item in results:
            click.echo(
                f"{item['file']}:{item['line']}:{item['column']}: {item['severity']}: "
                f"{item['message']} [{item['code']}]"
            )
        for skipped in registry.skipped_locations:
            click.echo(
                f"homelab-kit: note: remote schema location not fetched: {skipped}", err=True
            )
    sys.exit(EXIT_FINDINGS if failing else EXIT_OK)


@click.group()
def schemas() -> None:
    """Manage the schema cache that validation reads offline."""


try:  # `schemas pull` lives with the cluster client
    from homelab_kit.cluster.cli import schemas_pull

    schemas.add_command(schemas_pull)
except ImportError:  # pragma: no cover - the cluster subsystem is optional
    pass
