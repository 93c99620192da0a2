"""Which kubeconfig context runs which cluster of the repository.

A repository may hold several clusters (``kubernetes/main`` and
``kubernetes/storage``); each runs behind its own kubeconfig context.  ``status``,
``drift``, ``doctor`` and ``reconcile`` ask each cluster of the repository about its
own apps only, through the context :func:`plan_targets` finds for it:

1. ``--cluster NAME``: that cluster, through ``--context``, else its entry in
   ``contexts:`` of ``.homelab-kit.yaml``, else the context named like it
   (:func:`~homelab_kit.cluster.kubeconfig.context_for_cluster`);
2. a repository of one cluster: ``--context``, else its ``contexts:`` entry, else the
   current context (as kubectl);
3. several clusters, no ``--cluster``: with ``--context``, the one cluster that
   context runs (by ``contexts:`` or by name); without it, every cluster that has a
   context (``contexts:``, else named like it).  Clusters with none are skipped and
   named in one warning that says how to map them; when none has one, that is the
   error.  The current context is never guessed to be one of several clusters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from homelab_kit.cluster.kubeconfig import ClusterOptions, context_for_cluster, kubeconfig_contexts
from homelab_kit.errors import ClusterError
from homelab_kit.model.clusters import Cluster as RepoCluster
from homelab_kit.model.repo import Repo


@attrs.frozen
class Target:
    """One cluster to ask: the repository's cluster (None: the whole repository, one
    cluster) and how to reach it."""

    scope: RepoCluster | None
    options: ClusterOptions

    @property
    def name(self) -> str | None:
        """The repository cluster's name, None for a repository of one cluster."""
        return self.scope.name if self.scope is not None else None


@attrs.frozen
class Skipped:
    """A cluster of the repository that no kubeconfig context was found for."""

    cluster: str
    reason: str

    def to_json(self) -> dict[str, str]:
        """The JSON form (``skipped`` of a grouped document)."""
        return {"cluster": self.cluster, "reason": self.reason}


@attrs.frozen
class Plan:
    """The clusters to ask, in the repository's order, and those skipped.

    ``grouped``: the repository holds several clusters and no ``--cluster`` chose
    one, so output is grouped cluster by cluster (also when only one is asked).
    """

    targets: tuple[Target, ...]
    skipped: tuple[Skipped, ...] = ()
    grouped: bool = False

    def skipped_message(self) -> str | None:
        """One line naming the skipped clusters and how to map them; None if none."""
        if not self.skipped:
            return None
        names = ", ".join(f"{s.cluster} ({s.reason})" for s in self.skipped)
        first = self.skipped[0].cluster
        several = len(self.skipped) > 1
        return (
            f"cluster{'s' if several else ''} {names} of the repository skipped: "
            f"map {'each' if several else 'it'} to its kubeconfig context in .homelab-kit.yaml "
            f"(contexts: {{{first}: CONTEXT}}), or run with --cluster {first} --context CONTEXT"
        )


def plan_targets(repo: Repo, contexts: Mapping[str, str], options: ClusterOptions) -> Plan:
    """The clusters to ask and their kubeconfig contexts; see the module docstring.

    :param repo: the loaded repository (``repo.clusters``).
    :param contexts: ``contexts:`` of the configuration, cluster name -> context.
    :param options: the command line's kubeconfig flags; ``options.cluster`` is
        ``--cluster``.
    :raises HomelabKitError: ``--cluster`` names no cluster of the repository.
    :raises ClusterError: no cluster could be matched to a context, or ``--context``
        runs none (or several) of the repository's clusters.
    """
    clusters = list(repo.clusters)
    if options.cluster is not None:
        scope = _select(clusters, options.cluster) if len(clusters) > 1 else None
        context = options.context or contexts.get(options.cluster)
        return Plan((Target(scope, attrs.evolve(options, context=context)),))
    if len(clusters) < 2:
        configured = contexts.get(clusters[0].name) if clusters else None
        context = options.context or configured
        return Plan((Target(None, attrs.evolve(options, context=context)),))
    if options.context is not None:
        runs = [c for c in clusters if _runs(options.context, c.name, contexts)]
        if len(runs) != 1:
            names = ", ".join(c.name for c in clusters)
            which = "several" if runs else "none"
            raise ClusterError(
                f"context {options.context!r} runs {which} of the repository's clusters "
                f"({names}) as far as names tell: pass --cluster NAME with --context, or map "
                "each cluster to its context in .homelab-kit.yaml (contexts:)"
            )
        return Plan((Target(runs[0], options),), grouped=True)
    entries = kubeconfig_contexts(options.kubeconfig)
    known = {str(e.get("name")) for e in entries}
    targets: list[Target] = []
    skipped: list[Skipped] = []
    for cluster in clusters:
        context, reason = _context_of(cluster.name, contexts, entries, known)
        if context is None:
            skipped.append(Skipped(cluster.name, reason))
        else:
            targets.append(Target(cluster, attrs.evolve(options, context=context)))
    plan = Plan(tuple(targets), tuple(skipped), grouped=True)
    if not targets:
        raise ClusterError(str(plan.skipped_message()))
    return plan


def _select(clusters: Sequence[RepoCluster], name: str) -> RepoCluster:
    from homelab_kit.model.clusters import select_clusters

    return select_clusters(clusters, [name])[0]


def _runs(context: str, cluster: str, contexts: Mapping[str, str]) -> bool:
    """Whether ``context`` is ``cluster``'s: configured so, else named like it."""
    if cluster in contexts:
        return contexts[cluster] == context
    return context == cluster or context.endswith(f"@{cluster}")


def _context_of(
    cluster: str,
    contexts: Mapping[str, str],
    entries: Sequence[Mapping[str, Any]],
    known: set[str],
) -> tuple[str | None, str]:
    """``cluster``'s context, or None and why there is none."""
    if cluster in contexts:
        if contexts[cluster] in known:
            return contexts[cluster], ""
        return None, f"its context {contexts[cluster]!r} from contexts: is not in the kubeconfig"
    if not entries:
        return None, "no kubeconfig"
    found = context_for_cluster(entries, cluster)
    if len(found) == 1:
        return found[0], ""
    if found:
        return None, f"several contexts match: {', '.join(found)}"
    return None, "no kubeconfig context is named like it"
