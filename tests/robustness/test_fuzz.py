"""Property-based fuzzing: whatever the repository holds, load and lint never crash.

Three sources of input, each written into a small repository and linted with every
check, then rendered in every output format:

* generated YAML documents: Kubernetes-shaped objects whose fields hold values of
  every type (the type confusion a model or a check must survive);
* byte strings: arbitrary bytes, YAML-punctuation soup and text in other encodings;
* the reference cluster's own files, mutated: a node replaced by a generated value,
  a key deleted, a line deleted, duplicated or cut, a character or a suppression
  comment inserted.

The properties: no exception escapes, no check crashes (no ``internal-error``),
every diagnostic has a sane position, and the same input always gives the same
output.  The suite runs a modest number of examples; set
``HOMELAB_KIT_FUZZ_EXAMPLES=5000`` for a longer run (docs/robustness.md).
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

import homelab_kit
from homelab_kit.lint import LintResult
from homelab_kit.report._style import Palette
from homelab_kit.report._summary import summary_lines
from homelab_kit.yaml import YMap, YSeq, parse_bytes
from tests.robustness.conftest import (
    PROJECT_ROOT,
    copy_reference_cluster,
    internal_errors,
    render_all,
    stable,
    without_timing,
)

EXAMPLES = int(os.environ.get("HOMELAB_KIT_FUZZ_EXAMPLES", "0"))


def fuzz_settings(default_examples: int) -> settings:
    """Modest in the suite; ``HOMELAB_KIT_FUZZ_EXAMPLES`` asks for a longer run."""
    return settings(
        max_examples=EXAMPLES or default_examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# --------------------------------------------------------------------------- strategies

API_VERSIONS = (
    "v1",
    "apps/v1",
    "batch/v1",
    "kustomize.toolkit.fluxcd.io/v1",
    "kustomize.toolkit.fluxcd.io/v1beta2",
    "helm.toolkit.fluxcd.io/v2",
    "helm.toolkit.fluxcd.io/v2beta1",
    "source.toolkit.fluxcd.io/v1",
    "source.toolkit.fluxcd.io/v1beta2",
    "kustomize.config.k8s.io/v1beta1",
    "kustomize.config.k8s.io/v1alpha1",
    "secrets.infisical.com/v1alpha1",
    "external-secrets.io/v1",
    "external-secrets.io/v1beta1",
    "fluxcd.controlplane.io/v1",
    "networking.k8s.io/v1",
    "policy/v1beta1",
)
KINDS = (
    "Kustomization",
    "Component",
    "HelmRelease",
    "OCIRepository",
    "HelmRepository",
    "GitRepository",
    "Secret",
    "ConfigMap",
    "Namespace",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "CronJob",
    "Job",
    "Pod",
    "InfisicalSecret",
    "ExternalSecret",
    "FluxInstance",
    "Ingress",
)
KEYS = (
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "labels",
    "annotations",
    "spec",
    "path",
    "sourceRef",
    "dependsOn",
    "interval",
    "retryInterval",
    "timeout",
    "prune",
    "wait",
    "targetNamespace",
    "components",
    "patches",
    "patch",
    "target",
    "postBuild",
    "substitute",
    "substituteFrom",
    "optional",
    "chart",
    "chartRef",
    "version",
    "values",
    "valuesFrom",
    "valuesKey",
    "targetPath",
    "install",
    "upgrade",
    "remediation",
    "retries",
    "url",
    "ref",
    "tag",
    "semver",
    "layerSelector",
    "resources",
    "bases",
    "configMapGenerator",
    "secretGenerator",
    "generators",
    "transformers",
    "helmCharts",
    "configurations",
    "nameReference",
    "files",
    "envs",
    "literals",
    "data",
    "stringData",
    "type",
    "template",
    "jobTemplate",
    "containers",
    "initContainers",
    "image",
    "env",
    "envFrom",
    "secretRef",
    "secretKeyRef",
    "valueFrom",
    "value",
    "key",
    "volumes",
    "securityContext",
    "privileged",
    "runAsNonRoot",
    "hostNetwork",
    "livenessProbe",
    "readinessProbe",
    "limits",
    "requests",
    "controllers",
    "persistence",
    "authentication",
    "universalAuth",
    "secretsScope",
    "projectSlug",
    "envSlug",
    "secretsPath",
    "credentialsRef",
    "secretName",
    "secretNamespace",
    "managedSecretReference",
    "managedKubeSecretReferences",
    "hostAPI",
    "sops",
    "mac",
    "age",
    "nodes",
    "hostname",
    "ipAddress",
    "controlPlane",
    "clusterName",
    "talosVersion",
    "kubernetesVersion",
    "endpoint",
    "sync",
    "<<",
)
TEXTS = (
    "",
    "flux-system",
    "media",
    "sonarr",
    "./kubernetes/apps",
    "./kubernetes/apps/media/sonarr/app",
    "./app",
    "../..",
    "../../../../etc",
    "/etc/passwd",
    "C:\\Windows",
    ".",
    "*",
    "oci://ghcr.io/example/chart",
    "https://example.com/repo",
    "github.com/org/repo//path?ref=v1",
    "ghcr.io/example/app:latest",
    "ghcr.io/example/app:1.2.3@sha256:" + "a" * 64,
    "latest",
    "1.2.3",
    ">=1.0.0",
    "1h",
    "30m",
    "-5s",
    "${APP}",
    "${SECRET_DOMAIN:=example.com}",
    "${",
    "$((1+1))",
    "{{ .Values.x }}",
    "ENC[AES256_GCM,data:abc,type:str]",
    "Kustomization",
    "HelmRelease",
    "Secret",
    "ConfigMap",
    "GitRepository",
    "OCIRepository",
    "10.0.0.1",
    "10.0.0.0/24",
    "::1",
    "not an ip",
    "kustomize.toolkit.fluxcd.io/v1",
    "values.yaml",
    "helm/values.yaml",
    "values.yaml=helm/values.yaml",
    "a=b",
    "\x00",
    "\u202e",
    "é",
    "\ud7ff",
    "x" * 300,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(TEXTS),
    st.text(max_size=20),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=10), st.integers(-3, 3), st.none())
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=5),
    ),
    max_leaves=30,
)


@st.composite
def documents(draw: st.DrawFn) -> Any:
    """A Kubernetes-shaped object (usually), its fields holding anything."""
    if draw(st.integers(0, 9)) == 0:
        return draw(values)
    doc: dict[Any, Any] = {
        "apiVersion": draw(st.one_of(st.sampled_from(API_VERSIONS), scalars)),
        "kind": draw(st.one_of(st.sampled_from(KINDS), scalars)),
    }
    if draw(st.booleans()):
        doc["metadata"] = draw(
            st.one_of(
                st.fixed_dictionaries(
                    {"name": st.one_of(st.sampled_from(TEXTS), scalars)},
                    optional={"namespace": st.one_of(st.sampled_from(TEXTS), scalars)},
                ),
                values,
            )
        )
    doc.update(draw(st.dictionaries(st.sampled_from(KEYS), values, max_size=4)))
    return doc


def dump_yaml(docs: list[Any]) -> str:
    """``docs`` as a YAML stream (block style, explicit document starts)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.explicit_start = True
    stream = io.StringIO()
    yaml.dump_all(docs, stream)
    return stream.getvalue()


SUPPRESSIONS = (
    "# homelab-kit: ignore",
    "# homelab-kit: ignore[]",
    "# homelab-kit: ignore[flux-ks-prune, yaml-syntax]",
    "# homelab-kit: ignore[unclosed",
    "key: value  # homelab-kit: ignore[schema-invalid] why",
    "# homelab-kit: ignore-document",
    "# homelab-kit: ignore-document[yaml-duplicate-key]",
    "# homelab-kit: ignore-file[*]",
    "#homelab-kit:ignore-file",
)
YAML_SOUP = "abk:-?[]{},&*!|>'\"%@`#\n \t.=$<~01"
yaml_text = st.text(alphabet=YAML_SOUP, max_size=200)
encodings = st.sampled_from(("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1"))


@st.composite
def file_bytes(draw: st.DrawFn) -> bytes:
    """Arbitrary bytes, YAML punctuation soup, or a generated document in some encoding."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.binary(max_size=300))
    if kind == 1:
        return draw(yaml_text).encode("utf-8")
    text = draw(yaml_text) if kind == 2 else dump_yaml(draw(st.lists(documents(), max_size=2)))
    return text.encode(draw(encodings), errors="replace")


# --------------------------------------------------------------------------- the repository

SMALL_TREE = (
    "kubernetes/flux",
    "kubernetes/components",
    "kubernetes/apps/media",
    "talos",
)
APPS_KUSTOMIZATION = """\
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ./media
"""
# Places where a generated file means something to some model or check.
TARGETS = (
    "kubernetes/apps/media/sonarr/ks.yaml",
    "kubernetes/apps/media/sonarr/app/helmrelease.yaml",
    "kubernetes/apps/media/sonarr/app/kustomization.yaml",
    "kubernetes/apps/media/sonarr/app/helm/values.yaml",
    "kubernetes/apps/media/sonarr/app/helm/kustomizeconfig.yaml",
    "kubernetes/apps/media/sonarr/app/deployment.yaml",
    "kubernetes/apps/media/kustomization.yaml",
    "kubernetes/apps/media/secrets/sonarr-secrets.yaml",
    "kubernetes/apps/media/secrets/extra.sops.yaml",
    "kubernetes/apps/kustomization.yaml",
    "kubernetes/flux/cluster/ks.yaml",
    "kubernetes/components/common/kustomization.yaml",
    "talos/talconfig.yaml",
    "talos/talenv.yaml",
)


def small_repository(destination: Path) -> Path:
    """The media namespace of the reference cluster, with Flux, components and Talos."""
    for folder in SMALL_TREE:
        shutil.copytree(PROJECT_ROOT / folder, destination / folder, symlinks=True)
    (destination / "kubernetes/apps/kustomization.yaml").write_text(APPS_KUSTOMIZATION)
    return destination


@pytest.fixture(scope="module")
def small_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_repository(tmp_path_factory.mktemp("small") / "repo")


@pytest.fixture(scope="module")
def reference_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_reference_cluster(tmp_path_factory.mktemp("reference") / "repo")


class Planted:
    """Write a file for one example and put the original back afterwards."""

    def __init__(self, root: Path, rel: str, content: bytes) -> None:
        self.path = root / rel
        self.original = self.path.read_bytes() if self.path.is_file() else None
        self.created = [p for p in self.path.parents if not p.exists()]
        self.content = content

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(self.content)
        return self.path

    def __exit__(self, *exc: object) -> None:
        if self.original is None:
            self.path.unlink()
            for folder in self.created:
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
        else:
            self.path.write_bytes(self.original)


def lint_twice(root: Path) -> LintResult:
    """Lint ``root`` twice from scratch; both runs must agree, and render in every format."""
    first = homelab_kit.lint(root)
    crashed = [d.message for d in internal_errors(first)]
    assert crashed == []
    for diagnostic in first.diagnostics:
        location = diagnostic.location
        assert location.line >= 0, diagnostic
        assert location.column >= 0, diagnostic
        assert not os.path.isabs(location.path), diagnostic
    reports = render_all(first)
    # A name from the repository may hold a line break; each finding stays one line.
    summary = summary_lines(first, Palette(False))
    blank = 1 if first.diagnostics else 0
    concise = reports["concise"].rstrip("\n").split("\n")  # terminals break at \n only
    assert len(concise) == len(first.diagnostics) + blank + len(summary), concise
    second = homelab_kit.lint(root)
    assert stable(second) == stable(first)
    again = render_all(second)
    assert {k: without_timing(v) for k, v in again.items()} == {
        k: without_timing(v) for k, v in reports.items()
    }
    return first


# --------------------------------------------------------------------------- properties


@fuzz_settings(60)
@given(target=st.sampled_from(TARGETS), docs=st.lists(documents(), min_size=1, max_size=3))
def test_generated_documents_never_crash_lint(
    small_repo: Path, target: str, docs: list[Any]
) -> None:
    with Planted(small_repo, target, dump_yaml(docs).encode("utf-8")):
        lint_twice(small_repo)


@fuzz_settings(60)
@given(target=st.sampled_from(TARGETS), data=file_bytes())
def test_arbitrary_bytes_never_crash_lint(small_repo: Path, target: str, data: bytes) -> None:
    with Planted(small_repo, target, data):
        lint_twice(small_repo)


@fuzz_settings(300)
@given(data=file_bytes())
def test_the_reader_never_raises_and_is_deterministic(data: bytes) -> None:
    first = parse_bytes(data, "fuzz.yaml")
    second = parse_bytes(data, "fuzz.yaml")
    assert repr(first) == repr(second)  # repr: a .nan is not equal to itself
    assert [repr(d.data) for d in first.documents] == [repr(d.data) for d in second.documents]
    for problem in first.problems:
        assert problem.line >= 0
        assert problem.column >= 0
        assert problem.message
        assert "\n" not in problem.message


# Mutations of the reference cluster's files.

REFERENCE_FILES = tuple(
    sorted(
        str(p.relative_to(PROJECT_ROOT))
        for folder in ("kubernetes", "talos", "bootstrap")
        for p in (PROJECT_ROOT / folder).rglob("*")
        if p.is_file() and p.suffix in (".yaml", ".yml")
    )
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a node of a parsed document, the root first."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _plain(node: Any) -> Any:
    if isinstance(node, YMap | dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, YSeq | list):
        return [_plain(v) for v in node]
    return node


def _replace(root: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = root
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return root


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, bytes]:
    """A reference file and its mutated content."""
    rel = draw(st.sampled_from(REFERENCE_FILES))
    original = (PROJECT_ROOT / rel).read_bytes()
    how = draw(
        st.sampled_from(("node", "node", "node", "delete", "line", "char", "truncate", "suppress"))
    )
    if how in ("node", "delete"):
        docs = [_plain(d.data) for d in parse_bytes(original, rel).documents]
        if not docs:
            return rel, original
        index = draw(st.integers(0, len(docs) - 1))
        path = draw(st.sampled_from(list(_paths(docs[index]))))
        if how == "delete" and not path:
            how = "node"
        value = draw(values) if how == "node" else None
        docs[index] = _replace(docs[index], path, value, how == "delete")
        return rel, dump_yaml(docs).encode("utf-8")
    lines = original.split(b"\n")
    at = draw(st.integers(0, max(0, len(lines) - 1)))
    if how == "line":
        action = draw(st.sampled_from(("drop", "duplicate", "indent", "dedent")))
        if action == "drop":
            del lines[at]
        elif action == "duplicate":
            lines.insert(at, lines[at])
        elif action == "indent":
            lines[at] = b"  " + lines[at]
        else:
            lines[at] = lines[at][2:]
        return rel, b"\n".join(lines)
    if how == "suppress":
        comment = draw(st.sampled_from(SUPPRESSIONS)) + draw(st.text(YAML_SOUP, max_size=10))
        lines.insert(at, comment.encode("utf-8"))
        return rel, b"\n".join(lines)
    if how == "char":
        offset = draw(st.integers(0, len(original)))
        char = draw(st.sampled_from(YAML_SOUP)).encode()
        return rel, original[:offset] + char + original[offset:]
    return rel, original[: draw(st.integers(0, len(original)))]


@fuzz_settings(40)
@given(mutation=mutations())
def test_mutated_reference_cluster_never_crashes_lint(
    reference_repo: Path, mutation: tuple[str, bytes]
) -> None:
    rel, content = mutation
    with Planted(reference_repo, rel, content):
        lint_twice(reference_repo)


# Anchors and aliases, recursive ones among them (a node that contains itself).


@st.composite
def anchored_yaml(draw: st.DrawFn) -> str:
    """Flow-style YAML whose nodes take anchors and whose leaves are often aliases.

    An alias may name any anchor written before it, including one of a collection
    still open around it: a node that contains itself.
    """
    anchors: list[str] = []

    def node(depth: int) -> str:
        choice = draw(st.integers(0, 5))
        if choice <= 1 and anchors:
            return "*" + draw(st.sampled_from(anchors))
        if choice == 2 or depth >= 4:
            return draw(st.sampled_from(("x", "1", "null", '"s"', "[]", "{}")))
        anchor = ""
        if draw(st.booleans()):
            name = f"a{len(anchors)}"
            anchors.append(name)
            anchor = f"&{name} "
        size = draw(st.integers(0, 3))
        if draw(st.booleans()):
            return anchor + "[" + ", ".join(node(depth + 1) for _ in range(size)) + "]"
        keys = [draw(st.sampled_from(("a", "b", "<<", "data", "spec"))) for _ in range(size)]
        pairs = (f"{k}: {node(depth + 1)}" for k in dict.fromkeys(keys))
        return anchor + "{" + ", ".join(pairs) + "}"

    return "".join(f"---\n{node(0)}\n" for _ in range(draw(st.integers(1, 3))))


def _acyclic(node: Any, open_ids: frozenset[int] = frozenset()) -> bool:
    if not isinstance(node, dict | list):
        return True
    if id(node) in open_ids:
        return False
    inner = open_ids | {id(node)}
    children = node.values() if isinstance(node, dict) else node
    return all(_acyclic(child, inner) for child in children)


@fuzz_settings(200)
@given(text=anchored_yaml())
def test_the_reader_never_returns_a_cycle(text: str) -> None:
    yfile = parse_bytes(text.encode("utf-8"), "fuzz.yaml")
    assert all(_acyclic(d.data) for d in yfile.documents), text
    for problem in yfile.problems:
        assert problem.line > 0 or problem.code not in ("recursive-alias", "alias-bomb")


@fuzz_settings(30)
@given(target=st.sampled_from(TARGETS), text=anchored_yaml())
def test_aliases_and_recursive_anchors_never_crash_lint(
    small_repo: Path, target: str, text: str
) -> None:
    yfile = parse_bytes(text.encode("utf-8"), target)
    assert all(_acyclic(d.data) for d in yfile.documents)  # else lint would loop
    with Planted(small_repo, target, text.encode("utf-8")):
        lint_twice(small_repo)


# Secrets in flow style: no value they hold reaches any output.

planted_values = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=8, max_size=12)
SECRET_KEYS = ("password", "token", "username", "config.json", "DB_PWD", "x")
ENV_NAMES = ("DB_PWD", "SMTPPASS", "GH_TOKEN", "APIKEY", "MY_SECRET", "ADMIN_PASSWORD")


@st.composite
def flow_secrets(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A flow-style Secret and a Deployment with flow-style secret env, and their values."""
    planted: list[str] = []

    def value() -> str:
        planted.append("zq" + draw(planted_values))
        return planted[-1]

    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": draw(st.sampled_from(TEXTS)), "namespace": "media"},
        draw(st.sampled_from(("stringData", "data"))): {
            key: value() for key in draw(st.lists(st.sampled_from(SECRET_KEYS), min_size=1))
        },
        **draw(st.dictionaries(st.sampled_from(KEYS), scalars, max_size=2)),
    }
    env = [
        {"name": name, "value": value()}
        for name in draw(st.lists(st.sampled_from(ENV_NAMES), max_size=3))
    ]
    workload = {
        "apiVersion": "apps/v1",
        "kind": draw(st.sampled_from(("Deployment", "StatefulSet"))),
        "metadata": {"name": "app"},
        "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x", "env": env}]}}},
    }
    docs = draw(st.permutations([secret, workload]))[: draw(st.integers(1, 2))]
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = True
    yaml.width = 4096  # each document on one line
    yaml.explicit_start = True
    stream = io.StringIO()
    yaml.dump_all(docs, stream)
    shown = [v for v in planted if any(v in str(d) for d in docs)]
    return stream.getvalue(), shown


@fuzz_settings(30)
@given(target=st.sampled_from(TARGETS), secrets=flow_secrets())
def test_flow_style_secrets_never_reach_a_report(
    small_repo: Path, target: str, secrets: tuple[str, list[str]]
) -> None:
    text, planted = secrets
    with Planted(small_repo, target, text.encode("utf-8")):
        result = lint_twice(small_repo)
        reports = "\n".join(render_all(result).values())
    assert [value for value in planted if value in reports] == []
