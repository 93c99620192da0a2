"""Presets: the categories of checks run when ``select`` does not say otherwise.

Apart from :mod:`homelab_kit.config` so that the command line can offer them
without importing the configuration reader (and YAML).
"""

PRESETS = {
    "recommended": ("correctness", "security", "style"),
    "homelab-kit": ("correctness", "security", "style", "convention"),
}
DEFAULT_PRESET = "recommended"
