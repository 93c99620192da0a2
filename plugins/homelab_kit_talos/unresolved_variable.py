"""talconfig.yaml's `${variables}` are defined in talenv.yaml.

## What it does
Reports each `${variable}` (or `$variable`) used by talconfig.yaml's cluster
name, endpoint, versions, node hostnames and addresses that no talenv file next
to it defines (`talenv.yaml`, or the clear-text keys of an encrypted
`talenv.sops.yaml`). The finding points at the variable's first use.

## Why is this bad?
talhelper substitutes variables from the env file (and the shell environment);
an undefined one becomes an empty string, so the node gets no hostname, the
endpoint `https://:6443`, or `talosVersion` is empty and genconfig fails. A
renamed talenv key or a typo is the usual cause.

## Example
```yaml
# talos/talenv.yaml
talosVersion: v1.10.7
# talos/talconfig.yaml
kubernetesVersion: "${kubernetesVersion}"
```

## Use instead
```yaml
# talos/talenv.yaml
talosVersion: v1.10.7
kubernetesVersion: v1.33.4
```
"""

from __future__ import annotations

from collections.abc import Iterator

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.talos import expand
from homelab_kit_talos._common import env_file_keys, strings

ID = "talos-unresolved-variable"
SCOPE = ("talos",)  # what it reads
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
REMEDIATION = "Define the variable in talenv.yaml, or fix its name."


def check(repo: Repo, options: None) -> Iterator[Diagnostic]:
    talos = repo.talos
    if talos is None or not talos.unresolved:
        return
    defined = env_file_keys(repo, talos)
    missing = sorted(talos.unresolved - defined)
    first: dict[str, tuple[str | int, ...]] = {}
    for path, text in strings(talos.doc.data):
        if "$" not in text:
            continue
        for name in expand(text, {})[1]:
            first.setdefault(name, path)
    env = talos.env_path or "talenv.yaml (absent)"
    for name in missing:
        where = talos.doc.location(*first[name]) if name in first else talos.source
        message = f"talconfig.yaml uses ${{{name}}}, which {env} does not define"
        yield Diagnostic(where, ID, message, SEVERITY, REMEDIATION)
