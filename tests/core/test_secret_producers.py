"""The producer table: what each operator's object creates, where, and when it counts.

One case per entry of ``secret_index.PRODUCERS`` (and the structured producers:
InfisicalSecret, ExternalSecret, SOPS and ServiceAccount-token Secrets), plus the
namespace rule, undeployed files, bootstrap material and the plugin hook.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

import homelab_kit
from homelab_kit import hookimpl
from homelab_kit.config import load_config
from homelab_kit.errors import ConfigError, PluginError
from homelab_kit.lint import load_options
from homelab_kit.model.secret_index import (
    PRODUCERS,
    bootstrap_producers,
    created_config_maps,
    secret_producers,
)
from homelab_kit.model.secrets import ProducerRule
from homelab_kit.plugins import PluginManager
from homelab_kit.testing import YamlTree, findings, lint_path, write_tree


def _doc(api: str, kind: str, name: str, spec: str = "", namespace: str = "apps") -> str:
    body = textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ") if spec else ""
    return (
        f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n"
        f"  namespace: {namespace}\n" + (f"spec:\n{body}\n" if body else "")
    )


# kanidm-provision's input: confidential clients with a k8s block get a Secret.
KANIDM = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: kanidm-provision-oauth2
  namespace: security
  labels:
    kanidm_config: "1"
data:
  targetNamespace: observability
  oauth2.json: |
    {"systems": {"oauth2": {
      "grafana": {"present": true, "k8s": {"imageUrl": "https://x/grafana.svg"}},
      "mobile": {"public": true, "k8s": {}},
      "legacy": {"present": false, "k8s": {}},
      "manual": {"displayName": "no k8s block"}
    }}}
  forgejo.json: '{"systems": {"oauth2": {"forgejo": {"k8s": {"clientIdKey": "key"}}}}}'
  notes.txt: '{"systems": {"oauth2": {"ignored": {"k8s": {}}}}}'
  broken.json: '{"systems": '
"""

# (object, Secret names it creates) -- every row of the table has one at least.
CASES: list[tuple[str, str, set[str]]] = [
    (
        "InfisicalSecret managedSecretReference",
        _doc(
            "secrets.infisical.com/v1alpha1",
            "InfisicalSecret",
            "app-secrets",
            """
            managedSecretReference:
              secretName: app-secret
              secretNamespace: apps
            """,
        ),
        {"app-secret"},
    ),
    (
        "InfisicalSecret managedKubeSecretReferences",
        _doc(
            "secrets.infisical.com/v1beta1",
            "InfisicalSecret",
            "app-secrets",
            """
            managedKubeSecretReferences:
              - secretName: one
                secretNamespace: apps
              - secretName: two
                secretNamespace: apps
            """,
        ),
        {"one", "two"},
    ),
    (
        "ExternalSecret target name",
        _doc(
            "external-secrets.io/v1",
            "ExternalSecret",
            "app",
            "target:\n  name: app-target\n",
        ),
        {"app-target"},
    ),
    (
        "ExternalSecret without target name",
        _doc("external-secrets.io/v1", "ExternalSecret", "app", "refreshInterval: 1h\n"),
        {"app"},
    ),
    ("SealedSecret", _doc("bitnami.com/v1alpha1", "SealedSecret", "sealed"), {"sealed"}),
    (
        "SealedSecret template name",
        _doc(
            "bitnami.com/v1alpha1",
            "SealedSecret",
            "sealed",
            "template:\n  metadata:\n    name: unsealed\n",
        ),
        {"unsealed"},
    ),
    (
        "SOPS-encrypted Secret",
        _doc("v1", "Secret", "encrypted").replace("kind: Secret", "kind: Secret")
        + "stringData:\n  key: ENC[AES256_GCM,data:abc,type:str]\n"
        "sops:\n  age:\n    - recipient: age1xyz\n  version: 3.9.0\n",
        {"encrypted"},
    ),
    (
        "ServiceAccount token Secret",
        _doc("v1", "Secret", "robot-token").replace(
            "  namespace: apps\n",
            "  namespace: apps\n  annotations:\n    kubernetes.io/service-account.name: robot\n",
        )
        + "type: kubernetes.io/service-account-token\n",
        {"robot-token"},
    ),
    (
        "cert-manager Certificate",
        _doc("cert-manager.io/v1", "Certificate", "web", "secretName: web-tls\n"),
        {"web-tls"},
    ),
    (
        "Talos ServiceAccount",
        _doc("talos.dev/v1alpha1", "ServiceAccount", "talos-api", "roles:\n  - os:reader\n"),
        {"talos-api"},
    ),
    (
        "CloudNativePG Cluster",
        _doc("postgresql.cnpg.io/v1", "Cluster", "pg", "instances: 1\n"),
        {"pg-app", "pg-ca", "pg-replication", "pg-server"},
    ),
    (
        "CloudNativePG Cluster with superuser",
        _doc("postgresql.cnpg.io/v1", "Cluster", "pg", "enableSuperuserAccess: true\n"),
        {"pg-app", "pg-ca", "pg-replication", "pg-server", "pg-superuser"},
    ),
    (
        "Crunchy PGO PostgresCluster",
        _doc("postgres-operator.crunchydata.com/v1beta1", "PostgresCluster", "hippo"),
        {"hippo-pguser-hippo"},
    ),
    ("Strimzi KafkaUser", _doc("kafka.strimzi.io/v1beta2", "KafkaUser", "alice"), {"alice"}),
    (
        "Strimzi Kafka",
        _doc("kafka.strimzi.io/v1beta2", "Kafka", "bus"),
        {"bus-cluster-ca-cert", "bus-clients-ca-cert"},
    ),
    (
        "ObjectBucketClaim",
        _doc("objectbucket.io/v1alpha1", "ObjectBucketClaim", "loki-bucket"),
        {"loki-bucket"},
    ),
    (
        "Rook CephObjectStoreUser",
        _doc("ceph.rook.io/v1", "CephObjectStoreUser", "loki", "store: ceph-objectstore\n"),
        {"rook-ceph-object-user-ceph-objectstore-loki"},
    ),
    (
        "garage-operator GarageKey",
        _doc("garage.rajsingh.info/v1alpha1", "GarageKey", "app-key", "clusterRef: {name: g}\n"),
        {"app-key"},
    ),
    (
        "garage-operator GarageKey secretTemplate",
        _doc(
            "garage.rajsingh.info/v1alpha1",
            "GarageKey",
            "app-key",
            "secretTemplate:\n  name: app-s3\n",
        ),
        {"app-s3"},
    ),
    (
        "EMQX operator EMQX",
        _doc("apps.emqx.io/v2beta1", "EMQX", "emqx", "image: emqx/emqx:5.7.0\n"),
        {"emqx-bootstrap-api-key", "emqx-node-cookie"},
    ),
    (
        "kanidm-provision ConfigMap",
        KANIDM,
        {"kanidm-grafana-oidc", "kanidm-forgejo-oidc"},
    ),
    (
        "external-secrets ClusterExternalSecret",
        _doc(
            "external-secrets.io/v1",
            "ClusterExternalSecret",
            "wildcard",
            "externalSecretName: wildcard-tls\nnamespaces: [network]\n",
        ),
        {"wildcard-tls"},
    ),
    (
        "1Password OnePasswordItem",
        _doc("onepassword.com/v1", "OnePasswordItem", "op-item", "itemPath: vaults/x\n"),
        {"op-item"},
    ),
]


def _names(root: Path) -> set[str]:
    return {n for p in secret_producers(homelab_kit.load(root)) for n in p.names}


@pytest.mark.parametrize(("label", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_producer_creates_its_secrets(
    tmp_path: Path, label: str, text: str, expected: set[str]
) -> None:
    write_tree(tmp_path, {"kubernetes/apps/app/object.yaml": text})
    assert _names(tmp_path) == expected, label


def test_every_table_row_has_a_case() -> None:
    covered = {text.split("kind: ")[1].split("\n")[0] for _, text, _ in CASES}
    assert {rule.kind for rule in PRODUCERS} <= covered


def _landed(root: Path, name: str) -> list[tuple[str | None, ...]]:
    return [p.namespaces for p in secret_producers(homelab_kit.load(root)) if name in p.names]


def test_kanidm_secrets_land_in_the_target_namespace_else_beside_the_config_map(
    tmp_path: Path,
) -> None:
    write_tree(
        tmp_path,
        {
            "kubernetes/apps/a/object.yaml": KANIDM,
            "kubernetes/apps/b/object.yaml": (
                KANIDM.replace("  targetNamespace: observability\n", "")
                .replace("grafana", "gitea")
                .replace("forgejo", "immich")
            ),
        },
    )
    assert _landed(tmp_path, "kanidm-grafana-oidc") == [("observability",)]
    assert _landed(tmp_path, "kanidm-gitea-oidc") == [("security",)]


def test_a_kanidm_target_namespace_is_substituted_as_flux_would(tmp_path: Path) -> None:
    files = {
        "kubernetes/flux/cluster/ks.yaml": FLUX.format(
            name="cluster-apps", path="./kubernetes/apps", extra=""
        ),
        "kubernetes/apps/kustomization.yaml": "resources:\n  - ./idm/ks.yaml\n",
        "kubernetes/apps/idm/ks.yaml": FLUX.format(
            name="idm",
            path="./kubernetes/apps/idm/app",
            extra="  postBuild:\n    substitute:\n      GRAFANA_NS: observability\n",
        ),
        "kubernetes/apps/idm/app/kustomization.yaml": "resources:\n  - ./provision.yaml\n",
        "kubernetes/apps/idm/app/provision.yaml": KANIDM.replace(
            "targetNamespace: observability", "targetNamespace: ${GRAFANA_NS}"
        ),
    }
    write_tree(tmp_path, files)
    assert _landed(tmp_path, "kanidm-grafana-oidc") == [("observability",)]


def test_a_config_map_without_the_kanidm_label_creates_nothing(tmp_path: Path) -> None:
    text = KANIDM.replace('kanidm_config: "1"', 'kanidm_config: "0"')
    write_tree(tmp_path, {"kubernetes/apps/app/object.yaml": text})
    assert _names(tmp_path) == set()


NAMESPACES = """\
apiVersion: v1
kind: Namespace
metadata:
  name: network
  labels:
    tls: wildcard
---
apiVersion: v1
kind: Namespace
metadata:
  name: media
"""


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("namespaces: [network, media]\n", ("network", "media")),
        (
            "namespaceSelector:\n  matchExpressions:\n"
            "    - key: kubernetes.io/metadata.name\n"
            "      operator: In\n"
            "      values: [cert-manager, network]\n",
            ("cert-manager", "network"),
        ),
        (
            "namespaceSelectors:\n  - matchLabels: {kubernetes.io/metadata.name: media}\n"
            "  - matchLabels: {tls: wildcard}\n",
            ("media", "network"),
        ),
        # labels no Namespace manifest carries may be set outside the repository
        ("namespaceSelectors:\n  - matchLabels: {tls: other}\n", (None,)),
        ("namespaceSelector:\n  matchLabels: {}\n", (None,)),  # every namespace
        (
            "namespaceSelector:\n  matchExpressions:\n"
            "    - {key: kubernetes.io/metadata.name, operator: NotIn, values: [media]}\n",
            (None,),
        ),
        ("refreshTime: 1m\n", (None,)),
    ],
    ids=["namespaces", "name-in", "two-selectors", "unknown-label", "empty", "not-in", "neither"],
)
def test_a_cluster_external_secret_lands_where_its_selectors_say(
    tmp_path: Path, spec: str, expected: tuple[str | None, ...]
) -> None:
    text = (
        "apiVersion: external-secrets.io/v1\nkind: ClusterExternalSecret\n"
        "metadata:\n  name: wildcard\nspec:\n  externalSecretName: wildcard-tls\n"
        + textwrap.indent(spec, "  ")
    )
    write_tree(
        tmp_path,
        {"kubernetes/apps/ces.yaml": text, "kubernetes/apps/namespaces.yaml": NAMESPACES},
    )
    assert _landed(tmp_path, "wildcard-tls") == [expected]


def test_superuser_needs_enable_superuser_access(tmp_path: Path) -> None:
    text = _doc("postgresql.cnpg.io/v1", "Cluster", "pg", "enableSuperuserAccess: false\n")
    write_tree(tmp_path, {"kubernetes/apps/app/object.yaml": text})
    assert "pg-superuser" not in _names(tmp_path)


def test_an_object_of_another_group_creates_nothing(tmp_path: Path) -> None:
    text = _doc("example.com/v1", "Cluster", "pg", "instances: 1\n")
    write_tree(tmp_path, {"kubernetes/apps/app/object.yaml": text})
    assert _names(tmp_path) == set()


def test_emqx_creates_its_configuration_config_map(tmp_path: Path) -> None:
    text = _doc("apps.emqx.io/v2beta1", "EMQX", "broker", "image: emqx/emqx:5.7.0\n")
    write_tree(tmp_path, {"kubernetes/apps/app/object.yaml": text})
    made = created_config_maps(homelab_kit.load(tmp_path))
    assert [(p.names, p.namespaces) for p in made] == [(("broker-configs",), ("apps",))]


def test_object_bucket_claim_creates_a_config_map_too(tmp_path: Path) -> None:
    text = _doc("objectbucket.io/v1alpha1", "ObjectBucketClaim", "loki-bucket")
    write_tree(tmp_path, {"kubernetes/apps/app/object.yaml": text})
    made = created_config_maps(homelab_kit.load(tmp_path))
    assert [(p.names, p.namespaces) for p in made] == [(("loki-bucket",), ("apps",))]


# ------------------------------------------------------------- where they land

FLUX = """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 1h
  path: {path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
{extra}"""

CERT = """
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: web
spec:
  secretName: web-tls
"""


def _web(extra: str) -> dict[str, str]:
    """cluster-apps deploys web, which builds kubernetes/apps/web/app."""
    return {
        "kubernetes/flux/cluster/ks.yaml": FLUX.format(
            name="cluster-apps", path="./kubernetes/apps", extra=""
        ),
        "kubernetes/apps/kustomization.yaml": "resources:\n  - ./web/ks.yaml\n",
        "kubernetes/apps/web/ks.yaml": FLUX.format(
            name="web", path="./kubernetes/apps/web/app", extra=extra
        ),
    }


def _cluster(tmp_path: Path, extra: str, listed: bool = True) -> homelab_kit.Repo:
    write_tree(
        tmp_path,
        {
            **_web(extra),
            "kubernetes/apps/web/app/kustomization.yaml": (
                "resources:\n  - ./certificate.yaml\n" if listed else "resources: []\n"
            ),
            "kubernetes/apps/web/app/certificate.yaml": CERT,
        },
    )
    return homelab_kit.load(tmp_path)


def _where(repo: homelab_kit.Repo) -> list[tuple[str, ...]]:
    return [tuple(map(str, p.namespaces)) for p in secret_producers(repo) if "web-tls" in p.names]


def test_a_producer_without_namespace_lands_in_its_target_namespace(tmp_path: Path) -> None:
    assert _where(_cluster(tmp_path, "  targetNamespace: web\n")) == [("web",)]


def test_a_producer_without_any_namespace_matches_none(tmp_path: Path) -> None:
    assert _where(_cluster(tmp_path, "")) == [()]


def test_a_producer_no_cluster_deploys_produces_nothing(tmp_path: Path) -> None:
    assert _where(_cluster(tmp_path, "  targetNamespace: web\n", listed=False)) == []


def test_producers_keep_their_keys_and_the_kustomization_building_them(tmp_path: Path) -> None:
    # The keys a manifest, a generator and an InfisicalSecret template show; None
    # where they come from elsewhere (an env file, a store, an operator).
    write_tree(
        tmp_path,
        {
            **_web("  targetNamespace: web\n"),
            "kubernetes/apps/web/app/kustomization.yaml": textwrap.dedent(
                """\
                resources: [./certificate.yaml, ./secret.yaml, ./infisical.yaml]
                secretGenerator:
                  - name: literal
                    literals: [A=b]
                    files: [c.txt]
                  - name: from-env
                    envs: [web.env]
                configMapGenerator:
                  - name: settings
                    literals: [TZ=UTC]
                """
            ),
            "kubernetes/apps/web/app/c.txt": "c\n",
            "kubernetes/apps/web/app/web.env": "D=e\n",
            "kubernetes/apps/web/app/certificate.yaml": CERT,
            "kubernetes/apps/web/app/secret.yaml": (
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\n"
                "data:\n  X: eQ==\nstringData:\n  Y: z\n"
            ),
            "kubernetes/apps/web/app/infisical.yaml": textwrap.dedent(
                """\
                apiVersion: secrets.infisical.com/v1alpha1
                kind: InfisicalSecret
                metadata:
                  name: web
                spec:
                  managedSecretReference:
                    secretName: web-env
                    template:
                      data:
                        TOKEN: "{{ .TOKEN.Value }}"
                """
            ),
        },
    )
    repo = homelab_kit.load(tmp_path)
    keys = {p.names[-1]: p.keys for p in secret_producers(repo)}
    assert keys == {
        "web-tls": None,
        "plain": ("X", "Y"),
        "web-env": ("TOKEN",),
        "literal": ("A", "c.txt"),
        "from-env": None,
    }
    assert {p.applied_by for p in secret_producers(repo)} == {("flux-system", "web")}
    (settings,) = created_config_maps(repo)
    assert (settings.names[-1], settings.keys, settings.hashed) == ("settings", ("TZ",), True)
    assert settings.namespaces == ("web",)


# ------------------------------------------------------------------- bootstrap

BOOTSTRAP_TEMPLATE = """
---
apiVersion: v1
kind: Secret
metadata:
  name: infisical-credentials
  namespace: security
stringData:
  clientSecret: "{{ ENV.INFISICAL_SECRET }}"
---
apiVersion: v1
kind: Secret
metadata:
  name: "{{ cluster }}-templated"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: not-a-secret
"""


def _boot(repo: homelab_kit.Repo) -> set[tuple[str, str | None]]:
    return {(p.names[0], p.namespaces[0]) for p in bootstrap_producers(repo)}


def test_bootstrap_templates_declare_secrets(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "kubernetes/apps/x.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n",
            "bootstrap/resources.yaml.j2": BOOTSTRAP_TEMPLATE,
            "bootstrap/helmfile.d/templates/values.yaml.gotmpl": (
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: from-helmfile\n"
            ),
            "kubernetes/flux/setup.sh.tmpl": (
                "kubectl create secret generic sops-age -n flux-system --from-file=age.agekey\n"
            ),
        },
    )
    assert _boot(homelab_kit.load(tmp_path)) == {
        ("infisical-credentials", "security"),
        ("from-helmfile", None),
        ("sops-age", "flux-system"),
    }


def test_bootstrap_secret_manifests_in_a_kustomize_folder(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "kubernetes/apps/x.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n",
            "bootstrap/kustomize/network/kustomization.yaml": (
                "namespace: network\nresources:\n  - ./secret.yaml\n"
            ),
            "bootstrap/kustomize/network/secret.yaml": (
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tunnel-id\n"
            ),
        },
    )
    names = {
        (p.names, p.namespaces)
        for p in secret_producers(homelab_kit.load(tmp_path))
        if "tunnel-id" in p.names
    }
    assert names
    assert all(ns == ("network",) for _, ns in names)


def _consumer(tmp_path: Path, config: str) -> list[tuple[str, int, str]]:
    write_tree(
        tmp_path,
        {
            ".homelab-kit.yaml": config,
            "kubernetes/apps/app/deploy.yaml": textwrap.dedent(
                """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: app
                  namespace: apps
                spec:
                  template:
                    spec:
                      containers:
                        - name: app
                          image: app:1.0
                          envFrom:
                            - secretRef:
                                name: made-by-hand
                """
            ).lstrip(),
        },
    )
    return findings(lint_path(tmp_path, select=["secrets-consumed-secret-exists"]))


def test_bootstrap_secrets_config_counts_as_a_producer(tmp_path: Path) -> None:
    assert _consumer(tmp_path, "bootstrap-secrets: [apps/made-by-hand]\n") == []


def test_bootstrap_secrets_config_in_another_namespace_does_not(tmp_path: Path) -> None:
    found = _consumer(tmp_path, "bootstrap-secrets: [other/made-by-hand]\n")
    assert [f[2] for f in found] == ["secrets-consumed-secret-exists"]


@pytest.mark.parametrize("value", ["a/b/c", "/x", "ns/", "[1]"])
def test_bootstrap_secrets_config_is_validated(tmp_path: Path, value: str) -> None:
    (tmp_path / "kubernetes").mkdir()
    (tmp_path / ".homelab-kit.yaml").write_text(f"bootstrap-secrets: [{value!r}]\n")
    if value == "[1]":
        (tmp_path / ".homelab-kit.yaml").write_text("bootstrap-secrets: [1]\n")
    with pytest.raises(ConfigError, match="bootstrap-secrets"):
        load_config(tmp_path)


# --------------------------------------------------------------------- the hook


class _MariaDB:
    @hookimpl
    def homelab_kit_register_secret_producers(self) -> list[Any]:
        return [ProducerRule("User", "k8s.mariadb.com", ("{name}-password",))]


class _Broken:
    @hookimpl
    def homelab_kit_register_secret_producers(self) -> list[Any]:
        return ["User: {name}"]


def test_plugins_extend_the_table(tmp_path: Path) -> None:
    (tmp_path / "kubernetes").mkdir()
    config = load_config(tmp_path)
    options = load_options(config, PluginManager(autoload=False, extra=[_MariaDB()]))
    write_tree(
        tmp_path, {"kubernetes/apps/u.yaml": _doc("k8s.mariadb.com/v1alpha1", "User", "bob")}
    )
    repo = homelab_kit.load(tmp_path, options)
    assert {n for p in secret_producers(repo) for n in p.names} == {"bob-password"}


def test_a_plugin_registering_something_else_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "kubernetes").mkdir()
    with pytest.raises(PluginError, match="not a ProducerRule"):
        load_options(load_config(tmp_path), PluginManager(autoload=False, extra=[_Broken()]))


# ------------------------------------------------------- one cluster, its producers


def test_a_producer_of_another_cluster_does_not_count(yaml_tree: YamlTree) -> None:
    from tests.core.test_clusters import _cluster_files

    both = {**_cluster_files("main", "8080"), **_cluster_files("storage", "9090")}
    root = yaml_tree(both)
    assert findings(lint_path(root, select=["flux-ks-substitute-from"])) == []
    # storage's own cluster-settings gone: main's, in the same namespace, is no help.
    del both["kubernetes/storage/flux/vars/cluster-settings.yaml"]
    both["kubernetes/storage/flux/vars/kustomization.yaml"] = "resources: []\n"
    root = yaml_tree(both)
    found = findings(lint_path(root, select=["flux-ks-substitute-from"]))
    assert found
    # The parent's patch gives echo the same substituteFrom: reported at that
    # patch's entry in the parent's file (provenance of a Flux spec.patches field),
    # beside cluster's and cluster-apps' own entries.
    assert sorted((path, line) for path, line, _ in found) == [
        ("kubernetes/storage/flux/config/cluster.yaml", 13),
        ("kubernetes/storage/flux/config/cluster.yaml", 28),
        ("kubernetes/storage/flux/config/cluster.yaml", 38),
    ]


def test_a_secret_of_another_cluster_does_not_count(yaml_tree: YamlTree) -> None:
    from tests.core.test_clusters import _cluster_files

    both = {**_cluster_files("main", "8080"), **_cluster_files("storage", "9090")}
    reader = textwrap.dedent(
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: reader, namespace: default}
        spec:
          containers:
            - name: app
              image: app:1.0
              envFrom:
                - secretRef: {name: shared}
        """
    )
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: shared, namespace: default}\n"
    app = "kubernetes/{}/apps/default/echo/app/"
    both[app.format("storage") + "reader.yaml"] = reader
    both[app.format("storage") + "kustomization.yaml"] = (
        "resources: [./service.yaml, ./reader.yaml]\n"
    )
    both[app.format("main") + "secret.yaml"] = secret
    both[app.format("main") + "kustomization.yaml"] = "resources: [./service.yaml, ./secret.yaml]\n"
    root = yaml_tree(both)
    found = findings(lint_path(root, select=["secrets-consumed-secret-exists"]))
    assert found == [(app.format("storage") + "reader.yaml", 9, "secrets-consumed-secret-exists")]
    both[app.format("storage") + "secret.yaml"] = secret
    both[app.format("storage") + "kustomization.yaml"] = (
        "resources: [./service.yaml, ./reader.yaml, ./secret.yaml]\n"
    )
    root = yaml_tree(both)
    assert findings(lint_path(root, select=["secrets-consumed-secret-exists"])) == []


@pytest.mark.parametrize(("namespace", "expected"), [("observability", 0), ("media", 1)])
def test_a_kanidm_client_secret_is_found_only_in_its_target_namespace(
    tmp_path: Path, namespace: str, expected: int
) -> None:
    reader = textwrap.dedent(
        f"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: grafana
          namespace: {namespace}
        spec:
          containers:
            - name: grafana
              image: grafana/grafana:12.0.0
              env:
                - name: CLIENT_SECRET
                  valueFrom:
                    secretKeyRef:
                      name: kanidm-grafana-oidc
                      key: client-secret
        """
    ).lstrip()
    write_tree(
        tmp_path,
        {"kubernetes/apps/security/provision.yaml": KANIDM, "kubernetes/apps/grafana.yaml": reader},
    )
    found = findings(lint_path(tmp_path, select=["secrets-consumed-secret-exists"]))
    assert [f[2] for f in found] == ["secrets-consumed-secret-exists"] * expected


def test_producers_asked_by_namespace_are_those_a_full_scan_finds() -> None:
    # producers_of looks up producers of plain namespaces by namespace; the answer
    # must be what comparing the asked namespaces with every producer gives, in order.
    from homelab_kit.model.secret_index import (
        SecretProducer,
        namespaces_meet,
        producer_index,
        producers_of,
    )

    spaces: list[tuple[str | None, ...]] = [
        ("media",),
        ("web",),
        ("media", "web"),
        (None,),
        ("${NS}",),
        ("app-${NS}",),
        (),
        ("default",),
    ]
    made = [
        SecretProducer(("shared",), where, f"Secret {n}", cluster=("main", "storage", None)[n % 3])
        for n, where in enumerate(spaces * 3)
    ]
    index = producer_index(made)
    for where in [*spaces, ("media", "default"), ("other",), ("app-x",)]:
        for cluster in (None, "main", "storage"):
            expected = [
                p
                for p in made
                if (cluster is None or p.cluster is None or p.cluster == cluster)
                and namespaces_meet(where, p.namespaces)
            ]
            assert list(producers_of(index, ("shared",), where, cluster)) == expected, where
