"""homelab-kit-example: a complete third-party homelab-kit plugin to copy from.

It registers one check (:mod:`homelab_kit_example.secret_reload`,
``example-secret-reload``) and one generator (``example-app-template``, a
cookiecutter template in ``templates/app-template``).  homelab-kit finds it through
the entry point in its ``pyproject.toml``::

    [project.entry-points.homelab_kit]
    example = "homelab_kit_example"

Every hook implementation is a plain function in this module, marked with
:data:`homelab_kit.hookimpl`; ``homelab-kit plugins`` lists them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homelab_kit import hookimpl

from homelab_kit_example import secret_reload

__version__ = "0.1.0"

TEMPLATES = Path(__file__).parent / "templates"


@hookimpl
def homelab_kit_register_checks() -> list[Any]:
    """The check modules this plugin adds to ``homelab-kit lint``."""
    return [secret_reload]


@hookimpl
def homelab_kit_register_generators() -> list[Any]:
    """The templates this plugin adds to ``homelab-kit new-app --template``."""
    # Imported here, not at the top: a plugin module is imported whenever homelab-kit
    # starts, and only new-app needs the scaffolding machinery.
    from homelab_kit.scaffold import Generator

    return [
        Generator(
            name="example-app-template",
            kind="app",
            template=TEMPLATES / "app-template",
            description="A web app on the bjw-s app-template chart, restarted when its "
            "Secret changes (from homelab-kit-example)",
        )
    ]
