"""The flux pack: Flux Kustomizations, their sources, dependencies and variables."""

from __future__ import annotations

import textwrap

import pytest

from homelab_kit.testing import LintTree, YamlTree, lint_path

CLUSTER_KS = "kubernetes/flux/cluster/ks.yaml"
APPS_KFILE = "kubernetes/apps/kustomization.yaml"
MEDIA_KFILE = "kubernetes/apps/media/kustomization.yaml"
SECRETS_KS = "kubernetes/apps/media/secrets/ks.yaml"
SECRETS_KFILE = "kubernetes/apps/media/secrets/kustomization.yaml"
SECRETS_FILE = "kubernetes/apps/media/secrets/media-secrets.yaml"
SONARR_KS = "kubernetes/apps/media/sonarr/ks.yaml"
SONARR_KFILE = "kubernetes/apps/media/sonarr/app/kustomization.yaml"
SONARR_HR = "kubernetes/apps/media/sonarr/app/helmrelease.yaml"
SONARR_VALUES = "kubernetes/apps/media/sonarr/app/helm/values.yaml"
SONARR_KCONFIG = "kubernetes/apps/media/sonarr/app/helm/kustomizeconfig.yaml"


def app_ks(
    name: str,
    path: str,
    *,
    namespace: str = "media",
    extra: str = "",
    wait: str = "true",
) -> str:
    """A Flux Kustomization; ``extra`` is spliced into spec (indented by 2)."""
    return f"""
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: {namespace}
spec:
  interval: 1h
  path: {path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
  wait: {wait}
{extra}"""


def cluster() -> dict[str, str]:
    """``{path: text}`` of a cluster every check passes (dedented, so tests can append)."""
    tree = {
        CLUSTER_KS: app_ks(
            "cluster-apps", "./kubernetes/apps", namespace="flux-system", wait="false"
        ),
        APPS_KFILE: """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - ./media
            """,
        MEDIA_KFILE: """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            namespace: media
            resources:
              - ./secrets/ks.yaml
              - ./sonarr/ks.yaml
            """,
        SECRETS_KS: app_ks("secrets", "./kubernetes/apps/media/secrets"),
        SECRETS_KFILE: """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - ./media-secrets.yaml
            """,
        SECRETS_FILE: """
            apiVersion: secrets.infisical.com/v1alpha1
            kind: InfisicalSecret
            metadata:
              name: media-env
            spec:
              hostAPI: https://app.infisical.com/api
              authentication:
                universalAuth:
                  secretsScope:
                    projectSlug: homelab
                    envSlug: prod
                    secretsPath: /media
                  credentialsRef:
                    secretName: universal-auth-credentials
                    secretNamespace: infisical-system
              managedSecretReference:
                secretName: cluster-secrets
                secretNamespace: media
                template:
                  data:
                    SECRET_DOMAIN: "{{ .SECRET_DOMAIN.Value }}"
            """,
        SONARR_KS: app_ks(
            "sonarr",
            "./kubernetes/apps/media/sonarr/app",
            extra="""  dependsOn:
    - name: secrets
  postBuild:
    substitute:
      APP: sonarr
    substituteFrom:
      - kind: Secret
        name: cluster-secrets
""",
        ),
        SONARR_KFILE: """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - ./helmrelease.yaml
            configMapGenerator:
              - name: sonarr-values
                files:
                  - values.yaml=./helm/values.yaml
            configurations:
              - ./helm/kustomizeconfig.yaml
            """,
        SONARR_HR: """
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata:
              name: sonarr
            spec:
              interval: 1h
              chartRef:
                kind: OCIRepository
                name: app-template
              valuesFrom:
                - kind: ConfigMap
                  name: sonarr-values
            """,
        SONARR_VALUES: """
            ingress:
              app:
                hosts:
                  - host: ${APP}.${SECRET_DOMAIN}
            env:
              TZ: ${TZ:=Europe/Paris}
              SCRIPT: echo $${HOME}
            """,
        SONARR_KCONFIG: """
            nameReference:
              - kind: ConfigMap
                version: v1
                fieldSpecs:
                  - path: spec/valuesFrom/name
                    kind: HelmRelease
            """,
    }
    return {path: textwrap.dedent(text).lstrip("\n") for path, text in tree.items()}


FLUX_IDS = [
    "flux-ks-dependency-cycle",
    "flux-ks-dependency-wait",
    "flux-ks-depends-on",
    "flux-ks-interval",
    "flux-ks-path",
    "flux-ks-prune",
    "flux-ks-secrets-dependency",
    "flux-ks-source",
    "flux-ks-substitute-deadlock",
    "flux-ks-substitute-from",
    "flux-ks-substitute-undefined",
    "flux-ks-wait",
]


def test_clean_cluster_passes(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(cluster())
    assert lint_tree(select=FLUX_IDS) == []


def _with(changes: dict[str, str]) -> dict[str, str]:
    tree = cluster()
    tree.update(changes)
    return tree


def _edit(path: str, old: str, new: str) -> dict[str, str]:
    tree = cluster()
    assert old in tree[path], old
    tree[path] = tree[path].replace(old, new)
    return tree


# ---------------------------------------------------------------- prune, interval, wait


def test_prune_false_and_missing(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = _edit(SONARR_KS, "prune: true", "prune: false")
    tree[SECRETS_KS] = tree[SECRETS_KS].replace("  prune: true\n", "")
    yaml_tree(tree)
    # Flux requires the field; a written false is the owner's choice unless asked.
    assert lint_tree(select=["flux-ks-prune"]) == [(SECRETS_KS, 8, "flux-ks-prune")]
    strict = {"flux-ks-prune": {"allow-false": False}}
    assert lint_tree(select=["flux-ks-prune"], check_options=strict) == [
        (SECRETS_KS, 8, "flux-ks-prune"),
        (SONARR_KS, 10, "flux-ks-prune"),
    ]


def test_prune_message_and_fix(yaml_tree: YamlTree) -> None:
    from homelab_kit.testing import lint_path

    root = yaml_tree(_edit(SONARR_KS, "prune: true", "prune: false"))
    strict = {"flux-ks-prune": {"allow-false": False}}
    (diag,) = lint_path(root, select=["flux-ks-prune"], check_options=strict).diagnostics
    assert diag.message == "Kustomization sonarr sets spec.prune: false"
    assert diag.fix is not None
    (edit,) = diag.fix.edits
    assert (edit.path, edit.document, edit.key_path, edit.value) == (
        SONARR_KS,
        0,
        ("spec", "prune"),
        True,
    )


PARENT_PATCH = """  patches:
    - patch: |-
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: _
        spec:
          prune: true
          wait: true
          interval: 30m
      target:
        group: kustomize.toolkit.fluxcd.io
        kind: Kustomization
"""


def test_fields_injected_by_the_parent_kustomization(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    tree = cluster()
    tree[CLUSTER_KS] = app_ks(
        "cluster-apps",
        "./kubernetes/apps",
        namespace="flux-system",
        wait="false",
        extra=PARENT_PATCH,
    )
    for path in (SONARR_KS, SECRETS_KS):
        tree[path] = (
            tree[path]
            .replace("  prune: true\n", "")
            .replace("  interval: 1h\n", "")
            .replace("  wait: true\n", "")
        )
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-prune", "flux-ks-interval", "flux-ks-wait"]) == []


def test_interval_missing(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(_edit(SONARR_KS, "  interval: 1h\n", ""))
    assert lint_tree(select=["flux-ks-interval"]) == [(SONARR_KS, 8, "flux-ks-interval")]


def test_wait_false_on_a_leaf_app(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(_edit(SONARR_KS, "wait: true", "wait: false"))
    assert lint_tree(select=["flux-ks-wait", "flux-ks-dependency-wait"]) == [
        (SONARR_KS, 15, "flux-ks-wait"),
    ]


def test_health_checks_instead_of_wait(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    health = """  healthChecks:
    - apiVersion: helm.toolkit.fluxcd.io/v2
      kind: HelmRelease
      name: sonarr
"""
    tree = _edit(SONARR_KS, "wait: true", "wait: false")
    tree[SONARR_KS] += health
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-wait"]) == []


def test_wait_false_on_a_dependency(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(_edit(SECRETS_KS, "wait: true", "wait: false"))
    assert lint_tree(select=["flux-ks-wait", "flux-ks-dependency-wait"]) == [
        (SECRETS_KS, 15, "flux-ks-dependency-wait"),
    ]


# ---------------------------------------------------------------- source and path


def test_source_not_declared(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = _edit(SONARR_KS, "    name: flux-system\n", "    name: flux-sys\n")
    tree[SECRETS_KS] = tree[SECRETS_KS].replace("    namespace: flux-system\n", "")
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-source"]) == [
        (SECRETS_KS, 12, "flux-ks-source"),
        (SONARR_KS, 12, "flux-ks-source"),
    ]


def test_declared_git_repository_is_a_source(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = _edit(SONARR_KS, "    name: flux-system\n", "    name: other\n")
    tree["kubernetes/flux/meta/other.yaml"] = """
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata:
          name: other
          namespace: flux-system
        spec:
          url: https://example.com/other.git
        """
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-source", "flux-ks-path"]) == []


def test_path_and_component_missing(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = _edit(SONARR_KS, "sonarr/app", "sonar/app")
    tree[SECRETS_KS] += "  components:\n    - ../../../components/absent\n"
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-path"]) == [
        (SECRETS_KS, 17, "flux-ks-path"),
        (SONARR_KS, 9, "flux-ks-path"),
    ]


def test_path_outside_what_was_read_is_not_judged(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(_edit(SONARR_KS, "./kubernetes/apps/media/sonarr/app", "./clusters/main"))
    assert lint_tree(select=["flux-ks-path"]) == []


# ---------------------------------------------------------------- dependencies


def test_depends_on_missing(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        _edit(SONARR_KS, "    - name: secrets\n", "    - name: secrets\n      namespace: default\n")
    )
    assert lint_tree(select=["flux-ks-depends-on"]) == [(SONARR_KS, 17, "flux-ks-depends-on")]


def test_dependency_cycle_reported_once(yaml_tree: YamlTree) -> None:
    from homelab_kit.testing import lint_path

    tree = cluster()
    tree[SECRETS_KS] += "  dependsOn:\n    - name: sonarr\n"
    root = yaml_tree(tree)
    found = lint_path(root, select=["flux-ks-dependency-cycle"]).diagnostics
    assert [(d.location.path, d.location.line, d.message) for d in found] == [
        (SECRETS_KS, 17, "dependency cycle: media/secrets -> media/sonarr -> media/secrets"),
    ]


def test_secrets_dependency_missing(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(_edit(SONARR_KS, "  dependsOn:\n    - name: secrets\n", ""))
    assert lint_tree(select=["flux-ks-secrets-dependency"]) == [
        (SONARR_KS, 8, "flux-ks-secrets-dependency"),
    ]


def test_secrets_dependency_through_another_dependency(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    tree = _edit(SONARR_KS, "    - name: secrets\n", "    - name: pvc\n")
    tree[MEDIA_KFILE] += "  - ./pvc/ks.yaml\n"
    tree["kubernetes/apps/media/pvc/ks.yaml"] = app_ks(
        "pvc", "./kubernetes/apps/media/pvc/app", extra="  dependsOn:\n    - name: secrets\n"
    )
    tree["kubernetes/apps/media/pvc/app/kustomization.yaml"] = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"
    )
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-secrets-dependency"]) == []


# ---------------------------------------------------------------- substitution


def test_substitute_from_missing(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(_edit(SONARR_KS, "name: cluster-secrets", "name: cluster-secret"))
    assert lint_tree(select=["flux-ks-substitute-from"]) == [
        (SONARR_KS, 22, "flux-ks-substitute-from"),
    ]


def test_substitute_from_wrong_namespace(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(_edit(SECRETS_FILE, "secretNamespace: media", "secretNamespace: default"))
    assert lint_tree(select=["flux-ks-substitute-from"]) == [
        (SONARR_KS, 22, "flux-ks-substitute-from"),
    ]


def test_substitute_from_optional(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(
        _edit(SONARR_KS, "name: cluster-secrets", "name: cluster-secret\n        optional: true")
    )
    assert lint_tree(select=["flux-ks-substitute-from"]) == []


def test_substitute_from_other_producers(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = _edit(
        SONARR_KS,
        "      - kind: Secret\n        name: cluster-secrets\n",
        "      - kind: Secret\n        name: cluster-secrets\n"
        "      - kind: ConfigMap\n        name: cluster-settings\n"
        "      - kind: Secret\n        name: sops-secrets\n"
        "      - kind: ConfigMap\n        name: hashed-settings\n",
    )
    tree[MEDIA_KFILE] += (
        "configMapGenerator:\n"
        "  - name: cluster-settings\n"
        "    literals:\n"
        "      - TZ=Europe/Paris\n"
        "    options:\n"
        "      disableNameSuffixHash: true\n"
        "  - name: hashed-settings\n"
        "    literals:\n"
        "      - A=b\n"
    )
    tree[MEDIA_KFILE] = tree[MEDIA_KFILE].replace(
        "resources:\n", "resources:\n  - ./sops-secrets.sops.yaml\n"
    )
    tree["kubernetes/apps/media/sops-secrets.sops.yaml"] = """
        apiVersion: v1
        kind: Secret
        metadata:
          name: sops-secrets
        stringData:
          TOKEN: ENC[AES256_GCM,data:abc=,type:str]
        sops:
          mac: ENC[AES256_GCM,data:xyz=,type:str]
          lastmodified: "2025-01-01T00:00:00Z"
        """
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-substitute-from"]) == [
        (SONARR_KS, 28, "flux-ks-substitute-from"),
    ]


# -------------------------------------------------------- substitution deadlock

SONARR_SECRETS = "kubernetes/apps/media/sonarr/app/media-secrets.yaml"


def _own_build() -> dict[str, str]:
    """The InfisicalSecret making cluster-secrets moved into sonarr's own build."""
    tree = cluster()
    tree[SONARR_SECRETS] = tree.pop(SECRETS_FILE)
    tree[SECRETS_KFILE] = tree[SECRETS_KFILE].replace("  - ./media-secrets.yaml\n", "")
    tree[SECRETS_KFILE] += "  []\n" if tree[SECRETS_KFILE].endswith("resources:\n") else ""
    tree[SONARR_KFILE] = tree[SONARR_KFILE].replace(
        "  - ./helmrelease.yaml\n", "  - ./helmrelease.yaml\n  - ./media-secrets.yaml\n"
    )
    return tree


def test_substitute_deadlock(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(_own_build())
    assert lint_tree(select=["flux-ks-substitute-deadlock", "flux-ks-substitute-from"]) == [
        (SONARR_KS, 22, "flux-ks-substitute-deadlock"),
    ]


def test_substitute_deadlock_message(yaml_tree: YamlTree) -> None:
    root = yaml_tree(_own_build())
    (diag,) = lint_path(root, select=["flux-ks-substitute-deadlock"]).diagnostics
    assert "only its own build creates" in diag.message
    assert SONARR_SECRETS in diag.message
    assert "separate secrets/ Kustomization" in diag.message


def test_substitute_deadlock_optional(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = _own_build()
    tree[SONARR_KS] = tree[SONARR_KS].replace(
        "name: cluster-secrets", "name: cluster-secrets\n        optional: true"
    )
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-substitute-deadlock"]) == []


def test_substitute_deadlock_cleared_by_another_producer(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    tree = _own_build()
    tree[SECRETS_FILE] = cluster()[SECRETS_FILE]
    tree[SECRETS_KFILE] = cluster()[SECRETS_KFILE]
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-substitute-deadlock"]) == []


def test_substitute_deadlock_not_judged_on_a_root(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    """The entry Kustomization's vars are applied by bootstrap (cluster-template's flux/vars)."""
    tree = cluster()
    tree[CLUSTER_KS] = tree[CLUSTER_KS].replace(
        "  wait: false\n",
        "  wait: false\n  postBuild:\n    substituteFrom:\n"
        "      - kind: ConfigMap\n        name: cluster-settings\n",
    )
    tree[APPS_KFILE] = tree[APPS_KFILE].replace(
        "  - ./media\n", "  - ./media\n  - ./cluster-settings.yaml\n"
    )
    tree["kubernetes/apps/cluster-settings.yaml"] = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n"
        "  namespace: flux-system\ndata:\n  TZ: Europe/Paris\n"
    )
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-substitute-deadlock", "flux-ks-substitute-from"]) == []


def test_undefined_variable(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(_edit(SONARR_VALUES, "${APP}.${SECRET_DOMAIN}", "${APP}.${SECRET_DOMIAN}"))
    assert lint_tree(select=["flux-ks-substitute-undefined"]) == [
        (SONARR_VALUES, 4, "flux-ks-substitute-undefined"),
    ]


def test_undefined_variable_message(yaml_tree: YamlTree) -> None:
    from homelab_kit.testing import lint_path

    root = yaml_tree(_edit(SONARR_VALUES, "${TZ:=Europe/Paris}", "${TZ}"))
    (diag,) = lint_path(root, select=["flux-ks-substitute-undefined"]).diagnostics
    assert diag.message == "${TZ} is not defined for Kustomization media/sonarr"
    assert diag.location.line == 6


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({SONARR_KS: ("  postBuild:", "  postBuildX:")}, id="no-postbuild"),
        pytest.param(
            {SECRETS_FILE: ("    template:", "    templateX:")},
            id="infisical-keys-unknown",
        ),
        pytest.param(
            {
                SONARR_KFILE: (
                    "configMapGenerator:",
                    "generatorOptions:\n  annotations:\n"
                    "    kustomize.toolkit.fluxcd.io/substitute: disabled\n"
                    "configMapGenerator:",
                )
            },
            id="disabled-by-generator-options",
        ),
    ],
)
def test_undefined_variable_not_judged(
    yaml_tree: YamlTree, lint_tree: LintTree, changes: dict[str, tuple[str, str]]
) -> None:
    tree = _edit(SONARR_VALUES, "${APP}.${SECRET_DOMAIN}", "${APP}.${UNKNOWN}")
    for path, (old, new) in changes.items():
        assert old in tree[path], old
        tree[path] = tree[path].replace(old, new)
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-substitute-undefined"]) == []


def test_generator_options_disable_only_the_generated_files(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    """generatorOptions mark what the generators make, not the kustomization's resources."""
    tree = _edit(SONARR_VALUES, "${APP}.${SECRET_DOMAIN}", "${APP}.${UNKNOWN}")
    tree[SONARR_KFILE] = tree[SONARR_KFILE].replace(
        "configMapGenerator:",
        "generatorOptions:\n  annotations:\n"
        "    kustomize.toolkit.fluxcd.io/substitute: disabled\n"
        "configMapGenerator:",
    )
    tree[SONARR_HR] = tree[SONARR_HR].replace("interval: 1h", "interval: ${UNDEFINED_INTERVAL}")
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-substitute-undefined"]) == [
        (SONARR_HR, 6, "flux-ks-substitute-undefined"),
    ]


def test_undefined_variable_in_an_annotated_object(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    tree = cluster()
    tree[SONARR_KFILE] = tree[SONARR_KFILE].replace(
        "  - ./helmrelease.yaml\n", "  - ./helmrelease.yaml\n  - ./script.yaml\n"
    )
    tree["kubernetes/apps/media/sonarr/app/script.yaml"] = """
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: plain
        data:
          run.sh: echo ${HOME}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: left-alone
          annotations:
            kustomize.toolkit.fluxcd.io/substitute: disabled
        data:
          run.sh: echo ${HOME}
        """
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-substitute-undefined"]) == [
        ("kubernetes/apps/media/sonarr/app/script.yaml", 7, "flux-ks-substitute-undefined"),
    ]


def test_sops_files_are_not_substituted(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    tree[SONARR_KFILE] = tree[SONARR_KFILE].replace(
        "  - ./helmrelease.yaml\n", "  - ./helmrelease.yaml\n  - ./secret.sops.yaml\n"
    )
    tree["kubernetes/apps/media/sonarr/app/secret.sops.yaml"] = """
        apiVersion: v1
        kind: Secret
        metadata:
          name: sonarr-${UNKNOWN}
        stringData:
          TOKEN: ENC[AES256_GCM,data:abc=,type:str]
        sops:
          mac: ENC[AES256_GCM,data:xyz=,type:str]
          lastmodified: "2025-01-01T00:00:00Z"
        """
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-substitute-undefined"]) == []


def test_secrets_folder_without_its_own_kustomization(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    tree = _edit(SONARR_KS, "  dependsOn:\n    - name: secrets\n", "")
    del tree[SECRETS_KS]
    tree[MEDIA_KFILE] = tree[MEDIA_KFILE].replace("./secrets/ks.yaml", "./secrets")
    yaml_tree(tree)
    assert lint_tree(select=["flux-ks-secrets-dependency", "flux-ks-substitute-from"]) == []
