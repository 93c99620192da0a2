"""The methods attrs generates, compiled once and kept beside the package's bytecode.

Creating an attrs class writes the source of its methods (``__init__``, ``__eq__``,
``__hash__``, ``__repr__``, ...) and compiles it: about 140 classes and 40 ms of
CPU at the start of every ``homelab-kit lint`` (docs/performance.md, "Start-up,
stop 27").  Python keeps the bytecode of modules in ``__pycache__``; the console
script (:func:`homelab_kit.cli.console_main`) keeps attrs' compiled methods there
too, keyed by their source text and file name, so a class is built from exactly
the code attrs would compile, without compiling it again.

Where and when, as for a module's bytecode: the file sits where
:func:`importlib.util.cache_from_source` puts this package's (``__pycache__``, or
under ``sys.pycache_prefix``), is never written when ``sys.dont_write_bytecode`` is
set or the folder is not writable, is rewritten (atomically, at exit) only when a
run compiled something it did not hold, and is ignored whole when it was written by
another Python or cannot be read.  ``python -m homelab_kit._attrs_cache`` fills it
ahead (every class the package and its plugins define), whatever
``PYTHONDONTWRITEBYTECODE`` says, as ``python -m compileall`` writes bytecode.  It
is never written where the linted repository or its configuration could point:
loading it runs its code.

The one part of attrs' source that changes from process to process is the number a
``__hash__`` starts from (``hash()`` of the class's name, which string hashing
randomises): the key has a placeholder there, and the cached code gets this
process's number back as the same constant, so ``__hash__`` is what attrs makes
(the same instructions and constants; only the column where that number ends,
which no traceback can point at, may differ).
"""

from __future__ import annotations
import __future__

import contextlib
import marshal
import os
import sys
import types
from types import CodeType
from typing import Any

# Entries kept at most (a lint uses about 150, about 4 KB each: read in 1 ms); past
# it, as when classes keep changing in a checkout, only those this run used are kept.
MAX_ENTRIES = 600
# Stands for the number a __hash__ starts from, in the key and the stored code.
_PLACEHOLDER = -0x7A77_C0DE_CAC4_E000
_METHODS = "<attrs generated methods "

_codes: dict[str, CodeType] = {}  # what the file holds (key -> code with the placeholder)
_used: set[str] = set()
_added = False
_path: str | None = None
_header = b""
_flags = 0


def install() -> None:
    """Have attrs take its compiled methods from the cache, once attrs is imported.

    Only for a process this package runs (the console script): a library user's
    classes are not ours to keep.  Until something imports attrs, nothing is read
    (``--version`` and ``--help`` do not import it): a finder first on
    ``sys.meta_path`` waits for ``attr._make`` and hooks it as soon as it has run,
    before attrs makes its own classes.
    """
    module = sys.modules.get("attr._make")
    if module is not None:
        _hook(module)
    elif _Finder not in sys.meta_path:
        sys.meta_path.insert(0, _Finder)


class _Finder:
    """Finds ``attr._make`` through the other finders, to hook it once it has run."""

    @classmethod
    def find_spec(cls, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "attr._make":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(cls)
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        run = getattr(loader, "exec_module", None)
        if run is not None:

            def exec_module(module: Any) -> None:
                run(module)
                _hook(module)

            loader.exec_module = exec_module
        return spec


def _hook(make: Any) -> bool:
    """Put :func:`_compile_and_eval` in attrs' ``_make``; False when it cannot."""
    global _path, _header, _flags
    if _path is not None:
        return True
    original = getattr(make, "_compile_and_eval", None)
    code = getattr(original, "__code__", None)
    if code is None or code.co_varnames[:4] != ("script", "globs", "locs", "filename"):
        return False  # an attrs that compiles differently: leave it alone
    path = _cache_path()
    if path is None:
        return False
    # attrs compiles inheriting the __future__ features of its own module.
    _flags = 0
    for name in __future__.all_feature_names:
        feature = getattr(make, name, None)
        if isinstance(feature, __future__._Feature):
            _flags |= feature.compiler_flag
    from importlib.util import MAGIC_NUMBER

    # The code depends on the source (the key), this Python and the flags: not on
    # attrs' version, whose own asks importlib.metadata (15 ms).
    _header = MAGIC_NUMBER + f"attrs methods {_flags}\n".encode()
    _path = path
    _read()
    make._compile_and_eval = _compile_and_eval
    _skip_builtin_signatures(sys.modules.get("attr._compat"))
    return True


def _skip_builtin_signatures(compat: Any) -> None:
    """No ``inspect.signature`` of a built-in converter (2 ms of every lint).

    attrs reads a converter's signature for the annotations of ``__init__``; for a
    built-in (``referencing``'s ``Registry`` has ``HashTrieMap.convert``) that parses
    its text signature with ``tokenize``, whose first use compiles a large regular
    expression.  A built-in's text signature never carries an annotation, so attrs
    finds none either way: the extractor is given no signature, as when
    ``inspect.signature`` fails.
    """
    extractor: Any = getattr(compat, "_AnnotationExtractor", None)
    original: Any = getattr(extractor, "__init__", None)
    code = getattr(original, "__code__", None)
    if (
        code is None
        or code.co_varnames[:2] != ("self", "callable")
        or tuple(getattr(extractor, "__slots__", ())) != ("sig",)
    ):
        return  # an attrs that extracts differently: leave it alone

    def __init__(self: Any, callable: Any) -> None:
        if isinstance(callable, _BUILT_IN):
            self.sig = None
        else:
            original(self, callable)

    extractor.__init__ = __init__


# Callables written in C: their signature is only ever a text signature.
_BUILT_IN = (
    types.BuiltinFunctionType,
    types.MethodDescriptorType,
    types.ClassMethodDescriptorType,
    types.WrapperDescriptorType,
    types.MethodWrapperType,
)


def _cache_path() -> str | None:
    from importlib.util import cache_from_source

    try:
        pyc = cache_from_source(os.path.join(os.path.dirname(__file__), "_attrs_methods.py"))
    except NotImplementedError:  # no cache_tag: this Python keeps no bytecode either
        return None
    return pyc[: -len(".pyc")] + ".bin" if pyc.endswith(".pyc") else None


def _read() -> None:
    assert _path is not None
    try:
        with open(_path, "rb") as handle:
            data = handle.read()
    except OSError:
        return
    if not data.startswith(_header):
        return
    try:
        codes = marshal.loads(data[len(_header) :])
    except (EOFError, ValueError, TypeError):
        return
    if isinstance(codes, dict):
        _codes.update(
            (k, v) for k, v in codes.items() if isinstance(k, str) and isinstance(v, CodeType)
        )


def _key(script: str, filename: str) -> tuple[str, int | None]:
    """The key of ``script`` and the number its ``__hash__`` starts from (None: none)."""
    at = script.find("def __hash__(self")
    if at >= 0 and filename.startswith(_METHODS):
        name = filename[len(_METHODS) : -1]
        # attrs names the hash after the class; a file name may have a "-N" added.
        for candidate in (name, name.rpartition("-")[0]):
            number = hash(f"<attrs generated hash {candidate}>")
            line = f" {number},\n"
            found = script.find(line, at)
            if candidate and found >= 0:
                start, end = found + 1, found + len(line) - 2
                return f"{filename}\0{script[:start]}{_PLACEHOLDER}{script[end:]}", number
    return f"{filename}\0{script}", None


def _with_constant(code: CodeType, old: int, new: int) -> CodeType:
    """``code`` with the constant ``old`` (in it, in a tuple constant the compiler
    folded, e.g. ``hash((N,))`` of a class with no hashed field, or in a function it
    makes) as ``new``."""
    consts = tuple(_replaced(c, old, new) for c in code.co_consts)
    return code.replace(co_consts=consts) if consts != code.co_consts else code


def _replaced(const: Any, old: int, new: int) -> Any:
    if type(const) is int and const == old:
        return new
    if isinstance(const, CodeType):
        return _with_constant(const, old, new)
    if type(const) is tuple:
        return tuple(_replaced(c, old, new) for c in const)
    if type(const) is frozenset:
        return frozenset(_replaced(c, old, new) for c in const)
    return const


def _compile_and_eval(
    script: str,
    globs: dict[str, Any] | None,
    locs: Any = None,
    filename: str = "",
) -> None:
    """attrs' ``_compile_and_eval``, the compiling done once per source text."""
    global _added
    key, number = _key(script, filename)
    code = _codes.get(key)
    if code is None:
        source = key[len(filename) + 1 :]
        code = compile(source, filename, "exec", flags=_flags, dont_inherit=True)
        if not _added:
            import atexit

            atexit.register(_write)
            _added = True
        _codes[key] = code
    _used.add(key)
    if number is not None:
        code = _with_hash_start(code, number)
    eval(code, globs, locs)


def _with_hash_start(code: CodeType, number: int) -> CodeType:
    """The script ``code`` with this process's ``number`` in its ``__hash__``: the
    one function :func:`_key` puts the placeholder in, so the others' constants (an
    ``__init__``'s, a ``__repr__``'s) are not walked."""
    consts = tuple(
        _with_constant(c, _PLACEHOLDER, number)
        if isinstance(c, CodeType) and c.co_name == "__hash__"
        else c
        for c in code.co_consts
    )
    return code.replace(co_consts=consts)


def fill() -> int:
    """Compile the methods of every class the package and its plugins define, and store them.

    ``python -m homelab_kit._attrs_cache`` does it whatever ``PYTHONDONTWRITEBYTECODE``
    says, as ``python -m compileall`` writes bytecode: for an installation whose
    commands run with it set.  Returns the number of entries stored.
    """
    import importlib
    import pkgutil

    install()
    import attr  # noqa: F401  (hooks attrs now)

    from homelab_kit.plugins import DEFAULT_PLUGINS

    for top in ("homelab_kit", *DEFAULT_PLUGINS):
        try:
            package = importlib.import_module(top)
        except ImportError:
            continue
        for info in pkgutil.walk_packages(getattr(package, "__path__", []), f"{top}."):
            if info.name.endswith("__main__"):
                continue
            with contextlib.suppress(Exception):  # an optional dependency not installed
                importlib.import_module(info.name)
    _write(force=True)
    return len(_codes)


def _mode() -> int:
    """The file's permissions: those of this module's source, as a ``.pyc``'s, never
    writable by others (loading it runs its code)."""
    try:
        return os.stat(__file__).st_mode & 0o644
    except OSError:
        return 0o644


def _write(*, force: bool = False) -> None:
    """Store what this run compiled (atomically), unless bytecode is not to be written."""
    if _path is None or (sys.dont_write_bytecode and not force):
        return
    codes = _codes if len(_codes) <= MAX_ENTRIES else {k: _codes[k] for k in _used}
    tmp = f"{_path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(_path), exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(_header + marshal.dumps(codes))
        os.replace(tmp, _path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


if __name__ == "__main__":
    from homelab_kit._attrs_cache import fill as _fill  # this module, not a second copy

    print(f"homelab-kit: {_fill()} compiled attrs methods stored")
