"""Kubernetes objects as the API server returns them: CRDs, and Flux and Infisical
objects with the status conditions their controllers write."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

GIT_REVISION = "main@sha1:5e7c1a1b2c3d4e5f60718293a4b5c6d7e8f90123"
NEW_GIT_REVISION = "main@sha1:9a8b7c6d5e4f30211203948576afbecd01234567"
TIMESTAMP = "2025-06-01T10:00:00Z"
PLANTED_SECRET_VALUE = "hunter2-PLANTED-c0ffee-do-not-print"

KUSTOMIZE = "kustomize.toolkit.fluxcd.io"
HELM = "helm.toolkit.fluxcd.io"
SOURCE = "source.toolkit.fluxcd.io"
INFISICAL = "secrets.infisical.com"


# ---------------------------------------------------------------------- CRDs


def crd(
    group: str,
    kind: str,
    plural: str,
    versions: list[str],
    *,
    spec: Mapping[str, Any] | None = None,
    scope: str = "Namespaced",
) -> dict[str, Any]:
    """A CustomResourceDefinition as controller-gen writes it, with its status."""
    schema = {
        "description": f"{kind} is the Schema for the {plural} API.",
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": dict(spec) if spec else {"type": "object"},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{group}",
            "annotations": {"controller-gen.kubebuilder.io/version": "v0.16.1"},
        },
        "spec": {
            "group": group,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
            },
            "scope": scope,
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": index == 0,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"}
                    ],
                    "schema": {"openAPIV3Schema": schema},
                }
                for index, version in enumerate(versions)
            ],
        },
        "status": {
            "acceptedNames": {"kind": kind, "plural": plural},
            "storedVersions": [versions[0]],
            "conditions": [
                {
                    "type": "Established",
                    "status": "True",
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                    "lastTransitionTime": TIMESTAMP,
                }
            ],
        },
    }


SOURCE_REF = {
    "type": "object",
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string", "enum": ["OCIRepository", "GitRepository", "Bucket"]},
        "name": {"type": "string"},
        "namespace": {"type": "string"},
    },
    "required": ["kind", "name"],
}


def flux_crds() -> list[dict[str, Any]]:
    """Flux's Kustomization, HelmRelease, GitRepository and OCIRepository CRDs."""
    ks_spec = {
        "type": "object",
        "properties": {
            "interval": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"},
            "path": {"type": "string"},
            "prune": {"type": "boolean"},
            "suspend": {"type": "boolean"},
            "targetNamespace": {"type": "string", "maxLength": 63, "minLength": 1},
            "sourceRef": SOURCE_REF,
            "postBuild": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
        "required": ["interval", "prune", "sourceRef"],
    }
    hr_spec = {
        "type": "object",
        "properties": {
            "interval": {"type": "string"},
            "chartRef": SOURCE_REF,
            "values": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "suspend": {"type": "boolean"},
        },
        "required": ["interval"],
    }
    return [
        crd(KUSTOMIZE, "Kustomization", "kustomizations", ["v1", "v1beta2"], spec=ks_spec),
        crd(HELM, "HelmRelease", "helmreleases", ["v2", "v2beta2"], spec=hr_spec),
        crd(SOURCE, "GitRepository", "gitrepositories", ["v1", "v1beta2"]),
        crd(SOURCE, "OCIRepository", "ocirepositories", ["v1", "v1beta2"]),
    ]


def infisical_crds() -> list[dict[str, Any]]:
    """The Infisical operator's InfisicalSecret CRD."""
    return [crd(INFISICAL, "InfisicalSecret", "infisicalsecrets", ["v1alpha1"])]


# ---------------------------------------------------------------------- Flux objects


def flux_labels(namespace: str, name: str) -> dict[str, str]:
    """The labels kustomize-controller puts on everything it applies."""
    return {
        "kustomize.toolkit.fluxcd.io/name": name,
        "kustomize.toolkit.fluxcd.io/namespace": namespace,
    }


def _condition(kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "observedGeneration": 1,
        "lastTransitionTime": TIMESTAMP,
    }


def kustomization(
    namespace: str,
    name: str,
    *,
    revision: str | None = GIT_REVISION,
    attempted: str | None = None,
    ready: str = "True",
    reason: str = "ReconciliationSucceeded",
    message: str | None = None,
    suspend: bool = False,
    source: tuple[str, str, str] = ("GitRepository", "flux-system", "flux-system"),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Flux Kustomization with the status kustomize-controller writes."""
    kind, source_ns, source_name = source
    conditions = [
        _condition("Ready", ready, reason, message or f"Applied revision: {attempted or revision}"),
    ]
    if ready == "True":
        conditions.append(_condition("Healthy", "True", "Succeeded", "Health check passed"))
    status: dict[str, Any] = {
        "conditions": conditions,
        "lastAttemptedRevision": attempted or revision,
        "observedGeneration": 1,
        "inventory": {"entries": []},
    }
    if revision:
        status["lastAppliedRevision"] = revision
    return {
        "apiVersion": f"{KUSTOMIZE}/v1",
        "kind": "Kustomization",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(labels or {}),
            "finalizers": ["finalizers.fluxcd.io"],
        },
        "spec": {
            "interval": "1h",
            "path": f"./kubernetes/apps/{namespace}/{name}/app",
            "prune": True,
            "suspend": suspend,
            "sourceRef": {"kind": kind, "name": source_name, "namespace": source_ns},
            "timeout": "5m",
            "wait": True,
        },
        "status": status,
    }


def helm_release(
    namespace: str,
    name: str,
    *,
    version: str = "4.1.2",
    ready: str = "True",
    reason: str = "UpgradeSucceeded",
    message: str | None = None,
    suspend: bool = False,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A HelmRelease (v2) with the status helm-controller writes."""
    message = message or (
        f"Helm upgrade succeeded for release {namespace}/{name}.v3 with chart "
        f"app-template@{version}"
    )
    conditions = [_condition("Ready", ready, reason, message)]
    conditions.append(_condition("Released", ready, reason, message))
    if ready == "False":
        conditions.append(_condition("Stalled", "True", "RetriesExceeded", "Failed to install"))
    return {
        "apiVersion": f"{HELM}/v2",
        "kind": "HelmRelease",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(labels or {}),
            "finalizers": ["finalizers.fluxcd.io"],
        },
        "spec": {
            "interval": "1h",
            "suspend": suspend,
            "chartRef": {"kind": "OCIRepository", "name": name, "namespace": namespace},
        },
        "status": {
            "conditions": conditions,
            "history": [
                {
                    "chartName": "app-template",
                    "chartVersion": version,
                    "appVersion": version,
                    "configDigest": "sha256:8d1b4c1a",
                    "digest": "sha256:1f2e3d4c",
                    "firstDeployed": TIMESTAMP,
                    "lastDeployed": TIMESTAMP,
                    "name": name,
                    "namespace": namespace,
                    "status": "deployed" if ready == "True" else "failed",
                    "version": 3,
                }
            ],
            "lastAttemptedRevision": version,
            "lastAttemptedConfigDigest": "sha256:8d1b4c1a",
            "lastAttemptedGeneration": 1,
            "observedGeneration": 1,
            "helmChart": f"{namespace}/{namespace}-{name}",
        },
    }


def source(
    kind: str, namespace: str, name: str, revision: str, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A GitRepository or OCIRepository with its artifact."""
    return {
        "apiVersion": f"{SOURCE}/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
        "spec": {"interval": "1h", "url": "https://github.com/example/homelab"},
        "status": {
            "artifact": {
                "digest": "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
                "lastUpdateTime": TIMESTAMP,
                "path": f"{kind.lower()}/{namespace}/{name}/latest.tar.gz",
                "revision": revision,
                "size": 20480,
                "url": f"http://source-controller.flux-system.svc/{kind.lower()}/{name}.tar.gz",
            },
            "conditions": [
                _condition("Ready", "True", "Succeeded", f"stored artifact for {revision}")
            ],
        },
    }


def infisical_secret(
    namespace: str,
    name: str,
    managed: str,
    *,
    synced: str = "True",
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An InfisicalSecret with the conditions the Infisical operator writes."""
    if synced == "True":
        sync = _condition(
            "secrets.infisical.com/ReadyToSyncSecrets",
            "True",
            "OK",
            "Infisical controller has started syncing your secrets. Last reconcile synced "
            "3 secrets",
        )
    else:
        sync = _condition(
            "secrets.infisical.com/ReadyToSyncSecrets",
            "False",
            "Error",
            "Failed to sync secrets. This can be caused by invalid access token or an "
            "invalid API host that is set. Error: 403 Forbidden",
        )
    return {
        "apiVersion": f"{INFISICAL}/v1alpha1",
        "kind": "InfisicalSecret",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
        "spec": {
            "hostAPI": "https://app.infisical.com/api",
            "managedSecretReference": {"secretName": managed, "secretNamespace": namespace},
        },
        "status": {
            "conditions": [
                _condition(
                    "secrets.infisical.com/LoadedInfisicalToken",
                    "True",
                    "OK",
                    "Infisical controller has loaded the Infisical token in provided "
                    "Kubernetes secret, using UNIVERSAL_MACHINE_IDENTITY authentication strategy",
                ),
                sync,
            ]
        },
    }


# ---------------------------------------------------------------------- core objects


def secret(
    namespace: str, name: str, data: Mapping[str, str], labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A Secret holding ``data`` (base64-encoded, as the API server returns it)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
        "type": "Opaque",
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


def simple(
    api_version: str,
    kind: str,
    name: str,
    namespace: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Any other object: metadata only, as far as the tests care."""
    meta: dict[str, Any] = {"name": name, "labels": dict(labels or {})}
    if namespace is not None:
        meta["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


# ---------------------------------------------------------------------- workloads, pods, events


def deployment(
    namespace: str,
    name: str,
    match_labels: Mapping[str, str],
    *,
    labels: Mapping[str, str] | None = None,
    replicas: int = 1,
) -> dict[str, Any]:
    """A Deployment selecting its pods by ``match_labels``."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(match_labels)},
            "template": {"metadata": {"labels": dict(match_labels)}},
        },
        "status": {"replicas": replicas},
    }


def container(
    name: str = "app",
    *,
    image: str = "ghcr.io/mendhak/http-https-echo:37",
    waiting: tuple[str, str] | None = None,
    ready: bool = True,
    restarts: int = 0,
    last_exit: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """A containerStatuses entry: running, or waiting with (reason, message)."""
    state: dict[str, Any]
    if waiting is not None:
        state = {"waiting": {"reason": waiting[0], "message": waiting[1]}}
    else:
        state = {"running": {"startedAt": TIMESTAMP}}
    out: dict[str, Any] = {
        "name": name,
        "image": image,
        "imageID": "",
        "ready": ready and waiting is None,
        "restartCount": restarts,
        "started": waiting is None,
        "state": state,
        "lastState": {},
    }
    if last_exit is not None:
        out["lastState"] = {
            "terminated": {
                "reason": last_exit[0],
                "exitCode": last_exit[1],
                "finishedAt": TIMESTAMP,
            }
        }
    return out


def pod(
    namespace: str,
    name: str,
    labels: Mapping[str, str],
    *,
    phase: str = "Running",
    containers: list[dict[str, Any]] | None = None,
    scheduled: tuple[str, str] | None = None,
    env_from_secret: str | None = None,
) -> dict[str, Any]:
    """A pod as the kubelet reports it; ``scheduled`` = (reason, message) of an
    unschedulable pod."""
    statuses = containers if containers is not None else [container()]
    ready = phase == "Running" and all(c["ready"] for c in statuses)
    conditions: list[dict[str, Any]] = [
        {
            "type": "PodScheduled",
            "status": "False" if scheduled else "True",
            "lastTransitionTime": TIMESTAMP,
            **({"reason": scheduled[0], "message": scheduled[1]} if scheduled else {}),
        }
    ]
    if not scheduled:
        conditions.append(
            {
                "type": "Ready",
                "status": "True" if ready else "False",
                "lastTransitionTime": TIMESTAMP,
                **({} if ready else {"reason": "ContainersNotReady"}),
            }
        )
    spec_container: dict[str, Any] = {"name": statuses[0]["name"] if statuses else "app"}
    if env_from_secret:
        spec_container["envFrom"] = [{"secretRef": {"name": env_from_secret}}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {"containers": [spec_container], "nodeName": None if scheduled else "worker-1"},
        "status": {
            "phase": phase,
            "conditions": conditions,
            **({} if scheduled else {"containerStatuses": statuses}),
        },
    }


def event(
    namespace: str,
    involved: tuple[str, str],
    reason: str,
    message: str,
    *,
    type: str = "Warning",
    count: int = 1,
    when: str = TIMESTAMP,
    name: str | None = None,
) -> dict[str, Any]:
    """A core/v1 Event about ``involved`` = (kind, name)."""
    kind, object_name = involved
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name or f"{object_name}.{reason.lower()}", "namespace": namespace},
        "involvedObject": {"kind": kind, "name": object_name, "namespace": namespace},
        "reason": reason,
        "message": message,
        "type": type,
        "count": count,
        "firstTimestamp": when,
        "lastTimestamp": when,
        "source": {"component": "kubelet"},
    }
