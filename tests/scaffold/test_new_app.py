"""new-app: what it creates passes lint and renders with real kustomize.

The property test draws app names, namespaces (existing and new), charts, versions,
images, ports, with and without secrets, scaffolds into a copy of the reference
cluster and checks: no lint finding in what was created and none added anywhere;
``kubectl kustomize`` renders the app and its namespace; the conventions hold
(files start with ``---``, anchors are used, secrets are wired and listed first).
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from homelab_kit.errors import ScaffoldError
from homelab_kit.scaffold import plan_new_app, plan_new_namespace
from homelab_kit.yaml import parse_text
from tests.conftest import corpus_path
from tests.scaffold.conftest import HAVE_KUBECTL, kustomize, lint_keys, make_repo, snapshot

LABEL = st.from_regex(r"[a-z]([a-z0-9-]{0,14}[a-z0-9])?", fullmatch=True)
APP_NAMES = LABEL.filter(lambda n: n != "secrets")
CHARTS = st.builds(
    lambda host, path, name: f"oci://{host}/{path}/{name}",
    st.sampled_from(["ghcr.io", "registry-1.docker.io", "quay.io", "registry.local:5000"]),
    st.sampled_from(["charts", "bjw-s-labs/helm", "org/team/charts"]),
    st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,5})?", fullmatch=True),
)
VERSIONS = st.builds(
    lambda a, b, c, v, pre: f"{v}{a}.{b}.{c}{pre}",
    st.integers(0, 30),
    st.integers(0, 99),
    st.integers(0, 999),
    st.sampled_from(["", "v"]),
    st.sampled_from(["", "-rc.1", "-beta"]),
)
IMAGES = st.one_of(
    st.none(),
    st.builds(
        lambda repo, tag: f"ghcr.io/{repo}:{tag}",
        st.from_regex(r"[a-z]{1,8}/[a-z]{1,8}", fullmatch=True),
        st.sampled_from(["1.0", "2.1.3", "v10.10.7", "37", "2024.1.1-ls12"]),
    ),
)
PORTS = st.one_of(st.none(), st.integers(1, 65535))


@functools.cache
def _base() -> tuple[Path, Counter[tuple[str, str]]]:
    """One pristine copy of the repository per session, and its lint findings."""
    holder = Path(tempfile.mkdtemp(prefix="homelab-kit-base-"))
    atexit.register(shutil.rmtree, holder, True)
    base = make_repo(holder / "repo")
    return base, lint_keys(base)


def _namespaces(root: Path) -> list[str]:
    apps = root / "kubernetes" / "apps"
    return sorted(p.name for p in apps.iterdir() if (p / "kustomization.yaml").is_file())


def _docs(path: Path) -> list[Any]:
    docs, problems = parse_text(path.read_text(), str(path))
    assert problems == (), problems
    return [d.data for d in docs]


def _objects(rendered: str) -> set[tuple[str, str]]:
    """``(kind, name)`` of every object kustomize rendered."""
    docs, problems = parse_text(rendered)
    assert problems == ()
    return {(d.data["kind"], d.data["metadata"]["name"]) for d in docs if d.data}


def check_conventions(root: Path, created: tuple[str, ...]) -> None:
    """Every created YAML file starts with ``---``, ends with one newline, uses its anchors."""
    for rel in created:
        text = (root / rel).read_text()
        assert text.startswith("---\n"), rel
        assert text.endswith("\n"), rel
        assert not text.endswith("\n\n"), rel
        docs, problems = parse_text(text, rel)
        assert problems == (), (rel, problems)
        for doc in docs:
            assert all(a.uses > 0 for a in doc.anchors), rel


@settings(
    max_examples=int(os.environ.get("HK_SCAFFOLD_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    app=APP_NAMES,
    new_namespace=st.booleans(),
    new_name=LABEL,
    pick=st.integers(0, 1000),
    chart=CHARTS,
    version=VERSIONS,
    image=IMAGES,
    port=PORTS,
    secrets=st.booleans(),
)
def test_new_app_lints_clean_and_renders(
    app: str,
    new_namespace: bool,
    new_name: str,
    pick: int,
    chart: str,
    version: str,
    image: str | None,
    port: int | None,
    secrets: bool,
) -> None:
    base, before = _base()
    existing = _namespaces(base)
    namespace = new_name if new_namespace else existing[pick % len(existing)]
    assume(not (new_namespace and new_name in existing))
    assume(not (base / "kubernetes" / "apps" / namespace / app).exists())
    assume(
        not (base / "kubernetes" / "apps" / namespace / "secrets" / f"{app}-secrets.yaml").exists()
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(base, root, symlinks=True)
        plan = plan_new_app(
            root,
            f"{namespace}/{app}",
            chart=chart,
            version=version,
            image=image,
            port=port,
            secrets=secrets,
        )
        result = plan.apply()
        check_conventions(root, result.created)

        after = lint_keys(root)
        created = set(result.created)
        assert [k for k in after if k[0] in created] == []
        assert after - before == Counter()

        ns_dir = root / "kubernetes" / "apps" / namespace
        app_dir = ns_dir / app
        (ks,) = _docs(app_dir / "ks.yaml")
        (listing,) = _docs(ns_dir / "kustomization.yaml")
        assert f"./{app}/ks.yaml" in listing["resources"]
        (oci, release) = _docs(app_dir / "app" / "helmrelease.yaml")
        assert oci["spec"]["ref"]["tag"] == version
        assert oci["spec"]["url"] == chart
        assert release["spec"]["chartRef"] == {"kind": "OCIRepository", "name": app}
        values = _docs(app_dir / "app" / "helm" / "values.yaml")[0]
        if image:
            repo, tag = image.rsplit(":", 1)
            assert values["image"] == {"repository": repo, "tag": tag}
        if port:
            assert values["livenessProbe"]["tcpSocket"]["port"] == port
        if secrets:
            assert {"name": "secrets", "namespace": namespace} in ks["spec"]["dependsOn"]
            assert listing["resources"][0] == "./secrets/ks.yaml"
            (secret,) = _docs(ns_dir / "secrets" / f"{app}-secrets.yaml")
            scope = secret["spec"]["authentication"]["universalAuth"]["secretsScope"]
            assert scope["secretsPath"] == f"/{app}"
            assert secret["spec"]["managedSecretReference"]["secretName"] == f"{app}-secret"
            (secrets_list,) = _docs(ns_dir / "secrets" / "kustomization.yaml")
            assert f"./{app}-secrets.yaml" in secrets_list["resources"]
            assert values["envFrom"] == [{"secretRef": {"name": f"{app}-secret"}}]
        else:
            assert "dependsOn" not in ks["spec"]
        if new_namespace:
            (apps_list,) = _docs(root / "kubernetes" / "apps" / "kustomization.yaml")
            assert f"./{namespace}" in apps_list["resources"]

        if HAVE_KUBECTL:
            rendered = _objects(kustomize(app_dir / "app"))
            assert ("HelmRelease", app) in rendered
            assert ("OCIRepository", app) in rendered
            (values_map,) = [n for k, n in rendered if k == "ConfigMap"]
            assert values_map.startswith(f"{app}-values-")  # hashed, and referenced
            assert ("Kustomization", app) in _objects(kustomize(ns_dir))
            if secrets:
                assert ("InfisicalSecret", f"{app}-secrets") in _objects(
                    kustomize(ns_dir / "secrets")
                )


def test_kustomize_is_available() -> None:
    if not HAVE_KUBECTL:
        pytest.skip("kubectl (with kustomize built in) is not installed: renders not checked")
    assert kustomize(_base()[0] / "kubernetes" / "apps")


def test_new_namespace_lints_clean_and_renders(repo: Path) -> None:
    before = lint_keys(repo)
    result = plan_new_namespace(repo, "games").apply()
    assert result.created == (
        "kubernetes/apps/games/kustomization.yaml",
        "kubernetes/apps/games/secrets/ks.yaml",
        "kubernetes/apps/games/secrets/kustomization.yaml",
    )
    assert result.changed == ("kubernetes/apps/kustomization.yaml",)
    check_conventions(repo, result.created)
    assert lint_keys(repo) - before == Counter()
    (kustomization,) = _docs(repo / "kubernetes/apps/games/kustomization.yaml")
    assert kustomization["namespace"] == "games"
    assert kustomization["components"] == ["../../components/common"]
    assert kustomization["resources"] == ["./secrets/ks.yaml"]
    (secrets_ks,) = _docs(repo / "kubernetes/apps/games/secrets/ks.yaml")
    assert secrets_ks["metadata"]["name"] == "secrets"
    assert secrets_ks["spec"]["wait"] is True
    assert secrets_ks["spec"]["dependsOn"] == [
        {"name": "infisical-secrets-operator", "namespace": "infisical-system"}
    ]
    (apps,) = _docs(repo / "kubernetes/apps/kustomization.yaml")
    assert "./games" in apps["resources"]
    assert apps["resources"] == sorted(apps["resources"])  # kept in order
    if HAVE_KUBECTL:
        assert ("Namespace", "games") in _objects(kustomize(repo / "kubernetes/apps/games"))


def test_new_namespace_without_a_common_component(repo: Path) -> None:
    shutil.rmtree(repo / "kubernetes/components/common")
    for ns in (repo / "kubernetes/apps").iterdir():
        kfile = ns / "kustomization.yaml"
        if kfile.is_file():
            kfile.write_text(
                kfile.read_text()
                .replace("  - ../../components/common\n", "")
                .replace("components:\n", "")
            )
    plan = plan_new_namespace(repo, "games")
    paths = [c.path for c in plan.creates]
    assert "kubernetes/apps/games/namespace.yaml" in paths
    plan.apply()
    (kustomization,) = _docs(repo / "kubernetes/apps/games/kustomization.yaml")
    assert "components" not in kustomization
    assert kustomization["resources"] == ["./namespace.yaml", "./secrets/ks.yaml"]
    if HAVE_KUBECTL:
        assert ("Namespace", "games") in _objects(kustomize(repo / "kubernetes/apps/games"))


def test_refuses_an_existing_app_and_writes_nothing(repo: Path) -> None:
    namespace = _namespaces(repo)[0]
    app = next(p.name for p in (repo / "kubernetes/apps" / namespace).iterdir() if p.is_dir())
    before = snapshot(repo)
    with pytest.raises(ScaffoldError, match="already exists"):
        plan_new_app(repo, f"{namespace}/{app}", chart="oci://ghcr.io/a/b", version="1.0.0")
    assert snapshot(repo) == before


def test_refuses_an_existing_secret_file(repo: Path) -> None:
    (repo / "kubernetes/apps/games-x").mkdir()
    ns = repo / "kubernetes/apps/default"
    (ns / "secrets").mkdir(exist_ok=True)
    (ns / "secrets/newapp-secrets.yaml").write_text("---\n{}\n")
    before = snapshot(repo)
    with pytest.raises(ScaffoldError, match=r"newapp-secrets\.yaml already exists"):
        plan_new_app(
            repo, "default/newapp", chart="oci://ghcr.io/a/b", version="1.0.0", secrets=True
        )
    with pytest.raises(ScaffoldError, match=r"no kustomization\.yaml"):
        plan_new_app(repo, "games-x/app", chart="oci://ghcr.io/a/b", version="1.0.0")
    assert snapshot(repo) == before


def test_existing_files_keep_crlf_bom_and_every_other_line(repo: Path) -> None:
    kfile = repo / "kubernetes/apps/default/kustomization.yaml"
    original = kfile.read_text()
    styled = "\ufeff" + original.replace("\n", "\r\n")
    kfile.write_bytes(styled.encode("utf-8"))
    plan_new_app(repo, "default/newapp", chart="oci://ghcr.io/a/b", version="1.0.0").apply()
    new = kfile.read_bytes().decode("utf-8")
    assert new.startswith("\ufeff")
    assert new == styled + "  - ./newapp/ks.yaml\r\n"


def test_new_app_in_the_yamshy_corpus_adds_no_findings(tmp_path: Path) -> None:
    corpus = corpus_path("yamshy__homelab")
    root = tmp_path / "yamshy"
    shutil.copytree(corpus, root, symlinks=True)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    before = lint_keys(root)
    results = [
        plan_new_app(
            root,
            "media/newapp",
            chart="oci://ghcr.io/a/charts/newapp",
            version="1.2.3",
            image="ghcr.io/a/newapp:1.2.3",
            port=8080,
            secrets=True,
        ).apply(),
        plan_new_app(
            root, "tools/other", chart="oci://ghcr.io/a/charts/other", version="0.1.0", secrets=True
        ).apply(),
        plan_new_namespace(root, "games").apply(),
    ]
    after = lint_keys(root)
    assert after - before == Counter()
    # Values learnt from the repository itself.
    secret = (root / "kubernetes/apps/media/secrets/newapp-secrets.yaml").read_text()
    assert "projectSlug: homelab-0r-b1" in secret
    assert "secretNamespace: kube-system" in secret
    assert "hostAPI: https://app.infisical.com/api" in secret  # always written
    media = (root / "kubernetes/apps/media/kustomization.yaml").read_text()
    assert media == (corpus / "kubernetes/apps/media/kustomization.yaml").read_text() + (
        "  - ./newapp/ks.yaml\n"
    )
    for result in results:
        check_conventions(root, result.created)
