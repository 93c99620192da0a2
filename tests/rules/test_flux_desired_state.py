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


def _cluster_with(name: str, app: str, app_ks: str) -> dict[str, str]:
    """Cluster ``name``: its entry point deploys ``apps/APP/ks.yaml`` (``app_ks``), and
    every Kustomization there builds ``apps/APP/app`` (one ConfigMap using ``${X}``)."""
    apps = f"kubernetes/{name}/apps"
    return {
        f"kubernetes/{name}/flux/cluster/ks.yaml": ks(
            "cluster-apps", f"./{apps}", namespace="flux-system"
        ),
        f"{apps}/kustomization.yaml": KFILE + f"  - ./{app}/ks.yaml\n",
        f"{apps}/{app}/ks.yaml": app_ks,
        f"{apps}/{app}/app/kustomization.yaml": KFILE + "  - ./plan.yaml\n",
        f"{apps}/{app}/app/plan.yaml": _plan("X"),
    }


def _cluster(name: str, substitute: str, variable: str) -> dict[str, str]:
    """Cluster ``name``: its plans Kustomization defines ``substitute`` and its plan
    uses ``${variable}``."""
    apps = f"kubernetes/{name}/apps"
    plans = ks(
        "plans",
        f"./{apps}/plans/app",
        f"  postBuild:\n    substitute:\n      {substitute}: v1\n",
        namespace="flux-system",
    )
    tree = _cluster_with(name, "plans", plans)
    tree[f"{apps}/plans/app/plan.yaml"] = _plan(variable)
    return tree


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
    path = f"./kubernetes/{name}/apps/cilium/app"
    both = ks("cilium", path, f"  wait: {wait}\n", namespace="flux-system")
    if with_config:
        dep = "  dependsOn:\n    - name: cilium\n"
        both += ks("cilium-config", path, dep, namespace="flux-system")
    return _cluster_with(name, "cilium", both)


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


def _pair(name: str, first_depends: bool, second_depends: bool) -> dict[str, str]:
    """Cluster ``name`` with Kustomizations ``first`` and ``second``, each optionally
    depending on the other."""
    path = f"./kubernetes/{name}/apps/pair/app"
    dep = "  wait: true\n  dependsOn:\n    - name: {}\n"
    first = dep.format("second") if first_depends else "  wait: true\n"
    second = dep.format("first") if second_depends else "  wait: true\n"
    both = ks("first", path, first, namespace="flux-system")
    both += ks("second", path, second, namespace="flux-system")
    return _cluster_with(name, "pair", both)


def test_two_clusters_ordering_same_names_oppositely_make_no_cycle(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(_pair("main", True, False) | _pair("storage", False, True))
    assert lint_tree(select=["flux-ks-dependency-cycle"]) == []


def test_a_cycle_inside_one_cluster_is_reported_once_in_it(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    yaml_tree(_pair("main", True, False) | _pair("storage", True, True))
    assert lint_tree(select=["flux-ks-dependency-cycle"]) == [
        ("kubernetes/storage/apps/pair/ks.yaml", 17, "flux-ks-dependency-cycle"),
    ]


def test_a_dependency_only_another_cluster_declares_is_not_declared(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    """main's cilium-config depends on cilium, which only the storage cluster has: Flux
    in main waits for it for ever."""
    tree = _operator_and_config("main", "true", with_config=True)
    tree["kubernetes/main/apps/cilium/ks.yaml"] = tree[
        "kubernetes/main/apps/cilium/ks.yaml"
    ].replace("name: cilium\n  namespace", "name: cilium-operator\n  namespace", 1)
    yaml_tree(tree | _operator_and_config("storage", "true", with_config=False))
    assert lint_tree(select=["flux-ks-depends-on"]) == [
        ("kubernetes/main/apps/cilium/ks.yaml", 32, "flux-ks-depends-on"),
    ]
