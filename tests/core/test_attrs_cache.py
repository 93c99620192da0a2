"""The compiled methods of attrs classes, kept beside the bytecode (homelab_kit/_attrs_cache.py).

Each probe runs in a fresh interpreter with ``PYTHONPYCACHEPREFIX`` in ``tmp_path``,
so the cache file is written there, never into the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]

# Classes of every shape the project uses: frozen (hashed), slotted, cached hash,
# an eq key, converters and validators, a factory, a subclass, a plain define.
PROBE = textwrap.dedent(
    """
    import json, sys, types
    from homelab_kit import _attrs_cache
    _attrs_cache.install()
    assert "attr" not in sys.modules  # nothing done until attrs is imported
    from attr import _make
    installed = _attrs_cache._path is not None
    cached = _make._compile_and_eval
    compiled = {}

    def compare(script, globs, locs=None, filename=""):
        # What attrs itself makes of the script (compiled here, as attrs does) ...
        plain_globs, plain_locs = dict(globs or {}), {}
        exec(compile(script, filename, "exec", flags=_attrs_cache._flags, dont_inherit=True),
             plain_globs, plain_locs)
        # ... against what the cache gives.
        cached(script, globs, locs, filename)
        made = locs if locs is not None else globs
        for name, plain in plain_locs.items():
            if isinstance(plain, types.FunctionType):
                a, b = plain.__code__, made[name].__code__
                same = (a.co_code, a.co_consts, a.co_names, a.co_varnames, a.co_flags,
                        a.co_filename, a.co_qualname, a.co_exceptiontable,
                        list(a.co_lines())) == (
                        b.co_code, b.co_consts, b.co_names, b.co_varnames, b.co_flags,
                        b.co_filename, b.co_qualname, b.co_exceptiontable,
                        list(b.co_lines()))
                # Only the column where a __hash__'s starting number ends may differ.
                compiled[f"{filename} {name}"] = same and (a == b or name == "__hash__")

    _make._compile_and_eval = compare

    import attrs

    @attrs.frozen
    class Point:
        x: int
        y: int = 0

    @attrs.frozen(cache_hash=True)
    class Cached:
        name: str = attrs.field(eq=str.lower)

    @attrs.define
    class Mutable:
        items: list = attrs.Factory(list)
        count: int = attrs.field(default=0, converter=int, validator=attrs.validators.ge(0))

    @attrs.frozen
    class Sub(Point):
        z: int = 1

    @attrs.frozen
    class Empty:
        pass

    @attrs.frozen
    class Other:
        pass

    # No hashed field: attrs hashes a one-number tuple, a constant the compiler folds.
    assert hash(Empty()) == hash((hash("<attrs generated hash __main__.Empty>"),))
    assert hash(Empty()) != hash(Other())

    point = Point(1, 2)
    assert hash(point) == hash(Point(1, 2)) and point == Point(1, 2) and point != Point(2, 1)
    assert Cached("A") == Cached("a") and hash(Cached("A")) == hash(Cached("A"))
    assert Mutable(count="3").count == 3 and repr(Sub(1)) == "Sub(x=1, y=0, z=1)"
    # The number a __hash__ starts from is this process's, as attrs computes it.
    start = hash("<attrs generated hash __main__.Point>")
    assert hash(point) == hash((start, 1, 2))
    json.dump({"installed": installed, "compiled": compiled,
               "used": len(_attrs_cache._used), "held": len(_attrs_cache._codes)},
              open(sys.argv[1], "w"))
    """
)


def _probe(tmp_path: Path, umask: int | None = None, **env: str) -> dict:
    out = tmp_path / "out.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache"),
            **env,
        },
        check=False,
        preexec_fn=None if umask is None else (lambda: os.umask(umask)),
    )
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text())


def _cache_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "pycache").rglob("_attrs_methods.*.bin"))


def test_classes_are_built_from_the_same_code_cached_or_not(tmp_path: Path):
    first = _probe(tmp_path)
    assert first["installed"] is True
    assert first["compiled"]
    assert all(first["compiled"].values()), first["compiled"]
    (stored,) = _cache_files(tmp_path)
    written = stored.stat().st_mtime_ns, stored.read_bytes()

    second = _probe(tmp_path)  # every class from the cache now
    assert second["compiled"] == first["compiled"]
    assert second["used"] == first["used"] > 0
    # Nothing new compiled: the file is not written again.
    assert (stored.stat().st_mtime_ns, stored.read_bytes()) == written


def test_no_file_is_written_when_bytecode_is_not(tmp_path: Path):
    found = _probe(tmp_path, PYTHONDONTWRITEBYTECODE="1")
    assert all(found["compiled"].values())
    assert _cache_files(tmp_path) == []


def test_a_corrupt_or_foreign_file_is_ignored_and_rewritten(tmp_path: Path):
    _probe(tmp_path)
    (stored,) = _cache_files(tmp_path)
    good = stored.read_bytes()
    for bad in (b"", b"garbage", good[:-40], b"\0\0\0\0" + good[4:]):
        stored.write_bytes(bad)
        found = _probe(tmp_path)
        assert all(found["compiled"].values())
        assert stored.read_bytes() == good


def test_the_console_script_keeps_the_lint_classes(tmp_path: Path):
    """A lint fills the cache; the next one compiles nothing and says the same."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache"),
        "HOMELAB_KIT_CACHE_DIR": str(tmp_path / "cache"),
    }
    args = [sys.executable, "-m", "homelab_kit", "lint", str(PROJECT), "--no-cache"]
    runs = [
        subprocess.run([*args, "--format", "json"], capture_output=True, text=True, env=env)
        for _ in range(2)
    ]
    (stored,) = _cache_files(tmp_path)
    assert stored.stat().st_size > 0
    first, second = (json.loads(r.stdout) for r in runs)
    for result in (first, second):
        result.pop("duration", None)
        result.get("summary", {}).pop("duration", None)
    assert first == second
    assert runs[0].returncode == runs[1].returncode


def test_version_and_help_read_no_cache_and_import_no_attrs(tmp_path: Path):
    for args in (["--version"], ["--help"]):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "homelab_kit", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
        assert "homelab_kit._attrs_cache" in imported
        assert {"attr", "attrs"} & imported == set()


def test_filling_the_cache_ahead_as_compileall_does(tmp_path: Path):
    """``python -m homelab_kit._attrs_cache`` writes even under PYTHONDONTWRITEBYTECODE;
    a lint then finds every class it makes there and writes nothing."""
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache"),
        "HOMELAB_KIT_CACHE_DIR": str(tmp_path / "cache"),
    }
    run = [sys.executable, "-m", "homelab_kit._attrs_cache"]
    done = subprocess.run(run, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "compiled attrs methods stored" in done.stdout
    (stored,) = _cache_files(tmp_path)
    filled = stored.read_bytes()
    env.pop("PYTHONDONTWRITEBYTECODE")  # a lint may write now, but has nothing to add
    lint = [sys.executable, "-m", "homelab_kit", "lint", str(PROJECT), "--no-cache", "-q"]
    done = subprocess.run(lint, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr + done.stdout
    assert stored.read_bytes() == filled


def test_the_file_is_never_writable_by_others(tmp_path: Path):
    """Loading the file runs its code: under a umask of 0 (a container's root) it is
    still written as the module's source is, at most rw-r--r--."""
    _probe(tmp_path, umask=0)
    (stored,) = _cache_files(tmp_path)
    assert stored.stat().st_mode & 0o133 == 0


CONVERTERS = textwrap.dedent(
    """
    import json, sys
    if sys.argv[1] == "hooked":
        from homelab_kit import _attrs_cache
        _attrs_cache.install()
    import tokenize
    import attrs

    def typed(value: str) -> int:
        return int(value)

    @attrs.frozen
    class Converted:
        a: int = attrs.field(converter=abs)  # a built-in function
        b: int = attrs.field(converter=typed)
        c: str = attrs.field(converter=str.lower)  # a method descriptor

    annotations = {k: str(v) for k, v in Converted.__init__.__annotations__.items()}
    made = Converted(-2, "3", "X")
    json.dump({"annotations": annotations, "made": repr(made),
               "tokenized": tokenize._compile.cache_info().currsize}, sys.stdout)
    """
)


def test_a_built_in_converter_gives_the_same_init_without_reading_its_signature(
    tmp_path: Path,
):
    """attrs finds no annotation in a built-in's text signature; the hook does not
    parse it (tokenize's first use compiles a large pattern: 2 ms of every lint)."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache")}
    runs = {
        how: json.loads(
            subprocess.run(
                [sys.executable, "-c", CONVERTERS, how],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            ).stdout
        )
        for how in ("plain", "hooked")
    }
    plain, hooked = runs["plain"], runs["hooked"]
    assert hooked["annotations"] == plain["annotations"]
    assert plain["annotations"]["b"] == "<class 'str'>"  # a Python converter's annotation is read
    assert hooked["made"] == plain["made"] == "Converted(a=2, b=3, c='x')"
    assert plain["tokenized"] > 0
    assert hooked["tokenized"] == 0
