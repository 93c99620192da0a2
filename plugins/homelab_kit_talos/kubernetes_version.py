"""The Kubernetes version the linter validates against matches the one Talos installs.

## What it does
When `.homelab-kit.yaml` sets `kubernetes-version`, checks that it names the same
release as `kubernetesVersion` in `talos/talconfig.yaml` (after `${variable}`
substitution from `talenv.yaml`). Without the setting the linter already uses
talenv.yaml's version and there is nothing to compare.

## Why is this bad?
Schema validation and the deprecated-API checks answer for the configured
version. If the cluster runs another one, manifests that pass the linter can be
rejected by the API server, or the linter warns about removals that do not apply.

## Example
```yaml
# .homelab-kit.yaml
kubernetes-version: v1.32.0
# talos/talenv.yaml
kubernetesVersion: v1.33.4
```

## Use instead
```yaml
# .homelab-kit.yaml: drop kubernetes-version (talenv.yaml's is used), or
kubernetes-version: v1.33.4
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_talos._common import env_location, normalize

ID = "talos-kubernetes-version"
SCOPE = ("talos",)  # what it reads
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
REMEDIATION = "Make kubernetes-version in .homelab-kit.yaml match talenv.yaml (or remove it)."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    talos = repo.talos
    configured = repo.settings.kubernetes_version
    if talos is None or configured is None or not talos.kubernetes_version:
        return
    installed = talos.kubernetes_version
    if "$" in installed or normalize(installed) == normalize(configured):
        return
    written = talos.kubernetes_version_written or ""
    where = talos.doc.location("kubernetesVersion")
    source = "talconfig.yaml"
    if "$" in written:
        found = env_location(repo, talos, "kubernetesVersion")
        if found is not None and talos.env_path is not None:
            where, source = found, talos.env_path.rsplit("/", 1)[-1]
    message = (
        f"the linter validates against Kubernetes {configured} (kubernetes-version) "
        f"but {source} installs {installed}"
    )
    yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION)
