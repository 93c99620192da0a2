"""The Jinja extension templates list in ``_extensions`` to write safe YAML scalars.

``{{ cookiecutter.chart_version | yaml }}`` writes ``1.2.3`` plain but ``"1.0"``
quoted (a float otherwise), ``"yes"`` quoted (a boolean to YAML 1.1 readers), and
so on: the value reads back as the string it was.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

from homelab_kit.yaml.edit import scalar_text


def yaml_scalar(value: Any) -> str:
    """The ``yaml`` filter: ``value`` as a YAML scalar that reads back unchanged."""
    return scalar_text(value)


class YamlExtension(Extension):
    """Adds the ``yaml`` filter."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["yaml"] = yaml_scalar
