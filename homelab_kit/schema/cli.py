"""``homelab-kit validate FILE...|-`` and the ``homelab-kit schemas`` group.

Thin: parse the flags, find the settings (flags, then the repository's
``.homelab-kit.yaml``, then ``talos/talenv.yaml``), ask :mod:`homelab_kit.schema`, print.

Exit codes, as kubeconform's: 0 every resource valid (or skipped), 1 a resource
invalid or in error (a violation, unreadable YAML or file, a rejected kind, a kind
without schema unless missing schemas are ignored); and, as every homelab-kit command,
2 for a usage error (a bad flag, Kubernetes version or schema location).
"""

from __future__ import annotations

import io
import os
import re
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from homelab_kit.errors import HomelabKitError, RepoNotFoundError
from homelab_kit.schema.locations import is_remote
from homelab_kit.schema.output import FORMATS

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
    from homelab_kit.config import CONFIG_FILENAME, load_config
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
            loc if is_remote(loc) or Path(loc).is_absolute() else str(root / loc)
            for loc in config.schema_locations
        ],
        "bundled_schemas": config.bundled_schemas,
    }
    if config.path is not None:  # validate's default is kubeconform's unless set here
        documents = load_file(str(config.path), CONFIG_FILENAME).documents
        data = documents[0].data if documents else None
        if isinstance(data, dict) and "missing-schema" in data:
            settings["missing_schema"] = config.missing_schema
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


def _kinds(values: Sequence[str]) -> frozenset[str]:
    """``--skip A,B --skip C`` -> {A, B, C}."""
    return frozenset(k.strip() for value in values for k in value.split(",") if k.strip())


def _stdin_has_data() -> bool:
    """Whether standard input is a pipe or a file (not a terminal nor /dev/null), as kubeconform."""
    if sys.stdin is None:
        return False
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, io.UnsupportedOperation):
        return True  # a stream without a descriptor (tests, embedding): read it
    return not stat.S_ISCHR(mode)


_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def _inputs(paths: Sequence[str], ignore: Sequence[re.Pattern[str]]) -> list[str]:
    """Files to read, folders expanded recursively (sorted); ``-`` is standard input."""
    found: list[str] = []
    for name in paths:
        path = Path(name)
        if name != "-" and path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                found.extend(
                    os.path.join(root, f) for f in sorted(files) if f.endswith(_MANIFEST_SUFFIXES)
                )
        else:
            found.append(name)
    return [f for f in found if f == "-" or not any(p.search(f) for p in ignore)]


def _read(name: str) -> tuple[str, str | None, str | None]:
    """``(display name, text, problem)`` of a file or of standard input (``-``)."""
    if name == "-":
        stdin = getattr(sys.stdin, "buffer", None)
        data = stdin.read() if stdin is not None else sys.stdin.read().encode("utf-8")
        name = "<stdin>"
    else:
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            return name, None, f"cannot read: {exc.strerror or exc}"
    try:
        return name, _decoded(name, data), None
    except HomelabKitError as exc:
        return name, None, str(exc).removeprefix(f"{name}: ")


@click.command()
@click.argument("paths", nargs=-1, metavar="[FILE|DIR|-]...")
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
    metavar="LOCATION",
    help="Extra schemas (repeatable): a folder, a schema file, a kubeconform template, "
    "an http(s) template (fetched, cached) or 'default'.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="The schema cache ('homelab-kit schemas pull', fetched schemas). "
    "Default: $XDG_CACHE_HOME/homelab-kit/schemas.",
)
@click.option(
    "--missing-schema",
    type=click.Choice(["error", "warning", "ignore"]),
    help="What a kind without any schema is. Default: the repository's missing-schema "
    "if it sets one, else error (as kubeconform).",
)
@click.option(
    "--ignore-missing-schemas",
    is_flag=True,
    help="Skip kinds without a schema (--missing-schema ignore).",
)
@click.option("--skip", "skip", multiple=True, metavar="KIND,...", help="Kinds to skip.")
@click.option(
    "--reject", "reject", multiple=True, metavar="KIND,...", help="Kinds that are errors."
)
@click.option(
    "--ignore-filename-pattern",
    "ignore_patterns",
    multiple=True,
    metavar="REGEX",
    help="Skip files whose path matches (repeatable).",
)
@click.option("--summary", is_flag=True, help="Print a summary line.")
@click.option("--verbose", "-v", is_flag=True, help="Also list valid and skipped resources.")
@click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE", help="A Flux variable.")
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(FORMATS),
    help="Output format (default text).",
)
@click.option(
    "--output",
    "-o",
    "output_alias",
    type=click.Choice(FORMATS),
    help="The same as --format (kubeconform's spelling).",
)
def validate(
    paths: tuple[str, ...],
    kubernetes_version: str | None,
    locations: tuple[str, ...],
    cache_dir: str | None,
    missing_schema: str | None,
    ignore_missing_schemas: bool,
    skip: tuple[str, ...],
    reject: tuple[str, ...],
    ignore_patterns: tuple[str, ...],
    summary: bool,
    verbose: bool,
    var_pairs: tuple[str, ...],
    output_format: str | None,
    output_alias: str | None,
) -> None:
    """Validate Kubernetes manifests strictly against their schemas, like kubeconform.

    Reads files, folders (recursively: *.yaml, *.yml, *.json), '-' or piped standard
    input. A List's items are validated one by one. CustomResourceDefinitions among
    the inputs validate the custom resources beside them.

    Exit codes: 0 every resource valid or skipped, 1 a resource invalid or in error,
    2 usage error (a bad flag, version or schema location).
    """
    from homelab_kit.schema.catalog import available_versions
    from homelab_kit.schema.crd import default_cache_dir
    from homelab_kit.schema.output import render
    from homelab_kit.schema.registry import SchemaRegistry
    from homelab_kit.schema.resources import Policy, Problem, Resource, check_text
    from homelab_kit.yaml import parse_text

    if output_format and output_alias and output_format != output_alias:
        raise click.UsageError("--format and --output disagree")
    output = output_format or output_alias or "text"
    try:
        ignore = [re.compile(p) for p in ignore_patterns]
    except re.error as exc:
        raise click.UsageError(f"--ignore-filename-pattern: {exc}") from None
    paths = paths or ("-",)
    if "-" in paths and not _stdin_has_data():
        raise click.UsageError("nothing to validate: name files or folders, or pipe manifests in")
    settings = _settings(next((f for f in paths if f != "-"), "."))
    version = kubernetes_version or settings.get("kubernetes_version")
    if version is None:
        versions = available_versions()
        if not versions:
            raise HomelabKitError("no Kubernetes schemas: install 'kubernetes-validate'")
        version = versions[-1]
    policy_name = (
        "ignore"
        if ignore_missing_schemas
        else missing_schema or settings.get("missing_schema") or "error"
    )
    texts: list[tuple[str, str | None, str | None]] = [_read(n) for n in _inputs(paths, ignore)]
    crds = [
        document.data
        for _, text, _ in texts
        if text is not None
        for document in parse_text(text)[0]
        if isinstance(document.data, dict)
        and document.data.get("kind") == "CustomResourceDefinition"
    ]
    registry = SchemaRegistry(
        version,
        locations=[*locations, *settings.get("locations", ())],
        crds=crds,
        cache_dir=Path(cache_dir) if cache_dir else default_cache_dir(),
        bundled=settings.get("bundled_schemas", True),
    )
    policy = Policy(
        missing_schema=policy_name,  # type: ignore[arg-type]
        skip=_kinds(skip),
        reject=_kinds(reject),
        variables=_variables(var_pairs),
    )
    resources: list[Resource] = []
    for name, text, problem in texts:
        if text is None:
            assert problem is not None
            resources.append(
                Resource(
                    name, 0, "error", problems=(Problem(0, 0, "error", "unreadable", problem),)
                )
            )
            continue
        resources.extend(check_text(name, text, registry, policy))
    report = render(
        output,
        resources,
        files=sum(1 for name, _, _ in texts if name != "<stdin>"),
        stdin=paths == ("-",),
        summary=summary,
        verbose=verbose,
    )
    if report:
        click.echo(report)
    for warning in registry.warnings:
        click.echo(f"homelab-kit: warning: {warning}", err=True)
    failing = any(r.status in ("invalid", "error") for r in resources)
    sys.exit(EXIT_FINDINGS if failing else EXIT_OK)


@click.group()
def schemas() -> None:
    """Manage the schema cache that validation reads offline."""


try:  # `schemas pull` lives with the cluster client
    from homelab_kit.cluster.cli import schemas_pull

    schemas.add_command(schemas_pull)
except ImportError:  # pragma: no cover - the cluster subsystem is optional
    pass
