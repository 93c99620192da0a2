"""``homelab-kit build``: the reference cluster end to end, exit codes, one-line errors.

Runs the command in-process (``homelab_kit.cli.main``) to stay fast; what a user
sees is asserted: the exit code, the YAML or JSON on standard output, and warnings
on standard error that name variables and objects, never a value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from homelab_kit.cli import main
from homelab_kit.errors import HomelabKitError
from homelab_kit.model.loader import load
from homelab_kit.model.repo import Repo
from homelab_kit.render import render_directory
from homelab_kit.render._docs import parse_documents
from homelab_kit.render.cli import dump_yaml
from homelab_kit.testing import YamlTree
from tests.render.conftest import CORPORA, HAVE_KUBECTL, PROJECT_ROOT, canonical, kubectl_build
from tests.render.test_corpora import kustomization_dirs

needs_kubectl = pytest.mark.skipif(not HAVE_KUBECTL, reason="kubectl is not on PATH")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(["build", *args])
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), out, err


def documents(text: str) -> list[Any]:
    docs, problems = parse_documents(text, "<stdout>")
    assert not problems
    return [d for d in docs if d is not None]


def _reference_kustomizations() -> list[Any]:
    if not (PROJECT_ROOT / "kubernetes").is_dir():
        return [pytest.param("", marks=pytest.mark.skip(reason="no reference cluster"))]
    repo = load(PROJECT_ROOT)
    return [
        pytest.param(f"{ks.namespace}/{ks.name}", id=f"{ks.namespace}/{ks.name}")
        for ks in repo.kustomizations
    ]


REFERENCE = _reference_kustomizations()


@pytest.fixture(scope="module")
def reference_repo() -> Repo:
    return load(PROJECT_ROOT)


@pytest.mark.parametrize("reference", REFERENCE)
def test_reference_cluster_builds(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    reference_repo: Repo,
    reference: str,
) -> None:
    # the repository is loaded once for all (loading is tested by the small_repo tests)
    monkeypatch.setattr("homelab_kit.render.cli._load", lambda path: reference_repo)
    code, out, err = run(capsys, reference, str(PROJECT_ROOT))
    assert (code, err) == (0, "")
    assert "${" not in out, "a variable is left unresolved"
    for obj in documents(out):
        assert obj.get("apiVersion")
        assert obj.get("kind")
        assert obj.get("metadata", {}).get("name")


@needs_kubectl
@pytest.mark.parametrize("reference", REFERENCE)
def test_reference_cluster_python_backend_matches_kubectl(
    reference_repo: Repo, reference: str
) -> None:
    namespace, _, name = reference.partition("/")
    python = reference_repo.render(namespace, name, backend="python")
    kubectl = reference_repo.render(namespace, name, backend="kubectl")
    assert kubectl.backend == "kubectl"
    assert canonical(python.objects) == canonical(kubectl.objects)
    assert (python.unresolved, python.warnings) == (kubectl.unresolved, kubectl.warnings)


KS = """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: {namespace}
spec:
  path: ./kubernetes/apps/{namespace}/{name}/app
  targetNamespace: {namespace}
  sourceRef: {{kind: GitRepository, name: flux-system, namespace: flux-system}}
  postBuild:
    substitute: {{PASSWORD: hunter2-inline}}
    substituteFrom:
      - {{kind: Secret, name: not-in-repo}}
"""
CONFIG_MAP = """
apiVersion: v1
kind: ConfigMap
metadata: {name: web}
data: {password: '${PASSWORD}', domain: '${DOMAIN}', port: '${PORT:=80}'}
"""
SECRET = """
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {token: hunter2-in-file}
"""


@pytest.fixture
def small_repo(yaml_tree: YamlTree) -> Path:
    files: dict[str, str] = {}
    for namespace in ("default", "media"):
        app = f"kubernetes/apps/{namespace}/web"
        files[f"{app}/ks.yaml"] = KS.format(namespace=namespace, name="web")
        files[f"{app}/app/kustomization.yaml"] = "resources: [cm.yaml, secret.yaml]\n"
        files[f"{app}/app/cm.yaml"] = CONFIG_MAP
        files[f"{app}/app/secret.yaml"] = SECRET
    app = "kubernetes/apps/media/jellyfin"
    files[f"{app}/ks.yaml"] = KS.format(namespace="media", name="jellyfin")
    files[f"{app}/app/kustomization.yaml"] = """
        resources: [secret.yaml]
        patches:
          - target: {kind: Secret}
            patch: |
              - {op: test, path: /stringData/token, value: guess}
        """
    files[f"{app}/app/secret.yaml"] = SECRET
    return yaml_tree(files)


@pytest.mark.parametrize("backend", ["python", pytest.param("kubectl", marks=needs_kubectl)])
def test_build_prints_objects_and_names_unresolved_variables(
    capsys: pytest.CaptureFixture[str], small_repo: Path, backend: str
) -> None:
    code, out, err = run(capsys, "default/web", str(small_repo), "--backend", backend)
    assert code == 0
    objects = documents(out)
    assert [o["kind"] for o in objects] == ["ConfigMap", "Secret"]
    assert objects[0]["data"] == {
        "password": "hunter2-inline",
        "domain": "${DOMAIN}",
        "port": 80,  # as Flux: kustomize drops the source's quotes before substitution
    }
    assert objects[1]["metadata"]["namespace"] == "default"
    lines = err.splitlines()
    assert all(line.startswith("homelab-kit: warning: ") for line in lines)
    assert "Secret/not-in-repo is not in the repository" in err
    assert lines[-1].endswith("unresolved variables (left as ${NAME}): DOMAIN")
    assert "hunter2" not in err


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("default/wbe", "no Flux Kustomization 'default/wbe'; did you mean default/web?"),
        ("jellyfn", "no Flux Kustomization 'jellyfn'; did you mean media/jellyfin?"),
        ("nothing/like-it", "no Flux Kustomization 'nothing/like-it'; the repository has 3"),
        ("web", "name 'web' is ambiguous: default/web, media/web; give NAMESPACE/NAME"),
    ],
)
def test_unknown_or_ambiguous_kustomization_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], small_repo: Path, reference: str, message: str
) -> None:
    code, out, err = run(capsys, reference, str(small_repo))
    assert (code, out) == (2, "")
    assert err.startswith("homelab-kit: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_build_of_a_missing_folder_or_a_file_names_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "kubernetes/apps/default/echo"
    assert run(capsys, str(missing)) == (2, "", f"homelab-kit: error: {missing}: no such folder\n")
    (tmp_path / "ks.yaml").write_text("---\n")
    code, out, err = run(capsys, str(tmp_path / "ks.yaml"))
    assert (code, out) == (2, "")
    assert err == f"homelab-kit: error: {tmp_path / 'ks.yaml'}: not a folder {WHAT_BUILD_TAKES}\n"


WHAT_BUILD_TAKES = "(build takes DIR or NAMESPACE/NAME)"


def test_a_bare_name_is_enough_when_unique(
    capsys: pytest.CaptureFixture[str], small_repo: Path
) -> None:
    code, out, _ = run(capsys, "jellyfin", str(small_repo), "--backend", "python")
    assert code == 2  # the build itself fails (see the next test), but it was found
    assert out == ""
    code, _, err = run(capsys, "jelly", str(small_repo))
    assert "did you mean media/jellyfin?" in err


@pytest.mark.parametrize("backend", ["python", pytest.param("kubectl", marks=needs_kubectl)])
def test_failed_build_is_one_line_without_values(
    capsys: pytest.CaptureFixture[str], small_repo: Path, backend: str
) -> None:
    code, out, err = run(capsys, "media/jellyfin", str(small_repo), "--backend", backend)
    assert (code, out) == (2, "")
    assert err.startswith("homelab-kit: error: ")
    assert "/stringData/token" in err
    assert err.count("\n") == 1
    assert "hunter2" not in err
    assert "guess" not in err


def test_json_format_and_output_file(
    capsys: pytest.CaptureFixture[str], small_repo: Path, tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "media/web", str(small_repo), "-f", "json", "--backend", "python")
    assert code == 0
    listing = json.loads(out)
    assert (listing["apiVersion"], listing["kind"]) == ("v1", "List")
    assert [o["metadata"]["namespace"] for o in listing["items"]] == ["media", "media"]
    target = tmp_path / "out.yaml"
    code, out, _ = run(capsys, "media/web", str(small_repo), "-o", str(target))
    assert (code, out) == (0, "")
    written = documents(target.read_text(encoding="utf-8"))
    assert canonical(written) == canonical(listing["items"])


def test_multiline_strings_are_block_scalars(
    capsys: pytest.CaptureFixture[str], yaml_tree: YamlTree
) -> None:
    root = yaml_tree(
        {
            "kubernetes/ks.yaml": (
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
                "metadata: {name: app, namespace: flux-system}\nspec: {path: ./app}\n"
            ),
            "app/kustomization.yaml": "configMapGenerator:\n- name: c\n  files: [conf.ini]\n",
            "app/conf.ini": "[main]\nkey = value\n",
        }
    )
    code, out, err = run(capsys, "app", str(root), "--backend", "python")
    assert (code, err) == (0, "")
    assert "conf.ini: |\n    [main]\n    key = value\n" in out
    assert documents(out)[0]["data"] == {"conf.ini": "[main]\nkey = value\n"}


def test_repo_render_unknown_kustomization(reference_repo: Repo) -> None:
    with pytest.raises(HomelabKitError, match="no Flux Kustomization media/nope"):
        reference_repo.render("media", "nope")


# --------------------------------------------------------------------------- build DIR


def test_build_dir_renders_a_plain_kustomization_folder(
    yaml_tree: YamlTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = yaml_tree(
        {
            "base/kustomization.yaml": "resources: [cm.yaml]\nnamePrefix: b-\n",
            "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
            "data: {answer: 'yes', off: 'off'}\n",
            "app/kustomization.yaml": "resources: [../base]\nnamespace: demo\n",
        }
    )
    code, out, err = run(capsys, str(root / "app"), "--backend", "python")
    assert code == 0, err
    assert documents(out) == [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "b-c", "namespace": "demo"},
            "data": {"answer": "yes", "off": "off"},
        }
    ]
    assert 'answer: "yes"' in out
    assert '"off": "off"' in out


def test_build_dir_of_a_component(yaml_tree: YamlTree, capsys: pytest.CaptureFixture[str]) -> None:
    root = yaml_tree(
        {
            "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\n"
            "kind: Component\nresources: [cm.yaml]\ncommonLabels: {a: b}\n",
            "comp/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        }
    )
    code, out, _ = run(capsys, str(root / "comp"), "--backend", "python", "-f", "json")
    assert code == 0
    items = json.loads(out)["items"]
    assert items == [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "labels": {"a": "b"}},
        }
    ]
    if HAVE_KUBECTL:
        assert canonical(items) == canonical(kubectl_build(root / "comp"))


def test_build_dir_refuses_a_path_outside_the_repository(
    yaml_tree: YamlTree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = yaml_tree({"app/kustomization.yaml": "resources: [../../elsewhere]\n"})
    code, out, err = run(capsys, str(root / "app"), "--backend", "python")
    assert code == 2
    assert out == ""
    assert "outside the repository root" in err
    assert len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- YAML 1.1

YAML11_STRINGS = [
    *("y", "Y", "n", "N", "yes", "Yes", "YES", "no", "No", "NO"),
    *("on", "On", "ON", "off", "Off", "OFF", "true", "True", "FALSE"),
    *("~", "null", "NULL", "", "0755", "0x1F", "1_000", "190:20:30", "1.5", ".inf"),
    *("2024-01-02", "2001-12-14t21:59:43.10-05:00", "<<", "=", "12", "-3", "1e3"),
]


def test_yaml11_lookalike_strings_are_quoted_and_read_back_as_strings() -> None:
    yaml = pytest.importorskip("yaml")
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    obj["data"] = {f"k{i}": s for i, s in enumerate(YAML11_STRINGS)}
    obj["data"].update({s or "empty": "v" for s in ("yes", "on", "n")})
    text = dump_yaml([obj])
    assert list(yaml.safe_load_all(text)) == [obj]
    assert 'k0: "y"' in text
    assert '"yes": v' in text
    assert "plain: words" in dump_yaml([{"plain": "words"}])  # others stay plain


def _corpus_folders() -> list[Any]:
    if not CORPORA.is_dir():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=f"{CORPORA} is absent"))]
    return [
        pytest.param(repo, d, id=d.relative_to(CORPORA).as_posix())
        for repo in sorted(p for p in CORPORA.iterdir() if p.is_dir())
        for d in kustomization_dirs(repo)
    ]


@pytest.mark.corpora
@pytest.mark.parametrize(("repo", "directory"), _corpus_folders())
def test_build_output_round_trips_through_a_yaml11_reader(repo: Path, directory: Path) -> None:
    yaml = pytest.importorskip("yaml")
    try:
        objects = render_directory(directory, root=repo).objects
    except HomelabKitError as exc:
        pytest.skip(f"does not build: {exc}")
    plain = json.loads(json.dumps(list(objects), default=str))
    assert list(yaml.safe_load_all(dump_yaml(objects))) == plain
