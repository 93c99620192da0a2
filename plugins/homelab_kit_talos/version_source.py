"""talconfig.yaml takes the Talos and Kubernetes versions from talenv.yaml.

## What it does
When a `talenv.yaml` sits next to `talconfig.yaml`, checks that `talosVersion`
and `kubernetesVersion` in talconfig.yaml either reference it
(`"${talosVersion}"`) or equal the value it defines. A version written out in
talconfig.yaml that differs from talenv.yaml's is reported.

## Why is this bad?
talenv.yaml is where Renovate bumps versions and where `task talos:upgrade-*`
reads them. A different literal in talconfig.yaml wins when talhelper renders the
machine configs, so an upgrade that edits talenv.yaml silently does nothing, or
nodes and tooling disagree on the version.

## Example
```yaml
# talos/talenv.yaml
talosVersion: v1.10.7
kubernetesVersion: v1.33.4
# talos/talconfig.yaml
talosVersion: v1.10.6
kubernetesVersion: "${kubernetesVersion}"
```

## Use instead
```yaml
# talos/talconfig.yaml
talosVersion: "${talosVersion}"
kubernetesVersion: "${kubernetesVersion}"
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit_talos._common import VERSION_FIELDS, normalize

ID = "talos-version-source"
SCOPE = ("talos",)  # what it reads
SEVERITY = Severity.ERROR
CATEGORY = "convention"
REMEDIATION = "Write the version in talconfig.yaml as a ${variable} from talenv.yaml."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    talos = repo.talos
    if talos is None or talos.env_path is None:
        return
    written = {
        "talosVersion": talos.talos_version_written,
        "kubernetesVersion": talos.kubernetes_version_written,
    }
    for key, _ in VERSION_FIELDS:
        text = written[key]
        env_value = talos.variables.get(key)
        if text is None or env_value is None or "$" in text:
            continue
        if normalize(text) == normalize(env_value):
            continue
        message = f"talconfig.yaml sets {key} {text} but {talos.env_path} defines {env_value}"
        yield Diagnostic(talos.doc.location(key), ID, message, SEVERITY, REMEDIATION)
