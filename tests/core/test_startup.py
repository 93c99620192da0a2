"""Start-up: each command imports what it needs and no more (issue 22).

The speed itself is measured by benchmarks/run.py (``--version``, ``rules``,
``--help`` rows); these tests hold the behaviour that makes it: which modules a
command imports, in a fresh interpreter, and that ``rules`` and ``--help``, which
answer without importing the plugins or the subsystems, say what they would say
after importing them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest

from homelab_kit import cli as cli_module

# Heavy dependencies no start-up command needs.
HEAVY = ("kubernetes", "cookiecutter", "jsonschema", "rich", "ruamel", "referencing", "pluggy")

PROBE = textwrap.dedent(
    """
    import atexit, json, sys
    atexit.register(lambda: json.dump(sorted(sys.modules), open(sys.argv[1], "w")))
    sys.argv[1:] = [sys.argv[1]] + sys.argv[2:]
    from homelab_kit.cli import main
    main(sys.argv[2:])
    """
)


def _run(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``homelab-kit ARGS`` in a fresh interpreter: the run and the modules it imported."""
    dump = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(dump), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "HOMELAB_KIT_CACHE_DIR": str(tmp_path / "cache"), **(env or {})},
        cwd=cwd or tmp_path,
        check=False,
    )
    return done, set(json.loads(dump.read_text()))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("-h",)])
def test_version_and_help_import_no_dependency_but_click(tmp_path: Path, args: tuple[str]):
    done, modules = _run(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    assert _heavy(modules) == []
    ours = sorted(m for m in modules if m.startswith("homelab_kit"))
    assert ours == [
        "homelab_kit",
        "homelab_kit._lazy",
        "homelab_kit.cli",
        "homelab_kit.errors",
        "homelab_kit.presets",
    ]
    assert "attrs" not in modules


def test_rules_and_explain_answer_from_the_cache_without_the_plugins(tmp_path: Path):
    first, first_modules = _run(tmp_path, "rules", "--format", "json")
    assert first.returncode == 0, first.stderr
    assert "pluggy" in first_modules  # the first run loads the plugins and remembers
    second, modules = _run(tmp_path, "rules", "--format", "json")
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert _heavy(modules) == []
    assert not [m for m in modules if m.startswith(("homelab_kit_", "homelab_kit.model"))]
    explained, modules = _run(tmp_path, "explain", "flux-ks-prune")
    assert explained.returncode == 0, explained.stderr
    assert "## Why is this bad?" in explained.stdout
    assert _heavy(modules) == []


_REGISTERED = textwrap.dedent(
    """
    import json
    from homelab_kit.lint import registered_checks
    from homelab_kit.plugins import PluginManager
    print(json.dumps([
        [c.id, str(c.severity), c.plugin, c.category, c.fixable, c.summary]
        for c in registered_checks(PluginManager(autoload=False))
    ]))
    """
)


def test_rules_from_the_cache_lists_what_the_plugins_register(tmp_path: Path):
    # What the plugins register, asked in a fresh interpreter (a plugin's state, such
    # as the schema plugin's configured severity, may differ in this one).
    fresh = subprocess.run(
        [sys.executable, "-c", _REGISTERED], capture_output=True, text=True, check=True
    )
    checks = json.loads(fresh.stdout)
    keys = ("id", "severity", "plugin", "category", "fixable", "summary")
    expected = [dict(zip(keys, c, strict=True)) for c in checks]
    env = {"HOMELAB_KIT_DISABLE_PLUGIN_AUTOLOAD": "1"}
    for _ in range(2):  # written, then read back
        done, _modules = _run(tmp_path, "rules", "--format", "json", env=env)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == expected
    text, _modules = _run(tmp_path, "rules", env=env)
    width = max(len(c["id"]) for c in expected)
    first = expected[0]
    assert text.stdout.splitlines()[0] == (
        f"{first['id']:<{width}}  {first['severity']:<7}  {first['category']:<11}  "
        f"{'fix' if first['fixable'] else '   '}  {first['summary']}  [{first['plugin']}]"
    )


PLUGIN = '''
"""A check of {name}'s.

## What it does
Nothing.
"""
from homelab_kit import hookimpl
import sys

ID = "{name}-check"
SEVERITY = "warning"
CATEGORY = "style"


def check(repo, options):
    return iter(())


@hookimpl
def homelab_kit_register_checks():
    return [sys.modules[__name__]]
'''


def _install(site: Path, name: str) -> Path:
    """A distribution with a ``homelab_kit`` entry point, as pip would leave it."""
    module = site / f"{name}.py"
    module.write_text(PLUGIN.format(name=name))
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[homelab_kit]\n{name} = {name}\n")
    return module


def _listed(tmp_path: Path, site: Path) -> tuple[list[str], set[str]]:
    work = tmp_path / "work"  # not the folder holding site/: its distributions would be skipped
    work.mkdir(exist_ok=True)
    done, modules = _run(
        tmp_path, "rules", "--format", "json", env={"PYTHONPATH": str(site)}, cwd=work
    )
    assert done.returncode == 0, done.stderr
    return [f"{c['id']} {c['summary']}" for c in json.loads(done.stdout)], modules


def test_the_cache_follows_third_party_plugins(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    module = _install(site, "alpha")
    listed, _ = _listed(tmp_path, site)
    assert "alpha-check A check of alpha's." in listed
    listed, modules = _listed(tmp_path, site)
    assert "alpha-check A check of alpha's." in listed
    assert "alpha" not in modules  # answered from the cache
    # The plugin's code changes: read again.
    module.write_text(module.read_text().replace("A check of", "Another check of") + "\n")
    listed, modules = _listed(tmp_path, site)
    assert "alpha-check Another check of alpha's." in listed
    assert "alpha" in modules
    # A plugin is installed: its entry point appears.
    _install(site, "beta")
    listed, _ = _listed(tmp_path, site)
    assert "beta-check A check of beta's." in listed
    # Autoloading off: neither.
    done, _ = _run(
        tmp_path,
        "rules",
        env={"PYTHONPATH": str(site), "HOMELAB_KIT_DISABLE_PLUGIN_AUTOLOAD": "1"},
        cwd=tmp_path / "work",
    )
    assert "alpha-check" not in done.stdout
    assert "beta-check" not in done.stdout


def test_a_corrupt_cache_file_is_ignored_and_rewritten(tmp_path: Path):
    first, _ = _run(tmp_path, "rules")
    [stored] = (tmp_path / "cache").glob("plugins-*.json")
    stored.write_text("{not json")
    again, modules = _run(tmp_path, "rules")
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert "pluggy" in modules
    json.loads(stored.read_text())


def test_cache_clean_removes_the_plugin_listing(tmp_path: Path):
    _run(tmp_path, "rules")
    assert list((tmp_path / "cache").glob("plugins-*.json"))
    done, _ = _run(tmp_path, "cache", "clean", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert not list((tmp_path / "cache").glob("plugins-*.json"))


def test_help_lists_the_lazy_commands_as_they_describe_themselves():
    """``homelab-kit --help`` shows each lazy command by its own help's first sentence."""
    for name, (module_name, attribute, line) in cli_module.LAZY_COMMANDS.items():
        command = getattr(__import__(module_name, fromlist=[attribute]), attribute)
        assert command.name == name
        assert command.get_short_help_str(limit=1000) == line, name
        assert not command.hidden


def test_help_is_the_same_before_and_after_the_commands_are_imported(tmp_path: Path):
    before, modules = _run(tmp_path, "--help")
    assert before.returncode == 0, before.stderr
    assert not [m for m in modules if m.endswith(".cli") and m != "homelab_kit.cli"]
    ctx = click.Context(cli_module.cli, info_name="homelab-kit")
    for name in cli_module.LAZY_COMMANDS:
        assert cli_module.cli.get_command(ctx, name) is not None
    loaded = subprocess.run(
        [sys.executable, "-c", _LOADED_HELP],
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout == before.stdout


_LOADED_HELP = textwrap.dedent(
    """
    import click
    from homelab_kit.cli import LAZY_COMMANDS, cli, main
    ctx = click.Context(cli, info_name="homelab-kit")
    for name in LAZY_COMMANDS:
        cli.get_command(ctx, name)
    main(["--help"])
    """
)


@pytest.mark.parametrize("command", sorted(cli_module.LAZY_COMMANDS))
def test_each_lazy_command_runs(tmp_path: Path, command: str):
    done, _ = _run(tmp_path, command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Usage: homelab-kit {command} ")


def test_schemas_keeps_its_pull_subcommand(tmp_path: Path):
    done, _ = _run(tmp_path, "schemas", "--help")
    assert done.returncode == 0, done.stderr
    assert "pull" in done.stdout


def test_the_public_api_is_there_when_asked_for():
    import homelab_kit

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, homelab_kit as h; assert 'homelab_kit.model' not in sys.modules;"
            "import homelab_kit.lint.check; print(h.lint.__module__, h.Repo.__name__, "
            "h.hookimpl.project_name, sorted(set(h.__all__) - set(dir(h))))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["homelab_kit.lint", "Repo", "homelab_kit", "[]"]
    assert callable(homelab_kit.lint)
    with pytest.raises(AttributeError):
        homelab_kit.no_such_name  # noqa: B018


PROJECT = Path(__file__).resolve().parents[2]
ENGINE = ("pluggy", "jsonschema", "referencing", "homelab_kit.model", "homelab_kit.lint.engine")


def _engine(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.startswith(ENGINE) or m.startswith("homelab_kit_"))


def test_a_warm_lint_answers_before_the_plugins_load(tmp_path: Path):
    repo = tmp_path / "repo"
    for folder in ("kubernetes", "talos"):
        shutil.copytree(PROJECT / folder, repo / folder)
    shutil.copy2(PROJECT / ".homelab-kit.yaml", repo / ".homelab-kit.yaml")
    ks = repo / "kubernetes/apps/flux-system/flux-instance/ks.yaml"
    ks.write_text(ks.read_text().replace("prune: true", "prune: false"))
    args = ("lint", str(repo), "--format", "concise", "--quiet")

    first, modules = _run(tmp_path, *args)  # checks, and remembers the plugins
    assert first.returncode == 1, first.stderr
    assert "flux-ks-prune" in first.stdout
    assert _engine(modules)
    second, modules = _run(tmp_path, *args)
    assert (second.returncode, second.stdout) == (1, first.stdout), second.stderr
    assert _engine(modules) == []
    assert {m.split(".")[0] for m in _heavy(modules)} == {"ruamel"}  # the configuration is YAML

    # Another selection is another result: checked again.
    ignored, modules = _run(tmp_path, *args, "--ignore", "flux-ks-prune")
    assert "flux-ks-prune" not in ignored.stdout
    assert _engine(modules)
    # A file changed: checked again.
    ks.write_text(ks.read_text().replace("prune: false", "prune: true"))
    fixed, modules = _run(tmp_path, *args)
    assert (fixed.returncode, fixed.stdout) == (0, ""), fixed.stderr
    assert _engine(modules)
    # Nothing changed since: answered again without the plugins.
    again, modules = _run(tmp_path, *args)
    assert (again.returncode, again.stdout) == (0, ""), again.stderr
    assert _engine(modules) == []
    # Without the cache, the plugins always load.
    _, modules = _run(tmp_path, *args, "--no-cache")
    assert _engine(modules)


# Imported only by what needs them: finding third-party plugins (none installed), the
# HTTP client (a remote schema location), the XML library (the junit format); writing
# a cache or a file (tempfile, secrets, hmac), running kustomize or kubectl
# (subprocess), suggesting a name (difflib), a package that is not a folder on disk
# (importlib.resources), an ignore pattern homelab_kit/gitignore.py does not translate
# (pathspec: the default SOPS allow-list is translated), processes (multiprocessing:
# a repository this small is parsed, built and checked in one).
NOT_FOR_LINT = (
    "importlib.metadata",
    "urllib.request",
    "http.client",
    "xml.etree.ElementTree",
    "tempfile",
    "secrets",
    "hmac",
    "subprocess",
    "difflib",
    "importlib.resources",
    "pathspec",
    "multiprocessing",
)


def test_a_lint_imports_no_metadata_http_or_xml_it_does_not_use(tmp_path: Path):
    repo = tmp_path / "repo"
    for folder in ("kubernetes", "talos"):
        shutil.copytree(PROJECT / folder, repo / folder)
    done, modules = _run(tmp_path, "lint", str(repo), "--no-cache", "--format", "concise")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "homelab_kit_schema" in modules  # the checks ran
    assert sorted(modules.intersection(NOT_FOR_LINT)) == []
    # No finding: no source read for the end of one (homelab_kit/lint/spans.py).
    assert "homelab_kit.report._source" not in modules
    junit, modules = _run(tmp_path, "lint", str(repo), "--no-cache", "--format", "junit")
    assert junit.stdout.startswith('<?xml version="1.0"'), junit.stderr
    assert "xml.etree.ElementTree" in modules


def _dist(site: Path, name: str, entry_points: str | None) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points)


def test_the_quick_look_for_plugins_answers_as_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from importlib import metadata

    from homelab_kit.plugins import ENTRY_POINT_GROUP, _may_declare_plugins

    def declared() -> bool:
        return any(
            ep.group == ENTRY_POINT_GROUP for d in metadata.distributions() for ep in d.entry_points
        )

    site = tmp_path / "site"
    _dist(site, "tool", "[console_scripts]\ntool = homelab_kit.cli:console_main\n")
    _dist(site, "bare", None)
    (site / "old.egg-info").write_text("Metadata-Version: 1.0\nName: old\n")  # a file
    (site / "odd.dist-info" / "entry_points.txt").mkdir(parents=True)  # unreadable: skipped
    monkeypatch.setattr(sys, "path", [str(site), str(tmp_path / "missing")])
    assert (_may_declare_plugins(), declared()) == (False, False)

    _dist(site, "plugin", "[console_scripts]\nx = y\n\n[ homelab_kit ]\nplugin = plugin\n")
    assert (_may_declare_plugins(), declared()) == (True, False)  # unsure: the slow path
    (site / "plugin-1.0.dist-info" / "entry_points.txt").write_text("[homelab_kit]\np = p\n")
    assert (_may_declare_plugins(), declared()) == (True, True)

    # What the quick look cannot read through sends it to importlib.metadata.
    archive = tmp_path / "plugins.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip
    monkeypatch.setattr(sys, "path", [str(archive)])
    assert _may_declare_plugins() is True
    monkeypatch.setattr(sys, "path", [str(tmp_path / "x.egg")])
    assert _may_declare_plugins() is True


def test_a_clean_warm_lint_reads_no_source_and_suggests_nothing(tmp_path: Path):
    """The source excerpts (and their redaction) and `did you mean` load when used."""
    repo = tmp_path / "repo"
    for folder in ("kubernetes", "talos"):
        shutil.copytree(PROJECT / folder, repo / folder)
    shutil.copy2(PROJECT / ".homelab-kit.yaml", repo / ".homelab-kit.yaml")
    args = ("lint", str(repo), "--format", "text")
    first, _ = _run(tmp_path, *args)
    assert first.returncode == 0, first.stderr
    warm, modules = _run(tmp_path, *args)
    assert (warm.returncode, warm.stdout.split(" in ")[0]) == (0, first.stdout.split(" in ")[0])
    assert _engine(modules) == []
    assert sorted(modules.intersection({"homelab_kit.report._source", "difflib"})) == []
    # A finding with its source line: read (and redacted) as before.
    ks = repo / "kubernetes/apps/flux-system/flux-instance/ks.yaml"
    ks.write_text(ks.read_text().replace("prune: true", "prune: false"))
    found, modules = _run(tmp_path, *args)
    assert found.returncode == 1, found.stderr
    assert "prune: false" in found.stdout
    assert "homelab_kit.report._source" in modules
