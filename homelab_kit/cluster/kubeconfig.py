"""Finding the cluster as kubectl does, and the durations its flags take.

:func:`connect` builds a :class:`~homelab_kit.cluster.client.Cluster` from
``--kubeconfig``, else ``KUBECONFIG`` (a ``:``-separated list), else
``~/.kube/config``, else the pod's service account (in-cluster configuration).
``--context`` picks a context of the kubeconfig; ``--cluster`` a repository's cluster,
mapped to a context by :func:`context_for_cluster`.

Every failure is a :class:`~homelab_kit.errors.ClusterError` with one line: a missing
kubeconfig, an unknown or ambiguous context.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from homelab_kit.cluster.client import DEFAULT_TIMEOUT, Cluster, first_line
from homelab_kit.errors import ClusterError

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_SECONDS = re.compile(r"\d+(?:\.\d+)?")
_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_duration(text: str) -> float | None:
    """A Go duration (``"5m"``, ``"90s"``, ``"1h30m"``, ``"1.5h"``, ``"500ms"``) in seconds.

    A bare number is seconds, as kubectl's ``--request-timeout`` reads it.  Returns
    None when ``text`` is not a duration (negative durations are not).
    """
    text = text.strip()
    if _SECONDS.fullmatch(text):
        return float(text)
    if not _DURATION_PART.match(text):
        return None
    total, position = 0.0, 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            return None
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    return total if position == len(text) else None


def parse_timeout(text: str) -> float | None:
    """``"0.5s"``, ``"500ms"``, ``"2m"``, ``"1h30m"`` or ``"10"`` (seconds) as seconds;
    ``"0"`` is none.

    Raises :class:`ClusterError` for anything else.
    """
    seconds = parse_duration(text)
    if seconds is None:
        raise ClusterError(
            f"invalid request timeout {text!r}: use a duration such as 10s, 500ms or 1m"
        )
    return seconds or None


@attrs.frozen
class ClusterOptions:
    """How to reach the cluster: the command line's kubeconfig flags.

    ``kubeconfig`` wins over ``KUBECONFIG``; ``context`` over the kubeconfig's
    current context; ``request_timeout`` is in seconds per request (None: no limit).
    """

    kubeconfig: str | None = None
    context: str | None = None
    request_timeout: float | None = DEFAULT_TIMEOUT
    #: A cluster of the repository: picks the kubeconfig context of that name (see
    #: :func:`context_for_cluster`) when ``context`` is not given.
    cluster: str | None = None


def connect(options: ClusterOptions) -> Cluster:
    """A :class:`Cluster` for ``options``; see the module docstring for the order.

    Raises :class:`ClusterError` when no configuration is found, the kubeconfig is
    unreadable or the context is unknown.  Nothing is sent to the cluster yet.
    """
    from kubernetes.config.config_exception import ConfigException

    from kubernetes import client, config

    configuration = client.Configuration()
    files = _kubeconfig_files(options.kubeconfig)
    context: str | None
    if files:
        joined = os.pathsep.join(str(f) for f in files)
        context = _check_context(joined, files, options.context, options.cluster)
        try:
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=joined,
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )
        except Exception as exc:  # ConfigException, exec plugins failing, malformed entries
            raise ClusterError(
                f"cannot use kubeconfig {_names(files)}: {first_line(exc)}"
            ) from None
    elif os.environ.get("KUBERNETES_SERVICE_HOST"):
        if options.context:
            raise ClusterError(
                f"--context {options.context} needs a kubeconfig; none was found "
                "(pass --kubeconfig or set KUBECONFIG)"
            )
        context = None
        try:
            config.load_incluster_config(  # type: ignore[no-untyped-call]
                client_configuration=configuration
            )
        except (ConfigException, OSError) as exc:
            raise ClusterError(
                f"cannot use the pod's service account (in-cluster configuration): "
                f"{first_line(exc)}"
            ) from None
    else:
        raise ClusterError(
            "no cluster configured: pass --kubeconfig, set KUBECONFIG or create "
            "~/.kube/config (inside a pod, the service account is used)"
        )
    configuration.retries = False
    api_client = client.ApiClient(configuration)
    return Cluster(
        api_client,
        context=context,
        server=str(configuration.host),
        timeout=options.request_timeout,
    )


def _kubeconfig_files(flag: str | None) -> list[Path]:
    if flag:
        path = Path(flag).expanduser()
        if not path.is_file():
            raise ClusterError(f"kubeconfig {flag}: no such file")
        return [path]
    env = os.environ.get("KUBECONFIG")
    if env:
        listed = [Path(p).expanduser() for p in env.split(os.pathsep) if p]
        found = [p for p in listed if p.is_file()]
        if not found:
            raise ClusterError(f"KUBECONFIG names no existing file ({env})")
        return found
    default = Path("~/.kube/config").expanduser()
    return [default] if default.is_file() else []


def _check_context(
    joined: str, files: list[Path], wanted: str | None, cluster: str | None = None
) -> str | None:
    """The context to use; an unknown or absent one is a ClusterError listing the known.

    ``wanted`` (``--context``) wins; else ``cluster`` (``--cluster``) picks the
    context :func:`context_for_cluster` finds; else the current context.
    """
    entries, current = _read_contexts(joined, files)
    names = [c.get("name") for c in entries]
    known = ", ".join(str(n) for n in names) or "none"
    if wanted is not None:
        if wanted not in names:
            raise ClusterError(
                f"context {wanted!r} is not in kubeconfig {_names(files)} (contexts: {known})"
            )
        return wanted
    if cluster is not None:
        found = context_for_cluster(entries, cluster)
        if len(found) == 1:
            return found[0]
        if found:
            raise ClusterError(
                f"cluster {cluster!r} matches several contexts of kubeconfig {_names(files)} "
                f"({', '.join(found)}); pass --context"
            )
        raise ClusterError(
            f"no context of kubeconfig {_names(files)} is cluster {cluster!r} (contexts: "
            f"{known}); name a context {cluster!r} or {'admin@' + cluster!r}, or pass --context"
        )
    if not current:
        raise ClusterError(
            f"kubeconfig {_names(files)} sets no current context; pass --context "
            f"(contexts: {known})"
        )
    name = current.get("name") if isinstance(current, Mapping) else None
    return str(name) if name else None


def _read_contexts(
    joined: str, files: list[Path]
) -> tuple[list[Mapping[str, Any]], Mapping[str, Any] | None]:
    """The kubeconfig's context entries and its current one (None when unset)."""
    from kubernetes.config.config_exception import ConfigException

    from kubernetes import config

    try:
        contexts, current = config.list_kube_config_contexts(  # type: ignore[no-untyped-call]
            config_file=joined
        )
    except ConfigException as exc:
        if "current-context" not in str(exc) and "contexts" not in str(exc):
            raise ClusterError(
                f"cannot use kubeconfig {_names(files)}: {first_line(exc)}"
            ) from None
        contexts, current = [], None
    except Exception as exc:  # YAML errors, unreadable files, malformed entries
        raise ClusterError(f"cannot read kubeconfig {_names(files)}: {first_line(exc)}") from None
    entries = [c for c in contexts or () if isinstance(c, Mapping)]
    return entries, current if isinstance(current, Mapping) else None


def kubeconfig_contexts(kubeconfig: str | None) -> list[Mapping[str, Any]]:
    """The context entries (``{name, context}``) of the kubeconfig ``connect`` would read.

    ``kubeconfig`` is ``--kubeconfig``; without it ``KUBECONFIG``, else
    ``~/.kube/config``.  Empty when there is no kubeconfig (inside a pod).  Raises
    :class:`ClusterError` for a kubeconfig that cannot be read.
    """
    files = _kubeconfig_files(kubeconfig)
    if not files:
        return []
    return _read_contexts(os.pathsep.join(str(f) for f in files), files)[0]


def context_for_cluster(contexts: Sequence[Mapping[str, Any]], cluster: str) -> list[str]:
    """The kubeconfig contexts that stand for the repository's cluster ``cluster``.

    The first rule that matches wins: a context named ``cluster``; contexts named
    ``USER@cluster`` (as ``talosctl kubeconfig`` writes them, ``admin@home``);
    contexts whose ``context.cluster`` entry is named ``cluster``.

    :param contexts: the kubeconfig's ``contexts`` entries (``{name, context}``).
    :param cluster: the cluster's name in the repository (``--cluster``).
    :returns: the matching context names; several mean the choice is ambiguous.
    """
    names = [str(c.get("name")) for c in contexts if isinstance(c.get("name"), str)]
    if cluster in names:
        return [cluster]
    suffixed = [n for n in names if n.endswith(f"@{cluster}")]
    if suffixed:
        return suffixed
    return [
        str(c.get("name"))
        for c in contexts
        if isinstance(c.get("context"), Mapping) and c["context"].get("cluster") == cluster
    ]


def _names(files: list[Path]) -> str:
    return os.pathsep.join(str(f) for f in files)
