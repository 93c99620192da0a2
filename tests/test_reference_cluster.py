"""The reference cluster (kubernetes/, talos/, bootstrap/) renders and keeps the conventions.

The reference cluster is the default target of `homelab-kit lint`, the end-to-end fixture
and the example users copy from, so it must stay buildable with real kustomize and follow
every convention of the guide. These tests check what can be checked without the linter:
rendering, layout, references between files, YAML style and where secrets may live.
See docs/reference-cluster.md for the layout they describe.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.events import AliasEvent, DocumentEndEvent, DocumentStartEvent

REPO = Path(__file__).resolve().parents[1]
KUBERNETES = REPO / "kubernetes"
APPS = KUBERNETES / "apps"
CLUSTER_SETTINGS = KUBERNETES / "components" / "common" / "cluster-settings.yaml"
YAML_ROOTS = ("kubernetes", "talos", "bootstrap")

FLUX_KS_API = "kustomize.toolkit.fluxcd.io/v1"
# SOPS is for bootstrap only: these files, and bootstrap/.
SOPS_ALLOWLIST = frozenset(
    {
        "kubernetes/components/common/sops/sops-age.sops.yaml",
        "talos/talsecret.sops.yaml",
    }
)
APP_FILES = (
    "helmrelease.yaml",
    "kustomization.yaml",
    "helm/values.yaml",
    "helm/kustomizeconfig.yaml",
)
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")

_yaml = YAML(typ="safe")


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _yaml_files() -> list[Path]:
    return sorted(p for root in YAML_ROOTS for p in (REPO / root).rglob("*.yaml"))


@cache
def _docs(path: Path) -> tuple[Any, ...]:
    """Every non-empty document of a file (duplicate keys raise)."""
    return tuple(doc for doc in _yaml.load_all(path.read_text()) if doc is not None)


def _is_component(directory: Path) -> bool:
    return any(doc.get("kind") == "Component" for doc in _docs(directory / "kustomization.yaml"))


def _kustomize_dirs() -> list[Path]:
    return sorted(p.parent for p in KUBERNETES.rglob("kustomization.yaml"))


def _app_dirs() -> list[Path]:
    return sorted(p for p in APPS.glob("*/*") if p.is_dir())


def _is_sops(path: Path) -> bool:
    return path.name.endswith(".sops.yaml") or any(
        isinstance(doc, dict) and "sops" in doc for doc in _docs(path)
    )


def _sops_allowed(rel: str) -> bool:
    return rel in SOPS_ALLOWLIST or rel.startswith("bootstrap/")


def _flux_kustomizations() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(KUBERNETES.rglob("ks.yaml")):
        for doc in _docs(path):
            if doc.get("apiVersion") == FLUX_KS_API and doc.get("kind") == "Kustomization":
                yield path, doc


def _key(doc: dict[str, Any]) -> tuple[str, str]:
    return doc["metadata"]["namespace"], doc["metadata"]["name"]


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


# --------------------------------------------------------------------------- rendering

RENDERABLE = [d for d in _kustomize_dirs() if not _is_component(d)]


@pytest.mark.kubectl
@pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl (with kustomize built in) is not installed"
)
@pytest.mark.parametrize("directory", RENDERABLE, ids=_rel)
def test_kustomization_renders(directory: Path) -> None:
    result = subprocess.run(
        ["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{_rel(directory)}: {result.stderr.strip()}"
    for obj in _yaml.load_all(result.stdout):
        if obj is None:
            continue
        assert obj.get("apiVersion"), f"{_rel(directory)}: object without apiVersion"
        assert obj.get("kind"), f"{_rel(directory)}: object without kind"
        assert (obj.get("metadata") or {}).get("name"), (
            f"{_rel(directory)}: {obj['kind']} without metadata.name"
        )


def test_every_component_is_rendered_through_a_namespace() -> None:
    used = {
        (ns_dir / component).resolve()
        for ns_dir in APPS.iterdir()
        if (ns_dir / "kustomization.yaml").is_file()
        for doc in _docs(ns_dir / "kustomization.yaml")
        for component in doc.get("components", [])
    }
    components = [d for d in _kustomize_dirs() if _is_component(d)]
    assert components
    assert [_rel(c) for c in components if c.resolve() not in used] == []


# --------------------------------------------------------------------------- layout


def test_apps_kustomization_lists_every_namespace() -> None:
    (doc,) = _docs(APPS / "kustomization.yaml")
    namespaces = sorted(f"./{p.name}" for p in APPS.iterdir() if p.is_dir())
    assert sorted(doc["resources"]) == namespaces


@pytest.mark.parametrize("namespace_dir", sorted(p for p in APPS.iterdir() if p.is_dir()), ids=_rel)
def test_namespace_kustomization(namespace_dir: Path) -> None:
    (doc,) = _docs(namespace_dir / "kustomization.yaml")
    assert doc["namespace"] == namespace_dir.name
    assert doc["components"] == ["../../components/common"]
    listed = doc["resources"]
    expected = {f"./{p.name}/ks.yaml" for p in namespace_dir.iterdir() if p.is_dir()}
    assert set(listed) == expected
    assert len(listed) == len(expected), "an app is listed twice"
    if "./secrets/ks.yaml" in listed:
        assert listed[0] == "./secrets/ks.yaml", "the secrets Kustomization must come first"


@pytest.mark.parametrize("app_dir", _app_dirs(), ids=_rel)
def test_app_has_ks(app_dir: Path) -> None:
    assert (app_dir / "ks.yaml").is_file()


@pytest.mark.parametrize("app_dir", [d for d in _app_dirs() if (d / "app").is_dir()], ids=_rel)
def test_app_standard_structure(app_dir: Path) -> None:
    app = app_dir.name
    app_path = app_dir / "app"
    for name in APP_FILES:
        assert (app_path / name).is_file(), f"missing app/{name}"

    kinds = {doc["kind"]: doc for doc in _docs(app_path / "helmrelease.yaml")}
    assert set(kinds) == {"OCIRepository", "HelmRelease"}, "co-locate the chart source"
    oci, release = kinds["OCIRepository"], kinds["HelmRelease"]
    assert re.fullmatch(r"v?\d+\.\d+\.\d+", str(oci["spec"]["ref"]["tag"])), "pin the chart version"
    assert release["spec"]["chartRef"] == {"kind": "OCIRepository", "name": oci["metadata"]["name"]}
    assert release["spec"]["valuesFrom"] == [
        {"kind": "ConfigMap", "name": f"{app}-values", "valuesKey": "values.yaml"}
    ]

    (kustomization,) = _docs(app_path / "kustomization.yaml")
    assert kustomization["configMapGenerator"] == [
        {"name": f"{app}-values", "files": ["values.yaml=./helm/values.yaml"]}
    ]
    assert kustomization["configurations"] == ["./helm/kustomizeconfig.yaml"]
    for resource in kustomization["resources"]:
        assert (app_path / resource).exists(), f"app/kustomization.yaml lists missing {resource}"


# --------------------------------------------------------------------------- Flux references


def test_flux_kustomization_names_are_unique() -> None:
    keys = [_key(doc) for _, doc in _flux_kustomizations()]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    "ks", [doc for _, doc in _flux_kustomizations()], ids=lambda d: "/".join(_key(d))
)
def test_flux_kustomization_path_exists(ks: dict[str, Any]) -> None:
    assert ks["spec"]["sourceRef"] == {
        "kind": "GitRepository",
        "name": "flux-system",
        "namespace": "flux-system",
    }
    target = REPO / ks["spec"]["path"]
    assert (target / "kustomization.yaml").is_file(), f"{ks['spec']['path']}: no kustomization"
    assert ks["spec"]["prune"] is True


def test_depends_on_targets_exist_and_form_no_cycle() -> None:
    graph = {
        _key(doc): [(dep["namespace"], dep["name"]) for dep in doc["spec"].get("dependsOn", [])]
        for _, doc in _flux_kustomizations()
    }
    missing = [(node, dep) for node, deps in graph.items() for dep in deps if dep not in graph]
    assert missing == []

    state: dict[tuple[str, str], str] = {}

    def visit(node: tuple[str, str], trail: list[tuple[str, str]]) -> None:
        if state.get(node) == "done":
            return
        assert state.get(node) != "active", f"dependency cycle: {[*trail, node]}"
        state[node] = "active"
        for dep in graph[node]:
            visit(dep, [*trail, node])
        state[node] = "done"

    for node in graph:
        visit(node, [])


def _rendered_files(directory: Path) -> set[Path]:
    """The files whose content ends up in `kustomize build directory`."""
    (doc,) = _docs(directory / "kustomization.yaml")
    files: set[Path] = set()
    for entry in [*doc.get("resources", []), *doc.get("components", [])]:
        target = (directory / entry).resolve()
        files |= _rendered_files(target) if target.is_dir() else {target}
    for generator in [*doc.get("configMapGenerator", []), *doc.get("secretGenerator", [])]:
        for entry in generator.get("files", []):
            files.add((directory / entry.split("=", 1)[-1]).resolve())
    return files


def test_substitution_variables_are_defined() -> None:
    (settings,) = _docs(CLUSTER_SETTINGS)
    undefined = []
    for ks_path, ks in _flux_kustomizations():
        post_build = ks["spec"].get("postBuild", {})
        defined = set(post_build.get("substitute", {}))
        for source in post_build.get("substituteFrom", []):
            assert (source["kind"], source["name"]) == ("ConfigMap", "cluster-settings")
            defined |= set(settings["data"])
        for path in sorted(_rendered_files(REPO / ks["spec"]["path"])):
            for name in VARIABLE.findall(path.read_text()):
                if name not in defined:
                    undefined.append(f"{_rel(path)}: ${{{name}}} ({_rel(ks_path)})")
    assert undefined == []


# --------------------------------------------------------------------------- secrets


def test_sops_files_only_in_allowlist() -> None:
    misplaced = [
        _rel(path) for path in _yaml_files() if _is_sops(path) and not _sops_allowed(_rel(path))
    ]
    assert misplaced == []
    for rel in SOPS_ALLOWLIST:
        assert _is_sops(REPO / rel), f"{rel} lost its sops metadata"


def test_sops_files_hold_only_encrypted_placeholders() -> None:
    for path in _yaml_files():
        if not _is_sops(path):
            continue
        for doc in _docs(path):
            assert {"mac", "lastmodified", "version"} <= set(doc["sops"]), _rel(path)
            values = (
                [doc.get("stringData"), doc.get("data")]
                if doc.get("kind") == "Secret"
                else [{k: v for k, v in doc.items() if k != "sops"}]
            )
            for mapping in filter(None, values):
                for leaf in _leaves(mapping):
                    assert str(leaf).startswith("ENC[AES256_GCM,"), f"{_rel(path)}: plaintext value"


def _leaves(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _leaves(value)
    elif isinstance(node, list):
        for item in node:
            yield from _leaves(item)
    else:
        yield node


def test_no_plaintext_secret_outside_sops_files() -> None:
    plaintext = [
        _rel(path)
        for path in _yaml_files()
        if not _is_sops(path)
        for doc in _docs(path)
        if isinstance(doc, dict) and doc.get("kind") == "Secret"
        if doc.get("data") or doc.get("stringData")
    ]
    assert plaintext == []


@pytest.mark.parametrize("secret_file", sorted(APPS.glob("*/secrets/*-secrets.yaml")), ids=_rel)
def test_infisical_secret_is_scoped_to_its_app(secret_file: Path) -> None:
    namespace = secret_file.parent.parent.name
    app = secret_file.name.removesuffix("-secrets.yaml")
    (doc,) = _docs(secret_file)
    assert doc["apiVersion"] == "secrets.infisical.com/v1alpha1"
    assert doc["kind"] == "InfisicalSecret"
    auth = doc["spec"]["authentication"]["universalAuth"]
    assert auth["secretsScope"]["secretsPath"] == f"/{app}"
    assert auth["credentialsRef"] == {
        "secretName": "universal-auth-credentials",
        "secretNamespace": "infisical-system",
    }
    managed = doc["spec"]["managedSecretReference"]
    assert managed["secretName"] == f"{app}-secret"
    assert managed["secretNamespace"] == namespace
    assert managed["creationPolicy"] == "Orphan"

    (secrets_ks,) = _docs(secret_file.parent / "ks.yaml")
    assert secrets_ks["spec"]["wait"] is True
    assert {"name": "infisical-secrets-operator", "namespace": "infisical-system"} in secrets_ks[
        "spec"
    ]["dependsOn"]

    app_ks = next(
        doc for doc in _docs(APPS / namespace / app / "ks.yaml") if doc["metadata"]["name"] == app
    )
    assert {"name": "secrets", "namespace": namespace} in app_ks["spec"]["dependsOn"]
    consumer = "\n".join(p.read_text() for p in sorted((APPS / namespace / app).rglob("*.yaml")))
    assert f"{app}-secret" in consumer, f"{app} never uses the Secret {app}-secret"


# --------------------------------------------------------------------------- YAML style


def test_files_start_with_document_marker_and_end_with_newline() -> None:
    offenders = []
    for path in _yaml_files():
        text = path.read_text()
        if not text.startswith("---\n") or not text.endswith("\n") or text.endswith("\n\n"):
            offenders.append(_rel(path))
        if "\t" in text:
            offenders.append(f"{_rel(path)} (tab)")
    assert offenders == []


def test_files_parse_without_duplicate_keys() -> None:
    for path in _yaml_files():
        _docs(path)  # DuplicateKeyError fails the test


def test_anchors_are_used_within_their_document() -> None:
    problems = []
    for path in _yaml_files():
        anchors: set[str] = set()
        aliases: set[str] = set()
        for event in _yaml.parse(path.read_text()):
            if isinstance(event, DocumentStartEvent):
                anchors, aliases = set(), set()
            elif isinstance(event, AliasEvent):
                if event.anchor not in anchors:
                    problems.append(f"{_rel(path)}: *{event.anchor} has no anchor in its document")
                aliases.add(event.anchor)
            elif getattr(event, "anchor", None):
                anchors.add(event.anchor)
            if isinstance(event, DocumentEndEvent):
                problems += [f"{_rel(path)}: &{a} is never used" for a in sorted(anchors - aliases)]
    assert problems == []


def test_image_tags_are_pinned() -> None:
    unpinned = []
    for path in sorted(APPS.rglob("*.yaml")):
        for doc in _docs(path):
            for mapping in _walk(doc):
                image = mapping.get("image")
                if "tag" in mapping:
                    if str(mapping["tag"]) in ("", "latest"):
                        unpinned.append(f"{_rel(path)}: tag {mapping['tag']!r}")
                elif "repository" in mapping:
                    unpinned.append(f"{_rel(path)}: {mapping['repository']} has no tag")
                elif isinstance(image, str) and not re.search(r":[\w.-]+$|@sha256:", image):
                    unpinned.append(f"{_rel(path)}: image {image} has no tag")
                elif isinstance(image, str) and image.endswith(":latest"):
                    unpinned.append(f"{_rel(path)}: image {image}")
    assert unpinned == []
