"""The workload checks judge what Flux applies, and point at the line to edit.

Each cluster's desired state (kustomize patches and components, a parent Flux
Kustomization's ``spec.patches``, ``${VAR}`` substitution, HelmRelease values
merged over their ``valuesFrom`` ConfigMaps) is what the checks read; a finding
lands on the field's provenance (the component or patch line, the ``${VAR}``
reference, the values line) and names the cluster when several clusters apply
the same file differently.  Files no cluster deploys are not live objects.
"""

from __future__ import annotations

from pathlib import Path

from homelab_kit.lint import LintResult
from homelab_kit.testing import YamlTree, lint_path

ALL = ["workload-*"]
PARENT = "kubernetes/flux/cluster/ks.yaml"
APP = "kubernetes/apps/default/echo"
DEPLOY = f"{APP}/app/deployment.yaml"
COMPONENT = "kubernetes/components/proxy/kustomization.yaml"

# Passes every workload check; its tag comes from ${TAG}.
DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  selector:
    matchLabels: {app: echo}
  template:
    metadata:
      labels: {app: echo}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
      containers:
        - name: app
          image: ghcr.io/mendhak/http-https-echo:${TAG}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
          resources:
            requests: {cpu: 10m}
            limits: {memory: 64Mi}
          livenessProbe:
            httpGet: {path: /, port: 8080}
          readinessProbe:
            httpGet: {path: /, port: 8080}
"""


def ks(name: str, path: str, extra: str = "") -> str:
    """A Flux Kustomization in flux-system; ``extra`` is appended to its spec."""
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\n"
        "kind: Kustomization\n"
        "metadata:\n"
        f"  name: {name}\n"
        "  namespace: flux-system\n"
        "spec:\n"
        "  interval: 1h\n"
        f"  path: {path}\n"
        "  prune: true\n"
        "  sourceRef:\n"
        "    kind: GitRepository\n"
        "    name: flux-system\n" + extra
    )


def _substitute(tag: str) -> str:
    return f"  postBuild:\n    substitute:\n      APP: echo\n      TAG: '{tag}'\n"


def _cluster(
    files: dict[str, str] | None = None,
    *,
    tag: str = "1.0.0",
    app_spec: str = "",
    parent_spec: str = "",
    resources: str = "  - ./deployment.yaml\n",
) -> dict[str, str]:
    """One cluster: cluster-apps applies kubernetes/apps, which lists the echo app."""
    return {
        PARENT: ks("cluster-apps", "./kubernetes/apps", parent_spec),
        "kubernetes/apps/kustomization.yaml": "resources:\n  - ./default/echo/ks.yaml\n",
        f"{APP}/ks.yaml": ks(
            "echo", f"./{APP}/app", "  targetNamespace: default\n" + app_spec + _substitute(tag)
        ),
        f"{APP}/app/kustomization.yaml": "resources:\n" + resources,
        DEPLOY: DEPLOYMENT,
        **(files or {}),
    }


def _seen(result: LintResult) -> list[tuple[str, int, str, str | None]]:
    """``(path, line, check, cluster)`` of every finding."""
    return [(d.location.path, d.location.line, d.check_id, d.cluster) for d in result.diagnostics]


def _line(root: Path, path: str, text: str) -> int:
    """The 1-based line of the first line of ``path`` that holds ``text``."""
    lines = (root / path).read_text().splitlines()
    return next(i for i, line in enumerate(lines) if text in line) + 1


# --------------------------------------------------------------------------- components

PROXY = """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - target:
      kind: Deployment
    patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: _
      spec:
        template:
          spec:
            containers:
              - name: proxy
                image: ghcr.io/example/proxy{tag}
{rest}"""

PROXY_GOOD = """\
                securityContext:
                  allowPrivilegeEscalation: false
                  readOnlyRootFilesystem: true
                resources:
                  requests: {cpu: 10m}
                  limits: {memory: 32Mi}
                livenessProbe:
                  tcpSocket: {port: 8080}
                readinessProbe:
                  tcpSocket: {port: 8080}
"""

WITH_PROXY = "  components:\n    - ../../../../components/proxy\n"


def test_a_container_a_component_adds_is_checked_at_the_component(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    yaml_tree(
        _cluster({COMPONENT: PROXY.format(tag=":1.2.3", rest=PROXY_GOOD)}, app_spec=WITH_PROXY)
    )
    assert _seen(lint_path(tmp_path, select=ALL)) == []
    # The same component adding a bare, untagged container: every finding is at
    # the patch that adds it, none on the Deployment as written.
    root = yaml_tree({COMPONENT: PROXY.format(tag="", rest="")})
    line = _line(root, COMPONENT, "image: ghcr.io/example/proxy")
    found = _seen(lint_path(tmp_path, select=ALL))
    assert {(path, at) for path, at, _, _ in found} == {(COMPONENT, line)}
    # (runAsNonRoot is the pod's, which the added container inherits.)
    assert sorted(check for _, _, check, _ in found) == [
        "workload-image-tag",
        "workload-probes",
        "workload-read-only-root-fs",
        "workload-resources",
    ]
    message = next(
        d.message for d in lint_path(tmp_path, select=["workload-image-tag"]).diagnostics
    )
    assert message == (
        "container proxy of Deployment default/echo runs ghcr.io/example/proxy "
        "without a tag or digest (that is, latest)"
    )


ANUBIS = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: ${APP}-anubis
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: app-template
  values:
    controllers:
      anubis:
        containers:
          app:
            image:
              repository: ghcr.io/techarohq/anubis
              tag: v1.27.0
            resources:
              requests: {cpu: 10m}
              limits:
                memory: ${ANUBIS_MEMORY:=256Mi}
            securityContext:
              runAsNonRoot: true
              runAsUser: 1000
              allowPrivilegeEscalation: false
              readOnlyRootFilesystem: true
"""


def test_a_release_a_component_adds_is_read_as_applied(yaml_tree: YamlTree, tmp_path: Path) -> None:
    """The anubis shape: a component's HelmRelease named and sized by ${VAR}s."""
    component = "kubernetes/components/anubis"
    files = {
        f"{component}/kustomization.yaml": (
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
            "resources:\n  - ./helmrelease.yaml\n"
        ),
        f"{component}/helmrelease.yaml": ANUBIS,
    }
    yaml_tree(_cluster(files, app_spec="  components:\n    - ../../../../components/anubis\n"))
    assert _seen(lint_path(tmp_path, select=ALL)) == []
    # Without a memory limit: reported at the release the component adds, named
    # as the cluster applies it (not ${APP}-anubis).
    root = yaml_tree(
        {
            f"{component}/helmrelease.yaml": ANUBIS.replace(
                "              limits:\n                memory: ${ANUBIS_MEMORY:=256Mi}\n", ""
            )
        }
    )
    result = lint_path(tmp_path, select=ALL)
    line = _line(root, f"{component}/helmrelease.yaml", "requests:")
    assert _seen(result) == [(f"{component}/helmrelease.yaml", line, "workload-resources", None)]
    assert "HelmRelease default/echo-anubis" in result.diagnostics[0].message


# --------------------------------------------------------------------------- Flux patches

PARENT_PATCH = """\
  patches:
    - target:
        kind: Kustomization
      patch: |-
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: _
        spec:
          patches:
            - target:
                kind: Deployment
              patch: |-
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: _
                spec:
                  template:
                    spec:
                      hostNetwork: true
                      containers:
                        - name: app
                          securityContext:
                            privileged: true
"""


def test_a_parent_flux_patch_is_reported_where_it_is_written(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    """A parent's spec.patches puts a patch into every child: found at the parent's line."""
    yaml_tree(_cluster())
    ids = ["workload-host-access", "workload-privileged"]
    assert _seen(lint_path(tmp_path, select=ids)) == []
    root = yaml_tree(_cluster(parent_spec=PARENT_PATCH))
    assert _seen(lint_path(tmp_path, select=ids)) == [
        (PARENT, _line(root, PARENT, "hostNetwork: true"), "workload-host-access", None),
        (PARENT, _line(root, PARENT, "privileged: true"), "workload-privileged", None),
    ]


def test_an_own_flux_patch_is_reported_where_it_is_written(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    own = (
        "  patches:\n"
        "    - target:\n"
        "        kind: Deployment\n"
        "      patch: |-\n"
        "        - op: add\n"
        "          path: /spec/template/spec/hostPID\n"
        "          value: true\n"
    )
    root = yaml_tree(_cluster(app_spec=own))
    assert _seen(lint_path(tmp_path, select=ALL)) == [
        (f"{APP}/ks.yaml", _line(root, f"{APP}/ks.yaml", "/hostPID"), "workload-host-access", None)
    ]


# --------------------------------------------------------------------------- substitution


def test_a_substituted_image_tag_is_judged_at_the_placeholder(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    yaml_tree(_cluster(tag="37"))
    assert _seen(lint_path(tmp_path, select=ALL)) == []
    root = yaml_tree(_cluster(tag="latest"))
    result = lint_path(tmp_path, select=ALL)
    line = _line(root, DEPLOY, "image: ghcr.io/mendhak")
    assert _seen(result) == [(DEPLOY, line, "workload-image-tag", None)]
    assert "with the mutable tag 'latest'" in result.diagnostics[0].message


# --------------------------------------------------------------------------- not deployed

BAD = DEPLOYMENT.replace(":${TAG}", "").replace("name: echo\n", "name: old\n", 1)


def test_a_file_no_cluster_deploys_is_not_checked(yaml_tree: YamlTree, tmp_path: Path) -> None:
    old = f"{APP}/app/old.yaml"
    yaml_tree(_cluster({old: BAD}))  # written, but no kustomization.yaml lists it
    assert _seen(lint_path(tmp_path, select=ALL)) == []
    root = yaml_tree(_cluster({old: BAD}, resources="  - ./deployment.yaml\n  - ./old.yaml\n"))
    assert _seen(lint_path(tmp_path, select=ALL)) == [
        (old, _line(root, old, "image:"), "workload-image-tag", None)
    ]


# --------------------------------------------------------------------------- two clusters

SHARED = "kubernetes/shared/echo"


def _two_clusters(main: str, storage: str) -> dict[str, str]:
    """Clusters main and storage apply one shared folder, each with its own TAG."""
    tree = {f"{SHARED}/deployment.yaml": DEPLOYMENT}
    for name, tag in (("main", main), ("storage", storage)):
        tree[f"kubernetes/{name}/flux/cluster/ks.yaml"] = ks(
            "echo", f"./{SHARED}", "  targetNamespace: default\n" + _substitute(tag)
        )
    return tree


def test_two_clusters_applying_a_file_differently(yaml_tree: YamlTree, tmp_path: Path) -> None:
    root = yaml_tree(_two_clusters(main="1.0.0", storage="latest"))
    line = _line(root, f"{SHARED}/deployment.yaml", "image:")
    result = lint_path(tmp_path, select=ALL)
    assert result.clusters == ("main", "storage")
    assert _seen(result) == [(f"{SHARED}/deployment.yaml", line, "workload-image-tag", "storage")]
    assert str(result.diagnostics[0]).endswith(
        "[cluster storage] container app of Deployment default/echo runs "
        "ghcr.io/mendhak/http-https-echo with the mutable tag 'latest'"
    )
    # The same in both: once, naming no cluster.
    yaml_tree(_two_clusters(main="latest", storage="latest"))
    assert _seen(lint_path(tmp_path, select=ALL)) == [
        (f"{SHARED}/deployment.yaml", line, "workload-image-tag", None)
    ]
    yaml_tree(_two_clusters(main="1.0.0", storage="2.0.0"))
    assert _seen(lint_path(tmp_path, select=ALL)) == []


# --------------------------------------------------------------------------- Helm values

RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: echo
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: app-template
  valuesFrom:
    - kind: ConfigMap
      name: echo-values
  values:
    controllers:
      echo:
        containers:
          app:
            image:
              repository: ghcr.io/mendhak/http-https-echo
              tag: ${TAG}
"""

VALUES = """\
defaultPodOptions:
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
controllers:
  echo:
    containers:
      app:
        resources:
          requests: {cpu: 10m}
          limits:
            memory: ${MEMORY:=64Mi}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
"""

GENERATOR = """\
  - ./deployment.yaml
  - ./helmrelease.yaml
configMapGenerator:
  - name: echo-values
    files:
      - values.yaml=./helm/values.yaml
generatorOptions:
  disableNameSuffixHash: true
"""


def test_values_from_a_config_map_are_merged_as_helm_does(
    yaml_tree: YamlTree, tmp_path: Path
) -> None:
    """The release's values over its values file: each finding at the line that set it."""
    values = f"{APP}/app/helm/values.yaml"
    files = {f"{APP}/app/helmrelease.yaml": RELEASE, values: VALUES}
    yaml_tree(_cluster(files, resources=GENERATOR))
    assert _seen(lint_path(tmp_path, select=ALL)) == []
    # hostPID in the values file; a mutable tag the release's ${TAG} sets.
    root = yaml_tree(
        _cluster(
            {
                values: VALUES.replace(
                    "defaultPodOptions:\n", "defaultPodOptions:\n  hostPID: true\n"
                )
            },
            tag="latest",
            resources=GENERATOR,
        )
    )
    release = f"{APP}/app/helmrelease.yaml"
    assert sorted(_seen(lint_path(tmp_path, select=ALL))) == sorted(
        [
            (DEPLOY, _line(root, DEPLOY, "image:"), "workload-image-tag", None),
            (release, _line(root, release, "tag: ${TAG}"), "workload-image-tag", None),
            (values, _line(root, values, "hostPID"), "workload-host-access", None),
        ]
    )
    # The release's own values win over the file's: its memory limit is the one read.
    no_limit = VALUES.replace("          limits:\n            memory: ${MEMORY:=64Mi}\n", "")
    yaml_tree({values: no_limit})
    assert [c for _, _, c, _ in _seen(lint_path(tmp_path, select=["workload-resources"]))] == [
        "workload-resources"
    ]
    inline = RELEASE + "            resources:\n              limits: {memory: 64Mi}\n"
    yaml_tree({values: no_limit, release: inline})
    assert _seen(lint_path(tmp_path, select=["workload-resources"])) == []


def test_a_values_file_is_read_after_substitution(yaml_tree: YamlTree, tmp_path: Path) -> None:
    """${VAR}s in a values file are filled as Flux fills its ConfigMap, then judged."""
    values = f"{APP}/app/helm/values.yaml"
    release = RELEASE.replace("              tag: ${TAG}\n", "")
    tagged = VALUES.replace(
        "      app:\n",
        "      app:\n        image:\n          tag: ${TAG}\n",
        1,
    )
    files = {f"{APP}/app/helmrelease.yaml": release, values: tagged}
    yaml_tree(_cluster(files, resources=GENERATOR))
    assert _seen(lint_path(tmp_path, select=ALL)) == []
    root = yaml_tree(_cluster(files, tag="latest", resources=GENERATOR))
    found = _seen(lint_path(tmp_path, select=["workload-image-tag"]))
    assert (values, _line(root, values, "tag: ${TAG}"), "workload-image-tag", None) in found
    # A ${VAR} the values only use in env changes nothing the checks read.
    env_only = VALUES.replace(
        "      app:\n", "      app:\n        env:\n          TZ: ${TZ:=UTC}\n", 1
    )
    yaml_tree(
        _cluster({f"{APP}/app/helmrelease.yaml": RELEASE, values: env_only}, resources=GENERATOR)
    )
    assert _seen(lint_path(tmp_path, select=ALL)) == []
    as_root = env_only.replace(
        "    runAsNonRoot: true\n    runAsUser: 1000\n", "    runAsUser: ${UID:=0}\n"
    )
    yaml_tree({values: as_root})
    result = lint_path(tmp_path, select=ALL)
    assert [d.check_id for d in result.diagnostics] == ["workload-non-root"]
    assert result.diagnostics[0].message.endswith("runs as root")  # 0, not the text ${UID:=0}
