"""Variables Flux substitutes must be defined.

## What it does
For every Flux `Kustomization` with `spec.postBuild`, finds the `${VAR}` references in
the manifests it deploys (values files included) and checks that each variable is
defined: by `postBuild.substitute`, or as a key of a `substituteFrom` ConfigMap or
Secret the repository shows (ConfigMap data, Secret keys, an InfisicalSecret's
`template.data`), created in the Kustomization's namespace by the cluster applying
it (a repository with several clusters is judged per cluster, and the finding names
the cluster where they differ).  When a `substituteFrom` source's keys cannot be known (an
ExternalSecret, an InfisicalSecret without a template, an env file), every variable
may be defined and nothing is reported.  `${VAR:=default}` and `${VAR:-default}`
always have a value; `$${VAR}` is an escape Flux turns into a literal `${VAR}`.
SOPS files, and objects marked `kustomize.toolkit.fluxcd.io/substitute: disabled`,
are not substituted, so they are not checked.

## Why is this bad?
Flux replaces an undefined variable with an empty string: `sonarr.${SECRET_DOMAIN}`
becomes `sonarr.` and the ingress, certificate or config breaks without an error.
A `${VAR}` meant for a shell script or a dashboard is silently emptied the same way.

## Example
```yaml
# ks.yaml
spec:
  postBuild:
    substitute:
      APP: sonarr
---
# app/helm/values.yaml
ingress:
  hosts:
    - host: ${APP}.${SECRET_DOMAIN}
```

## Use instead
```yaml
# ks.yaml
spec:
  postBuild:
    substitute:
      APP: sonarr
    substituteFrom:
      - kind: Secret
        name: cluster-secrets  # defines SECRET_DOMAIN
```
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from homelab_kit import Diagnostic, Location, Repo, Severity
from homelab_kit.model.flux import FluxKustomization
from homelab_kit.model.kustomize import KustomizeFile
from homelab_kit.model.secret_index import Namespaces, Outcome, created_by_kind, per_cluster
from homelab_kit.yaml import YMap, YSeq
from homelab_kit_flux._common import (
    files_deployed_by,
    find_producers,
    including_kustomizations,
    injected_spec,
    ks_label,
    kustomization_copies,
)

ID = "flux-ks-substitute-undefined"
SEVERITY = Severity.WARNING
CATEGORY = "correctness"
COST = 130  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
SHARED = (created_by_kind,)  # also read by other plugins' checks (Check.shared)
REMEDIATION = (
    "Define the variable (postBuild.substitute or a substituteFrom source), give it a "
    "default with ${VAR:=value}, or escape it as $${VAR}."
)

_REFERENCE = re.compile(r"(\$+)\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}")
_DEFAULTS = (":=", ":-", "=", "-")
_DISABLED = "kustomize.toolkit.fluxcd.io/substitute"
# Classes of values that are neither a string nor a YAML node to walk.
_NEITHER = frozenset({int, float, bool, type(None), dict, list})


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    sops = {f.path for f in repo.sops_files}
    disabled: dict[str, bool] = {}
    marked: dict[int, tuple[bool, frozenset[str], bool]] = {}
    outcomes: list[Outcome] = []
    for ks in repo.kustomizations:
        clusters = _defined(repo, ks)
        if not clusters:
            continue
        label = ks_label(ks)
        for path in sorted(files_deployed_by(repo, ks)):
            yfile = repo.files.get(path)
            if yfile is None or path in sops:
                continue
            for document in yfile.documents:
                # The references first: most files have none, and then whether
                # kustomize marks the file need not be worked out.
                found = list(_references(path, document.data))
                if not found or _disabled(document.data):
                    continue
                if path not in disabled:
                    disabled[path] = _disabled_for_file(repo, path, marked)
                if disabled[path]:
                    break
                for where, name in found:
                    for cluster, defined in clusters:
                        message = None
                        if name not in defined:
                            message = f"${{{name}}} is not defined for Kustomization {label}"
                        outcomes.append((where, cluster, message))
    for where, message, cluster in per_cluster(outcomes):
        yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION, cluster=cluster)


def _defined(repo: Repo, ks: FluxKustomization) -> list[tuple[str | None, set[str]]]:
    """``(cluster, variables)`` for each cluster applying ``ks`` that defines a known set.

    Empty when substitution is off; a cluster where any variable may be defined (a
    ``substituteFrom`` source whose keys are unknown, or that nothing in that
    cluster creates) is left out.
    """
    injected = injected_spec(repo, ks).get("postBuild")
    post = ks.doc.get("spec", "postBuild")
    if not isinstance(post, Mapping) and not isinstance(injected, Mapping):
        return []
    defined = set(ks.substitute)
    sources: list[Any] = list(ks.doc.list_at("spec", "postBuild", "substituteFrom"))
    if isinstance(injected, Mapping):
        extra = injected.get("substitute")
        if isinstance(extra, Mapping):
            defined.update(str(k) for k in extra)
        more = injected.get("substituteFrom")
        if isinstance(more, list):
            sources.extend(more)
    if not defined and not sources:
        return []
    out: list[tuple[str | None, set[str]]] = []
    for cluster, namespaces in kustomization_copies(repo, ks):
        known = _from_sources(repo, sources, namespaces, cluster)
        if known is not None:
            out.append((cluster, defined | known))
    return out


def _from_sources(
    repo: Repo, sources: list[Any], namespaces: Namespaces, cluster: str | None
) -> set[str] | None:
    """The keys the ``substituteFrom`` sources hold in ``cluster``; None when unknown."""
    keys: set[str] = set()
    for source in sources:
        if not isinstance(source, Mapping):
            continue
        kind, name = str(source.get("kind", "")), str(source.get("name", ""))
        if kind not in ("ConfigMap", "Secret"):
            return None
        found = find_producers(repo, kind, namespaces, name, cluster)
        if not found or any(p.keys is None for p in found):
            return None  # keys unknown: every variable may be defined
        for p in found:
            keys.update(p.keys or ())
    return keys


def _references(path: str, data: Any) -> Iterator[tuple[Location, str]]:
    """``(location, variable)`` of every ``${VAR}`` without a default in ``data``."""
    if isinstance(data, str):
        yield from _in_text(path, data, (1, 1))
        return
    stack: list[Any] = [data]
    while stack:  # only strings holding "${" need a position
        node = stack.pop()
        # Exact classes first: an isinstance per value was most of this check's time.
        kind = node.__class__
        if kind is YMap or (kind is not YSeq and isinstance(node, YMap)):
            for key, value in node.items():
                if key.__class__ is str:
                    if "${" in key:
                        yield from _in_text(path, key, node.key_position(key))
                elif isinstance(key, str) and "${" in key:
                    yield from _in_text(path, key, node.key_position(key))
                cls = value.__class__
                if cls is str:
                    if "${" in value:
                        yield from _in_text(path, value, node.value_position(key))
                elif cls is YMap or cls is YSeq:
                    stack.append(value)
                elif cls not in _NEITHER:
                    if isinstance(value, str):
                        if "${" in value:
                            yield from _in_text(path, value, node.value_position(key))
                    elif isinstance(value, YMap | YSeq):
                        stack.append(value)
        elif isinstance(node, YSeq):
            for i, item in enumerate(node):
                cls = item.__class__
                if cls is str:
                    if "${" in item:
                        yield from _in_text(path, item, node.item_position(i))
                elif cls is YMap or cls is YSeq:
                    stack.append(item)
                elif cls not in _NEITHER:
                    if isinstance(item, str):
                        if "${" in item:
                            yield from _in_text(path, item, node.item_position(i))
                    elif isinstance(item, YMap | YSeq):
                        stack.append(item)


def _in_text(path: str, text: str, pos: tuple[int, int]) -> Iterator[tuple[Location, str]]:
    for match in _REFERENCE.finditer(text):
        dollars, name, modifier = match.groups()
        if len(dollars) % 2 == 0 or modifier.startswith(_DEFAULTS):
            continue  # $${VAR} is an escape; ${VAR:=x} has a default
        yield Location(path, pos[0], pos[1]), name


def _disabled(data: Any) -> bool:
    """An object marked so Flux leaves its variables alone."""
    # dict first: a dict (or YMap) answers without the Mapping ABC's slower check.
    meta = data.get("metadata") if isinstance(data, (dict, Mapping)) else None
    if not isinstance(meta, (dict, Mapping)):
        return False
    for marks in (meta.get("annotations"), meta.get("labels")):
        if isinstance(marks, (dict, Mapping)) and marks.get(_DISABLED) == "disabled":
            return True
    return False


def _disabled_for_file(
    repo: Repo, path: str, marked: dict[int, tuple[bool, frozenset[str], bool]]
) -> bool:
    """Kustomize marks every object of ``path`` (common labels, generator options).

    ``marked`` remembers, by kustomization file, whether its common marks disable
    substitution, the files its generators read and whether their marks do.
    """
    for kfile in including_kustomizations(repo, path):
        found = marked.get(id(kfile))
        if found is None:
            found = marked[id(kfile)] = _kustomization_marks(kfile)
        common, generated, by_generators = found
        if common or (by_generators and path in generated):
            return True
    return False


def _kustomization_marks(kfile: KustomizeFile) -> tuple[bool, frozenset[str], bool]:
    """Whether ``kfile``'s common marks disable substitution, its generators' files, and
    whether its generators' marks do."""
    doc = kfile.doc
    marks: list[Any] = [doc.get("commonAnnotations"), doc.get("commonLabels")]
    marks += [item.get("pairs") for item in doc.list_at("labels") if isinstance(item, Mapping)]
    generated = frozenset(
        e.target for g in kfile.generators for e in g.files if e.target is not None
    )
    options: list[Any] = []
    if generated:
        options += [doc.get("generatorOptions", "annotations")]
        options += [doc.get("generatorOptions", "labels")]
        for fld in ("configMapGenerator", "secretGenerator"):
            for gen in doc.list_at(fld):
                if isinstance(gen, Mapping) and isinstance(gen.get("options"), Mapping):
                    options += [gen["options"].get("annotations"), gen["options"].get("labels")]
    return _marked(marks), generated, _marked(options)


def _marked(marks: list[Any]) -> bool:
    return any(isinstance(m, Mapping) and m.get(_DISABLED) == "disabled" for m in marks)
