"""Workloads described by Helm values: the bjw-s app-template ``controllers`` shape.

Each enabled controller is a workload; its ``containers`` and ``initContainers``
(an init container with ``restartPolicy: Always`` is a native sidecar, judged as a
container) are its containers.  ``defaultPodOptions`` counts for every controller
and a controller's ``pod`` overrides it key by key (``hostNetwork``, ``hostPID``,
``hostIPC``, ``hostUsers``, ``securityContext``); a ``persistence`` item of ``type:
hostPath`` is mounted into every controller.  The values read are those of one
:class:`~homelab_kit.model.helm.ValuesSource`: as written, or as a cluster applies
the HelmRelease (:mod:`homelab_kit.model.live_workloads`), each field placed where
it is edited.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from homelab_kit.model.base import as_mapping
from homelab_kit.model.workloads import (
    Container,
    HostAccess,
    Probe,
    Resources,
    SecurityContext,
    Workload,
    is_sidecar,
    security_keys,
)

if TYPE_CHECKING:
    from homelab_kit.model.helm import ValuesSource

_KINDS = {
    "statefulset": "StatefulSet",
    "daemonset": "DaemonSet",
    "cronjob": "CronJob",
    "job": "Job",
}
_HOST_FLAGS = ("hostNetwork", "hostPID", "hostIPC")


def app_template_workloads(values: ValuesSource, cluster: str | None = None) -> Iterator[Workload]:
    """The workloads ``values`` describe in the app-template ``controllers`` shape.

    ``cluster`` names the cluster applying ``values`` (None: read as written).
    """
    data = values.data
    controllers = data.get("controllers")
    if not isinstance(controllers, Mapping):
        return
    default_pod = as_mapping(data.get("defaultPodOptions"))
    default_sc = SecurityContext.from_mapping(default_pod.get("securityContext"))
    host_paths = _host_paths(data)
    for cname, ctrl in controllers.items():
        if not isinstance(ctrl, Mapping) or ctrl.get("enabled") is False:
            continue
        # The controller's pod options override defaultPodOptions, key by key.
        own_pod = as_mapping(ctrl.get("pod"))
        pod = {**default_pod, **own_pod}
        pod_sc = SecurityContext.from_mapping(own_pod.get("securityContext"), default_sc)
        containers: list[Container] = []
        for field_name, init in (("initContainers", True), ("containers", False)):
            group = ctrl.get(field_name)
            if not isinstance(group, Mapping):
                continue
            for name, c in group.items():
                if isinstance(c, Mapping):
                    base = ("controllers", cname, field_name, name)
                    containers.append(_container(values, base, str(name), c, init, pod_sc))
        kind = str(ctrl.get("type", "deployment")).lower()
        host_users = pod.get("hostUsers")
        yield Workload(
            kind=_KINDS.get(kind, "Deployment"),
            name=f"{values.release}/{cname}",
            namespace=values.namespace,
            origin="values",
            containers=tuple(containers),
            host=HostAccess(
                host_network=pod.get("hostNetwork") is True,
                host_pid=pod.get("hostPID") is True,
                host_ipc=pod.get("hostIPC") is True,
                host_paths=tuple(path for path, _ in host_paths),
                host_users=host_users if isinstance(host_users, bool) else None,
            ),
            at=values,
            path=("controllers", cname),
            host_path=_host_path(str(cname), own_pod, default_pod, host_paths),
            doc=values.doc,
            cluster=cluster,
        )


def _host_paths(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``persistence.*`` of ``type: hostPath``: (the node's path, the item's name)."""
    out: list[tuple[str, str]] = []
    for key, item in as_mapping(data.get("persistence")).items():
        if isinstance(item, Mapping) and item.get("type") == "hostPath":
            if item.get("enabled") is False:
                continue
            out.append((str(item.get("hostPath", "")), str(key)))
    return out


def _host_path(
    controller: str,
    own_pod: Mapping[str, Any],
    default_pod: Mapping[str, Any],
    host_paths: list[tuple[str, str]],
) -> tuple[str | int, ...]:
    """Where a controller's host access is set: the first flag or hostPath item."""
    for flag in _HOST_FLAGS:
        if own_pod.get(flag) is True:
            return ("controllers", controller, "pod", flag)
        if flag not in own_pod and default_pod.get(flag) is True:
            return ("defaultPodOptions", flag)
    if host_paths:
        return ("persistence", host_paths[0][1], "type")
    return ("controllers", controller)


def _container(
    values: ValuesSource,
    base: tuple[str | int, ...],
    name: str,
    c: Mapping[str, Any],
    init: bool,
    pod_sc: SecurityContext,
) -> Container:
    img = c.get("image")
    image = values.image_at((*base, "image"), img) if isinstance(img, Mapping) else None
    probes_cfg = as_mapping(c.get("probes"))
    probes = []
    for kind in ("liveness", "readiness", "startup"):
        cfg = probes_cfg.get(kind)
        # app-template enables liveness and readiness probes unless told otherwise.
        enabled = cfg.get("enabled", True) if isinstance(cfg, Mapping) else kind != "startup"
        if enabled is not False and not (kind == "startup" and cfg is None):
            probes.append(Probe(kind, values, (*base, "probes", kind)))
    return Container(
        name=name,
        image=image,
        init=init and not is_sidecar(c),
        resources=Resources.from_mapping(c.get("resources")),
        probes=tuple(probes),
        security=SecurityContext.from_mapping(c.get("securityContext"), pod_sc),
        at=values,
        path=base,
        security_keys=security_keys(c),
    )
