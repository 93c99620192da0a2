"""The live cluster, read through the official kubernetes client.

* :func:`connect` finds the cluster as kubectl does (``--kubeconfig``, ``KUBECONFIG``,
  ``~/.kube/config``, the pod's service account) and returns a :class:`Cluster`.
* :func:`gather_status` reports every app's Flux Kustomizations, HelmReleases and
  InfisicalSecrets (``homelab-kit status``).
* :func:`gather_drift` compares what git declares with what Flux applied
  (``homelab-kit drift``).
* :func:`pull_schemas` caches the cluster's CRDs as strict JSON schemas
  (``homelab-kit schemas pull``).

Every failure is a :class:`~homelab_kit.errors.ClusterError` with one clear line;
Secret values are never read (metadata-only requests).

>>> from homelab_kit import load
>>> from homelab_kit.cluster import ClusterOptions, connect, gather_status
>>> with connect(ClusterOptions(context="home")) as cluster:  # doctest: +SKIP
...     print(gather_status(load("."), cluster).ok)
True
"""

from homelab_kit.cluster.client import ApiResource, Cluster, ClusterOptions, connect, parse_timeout
from homelab_kit.cluster.drift import (
    DeclaredObject,
    DriftReport,
    ExtraObject,
    LaggingKustomization,
    MissingObject,
    declared_objects,
    gather_drift,
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
    "AppStatus",
    "Cluster",
    "ClusterOptions",
    "ClusterStatus",
    "DeclaredObject",
    "DriftReport",
    "ExtraObject",
    "LaggingKustomization",
    "ManagedSecretStatus",
    "MissingObject",
    "ObjectStatus",
    "SecretStatus",
    "connect",
    "declared_objects",
    "gather_drift",
    "gather_status",
    "parse_timeout",
    "pull_schemas",
]
