"""Workloads must restart when a Secret managed outside Git changes.

## What it does
Finds Deployments, StatefulSets and DaemonSets that read a Secret an
`InfisicalSecret` or `ExternalSecret` in the repository writes, through `env`
(`secretKeyRef`), `envFrom` or a `secret` volume, and checks that the workload
carries an annotation that restarts it when that Secret changes:
`reloader.stakater.com/auto: "true"` (Stakater Reloader),
`secret.reloader.stakater.com/reload: <names>` naming the Secret, or
`secrets.infisical.com/auto-reload: "true"` (the Infisical operator).

Raw manifests and bjw-s app-template values are read alike: for app-template the
annotation goes on the controller (`controllers.<name>.annotations`) or in
`global.annotations`, and `persistence` entries of `type: secret` count for the
controllers that mount them. Jobs and CronJobs are not checked: every run starts
a new pod, which reads the Secret as it is then.

## Why is this bad?
The operator rewrites the Secret whenever the value changes in Infisical (every
`resyncInterval`), without a commit. Kubernetes does not restart pods for that:
environment variables keep the old value until the pod happens to restart, so a
rotated password or API token breaks the app hours or days later, far from the
change that caused it.

## Example
```yaml
controllers:
  sonarr:
    containers:
      app:
        envFrom:
          - secretRef:
              name: sonarr-secret   # written by InfisicalSecret sonarr-secrets
```

## Use instead
```yaml
controllers:
  sonarr:
    annotations:
      reloader.stakater.com/auto: "true"
    containers:
      app:
        envFrom:
          - secretRef:
              name: sonarr-secret
```

Options (in `.homelab-kit.yaml`):
```yaml
checks:
  example-secret-reload:
    # annotations that restart a workload; one ending in /reload must name the Secret
    reload-annotations:
      - reloader.stakater.com/auto
      - secret.reloader.stakater.com/auto
      - secret.reloader.stakater.com/reload
      - secrets.infisical.com/auto-reload
    all-secrets: false          # true: every Secret read, not only operator-managed ones
    fix-annotation: reloader.stakater.com/auto   # what --fix adds
```
Running Reloader with `--auto-reload-all`? Then no annotation is needed:
ignore this check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs
from homelab_kit import Diagnostic, DocumentRef, Location, Repo, Severity
from homelab_kit.diagnostic import Edit, Fix

from homelab_kit_example._secrets import (
    RESTARTED_KINDS,
    controller_secrets,
    managed_secrets,
    manifest_secrets,
    writer_of,
)

ID = "example-secret-reload"
SEVERITY = Severity.WARNING
REMEDIATION = 'Annotate the workload with reloader.stakater.com/auto: "true".'
FIXABLE = True


@attrs.frozen
class Options:
    """The options of example-secret-reload, as the documentation above lists them."""

    reload_annotations: tuple[str, ...] = (
        "reloader.stakater.com/auto",
        "secret.reloader.stakater.com/auto",
        "secret.reloader.stakater.com/reload",
        "secrets.infisical.com/auto-reload",
    )
    all_secrets: bool = False
    fix_annotation: str = "reloader.stakater.com/auto"


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    managed = managed_secrets(repo)
    for workload in repo.workloads:
        if workload.origin != "manifest" or workload.kind not in RESTARTED_KINDS:
            continue
        doc = workload.doc
        stale = _stale(
            manifest_secrets(doc, workload.namespace),
            doc.map_at("metadata", "annotations"),
            managed,
            options,
        )
        if stale:
            what = f"{workload.kind} {_qualified(workload.namespace, workload.name)}"
            yield _diagnostic(what, stale, options, doc, ("metadata",), doc.location("metadata"))
    seen: set[tuple[str, int, str]] = set()
    for values in repo.values:
        global_ = values.data.get("global")
        shared = global_.get("annotations") if isinstance(global_, Mapping) else None
        for name, controller in controller_secrets(values):
            if (values.path, values.doc.index, name) in seen:
                continue  # one values file behind several releases
            seen.add((values.path, values.doc.index, name))
            annotations = {**(shared if isinstance(shared, Mapping) else {})}
            annotations.update(controller.annotations)
            stale = _stale(controller.secrets, annotations, managed, options)
            if stale:
                release = _qualified(values.namespace, values.release)
                yield _diagnostic(
                    f"controller {name} of HelmRelease {release}",
                    stale,
                    options,
                    values.doc,
                    (*values.base, "controllers", name),
                    values.location("controllers", name),
                )


def _stale(
    read: Mapping[str, str | None],
    annotations: Mapping[str, Any],
    managed: Mapping[str, str],
    options: Options,
) -> dict[str, str | None]:
    """Secret name -> what writes it, for each Secret read that nothing restarts for."""
    stale: dict[str, str | None] = {}
    for name, namespace in read.items():
        writer = writer_of(managed, namespace, name)
        if writer is None and not options.all_secrets:
            continue
        if not _restarts_for(annotations, name, options.reload_annotations):
            stale[name] = writer
    return stale


def _restarts_for(annotations: Mapping[str, Any], secret: str, keys: tuple[str, ...]) -> bool:
    """Whether an annotation restarts the workload when ``secret`` changes."""
    for key in keys:
        value = annotations.get(key)
        if value is None or str(value).strip().lower() == "false":
            continue
        if not key.endswith("/reload"):
            return True
        if secret in (part.strip() for part in str(value).split(",")):
            return True  # a /reload annotation lists the Secrets it watches
    return False


def _diagnostic(
    what: str,
    stale: Mapping[str, str | None],
    options: Options,
    doc: DocumentRef,
    owner: tuple[str | int, ...],
    where: Location,
) -> Diagnostic:
    """The finding, with a fix adding the annotation at ``owner`` in ``doc``."""
    if len(stale) == 1:
        [(name, writer)] = stale.items()
        source = f", which {writer} writes from outside Git," if writer else ""
        message = f"{what} reads Secret {name}{source} but nothing restarts it when it changes"
    else:
        names = ", ".join(sorted(stale))
        message = f"{what} reads Secrets {names} but nothing restarts it when they change"
    key = options.fix_annotation
    edit = (
        Edit(doc.path, doc.index, (*owner, "annotations", key), "true")
        if isinstance(doc.get(*owner, "annotations"), Mapping)
        else Edit(doc.path, doc.index, (*owner, "annotations"), {key: "true"})
    )
    fix = Fix(f'add the annotation {key}: "true"', (edit,))
    return Diagnostic(where, ID, message, SEVERITY, REMEDIATION, fix=fix)


def _qualified(namespace: str | None, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name
