"""Variables Flux substitutes must be defined.

## What it does
For every Flux `Kustomization` with `spec.postBuild`, finds the `${VAR}` references in
the manifests it deploys (values files included) and checks that each variable is
defined: by `postBuild.substitute`, or as a key of a `substituteFrom` ConfigMap or
Secret the repository shows (ConfigMap data, Secret keys, an InfisicalSecret's
`template.data`).  When a `substituteFrom` source's keys cannot be known (an
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
from homelab_kit.yaml import YMap, YSeq
from homelab_kit_flux._common import (
    files_deployed_by,
    find_producers,
    including_kustomizations,
    injected_spec,
    ks_label,
)

ID = "flux-ks-substitute-undefined"
SEVERITY = Severity.WARNING
CATEGORY = "correctness"
LIVE = True
REMEDIATION = (
    "Define the variable (postBuild.substitute or a substituteFrom source), give it a "
    "default with ${VAR:=value}, or escape it as $${VAR}."
)

_REFERENCE = re.compile(r"(\$+)\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}")
_DEFAULTS = (":=", ":-", "=", "-")
_DISABLED = "kustomize.toolkit.fluxcd.io/substitute"


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    sops = {f.path for f in repo.sops_files}
    disabled: dict[str, bool] = {}
    for ks in repo.kustomizations:
        defined = _defined(repo, ks)
        if defined is None:
            continue
        for path in sorted(files_deployed_by(repo, ks)):
            yfile = repo.files.get(path)
            if yfile is None or path in sops:
                continue
            if path not in disabled:
                disabled[path] = _disabled_for_file(repo, path)
            if disabled[path]:
                continue
            for document in yfile.documents:
                if _disabled(document.data):
                    continue
                for where, name in _references(path, document.data):
                    if name not in defined:
                        yield Diagnostic(
                            where,
                            ID,
                            f"${{{name}}} is not defined for Kustomization {ks_label(ks)}",
                            SEVERITY,
                            REMEDIATION,
                        )


def _defined(repo: Repo, ks: FluxKustomization) -> set[str] | None:
    """Variables ``ks`` defines; None when substitution is off or any may be defined."""
    injected = injected_spec(repo, ks).get("postBuild")
    post = ks.doc.get("spec", "postBuild")
    if not isinstance(post, Mapping) and not isinstance(injected, Mapping):
        return None
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
        return None
    for source in sources:
        if not isinstance(source, Mapping):
            continue
        kind, name = str(source.get("kind", "")), str(source.get("name", ""))
        found = find_producers(repo, kind, ks.namespace, name)
        if not found or any(p.keys is None for p in found):
            return None  # keys unknown: every variable may be defined
        for p in found:
            defined.update(p.keys or ())
    return defined


def _references(path: str, data: Any) -> Iterator[tuple[Location, str]]:
    """``(location, variable)`` of every ``${VAR}`` without a default in ``data``."""
    if isinstance(data, str):
        yield from _in_text(path, data, (1, 1))
        return
    stack: list[Any] = [data]
    while stack:  # only strings holding "${" need a position
        node = stack.pop()
        if isinstance(node, YMap):
            for key, value in node.items():
                if isinstance(key, str) and "${" in key:
                    yield from _in_text(path, key, node.key_position(key))
                if isinstance(value, str):
                    if "${" in value:
                        yield from _in_text(path, value, node.value_position(key))
                elif isinstance(value, YMap | YSeq):
                    stack.append(value)
        elif isinstance(node, YSeq):
            for i, item in enumerate(node):
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
    meta = data.get("metadata") if isinstance(data, Mapping) else None
    if not isinstance(meta, Mapping):
        return False
    return any(
        isinstance(marks, Mapping) and marks.get(_DISABLED) == "disabled"
        for marks in (meta.get("annotations"), meta.get("labels"))
    )


def _disabled_for_file(repo: Repo, path: str) -> bool:
    """Kustomize marks every object of ``path`` (common labels, generator options)."""
    for kfile in including_kustomizations(repo, path):
        doc = kfile.doc
        marks: list[Any] = [doc.get("commonAnnotations"), doc.get("commonLabels")]
        marks += [item.get("pairs") for item in doc.list_at("labels") if isinstance(item, Mapping)]
        if any(e.target == path for g in kfile.generators for e in g.files):
            marks += [doc.get("generatorOptions", "annotations")]
            marks += [doc.get("generatorOptions", "labels")]
            for fld in ("configMapGenerator", "secretGenerator"):
                for gen in doc.list_at(fld):
                    if isinstance(gen, Mapping) and isinstance(gen.get("options"), Mapping):
                        marks += [gen["options"].get("annotations"), gen["options"].get("labels")]
        if any(isinstance(m, Mapping) and m.get(_DISABLED) == "disabled" for m in marks):
            return True
    return False
