"""``homelab-kit schemas pull``: the cluster's CRDs as strict JSON schemas, cached offline.

Every CustomResourceDefinition the cluster serves is converted by
:func:`homelab_kit.schema.crd.crd_schemas` (the same strict conversion lint applies to
CRDs in the repository) and written by :func:`homelab_kit.schema.crd.write_cache`
into the schema cache, laid out as kubeconform expects
(``{group}/{kind}_{version}.json``).  Later ``homelab-kit lint`` runs find the
schemas there and need no cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from homelab_kit.cluster.client import DEFAULT_TIMEOUT, Cluster
from homelab_kit.errors import HomelabKitError

CRD_GROUP = "apiextensions.k8s.io"


def pull_schemas(
    api_client: Cluster | Any,
    cache_dir: Path | None = None,
    *,
    on_skip: Callable[[str, str], None] | None = None,
) -> list[Path]:
    """Write the strict schema of every served version of every CRD; return the files.

    :param api_client: a :class:`~homelab_kit.cluster.client.Cluster`, or a
        ``kubernetes.client.ApiClient`` (wrapped with the default request timeout).
    :param cache_dir: the schema cache; :func:`homelab_kit.schema.crd.default_cache_dir`
        when None.
    :param on_skip: called with ``(crd name, reason)`` for a CRD that cannot be
        converted; such a CRD is skipped, the others are still written.
    :returns: the schema files, sorted; files whose content did not change are
        listed but not rewritten.
    :raises ClusterError: when the CRDs cannot be listed (RBAC, connection, ...).

    >>> with connect(ClusterOptions()) as cluster:  # doctest: +SKIP
    ...     pull_schemas(cluster)
    [PosixPath('/home/me/.cache/homelab-kit/schemas/cert-manager.io/certificate_v1.json'), ...]
    """
    from homelab_kit.schema.crd import crd_schemas, default_cache_dir, write_cache

    cluster = api_client if isinstance(api_client, Cluster) else _wrap(api_client)
    target = cache_dir or default_cache_dir()
    resource = cluster.resource(CRD_GROUP, "CustomResourceDefinition", "customresourcedefinitions")
    written: list[Path] = []
    for crd in cluster.list_objects(resource):
        meta = crd.get("metadata")
        name = str(meta.get("name")) if isinstance(meta, dict) else "?"
        try:
            converted = crd_schemas(crd)
            for item in converted:
                written.append(
                    write_cache(item.schema, item.group, item.kind, item.version, target)
                )
        except HomelabKitError as exc:
            if on_skip is not None:
                on_skip(name, exc.message)
    return sorted(written)


def _wrap(api_client: Any) -> Cluster:
    configuration = getattr(api_client, "configuration", None)
    server = str(getattr(configuration, "host", "") or "the cluster")
    return Cluster(api_client, context=None, server=server, timeout=DEFAULT_TIMEOUT)
