"""Flux checks judge what each cluster applies.

Files no cluster deploys count for nothing, and each cluster is its own desired
state (onedr0p__home-ops-2024: kubernetes/main and kubernetes/storage both have
flux-system/system-upgrade-controller-plans).  A check that asks which files a
Kustomization deploys must not be given the files of the same-named Kustomization
of the other cluster.
"""

from __future__ import annotations

from homelab_kit.testing import LintTree, YamlTree
from tests.rules.test_flux import MEDIA_KFILE, SECRETS_KS, _edit
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


def test_a_dependent_no_cluster_deploys_asks_for_no_wait(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    """vrozaksen: dependents left out of their namespace's kustomization.yaml were named."""
    tree = _edit(SECRETS_KS, "wait: true", "wait: false")
    tree[MEDIA_KFILE] = tree[MEDIA_KFILE].replace("  - ./sonarr/ks.yaml\n", "")
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-dependency-wait"]) == []


def _operator_and_config(name: str, wait: str, with_config: bool) -> dict[str, str]:
    """Cluster ``name`` with an operator Kustomization (``wait``) and, optionally, a
    config Kustomization that depends on it."""
    apps = f"kubernetes/{name}/apps"
    tree = {
        f"kubernetes/{name}/flux/cluster/ks.yaml": ks(
            "cluster-apps", f"./{apps}", namespace="flux-system"
        ),
        f"{apps}/kustomization.yaml": KFILE + "  - ./cilium/ks.yaml\n",
        f"{apps}/cilium/ks.yaml": ks(
            "cilium", f"./{apps}/cilium/app", f"  wait: {wait}\n", namespace="flux-system"
        ),
        f"{apps}/cilium/app/kustomization.yaml": KFILE + "  - ./plan.yaml\n",
        f"{apps}/cilium/app/plan.yaml": _plan("X"),
    }
    if with_config:
        tree[f"{apps}/cilium/ks.yaml"] += ks(
            "cilium-config",
            f"./{apps}/cilium/app",
            "  dependsOn:\n    - name: cilium\n",
            namespace="flux-system",
        )
    return tree


def test_a_dependent_in_another_cluster_asks_for_no_wait(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    """onedr0p-2024: main's cilium-config depends on main's cilium (which waits); the
    storage cluster's cilium, of the same name, has no dependent."""
    yaml_tree(
        _operator_and_config("main", "true", with_config=True)
        | _operator_and_config("storage", "false", with_config=False)
    )
    assert lint_tree(select=["flux-ks-dependency-wait"]) == []


def test_a_dependent_in_the_same_cluster_asks_for_a_wait(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(
        _operator_and_config("main", "true", with_config=False)
        | _operator_and_config("storage", "false", with_config=True)
    )
    assert lint_tree(select=["flux-ks-dependency-wait"]) == [
        ("kubernetes/storage/apps/cilium/ks.yaml", 15, "flux-ks-dependency-wait"),
    ]
