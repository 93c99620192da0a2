"""plugins/example installed as a real third-party plugin, and plugins never loaded from a repo.

A throwaway virtual environment sees homelab-kit and its dependencies through a
``.pth`` file naming this environment's site-packages, so nothing is downloaded.  The
example distribution is installed into it from a copy of ``plugins/example`` (offline:
no index, no dependencies, no build isolation); then the ``homelab-kit`` it runs must
list the plugin, run its check and offer its generator.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import venv
from pathlib import Path

import attrs
import pytest
from setuptools import find_namespace_packages

from homelab_kit.testing import write_tree

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT_ROOT / "plugins" / "example"
CHECK_ID = "example-secret-reload"
GENERATOR = "example-app-template"
CONSOLE_SCRIPT = "from homelab_kit.cli import main\nmain()\n"

# A repository where example-secret-reload fires once: sonarr reads the Secret an
# InfisicalSecret writes, and nothing restarts it when the Secret changes.
STALE_SECRET_REPO = {
    "kubernetes/apps/media/secrets/sonarr-secrets.yaml": """\
        apiVersion: secrets.infisical.com/v1alpha1
        kind: InfisicalSecret
        metadata:
          name: sonarr-secrets
          namespace: media
        spec:
          managedSecretReference:
            secretName: sonarr-secret
            secretNamespace: media
        """,
    "kubernetes/apps/media/sonarr/app/deployment.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: sonarr
          namespace: media
        spec:
          template:
            spec:
              containers:
                - name: app
                  image: ghcr.io/home-operations/sonarr:4.0.15
                  envFrom:
                    - secretRef:
                        name: sonarr-secret
        """,
}


@attrs.frozen
class Venv:
    """A throwaway virtual environment that shares this one's packages."""

    root: Path
    python: Path
    console_script: Path  # what pip would write as bin/homelab-kit
    imported_example_before_install: bool

    def run(
        self, *args: str | Path, cwd: Path | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """``python ARGS`` in the environment; output captured, environment cleaned."""
        return subprocess.run(
            [str(self.python), *map(str, args)],
            cwd=cwd,
            env=clean_env(**env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def homelab_kit(
        self, *args: str | Path, cwd: Path | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """The ``homelab-kit`` command, run as its console script is."""
        return self.run(self.console_script, *args, cwd=cwd, **env)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would change a child's plugins or path."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HOMELAB_KIT_", "PYTHON", "PIP_", "VIRTUAL_ENV"))
    }
    return {**env, "NO_COLOR": "1", "PIP_NO_INDEX": "1", "PIP_NO_CACHE_DIR": "1", **extra}


def make_venv(root: Path) -> Venv:
    """A venv without pip whose site-packages also reads this environment's."""
    venv.EnvBuilder(with_pip=False, clear=True).create(root)
    bin_dir = root / ("Scripts" if sys.platform == "win32" else "bin")
    python = bin_dir / ("python.exe" if sys.platform == "win32" else "python")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        env=clean_env(),
    ).stdout.strip()
    shared = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    # addsitedir (not a bare path) so the .pth files there, the editable install's
    # among them, are processed too.
    lines = [f"import site; site.addsitedir({path!r})" for path in shared]
    (Path(purelib) / "_homelab_kit_shared.pth").write_text("\n".join(lines) + "\n")
    script = root / "homelab-kit-console-script.py"
    script.write_text(CONSOLE_SCRIPT)
    probe = subprocess.run(
        [str(python), "-c", "import homelab_kit_example"],
        capture_output=True,
        env=clean_env(),
        check=False,
    )
    return Venv(root, python, script, imported_example_before_install=probe.returncode == 0)


def can_build_wheels() -> bool:
    """setuptools builds wheels by itself from 70.1; before that it needs ``wheel``."""
    import setuptools

    major, minor = (int(p) for p in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def install(env: Venv, source: Path) -> None:
    """Install the distribution at ``source`` into ``env``, offline."""
    if can_build_wheels():
        command: list[str | Path] = [
            "-m",
            "pip",
            "install",
            "--no-index",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            source,
        ]
    else:
        # No wheel builder offline: setuptools installs from pyproject.toml directly,
        # with the same packages, package data and entry points.
        command = [
            "-c",
            "from setuptools import setup; setup()",
            "--quiet",
            "install",
            "--single-version-externally-managed",
            "--record",
            source / "installed-files.txt",
        ]
    done = env.run(*command, cwd=source)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def example_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A throwaway venv with homelab-kit-example installed from a copy of plugins/example."""
    base = tmp_path_factory.mktemp("example-plugin")
    env = make_venv(base / "venv")
    source = base / "example"
    shutil.copytree(
        EXAMPLE,
        source,
        ignore=shutil.ignore_patterns(
            "__pycache__", "*.egg-info", "build", "dist", ".*_cache", ".hypothesis"
        ),
    )
    install(env, source)
    return env


@pytest.fixture
def stale_secret_repo(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "repo", STALE_SECRET_REPO)


# ----------------------------------------------------------------------------- packaging


def test_main_distribution_does_not_ship_the_example():
    """The top-level pyproject's package discovery never reaches plugins/example."""
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    find = config["tool"]["setuptools"]["packages"]["find"]
    packages = {
        package
        for where in find["where"]
        for package in find_namespace_packages(
            where=str(PROJECT_ROOT / where), include=find["include"]
        )
    }
    assert "homelab_kit_flux" in packages  # a built-in pack is found ...
    assert not {p for p in packages if p.startswith("homelab_kit_example")}  # ... not this


def test_not_importable_before_it_is_installed(example_venv: Venv):
    assert not example_venv.imported_example_before_install


def test_example_distribution_metadata(example_venv: Venv):
    done = example_venv.run(
        "-c",
        "from importlib.metadata import distribution as d; x = d('homelab-kit-example'); "
        "print(x.version); print(*x.entry_points, sep='\\n'); print(*x.requires, sep='\\n')",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "0.1.0"
    assert "EntryPoint(name='example', value='homelab_kit_example', group='homelab_kit')" in lines
    assert "homelab-kit>=0.1" in lines


# ----------------------------------------------------------------------------- the CLI


def test_plugins_lists_it(example_venv: Venv):
    done = example_venv.homelab_kit("plugins")
    assert done.returncode == 0, done.stderr
    assert "example  (homelab-kit-example 0.1.0)\n" in done.stdout
    listed = done.stdout.split("example  (homelab-kit-example 0.1.0)\n", 1)[1].splitlines()
    assert listed[:2] == [
        "    homelab_kit_register_checks",
        "    homelab_kit_register_generators",
    ]


def test_rules_and_explain(example_venv: Venv):
    rules = example_venv.homelab_kit("rules")
    assert rules.returncode == 0, rules.stderr
    [line] = [row for row in rules.stdout.splitlines() if row.startswith(CHECK_ID)]
    assert "warning" in line
    assert "fix" in line
    assert line.endswith("[example]")
    explain = example_venv.homelab_kit("explain", CHECK_ID)
    assert explain.returncode == 0, explain.stderr
    assert "## Why is this bad?" in explain.stdout
    assert "reload-annotations:" in explain.stdout


def test_its_check_fires(example_venv: Venv, stale_secret_repo: Path):
    args = ("lint", stale_secret_repo, "--select", CHECK_ID, "--format", "concise", "--no-cache")
    done = example_venv.homelab_kit(*args, "--fail-on", "warning")
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(
        f"kubernetes/apps/media/sonarr/app/deployment.yaml:4:3: warning[{CHECK_ID}] "
        "Deployment media/sonarr reads Secret sonarr-secret, which InfisicalSecret "
        "media/sonarr-secrets writes from outside Git, but nothing restarts it when it changes"
    )
    # A warning does not fail the default --fail-on error.
    assert example_venv.homelab_kit(*args).returncode == 0


def test_its_fix_applies(example_venv: Venv, stale_secret_repo: Path):
    if importlib.util.find_spec("homelab_kit.yaml.edit") is None:
        pytest.skip("homelab-kit cannot apply fixes yet (homelab_kit.yaml.edit is missing)")
    done = example_venv.homelab_kit(
        "lint", stale_secret_repo, "--select", CHECK_ID, "--fix", "--no-cache"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    fixed = (stale_secret_repo / "kubernetes/apps/media/sonarr/app/deployment.yaml").read_text()
    assert "reloader.stakater.com/auto" in fixed


def test_new_app_offers_its_generator(example_venv: Venv):
    done = example_venv.homelab_kit("new-app", "--help")
    if "No such command" in done.stderr:
        pytest.skip("homelab-kit new-app does not exist yet (homelab_kit.scaffold)")
    assert done.returncode == 0, done.stderr
    assert GENERATOR in done.stdout


def test_disabling_autoload_hides_it(example_venv: Venv, stale_secret_repo: Path):
    off = {"HOMELAB_KIT_DISABLE_PLUGIN_AUTOLOAD": "1"}
    plugins = example_venv.homelab_kit("plugins", **off)
    assert plugins.returncode == 0, plugins.stderr
    assert "homelab-kit-example" not in plugins.stdout
    assert "HOMELAB_KIT_DISABLE_PLUGIN_AUTOLOAD is set" in plugins.stdout
    rules = example_venv.homelab_kit("rules", **off)
    assert CHECK_ID not in rules.stdout
    lint = example_venv.homelab_kit("lint", stale_secret_repo, "--no-cache", **off)
    assert CHECK_ID not in lint.stdout


def test_tracing_shows_hook_calls(example_venv: Venv, stale_secret_repo: Path):
    done = example_venv.homelab_kit(
        "lint", stale_secret_repo, "--no-cache", HOMELAB_KIT_TRACE_PLUGINS="1"
    )
    assert "homelab-kit: hook homelab_kit_configure(config)" in done.stderr


def test_its_own_test_suite_passes_installed(example_venv: Venv):
    """plugins/example/tests, run as a plugin author runs them: plugin installed."""
    source = example_venv.root.parent / "example"
    # Its own --basetemp: the default one is shared with every other pytest run.
    basetemp = example_venv.root.parent / "pytest-inner"
    done = example_venv.run(
        "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", basetemp, cwd=source
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout


# ----------------------------------------------------------------------------- safety

EVIL_MODULE = """\
    # Planted by a pull request: homelab-kit must never import this.
    import pathlib

    pathlib.Path(__file__).resolve().parent.joinpath("{marker}").write_text("imported")


    def homelab_kit_register_checks():
        return []
    """


@pytest.fixture
def evil_repo(tmp_path: Path) -> Path:
    """A repository that plants plugin code every way a plugin could be found."""
    root = tmp_path / "evil"
    write_tree(
        root,
        {
            **STALE_SECRET_REPO,
            # A module named like a plugin, next to the repository root (sys.path[0]
            # under `python -m` from here) ...
            "homelab_kit_evil.py": EVIL_MODULE.format(marker="MARKER-module"),
            # ... the installed-distribution metadata that would make it one ...
            "homelab_kit_evil-1.0.dist-info/METADATA": (
                "Metadata-Version: 2.1\nName: homelab-kit-evil\nVersion: 1.0\n"
            ),
            "homelab_kit_evil-1.0.dist-info/entry_points.txt": (
                "[homelab_kit]\nevil = homelab_kit_evil\n"
            ),
            # ... a plugins folder like homelab-kit's own ...
            "plugins/homelab_kit_evil/__init__.py": EVIL_MODULE.format(marker="MARKER-plugins"),
            # ... and a configuration naming it.
            ".homelab-kit.yaml": textwrap.dedent(
                """\
                plugins:
                  homelab_kit_evil:
                    module: homelab_kit_evil
                    enabled: true
                """
            ),
        },
    )
    return root


def markers(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("MARKER*"))


def test_lint_from_inside_the_repo_runs_none_of_its_code(example_venv: Venv, evil_repo: Path):
    """The console script, run in the checkout of a pull request, as CI runs it."""
    for args in (("plugins",), ("rules",), ("lint", "--no-cache", "--format", "concise")):
        done = example_venv.homelab_kit(*args, cwd=evil_repo)
        assert done.returncode in (0, 1), done.stderr
        assert "evil" not in done.stdout
    assert markers(evil_repo) == []


def test_lint_of_the_repo_by_path_runs_none_of_its_code(example_venv: Venv, evil_repo: Path):
    done = example_venv.run(
        "-m", "homelab_kit", "lint", evil_repo, "--no-cache", cwd=evil_repo.parent
    )
    assert done.returncode in (0, 1), done.stderr
    assert markers(evil_repo) == []


def test_python_safe_path_from_inside_the_repo_runs_none_of_its_code(
    example_venv: Venv, evil_repo: Path
):
    """``python -P -m homelab_kit``: -P keeps the current folder off sys.path."""
    done = example_venv.run("-P", "-m", "homelab_kit", "lint", "--no-cache", cwd=evil_repo)
    assert done.returncode in (0, 1), done.stderr
    assert "evil" not in done.stdout
    assert markers(evil_repo) == []
