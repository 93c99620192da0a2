"""The JSON schema of ``.homelab-kit.yaml``, for editors (yaml-language-server).

Built from the configuration reader's own key table (``homelab_kit.config._KEYS``:
every key it accepts, with its description), so a key added there is in the schema;
:data:`_TYPES` says what each known key holds, and a key without an entry is described
but not constrained.  The shipped copy is ``homelab_kit/config.schema.json``::

    python -m homelab_kit.config_schema          # rewrite it
    python -m homelab_kit.config_schema --check  # 1 when it is stale (a test runs this)

An editor picks it up from a comment at the top of ``.homelab-kit.yaml``
(docs/lint.md)::

    # yaml-language-server: $schema=https://.../homelab_kit/config.schema.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from homelab_kit.config import _KEYS, PRESETS

SCHEMA_PATH = Path(__file__).with_name("config.schema.json")
SCHEMA_ID = "https://homelab-kit.invalid/config.schema.json"


def _any_case(*words: str) -> dict[str, Any]:
    """A string that is one of ``words`` in any case (ECMA regexes have no ``(?i)``)."""
    spelled = ("".join(f"[{c.lower()}{c.upper()}]" for c in word) for word in words)
    return {"type": "string", "pattern": f"^({'|'.join(spelled)})$"}


_SEVERITY_ANY_CASE = _any_case("error", "warning", "info")
_STRINGS = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
}
_TYPES: dict[str, dict[str, Any]] = {
    "preset": {"type": "string", "enum": sorted(PRESETS)},
    "select": _STRINGS,
    "extend-select": _STRINGS,
    "ignore": _STRINGS,
    "per-path-ignores": {"type": "object", "additionalProperties": _STRINGS},
    "severity": {"type": "object", "additionalProperties": _SEVERITY_ANY_CASE},
    "checks": {"type": "object", "additionalProperties": {"type": "object"}},
    "fail-on": _SEVERITY_ANY_CASE,
    "kubernetes-version": {"type": ["string", "number"]},
    "include": _STRINGS,
    "exclude": _STRINGS,
    "apps-root": {"type": "string"},
    "schema-locations": _STRINGS,
    "missing-schema": _any_case("error", "warning", "info", "ignore"),
    "bundled-schemas": {"type": "boolean"},
    "respect-gitignore": {"type": "boolean"},
    "sops-allowlist": _STRINGS,
    "max-file-size": {"type": "integer", "minimum": 1},
    "cache-dir": {"type": ["string", "number"]},
    "clusters": {"type": "object", "additionalProperties": {"type": "string"}},
    "contexts": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}},
    "bootstrap-secrets": _STRINGS,
    "plugins": {"type": "object", "additionalProperties": {"type": ["object", "null"]}},
    "scaffold": {"type": "object"},
}


def config_schema() -> dict[str, Any]:
    """The schema: every key of the reader's table, documented, and no other key."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "homelab-kit configuration (.homelab-kit.yaml)",
        "description": "Every key is optional; see docs/lint.md.",
        "type": ["object", "null"],
        "properties": {
            key: {"description": description, **_TYPES.get(key, {})}
            for key, description in _KEYS.items()
        },
        "additionalProperties": False,
    }


def render() -> str:
    return json.dumps(config_schema(), indent=2) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.is_file() else None
    if current == text:
        return 0
    if "--check" in argv:
        print(f"stale: {SCHEMA_PATH.name}; run python -m homelab_kit.config_schema")
        return 1
    SCHEMA_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
