"""How many kinds (and objects) of each repository have no schema, without and with the bundle.

    .venv/bin/python benchmarks/schema_coverage.py ../shared/corpora/*/

Lints each repository twice with only ``schema-missing`` selected, once with
``bundled-schemas: false`` and once with the bundled CRD schemas (the default), and
prints a Markdown table: the distinct ``(apiVersion, kind)`` pairs without a schema and
the objects they cover, before and after.  Nothing is cached or written.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import attrs

from homelab_kit.config import load_config
from homelab_kit.lint import lint

_KIND = re.compile(r"no schema for (\S+) \(([^)]*)\)")
_OBJECTS = re.compile(r": (\d+) objects in \d+ file")


def missing(root: Path, bundled: bool) -> tuple[set[tuple[str, str]], int]:
    """Kinds without a schema, and how many objects they are, in ``root``."""
    config = attrs.evolve(
        load_config(root),
        select=("schema-missing",),
        missing_schema="warning",
        bundled_schemas=bundled,
    )
    kinds: set[tuple[str, str]] = set()
    objects = 0
    for diagnostic in lint(root, config=config).diagnostics:
        match = _KIND.search(diagnostic.message)
        if match:
            kinds.add((match.group(2), match.group(1)))
            many = _OBJECTS.search(diagnostic.message)  # one finding per kind, with a count
            objects += int(many.group(1)) if many else 1
    return kinds, objects


def main(argv: list[str]) -> int:
    print("| repository | kinds without schema: before | after | fall | objects: before | after |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in argv:
        root = Path(name)
        before, objects_before = missing(root, bundled=False)
        after, objects_after = missing(root, bundled=True)
        fall = f"{1 - len(after) / len(before):.0%}" if before else "-"
        print(
            f"| {root.resolve().name} | {len(before)} | {len(after)} | {fall} "
            f"| {objects_before} | {objects_after} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
