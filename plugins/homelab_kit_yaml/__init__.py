"""YAML checks: syntax, duplicate keys, anchors and aliases, file style (yamllint's ground)."""

from __future__ import annotations

from typing import Any

from homelab_kit import hookimpl
from homelab_kit_yaml import (
    cross_document_alias,
    document_start,
    duplicate_key,
    final_newline,
    new_lines,
    syntax,
    undefined_alias,
    unused_anchor,
)


@hookimpl
def homelab_kit_register_checks() -> list[Any]:
    return [
        syntax,
        duplicate_key,
        cross_document_alias,
        undefined_alias,
        unused_anchor,
        document_start,
        final_newline,
        new_lines,
    ]
