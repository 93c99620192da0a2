"""The Flux checks that ask what creates a ConfigMap or Secret read each cluster's state.

``flux-ks-substitute-deadlock``, ``flux-ks-substitute-undefined`` and
``flux-ks-secrets-dependency`` share the model's producer table
(:mod:`homelab_kit.model.secret_index`): a producer counts only in its own cluster
and namespace; one written without a namespace lives where its Kustomization's
``targetNamespace`` puts it, and nowhere when none does.
"""

from __future__ import annotations

from homelab_kit.testing import YamlTree, findings, lint_path
from tests.rules.test_flux import (
    MEDIA_KFILE,
    SECRETS_FILE,
    SONARR_HR,
    SONARR_KFILE,
    SONARR_KS,
    SONARR_VALUES,
    _own_build,
    cluster,
)

DEADLOCK = ["flux-ks-substitute-deadlock", "flux-ks-substitute-from"]


def _in(name: str, tree: dict[str, str]) -> dict[str, str]:
    """``tree`` (a cluster of tests.rules.test_flux) moved to ``kubernetes/NAME/``."""
    return {
        path.replace("kubernetes/", f"kubernetes/{name}/", 1): text.replace(
            "./kubernetes/", f"./kubernetes/{name}/"
        )
        for path, text in tree.items()
    }


def _at(name: str, path: str) -> str:
    return path.replace("kubernetes/", f"kubernetes/{name}/", 1)


# ------------------------------------------------------------------------ deadlock


def test_a_producer_of_another_cluster_does_not_clear_a_deadlock(yaml_tree: YamlTree) -> None:
    # main builds cluster-secrets inside sonarr; only storage has a secrets/ producer.
    root = yaml_tree(_in("main", _own_build()) | _in("storage", cluster()))
    result = lint_path(root, select=DEADLOCK)
    assert findings(result) == [(_at("main", SONARR_KS), 22, "flux-ks-substitute-deadlock")]
    (diagnostic,) = result.diagnostics
    assert "another cluster's does not count" in diagnostic.message
    assert _at("main", "kubernetes/apps/media/sonarr/app/media-secrets.yaml") in (
        diagnostic.message
    )


def test_two_clusters_each_with_its_secrets_kustomization(yaml_tree: YamlTree) -> None:
    root = yaml_tree(_in("main", cluster()) | _in("storage", cluster()))
    assert findings(lint_path(root, select=DEADLOCK)) == []


_PLAIN = "kubernetes/apps/media/sonarr/app/cluster-secrets.yaml"


def _plain_secret_in_own_build(target_namespace: bool) -> dict[str, str]:
    """sonarr's own build holds a Secret cluster-secrets written without a namespace."""
    tree = _own_build()
    del tree["kubernetes/apps/media/sonarr/app/media-secrets.yaml"]
    tree[SONARR_KFILE] = tree[SONARR_KFILE].replace(
        "  - ./media-secrets.yaml\n", "  - ./cluster-secrets.yaml\n"
    )
    tree[_PLAIN] = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cluster-secrets\n"
        "stringData:\n  SECRET_DOMAIN: example.com\n"
    )
    if target_namespace:
        tree[SONARR_KS] = tree[SONARR_KS].replace(
            "  wait: true\n", "  wait: true\n  targetNamespace: media\n"
        )
    return tree


def test_a_producer_without_namespace_lives_in_the_target_namespace(yaml_tree: YamlTree) -> None:
    root = yaml_tree(_plain_secret_in_own_build(target_namespace=True))
    result = lint_path(root, select=DEADLOCK)
    assert findings(result) == [(SONARR_KS, 23, "flux-ks-substitute-deadlock")]
    assert _PLAIN in result.diagnostics[0].message


def test_a_producer_without_namespace_or_target_namespace_lands_nowhere(
    yaml_tree: YamlTree,
) -> None:
    # Not a deadlock: nothing creates cluster-secrets in media, which substitute-from says.
    root = yaml_tree(_plain_secret_in_own_build(target_namespace=False))
    result = lint_path(root, select=DEADLOCK)
    assert findings(result) == [(SONARR_KS, 22, "flux-ks-substitute-from")]


def test_a_producer_no_cluster_deploys_produces_nothing(yaml_tree: YamlTree) -> None:
    # The secrets/ folder is left out of the media kustomization: its
    # InfisicalSecret creates nothing, so sonarr's own producer is the only one.
    tree = _own_build()
    tree[SECRETS_FILE] = cluster()[SECRETS_FILE]
    tree["kubernetes/apps/media/secrets/kustomization.yaml"] = cluster()[
        "kubernetes/apps/media/secrets/kustomization.yaml"
    ]
    tree[MEDIA_KFILE] = tree[MEDIA_KFILE].replace("  - ./secrets/ks.yaml\n", "")
    tree[SONARR_KS] = tree[SONARR_KS].replace("  dependsOn:\n    - name: secrets\n", "")
    root = yaml_tree(tree)
    assert findings(lint_path(root, select=DEADLOCK)) == [
        (SONARR_KS, 20, "flux-ks-substitute-deadlock")
    ]


# ----------------------------------------------------------------------- undefined

_SHARED = "kubernetes/shared/sonarr/app"


def _shared_app(storage_key: str) -> dict[str, str]:
    """Both clusters' sonarr build one shared folder; storage's cluster-secrets holds
    ``storage_key`` instead of SECRET_DOMAIN."""
    main, storage = _in("main", cluster()), _in("storage", cluster())
    storage[_at("storage", SECRETS_FILE)] = storage[_at("storage", SECRETS_FILE)].replace(
        "SECRET_DOMAIN:", f"{storage_key}:"
    )
    tree = main | storage
    for name in ("main", "storage"):
        ks_path = _at(name, SONARR_KS)
        tree[ks_path] = tree[ks_path].replace(
            f"./kubernetes/{name}/apps/media/sonarr/app", f"./{_SHARED}"
        )
        for path in [p for p in tree if p.startswith(f"kubernetes/{name}/apps/media/sonarr/app/")]:
            shared = path.replace(f"kubernetes/{name}/apps/media/sonarr/app", _SHARED)
            tree[shared] = tree.pop(path)
    return tree


def test_keys_are_read_from_the_producer_of_the_own_cluster(yaml_tree: YamlTree) -> None:
    root = yaml_tree(_shared_app("OTHER_DOMAIN"))
    result = lint_path(root, select=["flux-ks-substitute-undefined"])
    values = SONARR_VALUES.replace("kubernetes/apps/media/sonarr/app", _SHARED)
    assert findings(result) == [(values, 4, "flux-ks-substitute-undefined")]
    (diagnostic,) = result.diagnostics
    assert diagnostic.cluster == "storage"  # main's cluster-secrets defines it
    assert diagnostic.message == "${SECRET_DOMAIN} is not defined for Kustomization media/sonarr"


def test_keys_defined_in_both_clusters(yaml_tree: YamlTree) -> None:
    root = yaml_tree(_shared_app("SECRET_DOMAIN"))
    assert findings(lint_path(root, select=["flux-ks-substitute-undefined"])) == []


def test_a_source_only_another_cluster_creates_defines_nothing_known(yaml_tree: YamlTree) -> None:
    # storage has no cluster-secrets at all: its keys are unknown there (and
    # flux-ks-substitute-from reports the missing Secret), so nothing is guessed.
    tree = _shared_app("SECRET_DOMAIN")
    tree[_at("storage", SECRETS_FILE)] = tree[_at("storage", SECRETS_FILE)].replace(
        "secretName: cluster-secrets", "secretName: other-secrets"
    )
    root = yaml_tree(tree)
    result = lint_path(root, select=["flux-ks-substitute-undefined", "flux-ks-substitute-from"])
    assert [(d.check_id, d.cluster) for d in result.diagnostics] == [
        ("flux-ks-substitute-from", "storage")  # only storage has the file
    ]
    assert result.diagnostics[0].location.path == _at("storage", SONARR_KS)


# ------------------------------------------------------------- secrets dependency


def test_a_secret_only_another_cluster_creates_needs_no_dependency(yaml_tree: YamlTree) -> None:
    # main's sonarr reads media-env, which only storage's secrets/ creates; main's
    # sonarr need not depend on anything for it (the Secret is missing in main).
    main = cluster()
    main[SONARR_KS] = main[SONARR_KS].replace("  dependsOn:\n    - name: secrets\n", "")
    main[SONARR_KS] = main[SONARR_KS].split("  postBuild:\n")[0]
    main[SONARR_HR] += "    - kind: Secret\n      name: media-env\n"
    storage = {p: t for p, t in cluster().items() if "/sonarr/" not in p}
    storage[MEDIA_KFILE] = storage[MEDIA_KFILE].replace("  - ./sonarr/ks.yaml\n", "")
    storage[SECRETS_FILE] = storage[SECRETS_FILE].replace(
        "secretName: cluster-secrets", "secretName: media-env"
    )
    tree = _in("main", main) | _in("storage", storage)
    check = ["flux-ks-secrets-dependency"]
    assert findings(lint_path(yaml_tree(tree), select=check)) == []
    # The same Secret created by main's own secrets/ asks for the dependency.
    tree[_at("main", SECRETS_FILE)] = tree[_at("main", SECRETS_FILE)].replace(
        "secretName: cluster-secrets", "secretName: media-env"
    )
    assert findings(lint_path(yaml_tree(tree), select=check)) == [
        (_at("main", SONARR_KS), 8, "flux-ks-secrets-dependency")
    ]
