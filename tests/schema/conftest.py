"""Fixtures for the schema tests: a registry per Kubernetes version and ../shared paths."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from homelab_kit.schema import SchemaRegistry, validate_stream

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED = PROJECT_ROOT.parent / "shared"
CATALOG = SHARED / "schemas" / "crds-catalog"
CORPORA = SHARED / "corpora"
CATALOG_TEMPLATE = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"


def shared_path(path: Path) -> Path:
    """``path`` under ../shared, or skip the test with a reason when it is absent."""
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared is not available on this machine)")
    return path


@pytest.fixture(scope="session")
def registry() -> SchemaRegistry:
    """Native + builtin schemas for Kubernetes 1.33 (the guide's 1.33.4)."""
    return SchemaRegistry("v1.33.4")


@pytest.fixture(scope="session")
def catalog() -> Path:
    """The CRD catalog subset in ../shared/schemas/crds-catalog."""
    return shared_path(CATALOG)


@pytest.fixture(scope="session")
def catalog_registry(catalog: Path) -> SchemaRegistry:
    """Native + builtin + the catalog as a kubeconform-style template location."""
    return SchemaRegistry("v1.34.1", locations=[f"{catalog}/{CATALOG_TEMPLATE}"])


def found(
    text: str,
    registry: SchemaRegistry,
    variables: Mapping[str, str] | None = None,
) -> list[tuple[int, int, str, str]]:
    """What a user sees: (line, column, code, message) for every violation in ``text``."""
    return [
        (v.line, v.column, v.code, v.message)
        for v in validate_stream(text, registry, variables=variables)
    ]
