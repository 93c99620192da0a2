"""Validation must stay fast: the budget is ~8,000 objects plus the rest of a lint in 3 s.

Figures (CPU time, so other load on the machine does not skew them) are printed
(``pytest -s``); the assertions are loose floors that only catch a
regression of an order of magnitude, not a slow CI machine.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from homelab_kit.schema import SchemaRegistry, validate
from homelab_kit.yaml import load_file

from .conftest import CATALOG_TEMPLATE, CORPORA, shared_path


def _objects() -> list[Any]:
    root = shared_path(CORPORA)
    found: list[Any] = []
    for path in sorted(root.glob("*/kubernetes/**/*.yaml")):
        if "templates" in path.parts:
            continue
        for document in load_file(str(path), str(path)).documents:
            data = document.data
            if isinstance(data, dict) and "apiVersion" in data and "kind" in data:
                found.append(data)
    return found


@pytest.mark.corpora
def test_validation_speed(catalog: Path) -> None:
    objects = _objects()
    registry = SchemaRegistry("1.34", locations=[f"{catalog}/{CATALOG_TEMPLATE}"])
    kinds = sorted(
        {(o["apiVersion"], o["kind"]) for o in objects if isinstance(o["kind"], str)}, key=str
    )
    started = time.process_time()
    with_schema = sum(registry.validator_for(a, k) is not None for a, k in kinds)
    compiled = time.process_time() - started

    started = time.process_time()
    for obj in objects:
        validate(obj, registry)
    first = time.process_time() - started
    rounds = []
    for _ in range(3):
        started = time.process_time()
        for obj in objects:
            validate(obj, registry)
        rounds.append(time.process_time() - started)
    warm = len(objects) / min(rounds)
    print(
        f"\n{len(kinds)} kinds ({with_schema} with a schema) looked up and compiled in "
        f"{compiled * 1000:.0f} ms ({compiled / len(kinds) * 1000:.2f} ms per kind); "
        f"{len(objects)} objects: first pass {first * 1000:.0f} ms (lazy compilation "
        f"included), warm {warm:,.0f} objects/s"
    )
    assert warm > 5_000
    assert compiled / len(kinds) < 0.05
