"""``homelab-kit validate`` against kubeconform's acceptance tests (kubeconform_cases.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab_kit.schema import SchemaRegistry

from .conftest import found
from .kubeconform_cases import CASES, DIFFERENCES, Case, run_case, write_fixtures


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kubeconform")
    write_fixtures(folder)
    return folder


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_kubeconform_acceptance_case(case: Case, fixtures: Path) -> None:
    agrees, out = run_case(case, fixtures)
    if case.name in DIFFERENCES:
        assert not agrees, f"now agrees with kubeconform; drop it from DIFFERENCES:\n{out}"
    else:
        assert agrees, out


def test_every_difference_is_a_case() -> None:
    assert set(DIFFERENCES) <= {case.name for case in CASES}


def test_the_library_validates_every_item_of_a_list(registry: SchemaRegistry) -> None:
    from .kubeconform_cases import LIST_INVALID

    assert found(LIST_INVALID, registry) == [
        (
            28,
            17,
            "type",
            "items[1] (ReplicationController bob): spec.replicas: "
            "expected integer, got string 'asd'",
        )
    ]
    assert found("apiVersion: v1\nkind: List\nitems: 3\n", registry) == [
        (3, 8, "type", "items: expected array, got integer 3")
    ]
