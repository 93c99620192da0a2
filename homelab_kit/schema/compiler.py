"""Compile a JSON schema into plain Python closures that validate fast.

jsonschema interprets a schema on every call; for the few keywords Kubernetes
schemas use (``type``, ``properties``, ``additionalProperties``, ``required``,
``enum``, ``items``, ``$ref``, int-or-string ``anyOf``) a closure per schema node is
several times faster.  Each compiled node is a function ``check(value, path, ctx)``
that appends :class:`SchemaViolation` objects to ``ctx.errors``; the path is a linked
``(parent, key)`` pair, turned into a tuple only when an error is reported.

Keywords this module does not implement natively (``prefixItems``, ``contains``,
``dependentSchemas``, ``unevaluated*``, ``$dynamicRef``...) are checked by a
jsonschema validator built for just those keywords, so nothing is silently ignored.
``format`` is an annotation here, as in kubeconform.  Patterns Python's ``re`` cannot
compile (Go RE2 syntax such as ``\\PC``) are translated when possible and otherwise
skipped, with a note in :attr:`Compiler.notes`.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import referencing
import referencing.exceptions
from referencing._core import Resolver
from referencing.jsonschema import DRAFT202012

from homelab_kit.schema.placeholders import reinterpret, substitute
from homelab_kit.schema.violation import SchemaViolation, ViolationCode, display_path
from homelab_kit.yaml import YMap, YSeq

PathNode = tuple[Any, Any] | None


class Context:
    """The state of one validation: where errors go and what is known about variables."""

    __slots__ = ("errors", "redact", "variables")

    def __init__(self, variables: Mapping[str, str] | None = None, redact: bool = False) -> None:
        self.errors: list[SchemaViolation] = []
        self.variables = variables
        self.redact = redact

    def fork(self) -> Context:
        """A fresh context for trying an alternative (anyOf/oneOf/not/if)."""
        return Context(self.variables, self.redact)


Check = Callable[[Any, PathNode, Context], None]

# --------------------------------------------------------------------------- values

_KIND: dict[type, str] = {
    dict: "o",
    YMap: "o",
    list: "a",
    YSeq: "a",
    str: "s",
    int: "i",
    float: "f",
    bool: "b",
    type(None): "n",
}
_KINDS_OF_TYPE: dict[str, tuple[str, ...]] = {
    "object": ("o",),
    "array": ("a",),
    "string": ("s",),
    "integer": ("i",),
    "number": ("i", "f"),
    "boolean": ("b",),
    "null": ("n",),
}
_CLASSES_OF_KIND: dict[str, tuple[type, ...]] = {
    "o": (dict, YMap),
    "a": (list, YSeq),
    "s": (str,),
    "i": (int,),
    "f": (float,),
    "b": (bool,),
    "n": (type(None),),
}
_TYPE_ORDER = ("object", "array", "string", "integer", "number", "boolean", "null")


def kind_of(value: Any) -> str:
    """One letter for the JSON type of ``value`` (``"?"`` for anything not JSON)."""
    kind = _KIND.get(value.__class__)
    if kind is not None:
        return kind
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int):
        return "i"
    if isinstance(value, float):
        return "f"
    if isinstance(value, str):
        return "s"
    if isinstance(value, Mapping):
        return "o"
    if isinstance(value, list | tuple):
        return "a"
    if value is None:
        return "n"
    return "?"


def describe(value: Any, redact: bool = False) -> str:
    """``integer 5``, ``string 'abc'``, ``a mapping``: a value as a message shows it."""
    kind = kind_of(value)
    if kind == "o":
        return "a mapping"
    if kind == "a":
        return "a list"
    if kind == "n":
        return "null"
    if redact:
        return {"s": "a string", "b": "a boolean", "i": "an integer", "f": "a number"}.get(
            kind, "a value"
        )
    if kind == "b":
        return "boolean true" if value else "boolean false"
    if kind == "i":
        return f"integer {value}"
    if kind == "f":
        return f"number {value}"
    if kind == "s":
        return f"string {short(value)}"
    return type(value).__name__


def short(value: Any, limit: int = 60) -> str:
    """``repr`` of a value, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON means it: ``True`` is not ``1``, ``1`` is ``1.0``."""
    ka, kb = kind_of(a), kind_of(b)
    if ka in "if" and kb in "if":
        return bool(a == b)
    if ka != kb:
        return False
    if ka == "o":
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if ka == "a":
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def path_of(node: PathNode) -> tuple[Any, ...]:
    """The linked path as a tuple of keys and indexes, root first."""
    parts: list[Any] = []
    while node is not None:
        node, key = node
        parts.append(key)
    parts.reverse()
    return tuple(parts)


def _hidden(ctx: Context, node: PathNode) -> bool:
    """Whether a message must not quote the value at ``node``.

    Values of a Secret, and values under a key that looks sensitive (``password``,
    ``token``, ``clientSecret``...) anywhere in the path, are described by their
    type only: a message is printed, logged and uploaded, a secret must not be.
    """
    if ctx.redact:
        return True
    while node is not None:
        node, key = node
        if isinstance(key, str) and _sensitive_key(key):
            return True
    return False


@functools.cache
def _sensitive_key(name: str) -> bool:
    from homelab_kit.report._source import sensitive_key  # the text format's rule

    return sensitive_key(name)


def _report(
    ctx: Context, node: PathNode, code: ViolationCode, detail: str, at_key: bool = False
) -> None:
    path = path_of(node)
    where = display_path(path)
    message = f"{where}: {detail}" if where else detail
    ctx.errors.append(SchemaViolation(path, message, code, at_key))


# --------------------------------------------------------------------------- patterns

_RE2_CLASSES = {
    # Unicode general categories Python's re lacks, approximated outside [...] only.
    r"\PC": r"[^\x00-\x1f\x7f-\x9f]",
    r"\P{C}": r"[^\x00-\x1f\x7f-\x9f]",
    r"\pL": r"[^\W\d_]",
    r"\p{L}": r"[^\W\d_]",
    r"\pN": r"\d",
    r"\p{N}": r"\d",
    r"\pZ": r"\s",
    r"\p{Z}": r"\s",
}
_POSIX = {
    "[:alnum:]": "a-zA-Z0-9",
    "[:alpha:]": "a-zA-Z",
    "[:digit:]": "0-9",
    "[:lower:]": "a-z",
    "[:upper:]": "A-Z",
    "[:space:]": r"\s",
    "[:xdigit:]": "0-9A-Fa-f",
    "[:word:]": r"\w",
    "[:punct:]": r"!-/:-@\[-`{-~",
}


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """Compile a schema ``pattern`` (ECMA/RE2 flavoured) for Python; ``None`` if impossible."""
    with warnings.catch_warnings():
        # "Possible nested set" for POSIX classes such as [[:alpha:]]: translate those.
        warnings.simplefilter("error", FutureWarning)
        try:
            return re.compile(pattern)
        except (re.error, TypeError, ValueError, OverflowError, FutureWarning):
            pass
    # RE2 allows flags such as (?i) anywhere; Python only at the start.  Applying
    # them to the whole pattern can only make it more permissive.
    flags = 0
    for letter, flag in (("i", re.IGNORECASE), ("s", re.DOTALL), ("m", re.MULTILINE)):
        if f"(?{letter})" in pattern:
            flags |= flag
            pattern = pattern.replace(f"(?{letter})", "")
    translated = pattern.replace(r"\z", r"\Z")
    for posix, replacement in _POSIX.items():
        translated = translated.replace(posix, replacement)
    for re2, python in _RE2_CLASSES.items():
        translated = translated.replace(re2, python)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            return re.compile(translated, flags)
        except (re.error, ValueError, OverflowError):
            return None


# --------------------------------------------------------------------------- compiler

_ANNOTATIONS_ONLY = frozenset(
    {"type", "description", "title", "format", "nullable", "default", "example", "examples"}
)
_EXOTIC = frozenset(
    {
        "prefixItems",
        "contains",
        "minContains",
        "maxContains",
        "dependentSchemas",
        "dependencies",
        "unevaluatedProperties",
        "unevaluatedItems",
        "$dynamicRef",
        "$recursiveRef",
        "additionalItems",
    }
)
_OBJECT_KEYWORDS = frozenset(
    {
        "properties",
        "patternProperties",
        "additionalProperties",
        "required",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "dependentRequired",
    }
)


def _accept(value: Any, path: PathNode, ctx: Context) -> None:
    """The schema ``true`` (or one without assertions): everything is valid."""


def _reject(value: Any, path: PathNode, ctx: Context) -> None:
    _report(ctx, path, "other", "no value is allowed here")


class Compiler:
    """Turns schemas into :data:`Check` closures, sharing work between kinds.

    One compiler serves one set of schema documents (``registry``, a
    :class:`referencing.Registry` that resolves every ``$ref``).  Compiled nodes are
    memoised by identity, so the shared Kubernetes definitions (``PodSpec``,
    ``ObjectMeta``...) are compiled once for all kinds.
    """

    def __init__(self, registry: referencing.Registry[Any] | None = None) -> None:
        self.registry: referencing.Registry[Any] = (
            registry if registry is not None else referencing.Registry()
        )
        self.notes: list[str] = []
        self._memo: dict[int, tuple[Any, Check]] = {}
        self._pending: dict[int, list[Check]] = {}

    # ---------------------------------------------------------------- entry points

    def compile(self, schema: Any, base_uri: str = "") -> Check:
        """Compile ``schema``; ``$ref`` resolves against ``base_uri`` in :attr:`registry`."""
        resolver = self.registry.resolver(base_uri)
        return self._compile(schema, resolver)

    def compile_uri(self, uri: str) -> Check:
        """Compile the schema found at ``uri`` (``document#/json/pointer``)."""
        resolved = self.registry.resolver().lookup(uri)
        return self._compile(resolved.contents, resolved.resolver)

    # ---------------------------------------------------------------- recursion & memo

    def _compile(self, schema: Any, resolver: Resolver[Any]) -> Check:
        if schema is True:
            return _accept
        if schema is False:
            return _reject
        if not isinstance(schema, Mapping):
            self.notes.append(f"ignored a schema that is not an object or a boolean: {schema!r}")
            return _accept
        key = id(schema)
        hit = self._memo.get(key)
        if hit is not None:
            return hit[1]
        if key in self._pending:
            # A cycle ($ref back to an ancestor): call through the memo at run time.
            memo = self._memo

            def later(value: Any, path: PathNode, ctx: Context) -> None:
                memo[key][1](value, path, ctx)

            return later
        self._pending[key] = []
        try:
            check = self._build(schema, resolver)
        finally:
            del self._pending[key]
        self._memo[key] = (schema, check)
        return check

    def _deferred(self, schema: Any, resolver: Resolver[Any]) -> Check:
        """A check that compiles ``schema`` when first called."""
        hit = self._memo.get(id(schema))
        if hit is not None:
            return hit[1]
        cell: list[Check] = []
        compile_ = self._compile

        def deferred(value: Any, path: PathNode, ctx: Context) -> None:
            if not cell:
                cell.append(compile_(schema, resolver))
            cell[0](value, path, ctx)

        return deferred

    def _ref(self, ref: str, resolver: Resolver[Any]) -> Check:
        try:
            resolved = resolver.lookup(ref)
        except referencing.exceptions.Unresolvable as exc:
            self.notes.append(f"unresolvable $ref {ref!r} ignored ({type(exc).__name__})")
            return _accept
        return self._compile(resolved.contents, resolved.resolver)

    # ---------------------------------------------------------------- one node

    def _build(self, schema: Mapping[str, Any], resolver: Resolver[Any]) -> Check:
        if "$id" in schema and isinstance(schema["$id"], str):
            resolver = resolver.in_subresource(DRAFT202012.create_resource(schema))
        keys = schema.keys()
        ref_check = self._ref(schema["$ref"], resolver) if "$ref" in schema else None
        if ref_check is not None and not self._has_assertions(schema, ignore=("$ref",)):
            return ref_check

        type_names = self._type_names(schema)
        any_of = schema.get("anyOf")
        one_of = schema.get("oneOf")
        # anyOf/oneOf of bare types (IntOrString, Quantity) is just a wider type.
        for combinator in (any_of, one_of):
            widened = self._type_only_union(combinator)
            if widened is not None:
                type_names = (
                    widened if type_names is None else [t for t in type_names if t in widened]
                )
        if any_of is not None and self._type_only_union(any_of) is not None:
            any_of = None
        if one_of is not None and self._type_only_union(one_of) is not None:
            one_of = None
        preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True

        obj = self._object_part(schema, resolver, preserve) if keys & _OBJECT_KEYWORDS else None
        arr = self._array_part(schema, resolver)
        text = self._string_part(schema)
        num = self._number_part(schema)
        extras: list[Check] = []
        null_ok = type_names is not None and "null" in type_names
        if "enum" in schema:
            extras.append(self._enum(schema["enum"], null_ok))
        if "const" in schema:
            extras.append(self._enum([schema["const"]], null_ok))
        if ref_check is not None:
            extras.append(ref_check)
        for sub in schema.get("allOf") or ():
            extras.append(self._compile(sub, resolver))
        if any_of:
            extras.append(self._any_of([self._compile(s, resolver) for s in any_of], one=False))
        if one_of:
            extras.append(self._any_of([self._compile(s, resolver) for s in one_of], one=True))
        if "not" in schema:
            extras.append(self._not(self._compile(schema["not"], resolver)))
        if "if" in schema:
            extras.append(self._if_then_else(schema, resolver))
        fallback = self._fallback(schema)
        if fallback is not None:
            extras.append(fallback)
        return self._assemble(type_names, obj, arr, text, num, tuple(extras))

    @staticmethod
    def _has_assertions(schema: Mapping[str, Any], ignore: Sequence[str] = ()) -> bool:
        for key in schema:
            if key in ignore:
                continue
            if key in ("description", "title", "default", "examples", "example", "format"):
                continue
            if key.startswith("x-") and key not in (
                "x-kubernetes-int-or-string",
                "x-kubernetes-preserve-unknown-fields",
            ):
                continue
            if key in ("$schema", "$id", "$defs", "definitions", "$comment", "$anchor"):
                continue
            return True
        return False

    @staticmethod
    def _type_names(schema: Mapping[str, Any]) -> list[str] | None:
        raw = schema.get("type")
        names: list[str] | None
        if isinstance(raw, str):
            names = [raw]
        elif isinstance(raw, list):
            names = [t for t in raw if isinstance(t, str)]
        else:
            names = None
        nullable = schema.get("nullable") is True
        if schema.get("x-kubernetes-int-or-string") is True:
            with_null = nullable or (names is not None and "null" in names)
            names = ["integer", "string"] + (["null"] if with_null else [])
        elif nullable and names is not None and "null" not in names:
            names.append("null")
        if names is not None:
            names = [t for t in names if t in _KINDS_OF_TYPE]
        return names

    @staticmethod
    def _type_only_union(branches: Any) -> list[str] | None:
        if not isinstance(branches, list) or not branches:
            return None
        union: list[str] = []
        for branch in branches:
            if not isinstance(branch, Mapping) or "type" not in branch:
                return None
            if not set(branch) <= _ANNOTATIONS_ONLY:
                return None
            names = Compiler._type_names(branch)
            if names is None:
                return None
            union.extend(t for t in names if t not in union)
        return union

    # ---------------------------------------------------------------- assembling

    def _assemble(
        self,
        type_names: list[str] | None,
        obj: Check | None,
        arr: Check | None,
        text: Check | None,
        num: Check | None,
        extras: tuple[Check, ...],
    ) -> Check:
        if type_names is None:
            kinds: frozenset[str] | None = None
            classes: frozenset[type] = frozenset()
        else:
            kinds = frozenset(k for t in type_names for k in _KINDS_OF_TYPE[t])
            classes = frozenset(c for k in kinds for c in _CLASSES_OF_KIND[k])
        integer_only = kinds is not None and "i" in kinds and "f" not in kinds
        expected = _expected(type_names or [])
        this: list[Check] = []  # the check being built, for re-checking a substituted value

        def mismatch(value: Any, path: PathNode, ctx: Context) -> bool:
            """Handle a value whose class is not plainly accepted; True to go on checking."""
            kind = kind_of(value)
            if kinds is None or kind in kinds:
                return True
            if kind == "f" and integer_only and math.isfinite(value) and value.is_integer():
                return True
            if kind == "s":
                resolved = substitute(value, ctx.variables)
                if resolved is None:
                    return False  # an unresolved placeholder: unknowable, never an error
                if resolved is not value:
                    again = reinterpret(resolved)
                    if again is None:
                        return False
                    if kind_of(again) in kinds:
                        this[0](again, path, ctx)
                    elif "s" in kinds:
                        this[0](resolved, path, ctx)
                    else:
                        _report(
                            ctx,
                            path,
                            "type",
                            f"expected {expected}, got {describe(again, _hidden(ctx, path))} "
                            "after substituting variables",
                        )
                    return False
            got = describe(value, _hidden(ctx, path))
            _report(ctx, path, "type", f"expected {expected}, got {got}")
            return False

        if obj is None and arr is None and text is None and num is None and not extras:
            if kinds is None:
                return _accept

            def leaf_check(value: Any, path: PathNode, ctx: Context) -> None:
                if value.__class__ not in classes:
                    mismatch(value, path, ctx)

            this.append(leaf_check)
            return leaf_check

        if obj is not None and arr is None and text is None and num is None and not extras:
            check_object = obj

            def object_check(value: Any, path: PathNode, ctx: Context) -> None:
                cls = value.__class__
                if (cls is YMap or cls is dict) or (
                    (kinds is None or cls not in classes)
                    and mismatch(value, path, ctx)
                    and kind_of(value) == "o"
                ):
                    check_object(value, path, ctx)

            this.append(object_check)
            return object_check

        def any_check(value: Any, path: PathNode, ctx: Context) -> None:
            cls = value.__class__
            if cls not in classes and not mismatch(value, path, ctx):
                return
            kind = _KIND.get(cls) or kind_of(value)
            if kind == "o":
                if obj is not None:
                    obj(value, path, ctx)
            elif kind == "a":
                if arr is not None:
                    arr(value, path, ctx)
            elif kind == "s":
                if text is not None:
                    text(value, path, ctx)
            elif kind in "if" and num is not None:
                num(value, path, ctx)
            for extra in extras:
                extra(value, path, ctx)

        this.append(any_check)
        return any_check

    # ---------------------------------------------------------------- objects

    def _object_part(
        self, schema: Mapping[str, Any], resolver: Resolver[Any], preserve: bool
    ) -> Check | None:
        # Properties compile lazily, on first use: a large CRD schema costs only the
        # parts that documents actually contain.
        raw_props: Mapping[Any, Any] = schema.get("properties") or {}
        props: dict[Any, Check] = {}
        compile_ = self._compile

        def prop(name: Any) -> Check | None:
            sub = props.get(name)
            if sub is None and name in raw_props:
                sub = props[name] = compile_(raw_props[name], resolver)
            return sub

        patterns: list[tuple[re.Pattern[str], Check]] = []
        for pattern, sub in (schema.get("patternProperties") or {}).items():
            rx = compile_pattern(pattern)
            if rx is None:
                self.notes.append(f"patternProperties {pattern!r} cannot be compiled; skipped")
                continue
            patterns.append((rx, self._deferred(sub, resolver)))
        raw_additional = schema.get("additionalProperties", True)
        strict = raw_additional is False and not preserve
        additional: Check | None = None
        if isinstance(raw_additional, Mapping):
            additional = self._deferred(raw_additional, resolver)
        required = tuple(r for r in schema.get("required") or () if isinstance(r, str))
        names_check = (
            self._compile(schema["propertyNames"], resolver) if "propertyNames" in schema else None
        )
        min_props = schema.get("minProperties")
        max_props = schema.get("maxProperties")
        dependent: dict[str, list[str]] = dict(schema.get("dependentRequired") or {})
        allowed = sorted(str(name) for name in raw_props)

        def unknown(mapping: Mapping[Any, Any], key: Any, path: PathNode, ctx: Context) -> None:
            name = key if isinstance(key, str) else str(key)
            if "${" in name or name.startswith("ENC["):
                resolved = substitute(name, ctx.variables)
                if resolved is None:
                    return
                sub = prop(resolved)
                if sub is not None:
                    sub(mapping[key], (path, key), ctx)
                    return
                name = resolved
            hint = ""
            import difflib  # only to suggest a name

            close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
            if close:
                hint = f" (did you mean {close[0]!r}?)"
            parent = path_of(path)
            where = display_path((*parent, name))
            ctx.errors.append(
                SchemaViolation(
                    (*parent, key), f"unknown field {where!r}{hint}", "unknown-field", True
                )
            )

        simple = not patterns and names_check is None and not dependent
        if simple and min_props is None and max_props is None:

            def check_object(value: Mapping[Any, Any], path: PathNode, ctx: Context) -> None:
                for key, item in value.items():
                    sub = props.get(key)
                    if sub is None and key in raw_props:
                        sub = prop(key)
                    if sub is not None:
                        sub(item, (path, key), ctx)
                    elif additional is not None:
                        additional(item, (path, key), ctx)
                    elif strict:
                        sub = prop(str(key)) if key.__class__ is not str else None
                        if sub is not None:
                            sub(item, (path, key), ctx)
                        else:
                            unknown(value, key, path, ctx)
                if required:
                    for name in required:
                        if name not in value:
                            _report(ctx, path, "required", f"missing required field {name!r}", True)

            return check_object

        def check_object_full(value: Mapping[Any, Any], path: PathNode, ctx: Context) -> None:
            for key, item in value.items():
                name = key if isinstance(key, str) else str(key)
                if names_check is not None:
                    names_check(name, (path, key), ctx)
                matched = False
                sub = prop(name)
                if sub is not None:
                    sub(item, (path, key), ctx)
                    matched = True
                for rx, pattern_check in patterns:
                    if rx.search(name):
                        pattern_check(item, (path, key), ctx)
                        matched = True
                if matched:
                    continue
                if additional is not None:
                    additional(item, (path, key), ctx)
                elif strict:
                    unknown(value, key, path, ctx)
            for name in required:
                if name not in value:
                    _report(ctx, path, "required", f"missing required field {name!r}", True)
            for trigger, needed in dependent.items():
                if trigger in value:
                    for name in needed:
                        if name not in value:
                            _report(
                                ctx,
                                path,
                                "required",
                                f"missing field {name!r}, required when {trigger!r} is set",
                                True,
                            )
            if min_props is not None and len(value) < min_props:
                _report(ctx, path, "other", f"must have at least {min_props} field(s)")
            if max_props is not None and len(value) > max_props:
                _report(ctx, path, "other", f"must have at most {max_props} field(s)")

        return check_object_full

    # ---------------------------------------------------------------- arrays

    def _array_part(self, schema: Mapping[str, Any], resolver: Resolver[Any]) -> Check | None:
        raw_items = schema.get("items")
        if not isinstance(raw_items, Mapping | bool):
            raw_items = None
        min_items = schema.get("minItems")
        max_items = schema.get("maxItems")
        unique = schema.get("uniqueItems") is True
        if raw_items is None and min_items is None and max_items is None and not unique:
            return None
        # Draft 2020-12: with ``prefixItems``, ``items`` is for the items after them
        # (``prefixItems`` itself is checked by :meth:`_fallback`).
        prefix = schema.get("prefixItems")
        first = len(prefix) if isinstance(prefix, list) else 0
        cell: list[Check | None] = []  # the items check, compiled on first use
        compile_ = self._compile

        def check_array(value: Sequence[Any], path: PathNode, ctx: Context) -> None:
            if raw_items is not None and len(value) > first:
                if not cell:
                    compiled = compile_(raw_items, resolver)
                    cell.append(None if compiled is _accept else compiled)
                items = cell[0]
                if items is not None:
                    for index in range(first, len(value)):
                        items(value[index], (path, index), ctx)
            if min_items is not None and len(value) < min_items:
                detail = f"must have at least {min_items} item(s), got {len(value)}"
                _report(ctx, path, "other", detail)
            if max_items is not None and len(value) > max_items:
                detail = f"must have at most {max_items} item(s), got {len(value)}"
                _report(ctx, path, "other", detail)
            if unique:
                for index, item in enumerate(value):
                    if any(json_equal(item, earlier) for earlier in value[:index]):
                        _report(ctx, (path, index), "other", "duplicates an earlier item")

        return check_array

    # ---------------------------------------------------------------- scalars

    def _string_part(self, schema: Mapping[str, Any]) -> Check | None:
        pattern = schema.get("pattern")
        rx = None
        if isinstance(pattern, str):
            rx = compile_pattern(pattern)
            if rx is None:
                self.notes.append(f"pattern {pattern!r} cannot be compiled by Python; skipped")
        min_len = schema.get("minLength")
        max_len = schema.get("maxLength")
        if rx is None and min_len is None and max_len is None:
            return None

        def failures(value: str) -> list[tuple[ViolationCode, str]]:
            found: list[tuple[ViolationCode, str]] = []
            if rx is not None and rx.search(value) is None:
                found.append(("pattern", f"does not match the pattern {pattern}"))
            if min_len is not None and len(value) < min_len:
                found.append(("other", f"must be at least {min_len} character(s) long"))
            if max_len is not None and len(value) > max_len:
                found.append(("other", f"must be at most {max_len} character(s) long"))
            return found

        def check_string(value: str, path: PathNode, ctx: Context) -> None:
            if (rx is None or rx.search(value) is not None) and (
                (min_len is None or len(value) >= min_len)
                and (max_len is None or len(value) <= max_len)
            ):
                return
            resolved = substitute(value, ctx.variables)
            if resolved is None:
                return
            shown = "" if _hidden(ctx, path) else f"{short(resolved)} "
            for code, detail in failures(resolved):
                _report(ctx, path, code, f"{shown}{detail}")

        return check_string

    def _number_part(self, schema: Mapping[str, Any]) -> Check | None:
        minimum = schema.get("minimum")
        maximum = schema.get("maximum")
        ex_min = schema.get("exclusiveMinimum")
        ex_max = schema.get("exclusiveMaximum")
        multiple = schema.get("multipleOf")
        # draft-04/OpenAPI: exclusiveMinimum is a boolean modifier of minimum.
        if ex_min is True:
            ex_min, minimum = minimum, None
        elif ex_min is False:
            ex_min = None
        if ex_max is True:
            ex_max, maximum = maximum, None
        elif ex_max is False:
            ex_max = None
        bounds = [b for b in (minimum, maximum, ex_min, ex_max, multiple) if b is not None]
        if not bounds or not all(isinstance(b, int | float) for b in bounds):
            return None

        def check_number(value: float, path: PathNode, ctx: Context) -> None:
            failed: list[str] = []
            if minimum is not None and value < minimum:
                failed.append(f"must be at least {minimum}")
            if maximum is not None and value > maximum:
                failed.append(f"must be at most {maximum}")
            if ex_min is not None and value <= ex_min:
                failed.append(f"must be greater than {ex_min}")
            if ex_max is not None and value >= ex_max:
                failed.append(f"must be less than {ex_max}")
            if multiple and not _is_multiple(value, multiple):
                failed.append(f"must be a multiple of {multiple}")
            if failed:
                got = describe(value, True) if _hidden(ctx, path) else str(value)
                for detail in failed:
                    _report(ctx, path, "other", f"{detail}, got {got}")

        return check_number

    @staticmethod
    def _enum(values: Any, null_ok: bool) -> Check:
        options = list(values) if isinstance(values, list) else [values]
        strings = frozenset(v for v in options if isinstance(v, str))
        listed = ", ".join(str(v) for v in options[:12]) + (
            f" (and {len(options) - 12} more)" if len(options) > 12 else ""
        )

        def allowed(value: Any) -> bool:
            if value.__class__ is str:
                return value in strings
            return any(json_equal(value, option) for option in options)

        def check_enum(value: Any, path: PathNode, ctx: Context) -> None:
            if allowed(value) or (value is None and null_ok):
                return
            if isinstance(value, str):
                resolved = substitute(value, ctx.variables)
                if resolved is None or (resolved is not value and allowed(resolved)):
                    return
                value = resolved
            hidden = _hidden(ctx, path)
            if len(options) == 1:
                detail = f"must be {options[0]!r}; got {describe(value, hidden)}"
            else:
                got = describe(value, hidden) if not isinstance(value, str) else short(value)
                if hidden and isinstance(value, str):
                    got = "a string"
                detail = f"must be one of {listed}; got {got}"
            _report(ctx, path, "enum", detail)

        return check_enum

    # ---------------------------------------------------------------- combinators

    @staticmethod
    def _any_of(branches: list[Check], one: bool) -> Check:
        def check_any(value: Any, path: PathNode, ctx: Context) -> None:
            outcomes: list[list[SchemaViolation]] = []
            passed = 0
            for branch in branches:
                trial = ctx.fork()
                branch(value, path, trial)
                if not trial.errors:
                    passed += 1
                    if not one:
                        return
                outcomes.append(trial.errors)
            if one and passed == 1:
                return
            if one and passed > 1:
                _report(ctx, path, "other", "matches more than one of the allowed alternatives")
                return
            here = path_of(path)
            # Alternatives that each require a different field: name them all.
            missing = [
                e.message.rsplit("missing required field ", 1)[1]
                for errs in outcomes
                for e in errs
                if e.code == "required"
                and e.path == here
                and "missing required field " in e.message
            ]
            if len(missing) == len(outcomes) and all(len(errs) == 1 for errs in outcomes):
                _report(
                    ctx, path, "required", f"missing one of the fields {', '.join(missing)}", True
                )
                return
            # Prefer the alternative whose type fitted: its errors are the useful ones.
            fitting = [
                errs
                for errs in outcomes
                if not any(e.path == here and e.code == "type" for e in errs)
            ]
            if fitting:
                best = fitting[0]
                for errs in fitting[1:]:
                    if len(errs) < len(best):
                        best = errs
                ctx.errors.extend(best)
                return
            _report(
                ctx,
                path,
                "type",
                f"{describe(value, _hidden(ctx, path))} fits none of the allowed alternatives",
            )

        return check_any

    @staticmethod
    def _not(inner: Check) -> Check:
        def check_not(value: Any, path: PathNode, ctx: Context) -> None:
            trial = ctx.fork()
            inner(value, path, trial)
            if not trial.errors:
                _report(ctx, path, "other", "matches a schema it must not match")

        return check_not

    def _if_then_else(self, schema: Mapping[str, Any], resolver: Resolver[Any]) -> Check:
        condition = self._compile(schema["if"], resolver)
        then = self._compile(schema["then"], resolver) if "then" in schema else None
        otherwise = self._compile(schema["else"], resolver) if "else" in schema else None

        def check_if(value: Any, path: PathNode, ctx: Context) -> None:
            trial = ctx.fork()
            condition(value, path, trial)
            branch = otherwise if trial.errors else then
            if branch is not None:
                branch(value, path, ctx)

        return check_if

    def _fallback(self, schema: Mapping[str, Any]) -> Check | None:
        exotic = {k: schema[k] for k in schema if k in _EXOTIC}
        if isinstance(schema.get("items"), list):
            exotic["items"] = schema["items"]
        if not exotic:
            return None
        import jsonschema  # only schemas with exotic keywords need it

        legacy = "items" in exotic or "dependencies" in exotic or "additionalItems" in exotic
        cls = jsonschema.Draft7Validator if legacy else jsonschema.Draft202012Validator
        try:
            validator = cls(exotic, registry=self.registry)
        except Exception as exc:  # a broken schema must not stop validation
            self.notes.append(f"keywords {sorted(exotic)} skipped: {exc}")
            return None
        notes = self.notes

        def check_exotic(value: Any, path: PathNode, ctx: Context) -> None:
            try:
                errors = list(validator.iter_errors(value))
            except (referencing.exceptions.Unresolvable, jsonschema.exceptions.SchemaError) as exc:
                notes.append(f"keywords {sorted(exotic)} skipped: {exc}")
                return
            base = path_of(path)
            for error in errors:
                full = base + tuple(error.absolute_path)
                where = display_path(full)
                message = f"{where}: {error.message}" if where else error.message
                ctx.errors.append(SchemaViolation(full, message, "other"))

        return check_exotic


def _is_multiple(value: float, divisor: float) -> bool:
    if isinstance(value, int) and isinstance(divisor, int):
        return value % divisor == 0
    quotient = value / divisor
    return math.isfinite(quotient) and abs(quotient - round(quotient)) < 1e-9


def _expected(type_names: Sequence[str]) -> str:
    names = [t for t in _TYPE_ORDER if t in type_names]
    if "integer" in names and "number" in names:
        names.remove("integer")
    shown = [t for t in names if t != "null"] or names
    if not shown:
        return "nothing"
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " or " + shown[-1]
