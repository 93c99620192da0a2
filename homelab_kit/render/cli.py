"""``homelab-kit build NAMESPACE/NAME [PATH]`` or ``build DIR``: the objects Flux applies.

Thin: load the repository, find the Flux Kustomization, ``Repo.render`` it, print;
or, given a folder, build that plain kustomization as ``kubectl kustomize
--load-restrictor LoadRestrictionsNone`` would (nothing outside the repository is
read).  The objects go to standard output (or ``--output``) as a multi-document YAML
stream, or as one JSON ``List``; warnings and the names of unresolved variables go to
standard error, never a value.

The YAML quotes every string a YAML 1.1 reader would take for something else
(``yes``, ``no``, ``on``, ``off``, ``y``, ``n`` in any case, ``~``, ``0755``,
``2024-01-01``...), as kubectl does, so the output reads back the same with kubectl
or PyYAML.

Exit codes: 0 built (warnings and unresolved variables do not change it); 2 an
unknown or ambiguous Kustomization, or a failed build: one line on standard error.
"""

from __future__ import annotations

import difflib
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from homelab_kit.cli import repository_path
from homelab_kit.errors import HomelabKitError
from homelab_kit.render.backend import BACKENDS
from homelab_kit.render.flux import FluxBuild
from homelab_kit.report._style import one_line

if TYPE_CHECKING:
    from homelab_kit.model.flux import FluxKustomization
    from homelab_kit.model.repo import Repo
    from homelab_kit.render.kustomize import Rendered


def _load(path: str) -> Repo:
    from homelab_kit.config import load_config
    from homelab_kit.lint import load_options
    from homelab_kit.model.loader import find_root, load

    root = find_root(path)
    return load(root, load_options(load_config(root)))


def _display(ks: FluxKustomization) -> str:
    return f"{ks.namespace}/{ks.name}" if ks.namespace else ks.name


def find_kustomization(repo: Repo, reference: str, cluster: str | None = None) -> FluxKustomization:
    """The Flux Kustomization ``NAMESPACE/NAME``, or ``NAME`` when only one has it.

    ``cluster``: only one that cluster applies.

    :raises HomelabKitError: none matches (the message offers close names), a bare
        name is ambiguous (the message lists the namespaces), or one name is written
        in several clusters (the message lists them: give ``--cluster``).
    """
    from homelab_kit.model.clusters import select_clusters

    namespace, slash, name = reference.rpartition("/")
    candidates = [
        ks
        for ks in repo.kustomizations
        if ks.name == name and (not slash or (ks.namespace or "") == namespace)
    ]
    if cluster is not None:
        (chosen,) = select_clusters(repo.clusters, (cluster,))
        built = {k.source for k in chosen.kustomizations}
        candidates = [ks for ks in candidates if ks.source in built]
    if len(candidates) == 1:
        return candidates[0]
    if candidates and len({_display(ks) for ks in candidates}) == 1:
        owners = [
            c.name
            for c in repo.clusters
            if any(k.source in {ks.source for ks in candidates} for k in c.kustomizations)
        ]
        raise HomelabKitError(
            f"Flux Kustomization {_display(candidates[0])} is written "
            f"{len(candidates)} times ({', '.join(str(ks.source) for ks in candidates)}); "
            f"give --cluster ({', '.join(owners) or 'none applies it'})"
        )
    if candidates:
        listed = ", ".join(sorted(_display(ks) for ks in candidates))
        raise HomelabKitError(
            f"Flux Kustomization name {name!r} is ambiguous: {listed}; give NAMESPACE/NAME"
        )
    known = {_display(ks): ks for ks in repo.kustomizations}
    close = difflib.get_close_matches(reference, list(known), n=3, cutoff=0.6)
    if not slash:
        by_name = difflib.get_close_matches(name, [ks.name for ks in known.values()], n=3)
        close += [d for d, ks in known.items() if ks.name in by_name and d not in close]
    hint = (
        f"; did you mean {', '.join(close[:3])}?"
        if close
        else f"; the repository has {len(known)} Flux Kustomizations"
    )
    raise HomelabKitError(f"no Flux Kustomization {reference!r}{hint}")


def _plain(value: Any) -> Any:
    """Plain containers and built-in scalars (``QuotedStr`` -> ``str``) for the dumpers."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


# Plain scalars a YAML 1.1 reader (kubectl's go-yaml v2, PyYAML) resolves to something
# other than a string: booleans, null, integers, floats (sexagesimal too), timestamps,
# merge keys and the value key.  Strings that look like these are written quoted.
_YAML11_IMPLICIT = re.compile(
    r"""(?x)^(?:
      y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
    | ~|null|Null|NULL
    | [-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
    | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    | [-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    | [-+]?[0-9][0-9_]*(?:[eE][-+]?[0-9]+)
    | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
    | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}
      (?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?
         (?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?
    | <<|=
    )$"""
)


def needs_quotes(text: str) -> bool:
    """Whether a YAML 1.1 reader would read ``text``, written plain, as a non-string."""
    return text == "" or _YAML11_IMPLICIT.match(text) is not None


def dump_yaml(objects: Iterable[Any]) -> str:
    """A multi-document YAML stream, keys in the order the build gave them.

    Strings a YAML 1.1 reader would resolve otherwise are double-quoted, as kubectl
    writes them, so the stream means the same to YAML 1.1 and 1.2 readers.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.representer import SafeRepresenter

    class _Representer(SafeRepresenter):
        sort_base_mapping_type_on_output = False

        def represent_str(self, data: str) -> Any:
            style = "|" if "\n" in data else '"' if needs_quotes(data) else None
            return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    _Representer.add_representer(str, _Representer.represent_str)
    yaml = YAML(typ="safe", pure=True)
    yaml.Representer = _Representer
    yaml.default_flow_style = False
    yaml.explicit_start = True
    yaml.width = 1 << 16
    stream = io.StringIO()
    yaml.dump_all([_plain(o) for o in objects], stream)
    return stream.getvalue()


def dump_json(objects: Iterable[Any]) -> str:
    """One ``v1`` ``List`` holding the objects (what ``kubectl get -o json`` prints)."""
    items = [_plain(o) for o in objects]
    document = {"apiVersion": "v1", "kind": "List", "items": items}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@click.command()
@click.argument("kustomization", metavar="NAMESPACE/NAME|DIR")
@click.argument("path", required=False, type=click.Path(file_okay=True, dir_okay=True))
@repository_path
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default="auto",
    show_default=True,
    help="kustomize or kubectl (run as Flux runs kustomize), or python (the built-in "
    "renderer for the common subset). auto: the first binary on PATH, else python.",
)
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="A multi-document YAML stream, or one JSON List.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="Write the objects to this file instead of standard output.",
)
@click.option(
    "--cluster",
    metavar="NAME",
    help="The cluster whose Kustomization this is, and whose substituteFrom objects "
    "are read (default: the one that applies it).",
)
def build(
    kustomization: str,
    path: str,
    backend: str,
    output_format: str,
    output: str | None,
    cluster: str | None,
) -> None:
    """Print the objects the Flux Kustomization NAMESPACE/NAME applies, or a folder's.

    Given a DIR (a folder holding a kustomization.yaml, a Component's too), builds it
    as kubectl kustomize --load-restrictor LoadRestrictionsNone does, reading
    nothing outside the repository that holds it.

    Given NAMESPACE/NAME, builds the Flux Kustomization's spec.path as
    kustomize-controller does: the Flux spec (targetNamespace,
    patches, images, components, namePrefix/nameSuffix) folded into the
    kustomization, postBuild substitution with substituteFrom ConfigMaps and Secrets
    found in the repository at PATH, then commonMetadata. A NAME alone is enough
    when no other namespace has a Kustomization of that name.

    SOPS-encrypted Secrets stay encrypted. Unresolved variables stay as ${NAME}; their
    names, never values, are listed on standard error with any warnings.

    Exit codes: 0 built, 2 an unknown Kustomization or a failed build.
    """
    if Path(kustomization).is_dir():
        _print(build_directory(Path(kustomization), backend), output_format, output)
        return
    if Path(kustomization).exists():
        raise HomelabKitError(f"{kustomization}: not a folder (build takes DIR or NAMESPACE/NAME)")
    if kustomization.startswith(("/", ".", "~")) or kustomization.count("/") > 1:
        raise HomelabKitError(f"{kustomization}: no such folder")
    repo = _load(path)
    ks = find_kustomization(repo, kustomization, cluster)
    result = repo.render(ks.namespace, ks.name, backend=backend, cluster=cluster, ks=ks)
    _print(result, output_format, output)
    if result.unresolved:
        names = ", ".join(sorted(result.unresolved))
        click.echo(
            one_line(
                f"homelab-kit: warning: Kustomization/{_display(ks)}: unresolved variables "
                f"(left as ${{NAME}}): {names}"
            ),
            err=True,
        )


def build_directory(directory: Path, backend: str = "auto") -> Rendered:
    """Build the plain kustomization in ``directory`` within its repository.

    The repository root (nothing outside it is read) is the homelab repository
    holding ``directory``, else its Git work tree, else ``directory`` itself.
    """
    from homelab_kit.errors import RepoNotFoundError
    from homelab_kit.model.loader import find_root
    from homelab_kit.render.backend import render

    directory = directory.resolve()
    try:
        root = find_root(directory)
    except RepoNotFoundError:
        root = next(
            (d for d in (directory, *directory.parents) if (d / ".git").exists()), directory
        )
    return render(directory, root=root, backend=backend)


def _print(result: Rendered | FluxBuild, output_format: str, output: str | None) -> None:
    text = dump_json(result.objects) if output_format == "json" else dump_yaml(result.objects)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise HomelabKitError(f"cannot write {output}: {exc.strerror}") from None
    else:
        click.echo(text, nl=False)
    errors = result.errors if isinstance(result, FluxBuild) else ()
    # Names and paths in a warning come from the repository: one line each, so none
    # can start a line of its own (a forged "::error" annotation in CI).
    for message in (*result.warnings, *errors):
        click.echo(f"homelab-kit: warning: {one_line(message)}", err=True)
