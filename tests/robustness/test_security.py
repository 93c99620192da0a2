"""Linting a stranger's repository runs none of its code and prints none of its secrets.

* **No code from the repository runs.**  A repository plants every way we know to
  run code: Python YAML tags, Jinja and Helm templates, a configuration naming
  plugins, modules and a distribution beside it, ``conftest.py``/``sitecustomize.py``
  and modules shadowing our dependencies in the current folder, kustomize exec
  functions and ``helmCharts``, a kubeconfig with an exec credential plugin, and a
  ``cache-dir`` holding a signed pickle.  Each payload would create a marker file;
  after every command has run, none exists.
* **No secret value reaches any output.**  Distinctive values planted in Secrets'
  ``data`` and ``stringData``, SOPS payloads, values files, Flux substitutions,
  InfisicalSecret credentials and a kubeconfig never appear on standard output,
  standard error or in a file any command writes, in any format.  The commands are
  discovered from ``homelab-kit --help``, so a new command is covered (at least
  generically) the day it lands.
* **Scaffolding stays inside the repository**: traversal, absolute paths, invalid
  names and symlinks leaving the repository are refused end to end, writing nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import pickle
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import homelab_kit
from tests.cluster.fakeapi import FakeApiServer
from tests.cluster.objects import (
    flux_crds,
    helm_release,
    infisical_crds,
    infisical_secret,
    kustomization,
    source,
)
from tests.cluster.objects import secret as secret_object
from tests.robustness.conftest import (
    PROJECT_ROOT,
    CliRun,
    assert_no_crash,
    cli_commands,
    copy_reference_cluster,
    format_names,
    render_all,
    run_cli,
    run_main,
    write_files,
)

# --------------------------------------------------------------------------- commands


COMMANDS = cli_commands()
CONSOLE_SCRIPT = Path(sys.executable).with_name("homelab-kit")


def run_console_script(*args: str | os.PathLike[str], cwd: Path, env: dict[str, str]) -> CliRun:
    """The installed ``homelab-kit`` script, from ``cwd``, as CI runs it on a checkout."""
    import subprocess

    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    environment.pop("KUBECONFIG", None)
    environment.update({"NO_COLOR": "1", **env})
    completed = subprocess.run(
        [str(CONSOLE_SCRIPT), *(os.fspath(a) for a in args)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=180,
        check=False,
    )
    return CliRun(tuple(map(str, args)), completed.returncode, completed.stdout, completed.stderr)


# --------------------------------------------------------------------------- no code runs


def _python(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').close()\n"


def _planted_code(root: Path, markers: Path) -> dict[str, str]:
    """Every payload, each creating ``markers/<name>`` if it ever runs."""

    def m(name: str) -> Path:
        return markers / name

    def tag(name: str) -> str:
        return f'!!python/object/apply:os.system ["touch {m(name)}"]'

    app = "kubernetes/apps/media/sonarr/app"
    dist = "homelab_kit_evil-0.1.dist-info"
    values = (PROJECT_ROOT / f"{app}/helm/values.yaml").read_text()
    return {
        # YAML tags that a full (unsafe) loader would turn into calls.
        f"{app}/helm/values.yaml": values + f"exploit: {tag('yaml-tag-values')}\n",
        f"{app}/tags.yaml": (
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tags\ndata:\n"
            f"  apply: {tag('yaml-tag-apply')}\n"
            f'  new: !!python/object/new:subprocess.Popen [["touch", "{m("yaml-tag-new")}"]]\n'
            "  name: !!python/name:os.system\n"
            "  module: !!python/module:os\n"
            f'  object: !!python/object:os.system {{args: ["touch {m("yaml-tag-object")}"]}}\n'
            f"  nested: {{x: [{tag('yaml-tag-nested')}]}}\n"
        ),
        "talos/talenv.yaml": (PROJECT_ROOT / "talos/talenv.yaml").read_text()
        + f"exploit: {tag('yaml-tag-talos')}\n",
        # The configuration names plugins, modules, paths and a planted cache.
        ".homelab-kit.yaml": (
            "missing-schema: ignore\n"
            "cache-dir: .planted-cache\n"
            "plugins:\n"
            "  evil:\n"
            "    module: homelab_kit_evil\n"
            "    path: ./homelab_kit_evil.py\n"
            "    entry-point: homelab_kit_evil:plugin\n"
            f"    hook: {tag('yaml-tag-config')}\n"
            "scaffold:\n"
            "  template: evil\n"
        ),
        # Python beside the repository: modules, a plugin distribution, pytest's and
        # site's hooks, and modules shadowing what homelab-kit imports.
        "homelab_kit_evil.py": _python(m("plugin-module")) + "plugin = object()\n",
        f"{dist}/METADATA": "Metadata-Version: 2.1\nName: homelab-kit-evil\nVersion: 0.1\n",
        f"{dist}/entry_points.txt": "[homelab_kit]\nevil = homelab_kit_evil\n",
        "kubernetes/homelab_kit_evil.py": _python(m("plugin-module-kubernetes")),
        "conftest.py": _python(m("conftest")),
        "sitecustomize.py": _python(m("sitecustomize")),
        "usercustomize.py": _python(m("usercustomize")),
        **{
            f"{name}.py": _python(m(f"shadow-{name}"))
            for name in ("attrs", "click", "pluggy", "yaml", "jinja2", "rich", "jsonschema")
        },
        "ruamel/__init__.py": _python(m("shadow-ruamel")),
        "kubernetes_validate.py": _python(m("shadow-kubernetes-validate")),
        # Templates: Jinja with code, a Helm chart, a Go template.
        f"{app}/evil.yaml.j2": (
            "{{ cycler.__init__.__globals__.os.system('touch " + str(m("jinja")) + "') }}\n"
            "{% for x in ().__class__.__base__.__subclasses__() %}{% endfor %}\n"
        ),
        "talos/talconfig.yaml.j2": (
            "{{ self.__init__.__globals__.__builtins__.__import__('os').system('touch "
            + str(m("jinja-talos"))
            + "') }}\n"
        ),
        f"{app}/values.gotmpl": '{{ exec "touch" "' + str(m("gotmpl")) + '" }}\n',
        "kubernetes/charts/evil/Chart.yaml": "apiVersion: v2\nname: evil\nversion: 1.0.0\n",
        "kubernetes/charts/evil/values.yaml": f"exploit: {tag('yaml-tag-chart-values')}\n",
        "kubernetes/charts/evil/templates/job.yaml": (
            '{{- $x := exec "touch" "' + str(m("helm-template")) + '" }}\n'
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{ .Release.Name }}\n"
        ),
        # A Flux substitution that a shell would run.
        "kubernetes/apps/media/radarr/ks.yaml": (
            PROJECT_ROOT / "kubernetes/apps/media/radarr/ks.yaml"
        )
        .read_text()
        .replace(
            "  postBuild:\n",
            "  postBuild:\n    substitute:\n"
            f'      SHELL_OUT: "$(touch {m("envsubst-dollar")})"\n'
            f'      BACKTICK: "`touch {m("envsubst-backtick")}`"\n',
        ),
        # kustomize: exec KRM functions as generator and transformer, and helmCharts
        # (inflation runs helm).
        f"{app}/kustomization.yaml": (
            (PROJECT_ROOT / f"{app}/kustomization.yaml").read_text()
            + "generators:\n  - ./generator.yaml\n"
            + "transformers:\n  - ./transformer.yaml\n"
        ),
        f"{app}/generator.yaml": (
            "apiVersion: example.com/v1\nkind: Evil\nmetadata:\n  name: evil-generator\n"
            "  annotations:\n    config.kubernetes.io/function: |\n"
            "      exec:\n        path: ./evil.sh\n"
        ),
        f"{app}/transformer.yaml": (
            "apiVersion: someteam.example.com/v1\nkind: EvilTransformer\nmetadata:\n"
            "  name: evil-transformer\n  annotations:\n"
            "    config.kubernetes.io/function: |\n      exec:\n        path: ./evil.sh\n"
            "argsOneLiner: x\n"
        ),
        f"{app}/evil.sh": f"#!/bin/sh\ntouch {m('kustomize-exec')}\n",
        "kubernetes/apps/media/jellyfin/app/kustomization.yaml": (
            (PROJECT_ROOT / "kubernetes/apps/media/jellyfin/app/kustomization.yaml")
            .read_text()
            .replace(
                "resources:\n",
                "helmCharts:\n  - name: evil\n    repo: file://../../../../charts/evil\n"
                "    version: 1.0.0\n    releaseName: evil\nresources:\n",
            )
        ),
        # A kubeconfig in the repository with an exec credential plugin: never read.
        "kubeconfig": _kubeconfig_with_exec(m("kubeconfig-exec")),
        "talos/kubeconfig": _kubeconfig_with_exec(m("kubeconfig-exec-talos")),
    }


def _kubeconfig_with_exec(marker: Path) -> str:
    return (
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n"
        "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
        "users:\n- name: u\n  user:\n    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1beta1\n"
        f"      command: /bin/sh\n      args: ['-c', 'touch {marker}']\n"
    )


class _Pickled:
    """Unpickling this creates the marker."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def _plant_cache(root: Path, markers: Path) -> None:
    """A cache the configuration points at, signed with a key planted beside it."""
    folder = root / ".planted-cache"
    folder.mkdir()
    key = b"k" * 32
    (folder / "hmac.key").write_bytes(key)
    root_id = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:20]
    for suffix in ("parse", "result"):
        payload = pickle.dumps(_Pickled(markers / f"pickle-{suffix}"))
        signature = hmac.new(key, payload, hashlib.sha256).digest()
        (folder / f"{root_id}.{suffix}").write_bytes(signature + payload)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(repository, markers)``: a repository full of code that must never run."""
    base = tmp_path_factory.mktemp("hostile")
    markers = base / "markers"
    markers.mkdir()
    root = copy_reference_cluster(base / "repo")
    write_files(root, _planted_code(root, markers))
    (root / "kubernetes/apps/media/sonarr/app/evil.sh").chmod(0o755)
    _plant_cache(root, markers)
    return root, markers


def _ran(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir())


def test_loading_and_linting_run_no_code_from_the_repository(hostile: tuple[Path, Path]) -> None:
    root, markers = hostile
    repo = homelab_kit.load(root)
    assert repo.files
    result = homelab_kit.lint(root, cache=True)
    render_all(result)
    assert _ran(markers) == []
    # The tags were read as data, and the templates skipped with a reason.
    skipped = {s.path: s.reason for s in repo.skipped}
    assert "kubernetes/apps/media/sonarr/app/evil.yaml.j2" in skipped
    assert "kubernetes/charts/evil/templates/job.yaml" in skipped
    values = repo.files["kubernetes/apps/media/sonarr/app/helm/values.yaml"]
    assert isinstance(values.documents[0].data["exploit"], list)  # the tag's argument, as data


HOSTILE_RUNS: tuple[tuple[str, ...], ...] = (
    ("lint",),
    ("lint", "--format", "sarif", "--output", "{tmp}/report.sarif"),
    ("lint", "--diff"),
    ("build", "media/sonarr", "--backend", "python"),
    ("build", "media/sonarr", "--backend", "kubectl"),
    ("build", "media/jellyfin", "--backend", "kubectl"),
    ("build", "media/radarr", "--backend", "python"),
    ("graph", "--format", "html"),
    ("secrets",),
    ("report", "--html", "{tmp}/report.html"),
    ("validate", "kubernetes/apps/media/sonarr/app/tags.yaml", "talos/talenv.yaml"),
    ("plugins",),
    ("rules",),
    ("status",),
    ("drift",),
    ("new-app", "media/probe", "--chart", "oci://ghcr.io/a/b", "--version", "1.0.0",
     "--no-input", "--dry-run"),
)  # fmt: skip


def test_no_command_runs_code_from_the_repository(
    hostile: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command, from inside the hostile checkout."""
    root, markers = hostile
    home = tmp_path / "home"  # no ~/.kube/config: the repository's kubeconfig is the bait
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    tried = []
    for template in HOSTILE_RUNS:
        if template[0] not in COMMANDS:
            continue
        args = [a.replace("{tmp}", str(tmp_path)) for a in template]
        if args[0] == "build" and args[-1] == "kubectl" and not shutil.which("kubectl"):
            continue
        run = run_main(*args, cwd=root)
        assert "Traceback" not in run.output, run.output[-2000:]
        assert _ran(markers) == [], (args, run.output[-2000:])
        tried.append(args[0])
    assert {"lint", "rules"} <= set(tried)


def test_the_console_script_imports_nothing_from_the_checkout(
    hostile: tuple[Path, Path], tmp_path: Path
) -> None:
    """Run as CI runs it, from the checkout: planted modules, hooks and distributions stay inert."""
    root, markers = hostile
    if not CONSOLE_SCRIPT.is_file():
        pytest.skip(f"{CONSOLE_SCRIPT} is not installed")
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for args in (("plugins",), ("lint", "--format", "json")):
        run = run_console_script(*args, cwd=root, env=env)
        assert "Traceback" not in run.output, run.output[-2000:]
        assert run.returncode in (0, 1), run.output[-2000:]
        assert _ran(markers) == [], (args, run.output[-2000:])
        if args == ("plugins",):
            assert "evil" not in run.stdout


# --------------------------------------------------------------------------- no secret leaks

DATA_VALUE = b"HKLEAK-data-base64-value"
DATA_B64 = base64.b64encode(DATA_VALUE).decode()
#: What the fake cluster's Secrets hold (base64-encoded in data, as the API serves them).
LIVE_SECRET = {"password": "HKLEAK-live-password", "pin": "8675309", "blob": "HKLEAK-live-blob"}
LIVE_B64 = tuple(base64.b64encode(v.encode()).decode() for v in LIVE_SECRET.values())
NEEDLES = ("HKLEAK", "8675309", DATA_B64, *LIVE_B64)

SECRET_FILES = {
    # A plaintext Secret: stringData (plain, numeric, a block) and data.
    "kubernetes/apps/media/sonarr/app/secret.yaml": f"""---
apiVersion: v1
kind: Secret
metadata:
  name: sonarr-plain
type: Opaque
stringData:
  password: HKLEAK-stringdata-password
  pin: "8675309101"
  config.ini: |
    user = admin
    token = HKLEAK-stringdata-block
data:
  token: {DATA_B64}
""",
    # The same, with a value of the wrong type: schema-invalid fires on the secret line.
    "kubernetes/apps/media/radarr/app/secret.yaml": """---
apiVersion: v1
kind: Secret
metadata:
  name: radarr-plain
stringData:
  password: 8675309102
  apiKey: [HKLEAK-in-a-list]
""",
    # A file named *.sops.yaml that is not encrypted, and an encrypted one.
    "kubernetes/apps/media/secrets/plain.sops.yaml": """---
apiVersion: v1
kind: Secret
metadata:
  name: not-encrypted
stringData:
  key: HKLEAK-unencrypted-sops
""",
    "kubernetes/apps/media/secrets/encrypted.sops.yaml": """---
apiVersion: v1
kind: Secret
metadata:
  name: encrypted
stringData:
  key: ENC[AES256_GCM,data:HKLEAK-sops-payload,iv:HKLEAK-iv,tag:HKLEAK-tag,type:str]
sops:
  age:
    - recipient: age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq
      enc: |
        -----BEGIN AGE ENCRYPTED FILE-----
        HKLEAK-age-wrapped-key
        -----END AGE ENCRYPTED FILE-----
  mac: ENC[AES256_GCM,data:HKLEAK-mac,type:str]
  version: 3.10.2
""",
    # InfisicalSecret credentials written inline, in the wrong shape.
    "kubernetes/apps/media/secrets/leaky-secrets.yaml": """---
apiVersion: secrets.infisical.com/v1alpha1
kind: InfisicalSecret
metadata:
  name: leaky
  namespace: media
spec:
  hostAPI: https://app.infisical.com/api
  authentication:
    universalAuth:
      clientId: HKLEAK-infisical-client-id
      clientSecret: HKLEAK-infisical-client-secret
      secretsScope:
        projectSlug: homelab
        envSlug: prod
        secretsPath: /
    serviceToken:
      serviceTokenSecretReference: HKLEAK-infisical-service-token
      serviceToken: 8675309303
  managedSecretReference:
    secretName: leaky
""",
    # Env values, a URL with a password, in a workload with fixable findings nearby.
    "kubernetes/apps/media/sonarr/app/cronjob.yaml": """---
apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: sonarr-backup
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: backup
              image: ghcr.io/example/backup:latest
              env:
                - name: DB_PASSWORD
                  value: HKLEAK-env-value
                - name: DATABASE_URL
                  value: postgres://app:HKLEAK-url-password@db:5432/app
""",
    # Flux substitutions holding secrets, beside a fixable prune: false.
    "kubernetes/apps/media/sonarr/ks.yaml": """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: &app sonarr
  namespace: &namespace media
spec:
  commonMetadata:
    labels:
      app.kubernetes.io/name: *app
  dependsOn:
    - name: secrets
      namespace: *namespace
  interval: 1h
  path: ./kubernetes/apps/media/sonarr/app
  postBuild:
    substitute:
      DB_PASSWORD: HKLEAK-substitute-value
      API_TOKEN: 8675309202
    substituteFrom:
      - kind: ConfigMap
        name: cluster-settings
      - kind: Secret
        name: sonarr-plain
  prune: false
  retryInterval: 2m
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
  targetNamespace: *namespace
  timeout: 5m
  wait: true
""",
    # A kustomization generating a Secret from literals.
    "kubernetes/apps/media/sonarr/app/kustomization.yaml": """---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ./helmrelease.yaml
  - ./httproute.yaml
  - ./pvc.yaml
  - ./secret.yaml
  - ./cronjob.yaml
configMapGenerator:
  - name: sonarr-values
    files:
      - values.yaml=./helm/values.yaml
secretGenerator:
  - name: sonarr-generated
    literals:
      - API_KEY=HKLEAK-secretgenerator-literal
configurations:
  - ./helm/kustomizeconfig.yaml
""",
    # Talos secrets committed in the clear.
    "talos/talsecret.sops.yaml": """---
cluster:
  id: HKLEAK-talos-cluster-id
  secret: HKLEAK-talos-cluster-secret
secrets:
  bootstraptoken: HKLEAK-talos-bootstrap-token
""",
}
VALUES_TAIL = """
auth:
  password: HKLEAK-values-password
  apiKey: 8675309404
  dsn: postgres://u:HKLEAK-values-dsn@db/x
"""
KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: x
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
contexts:
- name: x
  context: {cluster: c, user: u}
users:
- name: u
  user: {token: HKLEAK-kubeconfig-token, username: admin, password: HKLEAK-kubeconfig-pass}
"""


@attrs.frozen
class Planted:
    root: Path
    kubeconfig: Path
    out: Path
    #: A kubeconfig of a fake API server whose Secrets hold the planted values.
    live: Path


def _live_objects(root: Path) -> list[dict[str, Any]]:
    """The reference cluster as a half-broken cluster: every link of doctor's chain
    with a planted Secret beside it (each managed Secret present, some apps failing)."""
    repo = homelab_kit.load(root)
    objects = [*flux_crds(), *infisical_crds()]
    for i, ks in enumerate(repo.kustomizations):
        ready = "False" if i % 3 == 0 else "True"
        why = "HealthCheckFailed" if ready == "False" else "ReconciliationSucceeded"
        objects.append(
            kustomization(ks.namespace or "flux-system", ks.name, ready=ready, reason=why)
        )
    for i, release in enumerate(repo.helm_releases):
        ns = release.namespace or "default"
        objects.append(source("OCIRepository", ns, release.name, "1.0.0@sha256:0b1c2d3e"))
        ready = "False" if i % 2 else "True"
        why = "UpgradeFailed" if ready == "False" else "UpgradeSucceeded"
        objects.append(
            helm_release(release.namespace or "default", release.name, ready=ready, reason=why)
        )
    for i, infisical in enumerate(repo.infisical_secrets):
        namespace = infisical.namespace or "default"
        for managed in infisical.managed_secrets:
            synced = "False" if i % 2 else "True"
            objects.append(infisical_secret(namespace, infisical.name, managed.name, synced=synced))
            objects.append(secret_object(managed.namespace or namespace, managed.name, LIVE_SECRET))
    objects.append(secret_object("media", "unrelated", LIVE_SECRET))
    return objects


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    base = tmp_path_factory.mktemp("secrets")
    root = copy_reference_cluster(base / "repo")
    write_files(root, SECRET_FILES)
    values = root / "kubernetes/apps/media/sonarr/app/helm/values.yaml"
    values.write_text(values.read_text() + VALUES_TAIL)
    kubeconfig = base / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    out = base / "out"
    out.mkdir()
    server = FakeApiServer().start()
    try:
        server.add(*_live_objects(root))
        yield Planted(root, kubeconfig, out, server.write_kubeconfig(base / "live-kubeconfig"))
    finally:
        server.stop()


def assert_no_secret(text: str, where: str) -> None:
    for needle in NEEDLES:
        assert needle not in text, f"{needle!r} leaked into {where}:\n" + "\n".join(
            line for line in text.splitlines() if needle in line
        )


def _output_files(folder: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield path, path.read_text(encoding="utf-8", errors="replace")


NEW_APP = ("--chart", "oci://ghcr.io/a/b", "--version", "1.0.0", "--image", "ghcr.io/a/b:1.0.0",
           "--port", "80", "--secrets", "--no-input")  # fmt: skip


def _invocations(command: str, p: Planted) -> list[tuple[str, ...]]:
    """How each known command is run; an unknown one gets its help and a plain run."""
    folder = p.out / command  # what this command writes, checked after it
    folder.mkdir(exist_ok=True)
    root, kc, out = str(p.root), str(p.kubeconfig), str(folder)
    cluster = ("--kubeconfig", kc, "--request-timeout", "1s")
    live = ("--kubeconfig", str(p.live), "--request-timeout", "5s", "--repo", root)
    yaml_files = sorted(
        str(f) for f in (p.root / "kubernetes/apps/media").rglob("*.yaml") if f.is_file()
    )
    known: dict[str, list[tuple[str, ...]]] = {
        "lint": [
            *(("lint", "--no-cache", "--format", f, root) for f in format_names()),
            *(("lint", "--format", f, "--output", f"{out}/lint.{f}", root) for f in format_names()),
            ("lint", "--no-cache", "--no-source", "--fail-on", "info", root),
            ("lint", "--no-cache", "--diff", root),
        ],
        "rules": [("rules",), ("rules", "--format", "json")],
        "explain": [("explain", "secrets-plaintext-secret"), ("explain", "schema-invalid")],
        "plugins": [("plugins",)],
        "validate": [
            ("validate", *yaml_files),
            ("validate", "--format", "json", *yaml_files),
        ],
        "schemas": [("schemas", "pull", *cluster, "--cache-dir", f"{out}/schemas")],
        "status": [("status", *cluster, root), ("status", *cluster, "--format", "json", root)],
        "drift": [("drift", *cluster, root), ("drift", *cluster, "--format", "json", root)],
        "graph": [
            *(("graph", "--format", f, "--helm", root) for f in ("mermaid", "dot", "json", "svg")),
            ("graph", "--format", "html", "--output", f"{out}/graph.html", root),
        ],
        "secrets": [
            ("secrets", root),
            ("secrets", "--format", "json", "--output", f"{out}/secrets.json", root),
        ],
        "report": [("report", "--html", f"{out}/report.html", "--helm", root)],
        # build prints the objects Flux would apply (a plaintext Secret as committed,
        # as `flux build` does); what it says about them must not quote a value.
        "build": [
            ("build", "media/radarr", root),
            ("build", "--format", "json", "--output", f"{out}/build.json", "media/radarr", root),
        ],
        # doctor and reconcile on a fake cluster whose Secrets hold planted values
        # (and on an unreachable one): none may print a value it read.
        "doctor": [
            ("doctor", *live),
            ("doctor", *live, "--format", "json"),
            ("doctor", *live, "media/sonarr"),
            ("doctor", *cluster, "--repo", root),
        ],
        "reconcile": [
            ("reconcile", *live, "--no-wait", "flux-system/cluster-apps"),
            (
                "reconcile",
                *live,
                "--with-source",
                "--timeout",
                "1s",
                "--poll-interval",
                "100ms",
                "flux-system/cluster-apps",
            ),
            ("reconcile", *live, "-k", "helmrelease", "--force", "--no-wait", "media/sonarr"),
            ("reconcile", *live, "--format", "json", "--no-wait", "media/sonarr"),
            ("reconcile", *cluster, "--repo", root, "--no-wait"),
        ],
        "new-app": [("new-app", "media/leaktest", *NEW_APP, "--dry-run", "--path", root)],
        "new-namespace": [("new-namespace", "leakns", "--no-input", "--dry-run", "--path", root)],
        "add-secret": [("add-secret", "media/sonarr", "--no-input", "--dry-run", "--path", root)],
    }
    return known.get(command, [(command, "--help"), (command, root)])


@pytest.mark.parametrize("command", COMMANDS)
def test_no_command_prints_a_secret(planted: Planted, command: str) -> None:
    for args in _invocations(command, planted):
        run = run_main(*args, cwd=planted.root)
        assert "Traceback" not in run.output, (args, run.output[-2000:])
        assert run.returncode in (0, 1, 2), (args, run.returncode, run.output[-2000:])
        assert_no_secret(run.stderr, f"stderr of {args}")
        assert_no_secret(run.stdout, f"stdout of {args}")
    for path, text in _output_files(planted.out / command):
        assert_no_secret(text, str(path))


def test_build_output_is_objects_and_its_messages_quote_no_value(planted: Planted) -> None:
    """A build that fails on a Secret names the key, never the value."""
    if "build" not in COMMANDS:
        pytest.skip("no build command yet")
    for target in ("media/sonarr", "flux-system/cluster-apps"):
        run = run_main("build", "--backend", "python", target, planted.root)
        assert "Traceback" not in run.output
        assert_no_secret(run.stderr, f"stderr of build {target}")


def test_the_console_script_prints_no_secret(planted: Planted) -> None:
    """The same in a real process: text (with source lines) and json, stdout and stderr."""
    for fmt in ("text", "json"):
        run = run_cli("lint", "--no-cache", "--format", fmt, planted.root, cwd=planted.root)
        assert_no_crash(run)
        assert run.returncode == 1
        assert_no_secret(run.output, f"homelab-kit lint --format {fmt}")


def test_a_finding_on_a_secret_line_quotes_the_line_with_the_value_hidden(
    planted: Planted,
) -> None:
    # Listed, so deployed: schema-invalid (a check of live objects) judges it too.
    kfile = planted.root / "kubernetes/apps/media/radarr/app/kustomization.yaml"
    written = kfile.read_text()
    kfile.write_text(written.replace("resources:\n", "resources:\n  - ./secret.yaml\n"))
    try:
        run = run_main("lint", "--no-cache", "--select", "secrets,schema", planted.root)
    finally:
        kfile.write_text(written)
    text = run.stdout
    # secrets-plaintext-secret points into the Secret; schema-invalid at a value of it.
    header = (
        "kubernetes/apps/media/radarr/app/secret.yaml:7:13: error[schema-invalid] "
        "Secret radarr-plain: stringData.password: expected string, got an integer"
    )
    assert header in text
    block = text.split(header, 1)[1].split("\n\n", 1)[0]
    assert "7 |   password: ***" in block
    assert "value hidden, it may be a secret" in block
    plaintext = re.search(
        r"^kubernetes/apps/media/sonarr/app/secret\.yaml:\d+:\d+: "
        r"error\[secrets-plaintext-secret\].*\n(?:.*\n){1,5}",
        text,
        re.M,
    )
    assert plaintext is not None, text
    assert "***" in plaintext.group(0)
    assert "value hidden" in plaintext.group(0)
    assert_no_secret(text, "the text report")


def test_library_results_and_every_format_hold_no_secret(planted: Planted) -> None:
    result = homelab_kit.lint(planted.root)
    assert {"secrets-plaintext-secret", "schema-invalid", "secrets-sops-encrypted"} <= {
        d.check_id for d in result.diagnostics
    }
    for diagnostic in result.diagnostics:
        assert_no_secret(repr(diagnostic), f"diagnostic {diagnostic.check_id}")
    for name, report in render_all(result).items():
        assert_no_secret(report, f"the {name} format")
    repo = homelab_kit.load(planted.root)
    for secret in repo.secrets:
        assert_no_secret(repr(secret), f"repr of Secret {secret.name}")
    for infisical in repo.infisical_secrets:
        assert_no_secret(repr(infisical), f"repr of InfisicalSecret {infisical.name}")


def test_commands_are_discovered_from_help() -> None:
    assert {"lint", "rules", "explain", "plugins"} <= set(COMMANDS)


# --------------------------------------------------------------------------- scaffolding

SCAFFOLD = ("new-app", "new-namespace", "add-secret")
CHART = ("--chart", "oci://ghcr.io/a/b", "--version", "1.0.0")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (not following symlinks) and its bytes."""
    out: dict[str, bytes] = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            out[str(path.relative_to(root))] = (
                b"->" + os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            )
    return out


def _scaffold_args(command: str, target: str, root: Path) -> tuple[str, ...]:
    extra = CHART if command == "new-app" else ()
    return (command, target, *extra, "--no-input", "--path", str(root))


@pytest.fixture
def scaffold_repo(tmp_path: Path) -> Path:
    return copy_reference_cluster(tmp_path / "repo")


BAD_TARGETS = {
    "new-app": ("../etc/passwd", "media/../../x", "/tmp/x/app", "media/..", "Media/App",
                "media/app_1", "media/a/b", "media\\..\\x", "media/", "media/.hidden"),
    "new-namespace": ("../x", "/tmp/x", "a/b", "..", "Bad_NS", ".", ""),
    "add-secret": ("../x/y", "/tmp/x/y", "media/../../x", "media/..", "media/"),
}  # fmt: skip


@pytest.mark.parametrize(
    ("command", "target"),
    [(c, t) for c in SCAFFOLD for t in BAD_TARGETS[c]],
)
def test_scaffolding_refuses_bad_targets_end_to_end(
    scaffold_repo: Path, command: str, target: str
) -> None:
    if command not in COMMANDS:
        pytest.skip(f"no {command} command yet")
    before = snapshot(scaffold_repo.parent)
    run = run_main(*_scaffold_args(command, target, scaffold_repo))
    assert run.returncode == 2, run.output
    assert "Traceback" not in run.output
    assert run.stderr.startswith("homelab-kit: error: ") or "Error:" in run.output, run.output
    assert snapshot(scaffold_repo.parent) == before


@pytest.mark.parametrize("command", SCAFFOLD)
def test_scaffolding_never_writes_through_a_symlink_leaving_the_repository(
    scaffold_repo: Path, tmp_path: Path, command: str
) -> None:
    if command not in COMMANDS:
        pytest.skip(f"no {command} command yet")
    outside = tmp_path / "outside"
    shutil.copytree(scaffold_repo / "kubernetes/apps/media", outside)
    shutil.rmtree(scaffold_repo / "kubernetes/apps/media")
    (scaffold_repo / "kubernetes/apps/media").symlink_to(outside, target_is_directory=True)
    target = {"new-app": "media/probe", "new-namespace": "media", "add-secret": "media/sonarr"}
    before, outside_before = snapshot(scaffold_repo), snapshot(outside)
    run = run_main(*_scaffold_args(command, target[command], scaffold_repo))
    assert "Traceback" not in run.output
    assert run.returncode == 2, run.output
    assert snapshot(scaffold_repo) == before
    assert snapshot(outside) == outside_before


def test_scaffolding_ignores_an_apps_root_leaving_the_repository(
    scaffold_repo: Path, tmp_path: Path
) -> None:
    """A configuration cannot send new files out of the repository either."""
    if "new-app" not in COMMANDS:
        pytest.skip("no new-app command yet")
    (tmp_path / "outside").mkdir()
    config = scaffold_repo / ".homelab-kit.yaml"
    config.write_text(config.read_text() + "apps-root: ../outside\n")
    before = snapshot(tmp_path)
    run = run_main(*_scaffold_args("new-app", "media/probe", scaffold_repo))
    assert "Traceback" not in run.output
    assert run.returncode == 2, run.output
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("backend", ["python", "kubectl"])
def test_a_malformed_secret_literal_is_not_quoted_by_build(
    reference_copy: Path, backend: str
) -> None:
    """kustomize quotes a literal that is not key=value; build's error must not."""
    if "build" not in COMMANDS:
        pytest.skip("no build command yet")
    if backend == "kubectl" and not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    kfile = reference_copy / "kubernetes/apps/media/sonarr/app/kustomization.yaml"
    kfile.write_text(
        kfile.read_text()
        + "secretGenerator:\n  - name: sonarr-extra\n    literals:\n"
        + "      - DB_PASSWORD:HKLEAK-malformed-literal\n"
    )
    run = run_main("build", "--backend", backend, "media/sonarr", reference_copy)
    assert run.returncode == 2, run.output
    assert run.stderr.startswith("homelab-kit: error: "), run.stderr
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert_no_secret(run.output, f"build --backend {backend}")


# --------------------------------------------------------------------------- hostile names

HOSTILE_KS = """\
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: "x\\e]8;;https://evil.example\\aLINK\\e]8;;\\a\\e[2J\\u202Eevil\\n::error::FORGED"
  namespace: default
spec:
  interval: 1h
  path: ./nowhere
  prune: false
  sourceRef: {kind: GitRepository, name: flux-system}
"""


def test_hostile_names_reach_no_log_raw(reference_copy: Path) -> None:
    """Terminal escapes, bidirectional overrides and line breaks in file and object names
    are neutralised in every line-oriented format; no workflow command can be forged."""
    app = reference_copy / "kubernetes/apps/default/echo/app"
    (app / "ks-name.yaml").write_text(HOSTILE_KS)
    for name in ("evil\n::error file=x.yaml,line=1::FORGED.yaml", "ansi\x1b[31mRED\x1b[0m.yaml"):
        (app / name).write_text("a: 1\na: 2\n")
    result = homelab_kit.lint(reference_copy)
    assert "FORGED" in " ".join(d.message + d.location.path for d in result.diagnostics)
    for fmt, text in render_all(result).items():
        if fmt in ("json", "sarif"):
            continue  # JSON escapes control characters itself
        hostile = ("\x1b]8", "\x1b[2J", "\x1b[31mRED", "\x07", "\u202e")
        for raw in hostile if fmt == "text-color" else ("\x1b", *hostile):
            assert raw not in text, (fmt, raw)
        if fmt == "github":
            commands = [line for line in text.splitlines() if line.startswith("::")]
            assert len(commands) == len(result.diagnostics)  # none forged by a name


def test_hostile_names_are_escaped_in_html_and_graphs(reference_copy: Path, tmp_path: Path) -> None:
    """A pull request cannot put markup or a mermaid click into a report someone opens."""
    app = reference_copy / "kubernetes/apps/default/echo"
    (app / "app/<img src=x onerror=alert(1)>.yaml").write_text("a: 1\na: 2\n")
    ks = (app / "ks.yaml").read_text()
    hostile = 'echo<script>alert(1)</script>\\"]; click n1 href \\"javascript:alert(2)\\"'
    ks = ks.replace("name: &app echo", f'name: &app "{hostile}"').replace("spec:\n", (
        'spec:\n  dependsOn:\n    - name: "</title><script>alert(3)</script>"\n'), 1)  # fmt: skip
    (app / "ks.yaml").write_text(ks)
    outputs: dict[str, str] = {}
    if "report" in COMMANDS:
        run = run_main("report", "--html", tmp_path / "report.html", reference_copy)
        assert run.returncode == 0, run.output
        outputs["report"] = (tmp_path / "report.html").read_text(encoding="utf-8")
    if "graph" in COMMANDS:
        for fmt in ("html", "svg", "mermaid"):
            run = run_main("graph", "--format", fmt, "--helm", reference_copy)
            assert run.returncode == 0, run.output
            outputs[f"graph {fmt}"] = run.stdout
    if not outputs:
        pytest.skip("no report or graph command yet")
    assert any("alert(2)" in text for text in outputs.values())  # the names are there...
    for where, text in outputs.items():  # ...but only as text
        for raw in ("<script>alert", "<img src=x", "</title><script>", 'href="javascript:'):
            assert raw not in text, (where, raw)
    if "graph mermaid" in outputs:  # a quote would end the label and start a click
        assert 'href "javascript:' not in outputs["graph mermaid"]


# --------------------------------------------------------------------------- symbolic links

OUTSIDE_SECRET = "HKLEAK-outside-the-repository"


def test_a_configuration_linked_out_of_the_repository_is_not_read(
    reference_copy: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "kubeconfig-like.yaml"
    outside.write_text(f"fail-on: {OUTSIDE_SECRET}\nkubernetes-version: {OUTSIDE_SECRET}\n")
    config = reference_copy / ".homelab-kit.yaml"
    config.unlink()
    config.symlink_to(outside)
    run = run_main("lint", reference_copy)
    assert run.returncode == 2
    assert run.stderr == (
        "homelab-kit: error: .homelab-kit.yaml: a symbolic link leaving the repository; not read\n"
    )
    assert_no_secret(run.output, "lint with a linked configuration")


@pytest.mark.parametrize("backend", ["python", "kubectl"])
@pytest.mark.parametrize("what", ["file", "folder"])
def test_build_never_reads_through_a_link_out_of_the_repository(
    reference_copy: Path, tmp_path: Path, backend: str, what: str
) -> None:
    if "build" not in COMMANDS:
        pytest.skip("no build command yet")
    if backend == "kubectl" and not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    helm = reference_copy / "kubernetes/apps/media/sonarr/app/helm"
    outside = tmp_path / "outside"
    shutil.copytree(helm, outside)
    (outside / "values.yaml").write_text(f"password: {OUTSIDE_SECRET}\n")
    if what == "file":
        (helm / "values.yaml").unlink()
        (helm / "values.yaml").symlink_to(outside / "values.yaml")
    else:
        shutil.rmtree(helm)
        helm.symlink_to(outside, target_is_directory=True)
    run = run_main("build", "--backend", backend, "media/sonarr", reference_copy)
    assert run.returncode == 2, run.output
    assert "outside the repository" in run.stderr
    assert_no_secret(run.output, f"build through a linked {what}")


def test_an_unwritable_output_is_one_line(reference_copy: Path) -> None:
    target = reference_copy / "kubernetes" / "ks.yaml" / "report.json"  # under a file
    (reference_copy / "kubernetes" / "ks.yaml").write_text("---\n")
    for command in ("lint", "graph", "secrets"):
        if command not in COMMANDS:
            continue
        run = run_main(command, "--output", target, reference_copy)
        assert run.returncode == 2, (command, run.output)
        assert run.stderr.startswith(f"homelab-kit: error: cannot write {target}"), run.stderr
        assert len(run.stderr.splitlines()) == 1
