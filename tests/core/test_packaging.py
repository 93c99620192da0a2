"""What an installed homelab-kit needs beside its code is declared as package data."""

from __future__ import annotations

import tomllib

from tests.conftest import PROJECT_ROOT


def test_builtin_templates_ship_inside_the_scaffold_package() -> None:
    import homelab_kit_scaffold

    link = PROJECT_ROOT / "plugins" / "homelab_kit_scaffold" / "templates"
    assert link.resolve() == (PROJECT_ROOT / "cookiecutters").resolve()
    assert (homelab_kit_scaffold.templates_dir() / "app" / "cookiecutter.json").is_file()
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = config["tool"]["setuptools"]["package-data"]
    assert "templates/**/*" in package_data["homelab_kit_scaffold"]
    assert "*.json" in package_data["*"]  # built-in schemas and the JSON output schema


def test_the_bundled_crd_schemas_and_their_licence_are_package_data() -> None:
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = config["tool"]["setuptools"]["package-data"]["homelab_kit.schema.crds"]
    folder = PROJECT_ROOT / "homelab_kit" / "schema" / "crds"
    for name in ("catalog.zip", "CATALOG-LICENSE.txt"):
        assert name in package_data
        assert (folder / name).is_file()
