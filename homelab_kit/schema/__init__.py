"""Strict schema validation of Kubernetes objects, offline and fast.

* :class:`SchemaRegistry` finds the schema of each ``(apiVersion, kind)``: native kinds
  of the target Kubernetes version, homelab-kit's own Flux/Infisical/kustomize schemas,
  the repository's CRDs, the user's schema locations and the schema cache.
* :func:`validate` checks one parsed object and returns sorted :class:`SchemaViolation`
  values whose ``path`` maps back to a line and column.
* :func:`validate_stream` does it for the text of a multi-document YAML file.
* :func:`crd_schemas` / :func:`write_cache` convert CRDs and store schemas the way
  kubeconform lays them out.
"""

from homelab_kit.schema.catalog import available_versions, normalize_version
from homelab_kit.schema.crd import (
    CrdSchema,
    crd_schemas,
    default_cache_dir,
    strict_schema,
    write_cache,
)
from homelab_kit.schema.registry import SchemaRegistry
from homelab_kit.schema.validate import StreamViolation, Validator, validate, validate_stream
from homelab_kit.schema.violation import SchemaViolation, ViolationCode, display_path

__all__ = [
    "CrdSchema",
    "SchemaRegistry",
    "SchemaViolation",
    "StreamViolation",
    "Validator",
    "ViolationCode",
    "available_versions",
    "crd_schemas",
    "default_cache_dir",
    "display_path",
    "normalize_version",
    "strict_schema",
    "validate",
    "validate_stream",
    "write_cache",
]
