"""Every hook homelab-kit calls.  docs/hooks.md is generated from this module.

Built-in checks, generators and output formats register through these same hooks
(see ``homelab_kit.plugins.DEFAULT_PLUGINS``); a third-party plugin is an installed
distribution with an entry point in the ``homelab_kit`` group.  Registration hooks
return lists, so their signatures never have to grow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from homelab_kit.config import Config
    from homelab_kit.lint.result import LintResult
    from homelab_kit.model.repo import Repo

hookspec = pluggy.HookspecMarker("homelab_kit")

# --------------------------------------------------------------------------- registration


@hookspec
def homelab_kit_register_checks() -> list[Any]:
    """Register checks that ``homelab-kit lint`` runs.

    Return a list of check modules or :class:`homelab_kit.Check` objects.  A check
    module has a docstring (What it does / Why is this bad? / Example / Use
    instead), ``ID``, ``SEVERITY``, ``CATEGORY`` (``correctness``, ``security``,
    ``convention`` or ``style``: which presets run it; a module without one counts
    as ``correctness``, so it runs by default), ``REMEDIATION``, an optional attrs
    ``Options`` class and ``check(repo, options)`` yielding
    :class:`homelab_kit.Diagnostic`.  An optional ``SCOPE`` says what the check
    reads (``"file"``, a tuple of ``Repo`` field names, or None: it runs every
    time), so its findings are kept across runs while that is unchanged; see
    docs/plugins.md and :mod:`homelab_kit.lint.reuse`.

    :returns: check modules or ``Check`` objects; IDs must be unique across plugins.

    Example::

        from homelab_kit import hookimpl
        from my_plugin import no_default_namespace

        @hookimpl
        def homelab_kit_register_checks():
            return [no_default_namespace]
    """


@hookspec
def homelab_kit_register_generators() -> list[Any]:
    """Register scaffolding generators offered by ``homelab-kit new-app --template``.

    :returns: a list of :class:`homelab_kit.scaffold.Generator` objects, each naming
        a cookiecutter template directory and the kind of thing it creates.

    Example::

        @hookimpl
        def homelab_kit_register_generators():
            return [Generator(name="app-template", kind="app",
                              template=Path(__file__).parent / "templates" / "app",
                              description="An app on the bjw-s app-template chart")]
    """


@hookspec
def homelab_kit_register_formats() -> list[Any]:
    """Register output formats for ``homelab-kit lint --format``.

    :returns: a list of reporter classes.  A reporter class has a ``name``
        (the ``--format`` value), a one-line ``description`` and a method
        ``render(result: LintResult, options: ReportOptions) -> str``.

    Example::

        @hookimpl
        def homelab_kit_register_formats():
            return [CsvReporter]
    """


@hookspec
def homelab_kit_register_kinds() -> list[Any]:
    """Register model classes for Kubernetes kinds the core does not model.

    Each class has ``API_GROUP`` (the group of its apiVersion, ``""`` for core),
    ``KIND``, and a named constructor ``from_doc(ref: DocumentRef) -> instance``.
    Loaded objects are available as ``repo.objects_of(cls)``.

    :returns: a list of model classes.

    Example::

        @hookimpl
        def homelab_kit_register_kinds():
            return [CertificateModel]
    """


@hookspec
def homelab_kit_register_schemas() -> list[Any]:
    """Register JSON schemas for schema validation.

    :returns: a list of schema locations: directories of ``*.json`` files named as
        kubeconform names them, or kubeconform-style path templates such as
        ``/path/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json``.

    Example::

        @hookimpl
        def homelab_kit_register_schemas():
            return [str(Path(__file__).parent / "schemas")]
    """


@hookspec
def homelab_kit_register_secret_producers() -> list[Any]:
    """Register operator kinds that create Secrets or ConfigMaps named after their objects.

    Each is a :class:`homelab_kit.model.secrets.ProducerRule`: the kind, its
    apiVersion group (``None``: any), name templates (``{name}``, ``{spec.field}``,
    ``a | b`` for "a, else b"), an optional ``when`` field that must be true (or
    ``field=value``), and for names or namespaces kept in data, ``names_from(doc)``
    and ``lands(repo, doc)`` (pure functions of the parsed object; nothing runs).
    They extend the built-in table (``homelab_kit.model.secret_index.PRODUCERS``)
    that ``secrets-consumed-secret-exists``, ``helm-values-from-resolves``,
    ``flux-ks-substitute-from`` and the secrets map read.

    :returns: a list of ``ProducerRule``.

    Example::

        @hookimpl
        def homelab_kit_register_secret_producers():
            return [ProducerRule("Database", "k8s.mariadb.com", ("{name}-credentials",))]
    """


# --------------------------------------------------------------------------- lifecycle


@hookspec
def homelab_kit_configure(config: Config) -> None:
    """Called once the configuration is loaded, before the repository is read.

    A plugin reads its own settings from ``config.plugin_options(name)`` here.

    :param config: the effective configuration (file, then command-line flags).
    :returns: nothing.

    Example::

        @hookimpl
        def homelab_kit_configure(config):
            global OPTIONS
            OPTIONS = config.plugin_options("my-plugin")
    """


@hookspec
def homelab_kit_repo_loaded(repo: Repo) -> None:
    """Called after a repository is loaded, before any check runs.

    :param repo: the loaded repository (immutable).
    :returns: nothing.

    Example::

        @hookimpl
        def homelab_kit_repo_loaded(repo):
            log.info("%d apps", len(repo.apps))
    """


@hookspec
def homelab_kit_lint_finished(result: LintResult) -> None:
    """Called after every check ran, before the report is printed.

    :param result: the findings, the checks that ran and the files read.
    :returns: nothing.

    Example::

        @hookimpl
        def homelab_kit_lint_finished(result):
            metrics.gauge("homelab_kit.findings", len(result.diagnostics))
    """
