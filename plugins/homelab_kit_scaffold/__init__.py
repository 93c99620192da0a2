"""Built-in generators: the app, namespace and secret templates of ``new-app`` and friends.

Registered through ``homelab_kit_register_generators`` like any plugin's; the
templates are the cookiecutter directories in the project's ``cookiecutters/``.

* app ``default``: any Helm chart from an OCI registry, in the repository's layout
  (ks.yaml, app/helmrelease.yaml, its OCIRepository beside it or in its own file,
  values inline or in app/helm/values.yaml with kustomizeconfig.yaml);
* app ``app-template``: the same files, values in the bjw-s app-template shape;
  picked automatically for that chart;
* namespace ``default``: the namespace folder, its kustomization.yaml and its
  secrets folder;
* secret ``default``: one app's InfisicalSecret in the namespace's secrets folder;
* secret ``external-secrets``: one app's ExternalSecret beside its HelmRelease;
* secret ``sops``: one app's Secret beside its HelmRelease, a placeholder (no value)
  that the user encrypts with ``sops``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homelab_kit import hookimpl

# The bjw-s app-template chart, as an OCI artifact and in the older chart repository.
APP_TEMPLATE_CHARTS = (
    "oci://ghcr.io/bjw-s-labs/helm/app-template",
    "oci://ghcr.io/bjw-s/helm/app-template",
    "https://bjw-s-labs.github.io/helm-charts/app-template",
    "https://bjw-s.github.io/helm-charts/app-template",
)
# The top-level keys of app-template's values.yaml (v3 and v4): anything else is ignored.
APP_TEMPLATE_KEYS = frozenset(
    {
        "global",
        "defaultPodOptionsStrategy",
        "defaultPodOptions",
        "controllers",
        "serviceAccount",
        "secrets",
        "configMaps",
        "configMapsFromFolder",
        "service",
        "ingress",
        "route",
        "serviceMonitor",
        "networkpolicies",
        "persistence",
        "rbac",
        "rawResources",
    }
)


def templates_dir() -> Path:
    """Where the built-in templates are: ``cookiecutters/`` beside ``plugins/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parents[1] / "cookiecutters"):
        if (candidate / "app" / "cookiecutter.json").is_file():
            return candidate
    return here.parents[1] / "cookiecutters"


@hookimpl
def homelab_kit_register_generators() -> list[Any]:
    """The built-in app, namespace and secret templates."""
    from homelab_kit.scaffold import Generator

    root = templates_dir()
    return [
        Generator(
            name="default",
            kind="app",
            template=root / "app",
            description="Any Helm chart from an OCI registry (--chart, --version): the "
            "standard app structure, values in the common image/resources/probes shape",
        ),
        Generator(
            name="app-template",
            kind="app",
            template=root / "app",
            description="The bjw-s app-template chart: values in its controllers / service / "
            "route / persistence shape (picked for that chart without --template)",
            context={"values_shape": "app-template"},
            charts=APP_TEMPLATE_CHARTS,
            values_keys=APP_TEMPLATE_KEYS,
        ),
        Generator(
            name="default",
            kind="namespace",
            template=root / "namespace",
            description="A namespace folder with its kustomization.yaml and secrets folder",
        ),
        Generator(
            name="default",
            kind="secret",
            template=root / "secret",
            description="One app's InfisicalSecret in the namespace's secrets folder",
        ),
        Generator(
            name="external-secrets",
            kind="secret",
            template=root / "externalsecret",
            description="One app's ExternalSecret beside its HelmRelease, in the "
            "repository's secret store",
        ),
        Generator(
            name="sops",
            kind="secret",
            template=root / "sops",
            description="One app's Secret beside its HelmRelease, as a placeholder to "
            "encrypt with sops (never a value)",
        ),
    ]
