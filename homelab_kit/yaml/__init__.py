"""Reading YAML with positions, and round-trip editing that keeps comments."""

from homelab_kit.yaml.nodes import YMap, YSeq, key_position_of, position_of
from homelab_kit.yaml.reader import (
    HAVE_LIBYAML,
    Anchor,
    Suppression,
    YamlDocument,
    YamlFile,
    YamlProblem,
    load_file,
    parse_bytes,
    parse_text,
)

__all__ = [
    "HAVE_LIBYAML",
    "Anchor",
    "Suppression",
    "YMap",
    "YSeq",
    "YamlDocument",
    "YamlFile",
    "YamlProblem",
    "key_position_of",
    "load_file",
    "parse_bytes",
    "parse_text",
    "position_of",
]
