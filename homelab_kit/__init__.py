"""homelab-kit: model, lint and scaffold Talos + Flux + Infisical homelab repositories.

The public API::

    import homelab_kit

    repo = homelab_kit.load("path/inside/the/repo")
    for app in repo.apps:
        print(app.namespace, app.name)
    result = homelab_kit.lint("path/inside/the/repo")
"""

from __future__ import annotations

__version__ = "0.1.0"

from homelab_kit.config import Config, load_config
from homelab_kit.diagnostic import Diagnostic, Edit, Fix, Severity
from homelab_kit.errors import ConfigError, HomelabKitError, PluginError, RepoNotFoundError
from homelab_kit.lint import Check, LintResult, lint
from homelab_kit.location import Location
from homelab_kit.model import (
    App,
    DocumentRef,
    FluxKustomization,
    HelmRelease,
    InfisicalSecret,
    LoadOptions,
    Namespace,
    OCIRepository,
    Repo,
    find_root,
    load,
)
from homelab_kit.plugins import hookimpl

__all__ = [
    "App",
    "Check",
    "Config",
    "ConfigError",
    "Diagnostic",
    "DocumentRef",
    "Edit",
    "Fix",
    "FluxKustomization",
    "HelmRelease",
    "HomelabKitError",
    "InfisicalSecret",
    "LintResult",
    "LoadOptions",
    "Location",
    "Namespace",
    "OCIRepository",
    "PluginError",
    "Repo",
    "RepoNotFoundError",
    "Severity",
    "__version__",
    "find_root",
    "hookimpl",
    "lint",
    "load",
    "load_config",
]
