"""Scaffolding: ``new-app``, ``new-namespace`` and ``add-secret`` as a library.

Each command is a function that reads the repository and returns a :class:`Plan`
(the files it would create and the edits it would make) without writing anything;
``plan.diff()`` shows them and ``plan.apply()`` writes them as one transaction::

    from homelab_kit.scaffold import plan_new_app

    plan = plan_new_app(".", "media/jellyfin",
                        chart="oci://ghcr.io/jellyfin/charts/jellyfin", version="2.1.0",
                        image="ghcr.io/jellyfin/jellyfin:10.10.7", port=8096, secrets=True)
    print(plan.diff())
    result = plan.apply()

Templates are generators that plugins register through
``homelab_kit_register_generators``; the built-in ones live in
``plugins/homelab_kit_scaffold`` and ``cookiecutters/``.
"""

from __future__ import annotations

from homelab_kit.errors import ScaffoldError
from homelab_kit.scaffold.builders import (
    app_template_needs,
    plan_add_secret,
    plan_new_app,
    plan_new_namespace,
)
from homelab_kit.scaffold.generator import (
    CONTEXT_VARIABLES,
    KINDS,
    Generator,
    find_generator,
    registered_generators,
    render,
)
from homelab_kit.scaffold.plan import FileCreate, FileEdit, Plan, Result, Workspace, apply_plan
from homelab_kit.scaffold.settings import KEYS, ScaffoldSettings, parse_overrides, resolve_settings

__all__ = [
    "CONTEXT_VARIABLES",
    "KEYS",
    "KINDS",
    "FileCreate",
    "FileEdit",
    "Generator",
    "Plan",
    "Result",
    "ScaffoldError",
    "ScaffoldSettings",
    "Workspace",
    "app_template_needs",
    "apply_plan",
    "find_generator",
    "parse_overrides",
    "plan_add_secret",
    "plan_new_app",
    "plan_new_namespace",
    "registered_generators",
    "render",
    "resolve_settings",
]
