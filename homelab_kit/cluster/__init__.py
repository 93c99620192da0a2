"""The live cluster, read through the official kubernetes client.

* :func:`connect` finds the cluster as kubectl does (``--kubeconfig``, ``KUBECONFIG``,
  ``~/.kube/config``, the pod's service account) and returns a :class:`Cluster`.
* :func:`gather_status` reports every app's Flux Kustomizations, HelmReleases and
  InfisicalSecrets (``homelab-kit status``).
* :func:`gather_drift` compares what git declares with what Flux applied
  (``homelab-kit drift``).
* :func:`pull_schemas` caches the cluster's CRDs as strict JSON schemas
  (``homelab-kit schemas pull``).
* :func:`reconcile` asks Flux to reconcile an object now and waits for the answer
  (``homelab-kit reconcile``); :func:`root_kustomization` finds the cluster's root.
* :func:`diagnose` walks each app from Flux Kustomization to pod and reports the first
  broken link (``homelab-kit doctor``).

Every failure is a :class:`~homelab_kit.errors.ClusterError` with one clear line;
Secret values are never read (metadata-only requests).

>>> from homelab_kit import load
>>> from homelab_kit.cluster import ClusterOptions, connect, gather_status
>>> with connect(ClusterOptions(context="home")) as cluster:  # doctest: +SKIP
...     print(gather_status(load("."), cluster).ok)
True
"""

from homelab_kit.cluster.client import ApiResource, Cluster
from homelab_kit.cluster.doctor import AppDiagnosis, DoctorReport, Finding, diagnose
from homelab_kit.cluster.drift import (
    DeclaredObject,
    DriftReport,
    ExtraObject,
    LaggingKustomization,
    MissingObject,
    declared_objects,
    gather_drift,
)
from homelab_kit.cluster.kubeconfig import (
    ClusterOptions,
    connect,
    context_for_cluster,
    parse_duration,
    parse_timeout,
)
from homelab_kit.cluster.reconcile import (
    Outcome,
    Target,
    WaitOptions,
    find_target,
    reconcile,
    root_kustomization,
)
from homelab_kit.cluster.schemas import pull_schemas
from homelab_kit.cluster.status import (
    AppStatus,
    ClusterStatus,
    ManagedSecretStatus,
    ObjectStatus,
    SecretStatus,
    gather_status,
)

__all__ = [
    "ApiResource",
    "AppDiagnosis",
    "AppStatus",
    "Cluster",
    "ClusterOptions",
    "ClusterStatus",
    "DeclaredObject",
    "DoctorReport",
    "DriftReport",
    "ExtraObject",
    "Finding",
    "LaggingKustomization",
    "ManagedSecretStatus",
    "MissingObject",
    "ObjectStatus",
    "Outcome",
    "SecretStatus",
    "Target",
    "WaitOptions",
    "connect",
    "context_for_cluster",
    "declared_objects",
    "diagnose",
    "find_target",
    "gather_drift",
    "gather_status",
    "parse_duration",
    "parse_timeout",
    "pull_schemas",
    "reconcile",
    "root_kustomization",
]
