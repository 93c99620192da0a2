"""Which Secrets a workload reads, and which Secrets operators write from outside Git.

Private helpers of :mod:`homelab_kit_example.secret_reload`: pure functions over the
model, no file reading.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
from homelab_kit import DocumentRef, Repo
from homelab_kit.model.helm import ValuesSource
from homelab_kit.model.workloads import pod_secret_consumers

# Workloads whose pods keep running, so something has to restart them.
RESTARTED_KINDS = frozenset(("Deployment", "StatefulSet", "DaemonSet"))
_APP_TEMPLATE_KINDS = frozenset(("deployment", "statefulset", "daemonset"))
_RELEASE_NAME = re.compile(r"\{\{-?\s*\.Release\.Name\s*-?\}\}")


@attrs.frozen
class Controller:
    """An app-template controller: its annotations and the Secrets its pods read.

    ``secrets`` maps each Secret name to its namespace (the release's).
    """

    annotations: Mapping[str, Any]
    secrets: Mapping[str, str | None]


def managed_secrets(repo: Repo) -> dict[str, str]:
    """``"namespace/name"`` of each Secret an operator writes -> what writes it.

    A Secret whose namespace is unknown is keyed ``"/name"``.
    """
    found: dict[str, str] = {}
    for infisical in repo.infisical_secrets:
        writer = f"InfisicalSecret {_qualified(infisical.namespace, infisical.name)}"
        for secret in infisical.managed_secrets:
            found.setdefault(f"{secret.namespace or ''}/{secret.name}", writer)
    for external in repo.external_secrets:
        writer = f"ExternalSecret {_qualified(external.namespace, external.name)}"
        found.setdefault(f"{external.namespace or ''}/{external.target_name}", writer)
    return found


def writer_of(managed: Mapping[str, str], namespace: str | None, name: str) -> str | None:
    """What writes Secret ``name`` in ``namespace`` (any namespace when unknown)."""
    if namespace is None:
        return next((w for key, w in managed.items() if key.endswith(f"/{name}")), None)
    return managed.get(f"{namespace}/{name}") or managed.get(f"/{name}")


def manifest_secrets(doc: DocumentRef, namespace: str | None) -> dict[str, str | None]:
    """Secrets a raw workload manifest's pods read (image pull secrets aside)."""
    return {
        consumer.secret_name: consumer.namespace
        for consumer in pod_secret_consumers(doc, namespace, doc.kind)
        if consumer.how != "imagePullSecrets"
    }


def controller_secrets(values: ValuesSource) -> Iterator[tuple[str, Controller]]:
    """Long-running app-template controllers in ``values`` with the Secrets they read."""
    controllers = values.data.get("controllers")
    if not isinstance(controllers, Mapping):
        return
    mounted = _persistence_secrets(values.data.get("persistence"), list(controllers))
    for name, spec in controllers.items():
        if not isinstance(spec, Mapping) or spec.get("enabled") is False:
            continue
        if str(spec.get("type", "deployment")).lower() not in _APP_TEMPLATE_KINDS:
            continue
        names = [*_container_secrets(spec), *mounted.get(str(name), ())]
        secrets = {
            expanded: values.namespace
            for raw in names
            if (expanded := _RELEASE_NAME.sub(values.release, raw)) and "{{" not in expanded
        }
        annotations = spec.get("annotations")
        yield (
            str(name),
            Controller(
                annotations=annotations if isinstance(annotations, Mapping) else {},
                secrets=secrets,
            ),
        )


def _container_secrets(controller: Mapping[str, Any]) -> Iterator[str]:
    for group in ("initContainers", "containers"):
        containers = controller.get(group)
        if not isinstance(containers, Mapping):
            continue
        for container in containers.values():
            if not isinstance(container, Mapping):
                continue
            yield from _env_from_secrets(container.get("envFrom"))
            yield from _env_secrets(container.get("env"))


def _env_from_secrets(env_from: Any) -> Iterator[str]:
    for item in env_from if isinstance(env_from, list) else ():
        if not isinstance(item, Mapping):
            continue
        ref = item.get("secretRef")
        if isinstance(ref, Mapping) and isinstance(ref.get("name"), str):
            yield ref["name"]
        elif isinstance(item.get("secret"), str):  # app-template's short form
            yield item["secret"]


def _env_secrets(env: Any) -> Iterator[str]:
    if isinstance(env, Mapping):  # app-template's {NAME: value} form
        entries = [v for v in env.values() if isinstance(v, Mapping)]
    elif isinstance(env, list):
        entries = [v for v in env if isinstance(v, Mapping)]
    else:
        return
    for entry in entries:
        value_from = entry.get("valueFrom")
        ref = value_from.get("secretKeyRef") if isinstance(value_from, Mapping) else None
        ref = ref if isinstance(ref, Mapping) else entry.get("secretKeyRef")
        if isinstance(ref, Mapping) and isinstance(ref.get("name"), str):
            yield ref["name"]


def _persistence_secrets(persistence: Any, controllers: list[Any]) -> dict[str, list[str]]:
    """Controller name -> Secrets mounted into it by ``persistence`` entries."""
    found: dict[str, list[str]] = {}
    if not isinstance(persistence, Mapping):
        return found
    for item in persistence.values():
        if not isinstance(item, Mapping) or item.get("enabled") is False:
            continue
        if item.get("type") != "secret" or not isinstance(item.get("name"), str):
            continue
        advanced = item.get("advancedMounts")
        targets = [str(c) for c in advanced] if isinstance(advanced, Mapping) else []
        if not targets or "globalMounts" in item:
            targets += [str(c) for c in controllers]  # mounted into every controller
        for controller in dict.fromkeys(targets):
            found.setdefault(str(controller), []).append(item["name"])
    return found


def _qualified(namespace: str | None, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name
