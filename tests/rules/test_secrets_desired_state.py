"""Readers and producers of Secrets and ConfigMaps, judged on what each cluster applies.

``helm-values-from-resolves``, ``secrets-consumed-secret-exists``,
``flux-ks-substitute-from`` and the ``secrets-infisical-*`` checks read the
desired state: names after ``postBuild`` substitution, namespaces from
``targetNamespace``, producers only in the cluster that deploys them.  Findings
point at the line to edit (the ``${VAR}`` reference) and name the cluster where
several differ.
"""

from __future__ import annotations

import textwrap

from homelab_kit.testing import YamlTree, findings, lint_path

_KS = """\
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


def _ks(name: str, path: str, extra: str = "") -> str:
    return _KS.format(name=name, path=path, extra=extra)


_HR = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: web
  valuesFrom:
    - kind: ConfigMap
      name: ${APP}-values
"""


def _cluster(base: str, app: str, values: str = "web-values", substitute: str = "web") -> dict:
    """One cluster: cluster-apps -> web (targetNamespace web, APP substituted)."""
    return {
        f"{base}/flux/cluster/ks.yaml": _ks("cluster-apps", f"./{base}/apps"),
        f"{base}/apps/kustomization.yaml": "resources: [./web/ks.yaml]\n",
        f"{base}/apps/web/ks.yaml": _ks(
            "web",
            f"./{app}",
            f"  targetNamespace: web\n  postBuild:\n    substitute:\n      APP: {substitute}\n",
        ),
        f"{app}/kustomization.yaml": textwrap.dedent(
            f"""\
            resources: [./helmrelease.yaml]
            configMapGenerator:
              - name: {values}
                literals: [values.yaml=a]
            generatorOptions:
              disableNameSuffixHash: true
            """
        ),
        f"{app}/helmrelease.yaml": _HR,
    }


def _values_from(root: object) -> list[tuple[str, int, str]]:
    return findings(lint_path(root, select=["helm-values-from-resolves"]))  # type: ignore[arg-type]


def test_a_substituted_values_from_name_that_resolves(yaml_tree: YamlTree) -> None:
    root = yaml_tree(_cluster("kubernetes", "kubernetes/apps/web/app"))
    assert _values_from(root) == []


def test_a_substituted_values_from_name_that_does_not_resolve(yaml_tree: YamlTree) -> None:
    # ${APP} is "webapp": the release reads webapp-values, the generator makes web-values.
    root = yaml_tree(_cluster("kubernetes", "kubernetes/apps/web/app", substitute="webapp"))
    result = lint_path(root, select=["helm-values-from-resolves"])
    # At the ${APP} reference, the line the user edits.
    assert findings(result) == [
        ("kubernetes/apps/web/app/helmrelease.yaml", 12, "helm-values-from-resolves")
    ]
    (diagnostic,) = result.diagnostics
    assert diagnostic.location.column == 13
    assert "ConfigMap webapp-values" in diagnostic.message
    assert "in namespace web" in diagnostic.message


def test_a_hashed_generator_name_the_reference_does_not_carry(yaml_tree: YamlTree) -> None:
    files = _cluster("kubernetes", "kubernetes/apps/web/app")
    kfile = "kubernetes/apps/web/app/kustomization.yaml"
    files[kfile] = files[kfile].replace("generatorOptions:\n  disableNameSuffixHash: true\n", "")
    result = lint_path(yaml_tree(files), select=["helm-values-from-resolves"])
    (diagnostic,) = result.diagnostics
    assert "name hash suffix" in diagnostic.message


def test_a_hashed_generator_name_rewritten_by_a_name_reference(yaml_tree: YamlTree) -> None:
    files = _cluster("kubernetes", "kubernetes/apps/web/app")
    app = "kubernetes/apps/web/app"
    files[f"{app}/kustomization.yaml"] = textwrap.dedent(
        """\
        resources: [./helmrelease.yaml]
        configMapGenerator:
          - name: web-values
            literals: [values.yaml=a]
        configurations: [./kustomizeconfig.yaml]
        """
    )
    files[f"{app}/kustomizeconfig.yaml"] = textwrap.dedent(
        """\
        nameReference:
          - kind: ConfigMap
            fieldSpecs:
              - path: spec/valuesFrom/name
                kind: HelmRelease
        """
    )
    files[f"{app}/helmrelease.yaml"] = _HR.replace("${APP}-values", "web-values")
    assert _values_from(yaml_tree(files)) == []


def test_a_producer_in_another_cluster_does_not_satisfy_a_reader(yaml_tree: YamlTree) -> None:
    # Two clusters share the web app; only main generates web-values.
    shared = "kubernetes/shared/web/app"
    main = _cluster("kubernetes/main", shared)
    storage = _cluster("kubernetes/storage", shared)
    storage_app = "kubernetes/storage/web/app"
    storage["kubernetes/storage/apps/web/ks.yaml"] = storage[
        "kubernetes/storage/apps/web/ks.yaml"
    ].replace(f"./{shared}", f"./{storage_app}")
    storage[f"{storage_app}/kustomization.yaml"] = textwrap.dedent(
        """\
        resources: [../../../shared/web/app/helmrelease.yaml]
        """
    )
    del storage[f"{shared}/kustomization.yaml"]
    del storage[f"{shared}/helmrelease.yaml"]
    root = yaml_tree({**main, **storage})
    result = lint_path(root, select=["helm-values-from-resolves"])
    assert findings(result) == [(f"{shared}/helmrelease.yaml", 12, "helm-values-from-resolves")]
    (diagnostic,) = result.diagnostics
    assert diagnostic.cluster == "storage"  # it resolves in main


def test_a_producer_in_the_namespace_target_namespace_gives(yaml_tree: YamlTree) -> None:
    # The Secret and its reader are written without a namespace: targetNamespace
    # puts both in web, so the reader is satisfied.
    app = "kubernetes/apps/web/app"
    files = _cluster("kubernetes", app)
    files[f"{app}/kustomization.yaml"] = (
        "resources: [./helmrelease.yaml, ./deployment.yaml, ./secret.yaml]\n"
        "configMapGenerator:\n  - name: web-values\n    literals: [values.yaml=a]\n"
        "generatorOptions:\n  disableNameSuffixHash: true\n"
    )
    files[f"{app}/secret.yaml"] = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${APP}-secret\n"
        "stringData:\n  KEY: ${PLACEHOLDER:=x}\n"
    )
    files[f"{app}/deployment.yaml"] = textwrap.dedent(
        """\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          template:
            spec:
              containers:
                - name: app
                  envFrom:
                    - secretRef:
                        name: ${APP}-secret
        """
    )
    check = ["secrets-consumed-secret-exists"]
    assert findings(lint_path(yaml_tree(files), select=check)) == []
    # The Secret written into another namespace: the reader (in web) is not satisfied.
    files[f"{app}/secret.yaml"] = files[f"{app}/secret.yaml"].replace(
        "  name: ${APP}-secret\n", "  name: ${APP}-secret\n  namespace: other\n"
    )
    files["kubernetes/apps/web/ks.yaml"] = files["kubernetes/apps/web/ks.yaml"].replace(
        "  targetNamespace: web\n", ""
    )
    files[f"{app}/deployment.yaml"] = files[f"{app}/deployment.yaml"].replace(
        "  name: web\n", "  name: web\n  namespace: web\n"
    )
    result = lint_path(yaml_tree(files), select=check)
    assert findings(result) == [(f"{app}/deployment.yaml", 13, "secrets-consumed-secret-exists")]
    assert "only in another namespace" in result.diagnostics[0].message


_INFISICAL = """\
apiVersion: secrets.infisical.com/v1alpha1
kind: InfisicalSecret
metadata:
  name: ${APP}-secrets
spec:
  authentication:
    universalAuth:
      secretsScope:
        projectSlug: p
        envSlug: prod
        secretsPath: /${APP}
      credentialsRef: {secretName: universal-auth-credentials, secretNamespace: infisical}
  managedSecretReference:
    secretName: ${APP}-secret
"""


def _infisical_files(reader_name: str) -> dict:
    app = "kubernetes/apps/web/app"
    files = _cluster("kubernetes", app)
    files[f"{app}/kustomization.yaml"] = (
        "resources: [./helmrelease.yaml, ./infisicalsecret.yaml, ./deployment.yaml]\n"
        "configMapGenerator:\n  - name: web-values\n    literals: [values.yaml=a]\n"
        "generatorOptions:\n  disableNameSuffixHash: true\n"
    )
    files[f"{app}/infisicalsecret.yaml"] = _INFISICAL
    files[f"{app}/deployment.yaml"] = textwrap.dedent(
        f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          template:
            spec:
              containers:
                - name: app
                  env:
                    - name: TOKEN
                      valueFrom:
                        secretKeyRef: {{name: {reader_name}, key: TOKEN}}
        """
    )
    return files


def test_a_substituted_infisical_secret_name_is_produced_and_read(yaml_tree: YamlTree) -> None:
    root = yaml_tree(_infisical_files("web-secret"))
    found = findings(
        lint_path(
            root,
            select=["secrets-consumed-secret-exists", "secrets-infisical-unused"],
        )
    )
    assert found == []


def test_a_substituted_infisical_secret_name_that_nothing_reads(yaml_tree: YamlTree) -> None:
    # The reader wants web-token; the InfisicalSecret makes ${APP}-secret = web-secret.
    root = yaml_tree(_infisical_files("web-token"))
    result = lint_path(root, select=["secrets-consumed-secret-exists", "secrets-infisical-unused"])
    app = "kubernetes/apps/web/app"
    assert findings(result) == [
        (f"{app}/deployment.yaml", 13, "secrets-consumed-secret-exists"),
        (f"{app}/infisicalsecret.yaml", 1, "secrets-infisical-unused"),
    ]
    unused = next(d for d in result.diagnostics if d.check_id == "secrets-infisical-unused")
    assert "InfisicalSecret web-secrets creates web-secret" in unused.message


def test_a_substituted_infisical_scope_reads_the_root(yaml_tree: YamlTree) -> None:
    files = _infisical_files("web-secret")
    app = "kubernetes/apps/web/app"
    files["kubernetes/apps/web/ks.yaml"] = files["kubernetes/apps/web/ks.yaml"].replace(
        "APP: web", "APP: web\n      ROOT: ''"
    )
    files[f"{app}/infisicalsecret.yaml"] = _INFISICAL.replace("/${APP}", "/${ROOT}")
    result = lint_path(yaml_tree(files), select=["secrets-infisical-scope"])
    # At the ${ROOT} reference of secretsPath.
    assert findings(result) == [(f"{app}/infisicalsecret.yaml", 11, "secrets-infisical-scope")]
    clean = lint_path(yaml_tree(_infisical_files("web-secret")), select=["secrets-infisical-scope"])
    assert findings(clean) == []


def test_a_substitute_from_secret_of_another_cluster(yaml_tree: YamlTree) -> None:
    main = _cluster("kubernetes/main", "kubernetes/main/apps/web/app")
    storage = _cluster("kubernetes/storage", "kubernetes/storage/apps/web/app")
    for files, base in ((main, "kubernetes/main"), (storage, "kubernetes/storage")):
        files[f"{base}/apps/web/ks.yaml"] += (
            "    substituteFrom:\n      - kind: Secret\n        name: cluster-secrets\n"
        )
    main["kubernetes/main/apps/kustomization.yaml"] = (
        "resources: [./web/ks.yaml, ./cluster-secrets.yaml]\n"
    )
    main["kubernetes/main/apps/cluster-secrets.yaml"] = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: cluster-secrets, namespace: flux-system}\n"
        "stringData:\n  A: b\n"
    )
    result = lint_path(yaml_tree({**main, **storage}), select=["flux-ks-substitute-from"])
    assert findings(result) == [
        ("kubernetes/storage/apps/web/ks.yaml", 18, "flux-ks-substitute-from")
    ]
    assert result.diagnostics[0].message.endswith(", only in another cluster")


def test_a_missing_substitute_from_secret_is_reported_once(yaml_tree: YamlTree) -> None:
    # flux-ks-substitute-from owns substituteFrom; secrets-consumed-secret-exists,
    # which follows every other Secret reader, does not report the same line again.
    files = _cluster("kubernetes", "kubernetes/apps/web/app")
    files["kubernetes/apps/web/ks.yaml"] += (
        "    substituteFrom:\n      - kind: Secret\n        name: cluster-secrets\n"
    )
    files["kubernetes/apps/kustomization.yaml"] = (
        "resources: [./web/ks.yaml, ./cluster-secrets.yaml]\n"
    )
    files["kubernetes/apps/cluster-secrets.yaml"] = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: cluster-secrets, namespace: other}\n"
    )
    both = ["flux-ks-substitute-from", "secrets-consumed-secret-exists"]
    result = lint_path(yaml_tree(files), select=both)
    assert findings(result) == [("kubernetes/apps/web/ks.yaml", 18, "flux-ks-substitute-from")]
    assert result.diagnostics[0].message.endswith(
        "which nothing in the repository creates in namespace flux-system, "
        "only in another namespace"
    )
    files["kubernetes/apps/cluster-secrets.yaml"] = files[
        "kubernetes/apps/cluster-secrets.yaml"
    ].replace("namespace: other", "namespace: flux-system")
    assert findings(lint_path(yaml_tree(files), select=both)) == []


def test_chart_values_are_read_where_helm_installs_the_chart(yaml_tree: YamlTree) -> None:
    # The release lives in web and installs into apps (spec.targetNamespace): the
    # chart's existingSecret must exist in apps, not beside the HelmRelease.
    app = "kubernetes/apps/web/app"
    files = _cluster("kubernetes", app)
    files["kubernetes/apps/web/ks.yaml"] = files["kubernetes/apps/web/ks.yaml"].replace(
        "  targetNamespace: web\n",
        "",  # a targetNamespace would move every object to web
    )
    files[f"{app}/helmrelease.yaml"] = _HR.replace(
        "  name: web\n", "  name: web\n  namespace: web\n"
    )
    files[f"{app}/helmrelease.yaml"] += (
        "  targetNamespace: apps\n  values:\n    auth:\n      existingSecret: db-auth\n"
    )
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-auth\n  namespace: {where}\n"
    files[f"{app}/kustomization.yaml"] = files[f"{app}/kustomization.yaml"].replace(
        "resources: [./helmrelease.yaml]", "resources: [./helmrelease.yaml, ./secret.yaml]"
    )
    check = ["secrets-consumed-secret-exists"]
    files[f"{app}/secret.yaml"] = secret.format(where="web")  # beside the release
    result = lint_path(yaml_tree(files), select=check)
    assert findings(result) == [(f"{app}/helmrelease.yaml", 18, "secrets-consumed-secret-exists")]
    assert "in namespace apps, only in another namespace" in result.diagnostics[0].message
    files[f"{app}/secret.yaml"] = secret.format(where="apps")
    assert findings(lint_path(yaml_tree(files), select=check)) == []


def test_an_infisical_field_a_patch_sets_is_not_missing(yaml_tree: YamlTree) -> None:
    files = _infisical_files("web-secret")
    app = "kubernetes/apps/web/app"
    options = {"secrets-infisical-well-formed": {"require-host-api": True}}
    check = ["secrets-infisical-well-formed"]
    result = lint_path(yaml_tree(files), select=check, check_options=options)
    assert findings(result) == [(f"{app}/infisicalsecret.yaml", 6, "secrets-infisical-well-formed")]
    files[f"{app}/kustomization.yaml"] += textwrap.dedent(
        """\
        patches:
          - target: {kind: InfisicalSecret}
            patch: |
              - op: add
                path: /spec/hostAPI
                value: https://infisical.example.com/api
        """
    )
    assert findings(lint_path(yaml_tree(files), select=check, check_options=options)) == []
