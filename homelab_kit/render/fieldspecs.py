"""Where kustomize's built-in transformers look: field specs and their traversal.

A field spec names a path (``spec/template/metadata/labels``) in objects of some
group/version/kind (empty parts match anything).  Lists met on the way are entered
element by element, as kustomize does with or without the ``[]`` suffix.  The tables
follow kustomize's built-in configuration (``api/konfig/builtinpluginconsts``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs


def split_api_version(api_version: Any) -> tuple[str, str]:
    """``apps/v1`` -> ``("apps", "v1")``; ``v1`` -> ``("", "v1")``."""
    text = api_version if isinstance(api_version, str) else ""
    if "/" in text:
        group, _, version = text.partition("/")
        return group, version
    return "", text


def split_path(path: str) -> tuple[str, ...]:
    """Split a field-spec path on ``/``, honouring ``\\/`` escapes; drop ``[]`` marks."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(path):
        ch = path[index]
        if ch == "\\" and index + 1 < len(path) and path[index + 1] == "/":
            current.append("/")
            index += 2
            continue
        if ch == "/":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        index += 1
    parts.append("".join(current))
    return tuple(p[:-2] if p.endswith("[]") else p for p in parts if p)


@attrs.frozen
class FieldSpec:
    """A path in objects of a (partially given) group, version and kind."""

    path: tuple[str, ...]
    group: str = ""
    version: str = ""
    kind: str = ""
    create: bool = False

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> FieldSpec:
        """Build from a kustomize ``fieldSpecs`` entry (``path``, ``kind``, ``create``...)."""
        group = str(raw.get("group") or "")
        version = str(raw.get("version") or "")
        return cls(
            path=split_path(str(raw.get("path") or "")),
            group=group,
            version=version,
            kind=str(raw.get("kind") or ""),
            create=bool(raw.get("create")),
        )

    def selects(self, obj: Mapping[str, Any]) -> bool:
        """Whether this spec applies to ``obj`` (empty group/version/kind match all)."""
        if self.kind and obj.get("kind") != self.kind:
            return False
        if self.group or self.version:
            group, version = split_api_version(obj.get("apiVersion"))
            if self.group and group != self.group:
                return False
            if self.version and version != self.version:
                return False
        return True


def _fs(path: str, kind: str = "", group: str = "", create: bool = False) -> FieldSpec:
    return FieldSpec(split_path(path), group=group, kind=kind, create=create)


Setter = Callable[[dict[str, Any], str], None]


def apply_spec(obj: Any, spec: FieldSpec, setter: Setter) -> None:
    """Call ``setter(mapping, key)`` at every place ``spec.path`` reaches in ``obj``.

    Missing intermediate maps are created only when ``spec.create``; the setter is
    called for a missing last key only when ``spec.create``.
    """
    _walk(obj, spec.path, spec.create, setter)


def _walk(node: Any, path: tuple[str, ...], create: bool, setter: Setter) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, path, create, setter)
        return
    if not isinstance(node, dict) or not path:
        return
    head, rest = path[0], path[1:]
    if not rest:
        if head in node or create:
            setter(node, head)
        return
    child = node.get(head)
    if child is None:
        if not create:
            return
        child = node[head] = {}
    _walk(child, rest, create, setter)


# --------------------------------------------------------------------------- tables

_WORKLOADS = ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job")

METADATA_LABELS: tuple[FieldSpec, ...] = (
    _fs("metadata/labels", create=True),
    FieldSpec(
        split_path("spec/template/metadata/labels"),
        version="v1",
        kind="ReplicationController",
        create=True,
    ),
    _fs("spec/template/metadata/labels", "Deployment", create=True),
    _fs("spec/template/metadata/labels", "ReplicaSet", create=True),
    _fs("spec/template/metadata/labels", "DaemonSet", create=True),
    _fs("spec/template/metadata/labels", "StatefulSet", "apps", create=True),
    _fs("spec/template/metadata/labels", "Job", "batch", create=True),
    _fs("spec/jobTemplate/metadata/labels", "CronJob", "batch", create=True),
    _fs("spec/jobTemplate/spec/template/metadata/labels", "CronJob", "batch", create=True),
)

_AFFINITY = (
    "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/"
    "podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/"
    "labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/"
    "podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/"
    "labelSelector/matchLabels",
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
)

COMMON_LABELS: tuple[FieldSpec, ...] = (
    FieldSpec(split_path("spec/selector"), version="v1", kind="Service", create=True),
    FieldSpec(split_path("spec/selector"), version="v1", kind="ReplicationController", create=True),
    _fs("spec/selector/matchLabels", "Deployment", create=True),
    *(_fs(p, "Deployment", "apps") for p in _AFFINITY),
    _fs("spec/selector/matchLabels", "ReplicaSet", create=True),
    _fs("spec/selector/matchLabels", "DaemonSet", create=True),
    _fs("spec/selector/matchLabels", "StatefulSet", "apps", create=True),
    _fs("spec/volumeClaimTemplates/metadata/labels", "StatefulSet", "apps", create=True),
    *(_fs(p, "StatefulSet", "apps") for p in _AFFINITY),
    _fs("spec/selector/matchLabels", "Job", "batch"),
    _fs("spec/jobTemplate/spec/selector/matchLabels", "CronJob", "batch"),
    _fs("spec/selector/matchLabels", "PodDisruptionBudget", "policy"),
    _fs("spec/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    _fs("spec/ingress/from/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    _fs("spec/egress/to/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    *METADATA_LABELS,
)

TEMPLATE_LABELS: tuple[FieldSpec, ...] = METADATA_LABELS[1:]

COMMON_ANNOTATIONS: tuple[FieldSpec, ...] = (
    _fs("metadata/annotations", create=True),
    FieldSpec(
        split_path("spec/template/metadata/annotations"),
        version="v1",
        kind="ReplicationController",
        create=True,
    ),
    *(_fs("spec/template/metadata/annotations", k, create=True) for k in _WORKLOADS),
    _fs("spec/jobTemplate/metadata/annotations", "CronJob", "batch", create=True),
    _fs("spec/jobTemplate/spec/template/metadata/annotations", "CronJob", "batch", create=True),
)

NAMESPACE_EXTRA: tuple[FieldSpec, ...] = (
    _fs("metadata/name", "Namespace", create=True),
    _fs("spec/service/namespace", "APIService", "apiregistration.k8s.io", create=True),
    _fs(
        "spec/conversion/webhook/clientConfig/service/namespace",
        "CustomResourceDefinition",
        "apiextensions.k8s.io",
    ),
)

REPLICAS: tuple[FieldSpec, ...] = (
    _fs("spec/replicas", "Deployment", create=True),
    _fs("spec/replicas", "ReplicationController", create=True),
    _fs("spec/replicas", "ReplicaSet", create=True),
    _fs("spec/replicas", "StatefulSet", create=True),
)

# Kinds kustomize knows to be cluster-scoped (from its built-in OpenAPI data, which
# is Kubernetes 1.21's); a custom resource, or a kind newer than that data
# (ValidatingAdmissionPolicy, MutatingAdmissionPolicy, IPAddress...), is never
# "certainly" cluster-scoped, so kustomize (and Flux) give it a namespace.
CLUSTER_SCOPED: frozenset[str] = frozenset(
    {
        "APIService",
        "CertificateSigningRequest",
        "ClusterRole",
        "ClusterRoleBinding",
        "ComponentStatus",
        "CSIDriver",
        "CSINode",
        "CustomResourceDefinition",
        "FlowSchema",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PodSecurityPolicy",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "SelfSubjectAccessReview",
        "SelfSubjectRulesReview",
        "StorageClass",
        "SubjectAccessReview",
        "TokenReview",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
    }
)


@attrs.frozen
class NameReference:
    """Fields (``referrers``) that hold the name of an object of ``kind``."""

    kind: str
    group: str
    referrers: tuple[FieldSpec, ...]

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> NameReference:
        """Build from a ``nameReference`` entry of a kustomize configuration file."""
        specs = raw.get("fieldSpecs")
        specs = specs if isinstance(specs, list) else []  # a malformed entry refers to nothing
        return cls(
            kind=str(raw.get("kind") or ""),
            group=str(raw.get("group") or ""),
            referrers=tuple(FieldSpec.parse(s) for s in specs if isinstance(s, Mapping)),
        )


def _pod_paths(prefix: str, suffixes: Iterable[str]) -> list[str]:
    return [f"{prefix}{suffix}" for suffix in suffixes]


_CM_POD = (
    "volumes/configMap/name",
    "containers/env/valueFrom/configMapKeyRef/name",
    "initContainers/env/valueFrom/configMapKeyRef/name",
    "containers/envFrom/configMapRef/name",
    "initContainers/envFrom/configMapRef/name",
    "volumes/projected/sources/configMap/name",
)
_SECRET_POD = (
    "volumes/secret/secretName",
    "containers/env/valueFrom/secretKeyRef/name",
    "initContainers/env/valueFrom/secretKeyRef/name",
    "containers/envFrom/secretRef/name",
    "initContainers/envFrom/secretRef/name",
    "imagePullSecrets/name",
    "volumes/projected/sources/secret/name",
)
_TEMPLATED = ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job")


def _pod_referrers(suffixes: tuple[str, ...]) -> list[FieldSpec]:
    specs = [_fs(p, "Pod") for p in _pod_paths("spec/", suffixes)]
    for kind in _TEMPLATED:
        specs += [_fs(p, kind) for p in _pod_paths("spec/template/spec/", suffixes)]
    specs += [
        _fs(p, "CronJob") for p in _pod_paths("spec/jobTemplate/spec/template/spec/", suffixes)
    ]
    return specs


def _sa_like(path: str, kinds: Iterable[str]) -> list[FieldSpec]:
    specs = [_fs(f"spec/{path}", "Pod")]
    specs += [_fs(f"spec/template/spec/{path}", k) for k in kinds]
    specs.append(_fs(f"spec/jobTemplate/spec/template/spec/{path}", "CronJob"))
    return specs


_SA_KINDS = ("StatefulSet", "Deployment", "ReplicationController", "Job", "DaemonSet")

BUILTIN_NAME_REFERENCES: tuple[NameReference, ...] = (
    *(
        NameReference(k, "", (_fs("spec/scaleTargetRef/name", "HorizontalPodAutoscaler"),))
        for k in ("Deployment", "ReplicationController", "ReplicaSet", "StatefulSet")
    ),
    NameReference(
        "ConfigMap",
        "",
        (
            *_pod_referrers(_CM_POD),
            _fs("spec/configSource/configMap", "Node"),
            _fs("rules/resourceNames", "Role"),
            _fs("rules/resourceNames", "ClusterRole"),
            _fs(
                r"metadata/annotations/nginx.ingress.kubernetes.io\/fastcgi-params-configmap",
                "Ingress",
            ),
        ),
    ),
    NameReference(
        "Secret",
        "",
        (
            *_pod_referrers(_SECRET_POD),
            _fs("spec/tls/secretName", "Ingress"),
            _fs(r"metadata/annotations/ingress.kubernetes.io\/auth-secret", "Ingress"),
            _fs(r"metadata/annotations/nginx.ingress.kubernetes.io\/auth-secret", "Ingress"),
            _fs(r"metadata/annotations/nginx.ingress.kubernetes.io\/auth-tls-secret", "Ingress"),
            _fs("imagePullSecrets/name", "ServiceAccount"),
            _fs("parameters/secretName", "StorageClass"),
            _fs("parameters/adminSecretName", "StorageClass"),
            _fs("parameters/userSecretName", "StorageClass"),
            _fs("parameters/secretRef", "StorageClass"),
            _fs("rules/resourceNames", "Role"),
            _fs("rules/resourceNames", "ClusterRole"),
            _fs("spec/azureFile/secretName", "PersistentVolume"),
        ),
    ),
    NameReference(
        "Service",
        "",
        (
            _fs("spec/serviceName", "StatefulSet", "apps"),
            _fs("spec/rules/http/paths/backend/serviceName", "Ingress"),
            _fs("spec/backend/serviceName", "Ingress"),
            _fs("spec/rules/http/paths/backend/service/name", "Ingress"),
            _fs("spec/defaultBackend/service/name", "Ingress"),
            _fs("spec/service/name", "APIService", "apiregistration.k8s.io"),
            _fs("webhooks/clientConfig/service", "ValidatingWebhookConfiguration"),
            _fs("webhooks/clientConfig/service", "MutatingWebhookConfiguration"),
        ),
    ),
    NameReference("Role", "rbac.authorization.k8s.io", (_fs("roleRef/name", "RoleBinding"),)),
    NameReference(
        "ClusterRole",
        "rbac.authorization.k8s.io",
        (_fs("roleRef/name", "RoleBinding"), _fs("roleRef/name", "ClusterRoleBinding")),
    ),
    NameReference(
        "ServiceAccount",
        "",
        (
            _fs("subjects", "RoleBinding"),
            _fs("subjects", "ClusterRoleBinding"),
            *_sa_like("serviceAccountName", _SA_KINDS),
        ),
    ),
    NameReference(
        "PersistentVolumeClaim",
        "",
        tuple(_sa_like("volumes/persistentVolumeClaim/claimName", _SA_KINDS)),
    ),
    NameReference(
        "PersistentVolume",
        "",
        (
            _fs("spec/volumeName", "PersistentVolumeClaim"),
            _fs("rules/resourceNames", "ClusterRole"),
        ),
    ),
    NameReference(
        "StorageClass",
        "storage.k8s.io",
        (
            _fs("spec/storageClassName", "PersistentVolume"),
            _fs("spec/storageClassName", "PersistentVolumeClaim"),
            _fs("spec/volumeClaimTemplates/spec/storageClassName", "StatefulSet"),
        ),
    ),
    NameReference(
        "PriorityClass", "scheduling.k8s.io", tuple(_sa_like("priorityClassName", _SA_KINDS))
    ),
    NameReference("IngressClass", "", (_fs("spec/ingressClassName", "Ingress"),)),
)
