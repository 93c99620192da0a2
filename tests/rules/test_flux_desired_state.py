"""Flux checks in a repository of several clusters whose Kustomizations share names.

Each cluster is its own desired state (onedr0p__home-ops-2024: kubernetes/main and
kubernetes/storage both have flux-system/system-upgrade-controller-plans).  A check
that asks which files a Kustomization deploys must not be given the files of the
same-named Kustomization of the other cluster.
"""

from __future__ import annotations

from homelab_kit.testing import LintTree, YamlTree
from tests.rules.test_schema import ks

KFILE = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"


def _plan(variable: str) -> str:
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plan\n"
        f"data:\n  version: ${{{variable}}}\n"
    )


def _cluster(name: str, substitute: str, variable: str) -> dict[str, str]:
    """Cluster ``name``: its plans Kustomization defines ``substitute`` and its plan
    uses ``${variable}``."""
    apps = f"kubernetes/{name}/apps"
    return {
        f"kubernetes/{name}/flux/cluster/ks.yaml": ks(
            "cluster-apps", f"./{apps}", namespace="flux-system"
        ),
        f"{apps}/kustomization.yaml": KFILE + "  - ./plans/ks.yaml\n",
        f"{apps}/plans/ks.yaml": ks(
            "plans",
            f"./{apps}/plans/app",
            f"  postBuild:\n    substitute:\n      {substitute}: v1\n",
            namespace="flux-system",
        ),
        f"{apps}/plans/app/kustomization.yaml": KFILE + "  - ./plan.yaml\n",
        f"{apps}/plans/app/plan.yaml": _plan(variable),
    }


def test_variables_are_judged_by_the_kustomization_of_their_own_cluster(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(
        _cluster("main", "TALOS_VERSION", "TALOS_VERSION") | _cluster("storage", "NODE", "NODE")
    )
    assert lint_tree(select=["flux-ks-substitute-undefined"]) == []


def test_an_undefined_variable_is_still_reported_in_its_cluster(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(
        _cluster("main", "TALOS_VERSION", "TALOS_VERSOIN")
        | _cluster("storage", "TALOS_VERSOIN", "TALOS_VERSOIN")
    )
    assert lint_tree(select=["flux-ks-substitute-undefined"]) == [
        ("kubernetes/main/apps/plans/app/plan.yaml", 6, "flux-ks-substitute-undefined"),
    ]
