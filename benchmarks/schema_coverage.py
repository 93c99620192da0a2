"""How many kinds (and objects) of each repository have no schema, without and with the bundle.

    .venv/bin/python benchmarks/schema_coverage.py ../shared/corpora/*/
    .venv/bin/python benchmarks/schema_coverage.py --kinds ../shared/corpora/*/

Lints each repository twice with only ``schema-missing`` selected, once with
``bundled-schemas: false`` and once with the bundled CRD schemas (the default), and
prints a Markdown table: the distinct ``(apiVersion, kind)`` pairs without a schema and
the objects they cover, before and after.  ``--kinds`` also lists, per repository, the
kinds still without a schema and their objects.  Nothing is cached or written.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import attrs

from homelab_kit.config import load_config
from homelab_kit.lint import lint

_KIND = re.compile(r"no schema for (\S+) \(([^)]*)\)")
_OBJECTS = re.compile(r": (\d+) objects in \d+ file")


def missing_objects(root: Path, bundled: bool) -> Counter[tuple[str, str]]:
    """``(apiVersion, kind)`` -> objects, for every kind without a schema in ``root``."""
    config = attrs.evolve(
        load_config(root),
        select=("schema-missing",),
        missing_schema="warning",
        bundled_schemas=bundled,
    )
    kinds: Counter[tuple[str, str]] = Counter()
    for diagnostic in lint(root, config=config).diagnostics:
        match = _KIND.search(diagnostic.message)
        if match:
            many = _OBJECTS.search(diagnostic.message)  # one finding per kind, with a count
            kinds[(match.group(2), match.group(1))] += int(many.group(1)) if many else 1
    return kinds


def missing(root: Path, bundled: bool) -> tuple[set[tuple[str, str]], int]:
    """Kinds without a schema, and how many objects they are, in ``root``."""
    kinds = missing_objects(root, bundled)
    return set(kinds), sum(kinds.values())


def main(argv: list[str]) -> int:
    list_kinds = "--kinds" in argv
    names = [arg for arg in argv if arg != "--kinds"]
    print("| repository | kinds without schema: before | after | fall | objects: before | after |")
    print("|---|---:|---:|---:|---:|---:|")
    remaining: dict[str, Counter[tuple[str, str]]] = {}
    for name in names:
        root = Path(name)
        before = missing_objects(root, bundled=False)
        after = missing_objects(root, bundled=True)
        fall = f"{1 - len(after) / len(before):.0%}" if before else "-"
        print(
            f"| {root.resolve().name} | {len(before)} | {len(after)} | {fall} "
            f"| {sum(before.values())} | {sum(after.values())} |"
        )
        remaining[root.resolve().name] = after
    if list_kinds:
        for repository, kinds in remaining.items():
            print(f"\n{repository}:")
            for (api_version, kind), objects in sorted(kinds.items()):
                print(f"  {api_version} {kind}: {objects} object(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
