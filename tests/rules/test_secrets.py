"""The secrets pack: SOPS, plaintext Secrets, InfisicalSecrets and consumed Secrets."""

from __future__ import annotations

import textwrap

from homelab_kit.testing import LintTree, YamlTree, findings, lint_path

CLUSTER_KS = "kubernetes/flux/cluster/ks.yaml"
MEDIA_KFILE = "kubernetes/apps/media/kustomization.yaml"
SECRETS_KS = "kubernetes/apps/media/secrets/ks.yaml"
SECRETS_KFILE = "kubernetes/apps/media/secrets/kustomization.yaml"
SONARR_SECRETS = "kubernetes/apps/media/secrets/sonarr-secrets.yaml"
SONARR_KS = "kubernetes/apps/media/sonarr/ks.yaml"
SONARR_KFILE = "kubernetes/apps/media/sonarr/app/kustomization.yaml"
SONARR_DEPLOY = "kubernetes/apps/media/sonarr/app/deployment.yaml"
CREDENTIALS = "bootstrap/infisical-credentials.sops.yaml"
SOPS_AGE = "kubernetes/components/common/sops/sops-age.sops.yaml"

SECRETS_IDS = [
    "secrets-consumed-secret-exists",
    "secrets-infisical-location",
    "secrets-infisical-scope",
    "secrets-infisical-unused",
    "secrets-infisical-well-formed",
    "secrets-plaintext-secret",
    "secrets-sops-allowlist",
    "secrets-sops-encrypted",
]

INFISICAL = """
apiVersion: secrets.infisical.com/v1alpha1
kind: InfisicalSecret
metadata:
  name: sonarr-secrets
spec:
  hostAPI: https://app.infisical.com/api
  authentication:
    universalAuth:
      secretsScope:
        projectSlug: homelab
        envSlug: prod
        secretsPath: /sonarr
      credentialsRef:
        secretName: universal-auth-credentials
        secretNamespace: infisical-system
  managedSecretReference:
    secretName: sonarr-secret
    secretType: Opaque
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: sonarr
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/home-operations/sonarr:4.0.15
          envFrom:
            - secretRef:
                name: sonarr-secret
"""

SOPS_SECRET = """
apiVersion: v1
kind: Secret
metadata:
  name: {name}
  namespace: {namespace}
stringData:
  {key}: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]
sops:
  age:
    - recipient: age1example
  lastmodified: "2025-01-01T00:00:00Z"
  mac: ENC[AES256_GCM,data:DDDD,type:str]
"""


def ks(name: str, path: str, namespace: str, extra: str = "") -> str:
    return f"""
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
{extra}"""


def cluster() -> dict[str, str]:
    """A cluster every secrets check passes: sonarr reads a Secret from Infisical."""
    tree = {
        CLUSTER_KS: ks("cluster-apps", "./kubernetes/apps", "flux-system"),
        MEDIA_KFILE: """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            namespace: media
            resources:
              - ./secrets/ks.yaml
              - ./sonarr/ks.yaml
            """,
        SECRETS_KS: ks(
            "secrets", "./kubernetes/apps/media/secrets", "media", "  targetNamespace: media\n"
        ),
        SECRETS_KFILE: "resources:\n  - ./sonarr-secrets.yaml\n",
        SONARR_SECRETS: INFISICAL,
        SONARR_KS: ks(
            "sonarr", "./kubernetes/apps/media/sonarr/app", "media", "  targetNamespace: media\n"
        ),
        SONARR_KFILE: "resources:\n  - ./deployment.yaml\n",
        SONARR_DEPLOY: DEPLOYMENT,
        CREDENTIALS: SOPS_SECRET.format(
            name="universal-auth-credentials", namespace="infisical-system", key="clientId"
        ),
        SOPS_AGE: SOPS_SECRET.format(name="sops-age", namespace="flux-system", key="age.agekey"),
    }
    return {path: textwrap.dedent(text).lstrip("\n") for path, text in tree.items()}


def edit(tree: dict[str, str], path: str, old: str, new: str) -> dict[str, str]:
    assert old in tree[path], old
    tree[path] = tree[path].replace(old, new)
    return tree


def test_clean_cluster_passes(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(cluster())
    assert lint_tree(select=SECRETS_IDS) == []


# ---------------------------------------------------------------------------- SOPS


def test_sops_outside_the_allowlist(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    app_secret = "kubernetes/apps/media/sonarr/app/secret.sops.yaml"
    tree[app_secret] = textwrap.dedent(
        SOPS_SECRET.format(name="sonarr-secret", namespace="media", key="API_KEY")
    ).lstrip("\n")
    root = yaml_tree(tree)
    assert lint_tree(select=["secrets-sops-allowlist"]) == [
        (app_secret, 1, "secrets-sops-allowlist"),
    ]
    # An explicit allowlist replaces the default one.
    result = lint_path(root, select=["secrets-sops-allowlist"], sops_allowlist=("kubernetes/**",))
    assert findings(result) == [(CREDENTIALS, 1, "secrets-sops-allowlist")]


def test_sops_named_file_must_be_encrypted(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    talsecret = "talos/talsecret.sops.yaml"
    tree[talsecret] = "cluster:\n  id: example\n"
    yaml_tree(tree)
    assert lint_tree(select=["secrets-sops-encrypted", "secrets-sops-allowlist"]) == [
        (talsecret, 1, "secrets-sops-encrypted"),
    ]


# ----------------------------------------------------------------------- plaintext


def test_plaintext_secret_is_reported_without_its_value(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    tree = cluster()
    plain = "kubernetes/apps/media/sonarr/app/secret.yaml"
    tree[plain] = textwrap.dedent(
        """
        apiVersion: v1
        kind: Secret
        metadata:
          name: sonarr-secret
        stringData:
          URL: ${SONARR_URL}
          TOKEN: op://homelab/sonarr/token
          API_KEY: hunter2-do-not-print
          EMPTY: ""
        """
    ).lstrip("\n")
    root = yaml_tree(tree)
    assert lint_tree(select=["secrets-plaintext-secret"]) == [
        (plain, 8, "secrets-plaintext-secret"),
    ]
    result = lint_path(root, select=["secrets-plaintext-secret"])
    (diagnostic,) = result.diagnostics
    assert "API_KEY" in diagnostic.message
    assert "hunter2" not in str(diagnostic)


def test_placeholder_only_secret_passes(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    tree["kubernetes/apps/media/sonarr/app/secret.yaml"] = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: webhook\n"
        "stringData:\n  URL: https://hooks.example.com/${WEBHOOK_TOKEN}\n"
    )
    yaml_tree(tree)
    assert lint_tree(select=["secrets-plaintext-secret"]) == []


# ---------------------------------------------------------------------- Infisical


def test_infisical_missing_fields(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    edit(tree, SONARR_SECRETS, "  hostAPI: https://app.infisical.com/api\n", "")
    edit(tree, SONARR_SECRETS, "        envSlug: prod\n", "")
    edit(tree, SONARR_SECRETS, "        secretNamespace: infisical-system\n", "")
    yaml_tree(tree)
    assert lint_tree(select=["secrets-infisical-well-formed"]) == [
        (SONARR_SECRETS, 9, "secrets-infisical-well-formed"),
        (SONARR_SECRETS, 12, "secrets-infisical-well-formed"),
    ]
    # hostAPI defaults to Infisical Cloud: only the guide's convention requires it.
    options = {"secrets-infisical-well-formed": {"require-host-api": True}}
    assert lint_tree(select=["secrets-infisical-well-formed"], check_options=options) == [
        (SONARR_SECRETS, 6, "secrets-infisical-well-formed"),
        (SONARR_SECRETS, 9, "secrets-infisical-well-formed"),
        (SONARR_SECRETS, 12, "secrets-infisical-well-formed"),
    ]


def test_infisical_other_auth_method(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(edit(cluster(), SONARR_SECRETS, "universalAuth:", "kubernetesAuth:"))
    assert lint_tree(select=["secrets-infisical-well-formed"]) == [
        (SONARR_SECRETS, 8, "secrets-infisical-well-formed"),
    ]
    options = {"auth-methods": ["universalAuth", "kubernetesAuth"]}
    assert (
        lint_tree(
            select=["secrets-infisical-well-formed"],
            check_options={"secrets-infisical-well-formed": options},
        )
        == []
    )


def test_infisical_reading_the_project_root(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = edit(
        cluster(), SONARR_SECRETS, "secretsPath: /sonarr", "secretsPath: /\n        recursive: true"
    )
    yaml_tree(tree)
    assert lint_tree(select=["secrets-infisical-scope"]) == [
        (SONARR_SECRETS, 12, "secrets-infisical-scope"),
    ]


def test_infisical_outside_the_secrets_folder(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    moved = "kubernetes/apps/media/sonarr/app/secrets.infisical.yaml"
    tree[moved] = tree.pop(SONARR_SECRETS)
    tree[SECRETS_KFILE] = "resources: []\n"
    tree[SONARR_KFILE] = "resources:\n  - ./deployment.yaml\n  - ./secrets.infisical.yaml\n"
    yaml_tree(tree)
    assert lint_tree(select=SECRETS_IDS) == [(moved, 1, "secrets-infisical-location")]
    options = {"allowed": ["kubernetes/apps/*/*/app/*"]}
    assert (
        lint_tree(select=SECRETS_IDS, check_options={"secrets-infisical-location": options}) == []
    )


def test_infisical_nobody_reads(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = edit(
        cluster(),
        SONARR_DEPLOY,
        "name: sonarr-secret",
        "name: sonarr-secret\n                optional: true",
    )
    tree[SONARR_DEPLOY] = tree[SONARR_DEPLOY].replace("sonarr-secret", "other-secret")
    yaml_tree(tree)
    assert lint_tree(select=["secrets-infisical-unused"]) == [
        (SONARR_SECRETS, 1, "secrets-infisical-unused"),
    ]


def test_infisical_named_in_another_object_counts_as_read(
    yaml_tree: YamlTree, lint_tree: LintTree
) -> None:
    tree = cluster()
    tree[SONARR_DEPLOY] = textwrap.dedent(
        """
        apiVersion: postgresql.cnpg.io/v1
        kind: Cluster
        metadata:
          name: postgres
        spec:
          bootstrap:
            initdb:
              secret:
                name: sonarr-secret
        """
    ).lstrip("\n")
    yaml_tree(tree)
    assert lint_tree(select=["secrets-infisical-unused"]) == []


def test_infisical_named_far_away_or_nowhere(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    """Two unread InfisicalSecrets: one named only far from it (the search for a
    mention goes on past the files near it), one named nowhere (reported)."""
    tree = cluster()
    for app in ("radarr", "lidarr"):
        tree[f"kubernetes/apps/media/secrets/{app}-secrets.yaml"] = INFISICAL.replace(
            "sonarr", app
        ).lstrip("\n")
        tree[SECRETS_KFILE] += f"  - ./{app}-secrets.yaml\n"
    edit(
        tree,
        CLUSTER_KS,
        "  name: cluster-apps\n",
        "  name: cluster-apps\n  annotations:\n    note: radarr reads radarr-secret\n",
    )
    yaml_tree(tree)
    assert lint_tree(select=["secrets-infisical-unused"]) == [
        ("kubernetes/apps/media/secrets/lidarr-secrets.yaml", 1, "secrets-infisical-unused"),
    ]
    edit(tree, CLUSTER_KS, "radarr-secret", "radarr-secrets")  # a longer word: not a mention
    yaml_tree(tree)
    assert [f[0] for f in lint_tree(select=["secrets-infisical-unused"])] == [
        "kubernetes/apps/media/secrets/lidarr-secrets.yaml",
        "kubernetes/apps/media/secrets/radarr-secrets.yaml",
    ]


# ------------------------------------------------------------------ consumed Secrets


def test_consumed_secret_must_exist(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(edit(cluster(), SONARR_DEPLOY, "name: sonarr-secret", "name: sonar-secret"))
    assert lint_tree(select=["secrets-consumed-secret-exists"]) == [
        (SONARR_DEPLOY, 13, "secrets-consumed-secret-exists"),
    ]
    options = {"external": ["sonar-*"]}
    assert (
        lint_tree(
            select=["secrets-consumed-secret-exists"],
            check_options={"secrets-consumed-secret-exists": options},
        )
        == []
    )


def test_consumed_secret_in_another_namespace(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    yaml_tree(edit(cluster(), SONARR_SECRETS, "secretType: Opaque", "secretNamespace: default"))
    assert lint_tree(select=["secrets-consumed-secret-exists"]) == [
        (SONARR_DEPLOY, 13, "secrets-consumed-secret-exists"),
    ]


def test_optional_and_operator_made_secrets_pass(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = edit(
        cluster(),
        SONARR_DEPLOY,
        "                name: sonarr-secret\n",
        "                name: sonarr-secret\n"
        "            - secretRef:\n"
        "                name: maybe-there\n"
        "                optional: true\n"
        "            - secretRef:\n"
        "                name: sonarr-tls\n",
    )
    tree[SONARR_DEPLOY] += textwrap.dedent(
        """
        ---
        apiVersion: cert-manager.io/v1
        kind: Certificate
        metadata:
          name: sonarr
        spec:
          secretName: sonarr-tls
        """
    )
    yaml_tree(tree)
    assert lint_tree(select=["secrets-consumed-secret-exists"]) == []


def test_release_name_template_and_substitution(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    tree = cluster()
    tree[SONARR_KS] = tree[SONARR_KS] + "  postBuild:\n    substitute:\n      APP: sonarr\n"
    tree[SONARR_KFILE] = "resources:\n  - ./helmrelease.yaml\n"
    tree.pop(SONARR_DEPLOY)
    tree["kubernetes/apps/media/sonarr/app/helmrelease.yaml"] = textwrap.dedent(
        """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata:
          name: sonarr
        spec:
          values:
            controllers:
              sonarr:
                containers:
                  app:
                    envFrom:
                      - secretRef:
                          name: "{{ .Release.Name }}-secret"
                      - secretRef:
                          name: ${APP}-secret
        """
    ).lstrip("\n")
    yaml_tree(tree)
    assert lint_tree(select=["secrets-consumed-secret-exists", "secrets-infisical-unused"]) == []


def test_chart_tls_secret_name_is_not_a_read(yaml_tree: YamlTree, lint_tree: LintTree) -> None:
    """An Ingress-style `tls.secretName` in chart values is made by the ingress side
    (cert-manager's ingress-shim, the controller); `existingSecret` beside it is a read."""
    tree = cluster()
    tree[SONARR_KFILE] = "resources:\n  - ./helmrelease.yaml\n"
    tree.pop(SONARR_DEPLOY)
    tree["kubernetes/apps/media/sonarr/app/helmrelease.yaml"] = textwrap.dedent(
        """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata:
          name: sonarr
        spec:
          values:
            ingress:
              tls:
                secretName: sonarr-tls
              hosts:
                - tls:
                    - secretName: sonarr-tls-2
            auth:
              existingSecret: sonarr-auth
        """
    ).lstrip("\n")
    yaml_tree(tree)
    got = lint_tree(select=["secrets-consumed-secret-exists"])
    assert [(f[0], f[1]) for f in got] == [
        ("kubernetes/apps/media/sonarr/app/helmrelease.yaml", 14)
    ]
