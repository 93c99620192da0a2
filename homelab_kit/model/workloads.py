"""Workloads and the container images they run, from raw manifests and Helm values."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import attrs

from homelab_kit.location import Location
from homelab_kit.model.base import DocumentRef, as_list, as_mapping, doc_field, source_field
from homelab_kit.model.secrets import SecretConsumer

WORKLOAD_KINDS = frozenset(
    ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")
)
_DIGEST_RE = re.compile(r"@(sha256:[0-9a-f]{64})$")


class FieldLocator(Protocol):
    """Where the fields of one object are: a document, or an applied copy of one."""

    def location(self, *path: str | int) -> Location: ...

    def key_location(self, *path: str | int) -> Location: ...


@attrs.frozen
class ImageRef:
    """A container image as written: ``repository``, ``tag`` and ``digest`` apart.

    ``tag`` is ``None`` when none is written (which means ``latest``).
    """

    repository: str
    tag: str | None
    digest: str | None
    source: Location = source_field()

    @classmethod
    def parse(cls, text: str, source: Location) -> ImageRef:
        digest = None
        match = _DIGEST_RE.search(text)
        if match:
            digest = match.group(1)
            text = text[: match.start()]
        tag = None
        slash = text.rfind("/")
        colon = text.rfind(":")
        if colon > slash:
            text, tag = text[:colon], text[colon + 1 :]
        return cls(text, tag, digest, source)

    def __str__(self) -> str:
        out = self.repository
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


@attrs.frozen
class Probe:
    """Whether a probe is configured, and where (``path``, located by ``at`` when asked)."""

    kind: str  # liveness, readiness, startup
    at: FieldLocator = attrs.field(eq=False, repr=False)
    path: tuple[str | int, ...] = attrs.field(eq=False, repr=False)

    @property
    def source(self) -> Location:
        return self.at.location(*self.path)


@attrs.frozen
class SecurityContext:
    """The security-relevant settings of a container (merged with its pod's)."""

    run_as_non_root: bool | None = None
    run_as_user: int | None = None
    privileged: bool | None = None
    allow_privilege_escalation: bool | None = None
    read_only_root_filesystem: bool | None = None

    @classmethod
    def from_mapping(cls, data: Any, pod: SecurityContext | None = None) -> SecurityContext:
        # Written out (no call per field, no ABC check of a missing context): some
        # 4,000 are read per 1,000 apps.
        d = data if data is not None and isinstance(data, (dict, Mapping)) else {}
        non_root, user = d.get("runAsNonRoot"), d.get("runAsUser")
        privileged, escalation = d.get("privileged"), d.get("allowPrivilegeEscalation")
        read_only = d.get("readOnlyRootFilesystem")
        return cls(
            run_as_non_root=non_root
            if non_root.__class__ is bool
            else (pod.run_as_non_root if pod is not None else None),
            run_as_user=user
            if user.__class__ is not bool and isinstance(user, int)
            else (pod.run_as_user if pod is not None else None),
            privileged=privileged if privileged.__class__ is bool else None,
            allow_privilege_escalation=escalation if escalation.__class__ is bool else None,
            read_only_root_filesystem=read_only if read_only.__class__ is bool else None,
        )

    @property
    def non_root(self) -> bool:
        return self.run_as_non_root is True or (
            self.run_as_user is not None and self.run_as_user > 0
        )


@attrs.frozen
class Resources:
    """CPU and memory requests and limits as written (quantities stay strings)."""

    cpu_request: str | None = None
    memory_request: str | None = None
    cpu_limit: str | None = None
    memory_limit: str | None = None

    @classmethod
    def from_mapping(cls, data: Any) -> Resources:
        d = data if isinstance(data, Mapping) else {}
        req = as_mapping(d.get("requests"))
        lim = as_mapping(d.get("limits"))

        def q(m: Mapping[str, Any], key: str) -> str | None:
            v = m.get(key)
            return None if v is None or isinstance(v, bool) else str(v)

        return cls(q(req, "cpu"), q(req, "memory"), q(lim, "cpu"), q(lim, "memory"))


@attrs.frozen
class Container:
    """One container of a workload (raw manifest or chart values).

    ``at`` locates the fields of the object the container was read from and
    ``path`` is the container's own path in it; where each part is written is
    worked out when a finding asks (most containers have none).
    ``security_keys`` maps the keys written under its ``securityContext`` (as
    strings) to the keys themselves.
    """

    name: str
    image: ImageRef | None
    init: bool
    resources: Resources
    probes: tuple[Probe, ...]
    security: SecurityContext
    at: FieldLocator = attrs.field(eq=False, repr=False)
    path: tuple[str | int, ...] = attrs.field(eq=False, repr=False)
    security_keys: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def source(self) -> Location:
        """Where the container is written."""
        return self.at.location(*self.path)

    @property
    def resources_source(self) -> Location:
        """Where its ``resources`` are written (else its nearest written parent)."""
        return self.at.location(*self.path, "resources")

    @property
    def security_source(self) -> Location:
        """Where its ``securityContext`` is written (else its nearest written parent)."""
        return self.at.location(*self.path, "securityContext")

    def has_probe(self, kind: str) -> bool:
        return any(p.kind == kind for p in self.probes)

    def security_location(self, field: str) -> Location:
        """Where ``securityContext.<field>`` is written, else the securityContext itself."""
        if field in self.security_keys:
            return self.at.key_location(*self.path, "securityContext", self.security_keys[field])
        return self.security_source


@attrs.frozen
class HostAccess:
    """Pod-level access to the node: host namespaces and hostPath volumes."""

    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    host_paths: tuple[str, ...] = ()
    host_users: bool | None = None  # False: a user namespace maps root to an unprivileged user


@attrs.frozen
class Workload:
    """A Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or Pod.

    ``origin`` is ``"manifest"`` for a raw manifest and ``"values"`` for a workload
    described by chart values (the bjw-s app-template ``controllers`` shape).
    ``cluster`` names the cluster whose desired state it was read from (None: read
    as written, a file no cluster builds); its locations are then where each field
    is edited (:mod:`homelab_kit.model.applied_fields`).  ``at`` locates those
    fields; ``path`` is the workload's own and ``host_path`` where its host access is
    set (both worked out into places when a finding asks).
    """

    kind: str
    name: str
    namespace: str | None
    origin: str
    containers: tuple[Container, ...]
    host: HostAccess
    at: FieldLocator = attrs.field(eq=False, repr=False)
    path: tuple[str | int, ...] = attrs.field(eq=False, repr=False)
    host_path: tuple[str | int, ...] = attrs.field(eq=False, repr=False)
    doc: DocumentRef = doc_field()
    cluster: str | None = attrs.field(default=None, eq=False)

    @property
    def source(self) -> Location:
        """Where the workload is written (for values: its controller)."""
        return self.at.location(*self.path)

    @property
    def host_source(self) -> Location:
        """Where its host access is set: the first host field or hostPath item, else
        its pod (values: its controller)."""
        return self.at.location(*self.host_path)

    @classmethod
    def from_doc(
        cls,
        doc: DocumentRef,
        namespace: str | None = None,
        *,
        applied: Mapping[str, Any] | None = None,
        at: FieldLocator | None = None,
        cluster: str | None = None,
    ) -> Workload:
        """The workload written at ``doc``, or one applied copy of it.

        :param doc: the document the workload is written in.
        :param namespace: the namespace when the document sets none.
        :param applied: the object as a cluster applies it (default: as written).
        :param at: where each field of ``applied`` is edited (default: ``doc``).
        :param cluster: the cluster that applies ``applied``.
        """
        data: Mapping[str, Any] = doc.data if applied is None else applied
        where: FieldLocator = doc if at is None else at
        path = pod_spec_path(doc.kind)
        pod = as_mapping(_get(data, *path))
        pod_sc = SecurityContext.from_mapping(pod.get("securityContext"))
        containers: list[Container] = []
        for field_name, init in (("initContainers", True), ("containers", False)):
            for i, c in enumerate(as_list(pod.get(field_name))):
                if isinstance(c, Mapping):
                    containers.append(_container(where, (*path, field_name, i), c, init, pod_sc))
        host_paths = tuple(
            str(v["hostPath"].get("path", ""))
            for v in as_list(pod.get("volumes"))
            if isinstance(v, Mapping) and isinstance(v.get("hostPath"), Mapping)
        )
        meta = as_mapping(data.get("metadata"))
        name, written_namespace = meta.get("name"), meta.get("namespace")
        return cls(
            kind=doc.kind,
            name=name if isinstance(name, str) else doc.name,
            namespace=written_namespace
            if isinstance(written_namespace, str) and written_namespace
            else namespace,
            origin="manifest",
            containers=tuple(containers),
            host=HostAccess(
                host_network=pod.get("hostNetwork") is True,
                host_pid=pod.get("hostPID") is True,
                host_ipc=pod.get("hostIPC") is True,
                host_paths=host_paths,
                host_users=_flag(pod.get("hostUsers")),
            ),
            at=where,
            path=(),
            host_path=_host_path(path, pod),
            doc=doc,
            cluster=cluster,
        )


def _host_path(path: tuple[str, ...], pod: Mapping[str, Any]) -> tuple[str | int, ...]:
    """Where host access is set: the first host field set, else the pod spec."""
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key) is True:
            return (*path, key)
    for i, volume in enumerate(as_list(pod.get("volumes"))):
        if isinstance(volume, Mapping) and isinstance(volume.get("hostPath"), Mapping):
            return (*path, "volumes", i, "hostPath")
    return path


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def is_sidecar(c: Mapping[str, Any]) -> bool:
    """An init container with ``restartPolicy: Always``: a native sidecar, long-running."""
    return c.get("restartPolicy") == "Always"


def pod_spec_path(kind: str) -> tuple[str, ...]:
    """Where the pod spec of a workload kind lives."""
    if kind == "Pod":
        return ("spec",)
    if kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "spec")
    return ("spec", "template", "spec")


def _container(
    doc: FieldLocator,
    path: tuple[str | int, ...],
    c: Mapping[str, Any],
    init: bool,
    pod_sc: SecurityContext,
) -> Container:
    image_text = c.get("image")
    image = (
        ImageRef.parse(image_text, doc.location(*path, "image"))
        if isinstance(image_text, str)
        else None
    )
    probes = tuple(
        Probe(kind, doc, (*path, f"{kind}Probe"))
        for kind in ("liveness", "readiness", "startup")
        if isinstance(c.get(f"{kind}Probe"), Mapping)
    )
    return Container(
        name=str(c.get("name", "")),
        image=image,
        init=init and not is_sidecar(c),
        resources=Resources.from_mapping(c.get("resources")),
        probes=probes,
        security=SecurityContext.from_mapping(c.get("securityContext"), pod_sc),
        at=doc,
        path=path,
        security_keys=security_keys(c),
    )


def security_keys(c: Mapping[str, Any]) -> dict[str, Any]:
    """The keys written under a container's ``securityContext``, by their text."""
    return {str(key): key for key in as_mapping(c.get("securityContext"))}


def pod_secret_consumers(
    doc: DocumentRef, namespace: str | None, consumer: str
) -> Iterator[SecretConsumer]:
    """Every Secret a workload's pod reads: env, envFrom, volumes, image pull."""
    path = pod_spec_path(doc.kind)
    pod = doc.map_at(*path)
    for field_name in ("initContainers", "containers"):
        for i, c in enumerate(doc.list_at(*path, field_name)):
            if not isinstance(c, Mapping):
                continue
            base = (*path, field_name, i)
            for j, ef in enumerate(c.get("envFrom") or ()):
                ref = ef.get("secretRef") if isinstance(ef, Mapping) else None
                if isinstance(ref, Mapping) and isinstance(ref.get("name"), str):
                    yield SecretConsumer(
                        ref["name"],
                        namespace,
                        "envFrom",
                        consumer,
                        ref.get("optional") is True,
                        doc.location(*base, "envFrom", j, "secretRef", "name"),
                    )
            for j, env in enumerate(c.get("env") or ()):
                ref = _get(env, "valueFrom", "secretKeyRef")
                if isinstance(ref, Mapping) and isinstance(ref.get("name"), str):
                    yield SecretConsumer(
                        ref["name"],
                        namespace,
                        "secretKeyRef",
                        consumer,
                        ref.get("optional") is True,
                        doc.location(*base, "env", j, "valueFrom", "secretKeyRef", "name"),
                    )
    for i, vol in enumerate(pod.get("volumes") or ()):
        if not isinstance(vol, Mapping):
            continue
        sec = vol.get("secret")
        if isinstance(sec, Mapping) and isinstance(sec.get("secretName"), str):
            yield SecretConsumer(
                sec["secretName"],
                namespace,
                "volume",
                consumer,
                sec.get("optional") is True,
                doc.location(*path, "volumes", i, "secret", "secretName"),
            )
        for j, src in enumerate(_get(vol, "projected", "sources") or ()):
            ref = src.get("secret") if isinstance(src, Mapping) else None
            if isinstance(ref, Mapping) and isinstance(ref.get("name"), str):
                yield SecretConsumer(
                    ref["name"],
                    namespace,
                    "projected",
                    consumer,
                    ref.get("optional") is True,
                    doc.location(*path, "volumes", i, "projected", "sources", j),
                )
    for i, ips in enumerate(pod.get("imagePullSecrets") or ()):
        if isinstance(ips, Mapping) and isinstance(ips.get("name"), str):
            yield SecretConsumer(
                ips["name"],
                namespace,
                "imagePullSecrets",
                consumer,
                False,
                doc.location(*path, "imagePullSecrets", i),
            )


def _get(data: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data
