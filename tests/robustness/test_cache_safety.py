"""The cache: the repository cannot choose it or run code through it; it never goes stale.

- A repository's own ``.homelab-kit.yaml`` cannot say where the cache lives, so it
  cannot point ``lint`` at a cache it planted, even one signed with the user's key
  (the key may leak); and a correctly signed cache file still cannot run code.
- A shard written for one repository is never used for another.
- An unusable cache folder costs one warning; the command runs as with ``--no-cache``.
- The whole-result cache answers only when nothing the run read changed: a symbolic
  link's target, a kustomization's resource outside ``include``, a schema file under
  a templated schema location.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

import homelab_kit
from homelab_kit import cache as cache_module
from homelab_kit.cache import BUILD_SHARDS, SHARDS, default_cache_dir
from homelab_kit.testing import findings
from tests.robustness.conftest import run_cli, without_timing, write_files
from tests.robustness.test_security import _Pickled

KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: echo
  namespace: flux-system
spec:
  interval: 1h
  path: ./kubernetes/apps/default/echo/app
  prune: {prune}
"""
APP = {
    ".homelab-kit.yaml": "",
    "kubernetes/apps/default/echo/app/kustomization.yaml": "resources: [cm.yaml]\n",
    "kubernetes/apps/default/echo/app/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: echo\n  namespace: default\n"
    ),
}


def _repo(root: Path, prune: str = "false", extra: dict[str, str] | None = None) -> Path:
    write_files(
        root,
        {
            **APP,
            # A written prune: false is a finding only where the owner asks for it.
            ".homelab-kit.yaml": "checks:\n  flux-ks-prune: {allow-false: false}\n",
            "kubernetes/apps/default/echo/ks.yaml": KS.format(prune=prune),
            **(extra or {}),
        },
    )
    return root


def _ids(result: Any) -> list[str]:
    return [f[2] for f in findings(result)]


def _signed(key: bytes, value: Any) -> bytes:
    payload = pickle.dumps(value)
    return hmac.new(key, payload, hashlib.sha256).digest() + payload


def _root_id(root: Path) -> str:
    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:20]


# ------------------------------------------------------------------ item 3: who chooses, what loads


def test_the_repository_cannot_choose_the_cache_even_with_the_users_key(
    tmp_path: Path,
) -> None:
    """The chain of issue 15: a leaked key, a planted signed pickle, ``cache-dir`` naming it."""
    cache_home = tmp_path / "xdg"
    root = _repo(tmp_path / "repo")
    env = {"XDG_CACHE_HOME": str(cache_home)}
    assert run_cli("lint", root, env=env).returncode in (0, 1)
    key = (cache_home / "homelab-kit" / "hmac.key").read_bytes()  # leaked, say by a build
    marker = tmp_path / "pwned"
    planted = root / ".planted"
    planted.mkdir()
    for name in [
        f"{_root_id(root)}.result",
        *(f"{_root_id(root)}-{n:02d}.parse" for n in range(SHARDS)),
        *(f"{_root_id(root)}-{n:02d}.build" for n in range(BUILD_SHARDS)),
    ]:
        (planted / name).write_bytes(_signed(key, (3, "x", str(root), _Pickled(marker))))
    (planted / "hmac.key").write_bytes(key)
    (root / ".homelab-kit.yaml").write_text("cache-dir: .planted\n", encoding="utf-8")
    run = run_cli("lint", root, env=env)
    assert not marker.exists(), "the planted cache was unpickled"
    assert run.returncode in (0, 1), run.output
    assert ".homelab-kit.yaml:1:12: cache-dir in the repository's configuration is ignored" in (
        run.stderr
    )


@pytest.mark.parametrize("suffix", ["result", "parse", "build"])
def test_a_correctly_signed_cache_file_cannot_run_code(tmp_path: Path, suffix: str) -> None:
    root = _repo(tmp_path / "repo")
    homelab_kit.lint(root, cache=True)
    directory = default_cache_dir()
    key = (directory / "hmac.key").read_bytes()
    marker = tmp_path / "pwned"
    value = _Pickled(marker)
    version = cache_module.FORMAT_VERSION
    stored = list(directory.glob(f"{_root_id(root)}*.{suffix}"))
    assert stored
    for path in stored:
        for planted in [(version, "x", str(root.resolve()), value), (2, "x", value), value]:
            path.write_bytes(_signed(key, planted))
            os.utime(root / "kubernetes/apps/default/echo/ks.yaml")  # a fresh result
            assert _ids(homelab_kit.lint(root, cache=True)).count("flux-ks-prune") == 1
    assert not marker.exists(), "a signed cache file ran code"


def test_a_shard_is_bound_to_its_repository(tmp_path: Path) -> None:
    """Shards copied to another repository's names (same paths, sizes, times) are ignored."""
    first = _repo(tmp_path / "a", prune="false")
    second = _repo(tmp_path / "b", prune="true ")  # same size as "false"
    for rel in [*APP, "kubernetes/apps/default/echo/ks.yaml"]:
        stamp = (first / rel).stat()
        os.utime(second / rel, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert "flux-ks-prune" in _ids(homelab_kit.lint(first, cache=True))
    directory = default_cache_dir()
    shards = [*directory.glob(f"{_root_id(first)}-*.parse")]
    shards += directory.glob(f"{_root_id(first)}-*.build")
    assert any(path.suffix == ".build" for path in shards)
    for path in shards:
        target = path.name.replace(_root_id(first), _root_id(second))
        shutil.copy(path, directory / target)
    assert "flux-ks-prune" not in _ids(homelab_kit.lint(second, cache=True))


def test_the_users_choice_of_cache_folder_is_kept(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    user_config = tmp_path / "user.yaml"
    user_config.write_text("cache-dir: my-cache\n", encoding="utf-8")
    run = run_cli("lint", "--config", user_config, root)
    assert run.returncode in (0, 1), run.output
    assert list((tmp_path / "my-cache").glob("*.result"))
    env = {"HOMELAB_KIT_CACHE_DIR": str(tmp_path / "env-cache")}
    assert run_cli("lint", root, env=env).returncode in (0, 1)
    assert list((tmp_path / "env-cache").glob("*.result"))


# ------------------------------------------------------------------ item 4: an unusable folder


def _unusable(tmp_path: Path, how: str) -> dict[str, str]:
    """The environment of a run whose cache folder is unusable in the way ``how`` says."""
    base = tmp_path / "xdg"
    base.mkdir(parents=True)
    if how == "a file":
        (base / "homelab-kit").write_text("not a folder\n", encoding="utf-8")
        return {"XDG_CACHE_HOME": str(base)}
    if how == "not creatable":
        (base / "file").write_text("", encoding="utf-8")
        return {"XDG_CACHE_HOME": str(base / "file" / "below")}
    assert how == "read-only"
    (base / "homelab-kit").mkdir()
    (base / "homelab-kit").chmod(0o500)
    return {"XDG_CACHE_HOME": str(base)}


CASES = [
    "a file",
    "not creatable",
    pytest.param(
        "read-only",
        marks=pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders"),
    ),
]


@pytest.mark.parametrize("how", CASES)
@pytest.mark.parametrize("command", ["lint", "graph", "secrets", "report"])
def test_an_unusable_cache_folder_warns_once_and_runs_without_it(
    tmp_path: Path, how: str, command: str
) -> None:
    root = _repo(tmp_path / "repo")
    out = tmp_path / "report.html"
    extra = ["--html", str(out)] if command == "report" else []
    expected = run_cli(command, *extra, "--no-cache", root, env=_unusable(tmp_path / "x", how))
    run = run_cli(command, *extra, root, env=_unusable(tmp_path, how))
    assert run.returncode == expected.returncode, run.output
    assert without_timing(run.stdout) == without_timing(expected.stdout)
    warnings = [line for line in run.stderr.splitlines() if "cannot be used" in line]
    assert len(warnings) == 1, run.stderr
    assert "running without the cache" in warnings[0]


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EACCES, errno.EROFS])
def test_a_full_or_read_only_cache_folder_warns_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recwarn: pytest.WarningsRecorder, error: int
) -> None:
    """Writes fail as on a full disk (``/dev/full``) or a read-only one; the run goes on."""
    root = _repo(tmp_path / "repo")
    real_mkstemp = tempfile.mkstemp  # the cache imports tempfile when it writes

    def failing_mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
        if error == errno.ENOSPC:
            fd, path = real_mkstemp(*args, **kwargs)
            os.close(fd)
            return os.open("/dev/full", os.O_WRONLY), path
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(cache_module, "_warned", [], raising=False)
    monkeypatch.setenv("HOMELAB_KIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(tempfile, "mkstemp", failing_mkstemp)
    fresh = findings(homelab_kit.lint(root))
    for _ in range(2):
        assert findings(homelab_kit.lint(root, cache=True)) == fresh
    warned = [str(w.message) for w in recwarn if "cannot be used" in str(w.message)]
    assert len(warned) == 1, warned
    assert os.strerror(error) in warned[0]


# ------------------------------------------------------------------ item 5: never stale


def _touch_later(path: Path) -> None:
    """Bump the modification time past any file-system granularity."""
    stamp = path.stat()
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 2_000_000_000))


def _assert_fresh(root: Path, before: list[tuple[Any, ...]]) -> None:
    cached = findings(homelab_kit.lint(root, cache=True))
    fresh = findings(homelab_kit.lint(root))
    assert fresh != before, "the change should change the findings"
    assert cached == fresh


def test_a_symbolic_links_target_changing_gives_fresh_findings(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo", extra={"shared/ks.yaml": KS.format(prune="false")})
    ks = root / "kubernetes/apps/default/echo/ks.yaml"
    ks.unlink()
    ks.symlink_to(root / "shared/ks.yaml")
    before = findings(homelab_kit.lint(root, cache=True))
    assert "flux-ks-prune" in [f[2] for f in before]
    target = root / "shared/ks.yaml"
    target.write_text(KS.format(prune="true"), encoding="utf-8")
    _touch_later(target)
    _assert_fresh(root, before)


def test_a_resource_outside_include_appearing_gives_fresh_findings(tmp_path: Path) -> None:
    root = _repo(
        tmp_path / "repo",
        extra={
            ".homelab-kit.yaml": "include: [kubernetes]\n",
            "kubernetes/apps/default/echo/app/kustomization.yaml": (
                "resources: [cm.yaml, ../../../../../extra/more.yaml]\n"
            ),
        },
    )
    before = findings(homelab_kit.lint(root, cache=True))
    assert "structure-kustomize-missing" in [f[2] for f in before]
    write_files(root, {"extra/more.yaml": APP["kubernetes/apps/default/echo/app/cm.yaml"]})
    _assert_fresh(root, before)


def test_a_schema_under_a_templated_location_changing_gives_fresh_findings(
    tmp_path: Path,
) -> None:
    schema = (
        '{"type": "object", "properties": {"spec": {"type": "object", '
        '"properties": {"size": {"type": "%s"}}}}}'
    )
    location = "schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
    root = _repo(
        tmp_path / "repo",
        extra={
            ".homelab-kit.yaml": f"schema-locations:\n- '{location}'\n",
            "schemas/example.com/widget_v1.json": schema % "integer",
            "kubernetes/apps/default/echo/app/widget.yaml": (
                "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
                "  namespace: default\nspec:\n  size: 3\n"
            ),
            "kubernetes/apps/default/echo/app/kustomization.yaml": (
                "resources: [cm.yaml, widget.yaml]\n"
            ),
        },
    )
    before = findings(homelab_kit.lint(root, cache=True))
    path = root / "schemas/example.com/widget_v1.json"
    path.write_text(schema % "string", encoding="utf-8")
    _touch_later(path)
    _assert_fresh(root, before)
