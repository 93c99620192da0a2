"""HelmReleases must retry failed installs and upgrades.

## What it does
Checks that every HelmRelease retries a failed install and a failed upgrade:
`spec.install.remediation.retries` and `spec.upgrade.remediation.retries` set to
a number other than 0 (`-1` retries forever), or the `RetryOnFailure` strategy
(`spec.install.strategy.name`, `spec.upgrade.strategy.name`).

The settings count wherever Flux gets them from: the HelmRelease itself, a patch
in its kustomization.yaml, or the `spec.patches` of a Flux Kustomization that
deploys it, including patches a parent Flux Kustomization puts into its child
Kustomizations (the common `cluster-apps` defaults pattern).

## Options
- `require` (default `[install, upgrade]`): which actions must retry.

## Why is this bad?
With no retries, one failed install or upgrade (a slow image pull, a webhook not
ready yet) leaves the release failed until someone notices and intervenes; Flux
does not try again by itself.

## Example
```yaml
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: echo
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: echo
```

## Use instead
```yaml
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: echo
  install:
    remediation:
      retries: 3
  upgrade:
    cleanupOnFail: true
    remediation:
      retries: 3
```
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs

from homelab_kit import Diagnostic, HelmRelease, Repo, Severity
from homelab_kit.model.patches import applied_copies

if TYPE_CHECKING:
    from homelab_kit.model.clusters import DesiredObject

ID = "helm-remediation-retries"
SEVERITY = Severity.WARNING
CATEGORY = "convention"
COST = 15  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Set spec.install.remediation.retries and spec.upgrade.remediation.retries."


@attrs.frozen
class Options:
    """``require``: which actions must retry (``install``, ``upgrade``)."""

    require: tuple[str, ...] = attrs.field(
        default=("install", "upgrade"),
        validator=attrs.validators.deep_iterable(attrs.validators.in_(("install", "upgrade"))),
    )


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    for hr in repo.helm_releases:
        # The applied copies looked up once (applied_known, then applied_field's
        # reading of them for each of the four fields).
        copies = applied_copies(repo, hr.doc)
        if repo.clusters and not copies and repo.is_deployed(hr.doc.path):
            continue  # its Kustomization's build failed: what patches set is unknown
        for action in ("install", "upgrade"):
            if action not in options.require:
                continue
            written = hr.doc.get("spec", action, "remediation", "retries")
            retries = _applied(copies, hr, "spec", action, "remediation", "retries")
            strategy = _applied(copies, hr, "spec", action, "strategy", "name")
            if strategy == "RetryOnFailure" or _retries(retries):
                continue
            if written is not None and written == retries:
                where = hr.doc.location("spec", action, "remediation", "retries")
                message = f"HelmRelease {hr.name} sets {action} remediation retries to 0"
            else:
                where = _where(hr, action)
                message = (
                    f"HelmRelease {hr.name} does not retry a failed {action} "
                    f"(no {action}.remediation.retries, here or from a Flux Kustomization patch)"
                )
            yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION)


def _applied(copies: tuple[DesiredObject, ...], hr: HelmRelease, *path: str) -> Any:
    """:func:`~homelab_kit.model.patches.applied_field` over copies already looked up."""
    for copy in copies:
        value = copy.get(*path)
        if value is not None:
            return value
    return hr.doc.get(*path)


def _retries(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        return value != 0
    return isinstance(value, str) and value.strip() not in ("", "0")


def _where(hr: HelmRelease, action: str) -> Any:
    if hr.doc.get("spec", action) is not None:
        return hr.doc.location("spec", action)
    return hr.doc.location("spec")
