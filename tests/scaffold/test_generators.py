"""Generators: registration through the hook, and rendering with cookiecutter."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest

from homelab_kit import hookimpl
from homelab_kit.errors import PluginError, ScaffoldError
from homelab_kit.plugins import PluginManager
from homelab_kit.scaffold import Generator, find_generator, registered_generators, render


def _pm(*items: Any) -> PluginManager:
    module = types.ModuleType("gen_plugin")

    @hookimpl
    def homelab_kit_register_generators() -> list[Any]:
        return list(items)

    module.homelab_kit_register_generators = homelab_kit_register_generators  # type: ignore[attr-defined]
    return PluginManager(autoload=False, extra=[module])


def test_built_in_generators_are_registered_by_the_default_plugin() -> None:
    generators = registered_generators(PluginManager(autoload=False))
    built_in = {(g.kind, g.name): g for g in generators if g.plugin == "homelab_kit_scaffold"}
    assert set(built_in) == {
        ("app", "app-template"),
        ("app", "default"),
        ("namespace", "default"),
        ("secret", "default"),
        ("secret", "external-secrets"),
        ("secret", "sops"),
    }
    for generator in built_in.values():
        assert (generator.template / "cookiecutter.json").is_file()
        assert not (generator.template / "hooks").exists()  # our templates need no hooks
        generator.top_folder()


def test_registration_errors(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match=r"not a homelab_kit\.scaffold\.Generator"):
        registered_generators(_pm("nope"))
    with pytest.raises(PluginError, match="registered by both"):
        registered_generators(_pm(Generator("default", "app", tmp_path)))
    with pytest.raises(PluginError, match="kind"):
        Generator("x", "widget", tmp_path)
    with pytest.raises(
        ScaffoldError, match=r"no app template called .x. .available: app-template, default"
    ):
        find_generator("app", "x", PluginManager(autoload=False))


def test_render_fills_declared_variables_verbatim() -> None:
    generator = find_generator("secret", None, PluginManager(autoload=False))
    files = render(
        generator,
        {
            "namespace": "media",
            "app": "true",
            "secret_name": "true-secret",
            "secrets_path": "/true",
            "project_slug": "1.0",
            "not_declared": "ignored",
        },
    )
    text = files["media/secrets/true-secrets.yaml"]
    assert '  name: "true-secrets"' not in text  # plain where that is safe
    assert "  name: true-secrets\n" in text
    assert 'projectSlug: "1.0"' in text  # quoted where YAML would read a number
    with pytest.raises(ScaffoldError, match="template syntax"):
        render(generator, {"namespace": "media", "app": "x", "project_slug": "{{ 7 * 7 }}"})


def test_a_template_that_renders_invalid_yaml_is_refused(tmp_path: Path) -> None:
    template = tmp_path / "t"
    (template / "{{cookiecutter.app}}").mkdir(parents=True)
    (template / "cookiecutter.json").write_text('{"app": "x"}')
    (template / "{{cookiecutter.app}}" / "ks.yaml").write_text("a: [\n")
    with pytest.raises(ScaffoldError, match="invalid YAML"):
        render(Generator("t", "app", template), {"app": "demo"})
    (template / "{{cookiecutter.app}}" / "ks.yaml").write_text("a: {{ cookiecutter.nope }}\n")
    with pytest.raises(ScaffoldError, match="failed"):
        render(Generator("t", "app", template), {"app": "demo"})
