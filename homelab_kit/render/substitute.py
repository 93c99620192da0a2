"""Flux postBuild variable substitution, as kustomize-controller does it.

Flux serialises each built object to YAML, runs its ``envsubst`` over the text
(:mod:`homelab_kit.render.envsubst`) and parses the result again.  The YAML is
kustomize's, written from JSON: the quotes of the source are gone by then
(kustomize#4845, kustomize-controller#625), so ``port: "${PORT}"`` with
``PORT=8080`` becomes the integer 8080 just as ``port: ${PORT}`` does, and a value
like ``on`` or ``1.20`` changes type the way YAML 1.1 reads it.  We emulate this on
the object trees: a string that the emitter writes as a plain scalar (whatever its
source style) is re-read as one after substitution; keys, multi-line strings and
strings the emitter must quote stay strings.

Differences from Flux, on purpose: an unset variable is never replaced by ``""``;
it is left as written and reported in :attr:`SubstitutionResult.unresolved`.  Values
never appear in errors or warnings, only variable names.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from homelab_kit.errors import HomelabKitError
from homelab_kit.render._docs import QuotedStr, deep_copy
from homelab_kit.render.envsubst import SubstitutionSyntaxError, expand
from homelab_kit.yaml import parse_text

DISABLE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
VARIABLE_NAME = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")


@attrs.frozen
class SubstitutionResult:
    """Objects after substitution, the variables that were needed but unset, errors.

    ``errors`` name objects whose text Flux could not substitute (a ``${`` it cannot
    parse, or YAML that no longer parses); such objects are returned unchanged.
    """

    objects: tuple[dict[str, Any], ...] = attrs.field(repr=False)
    unresolved: frozenset[str] = frozenset()
    errors: tuple[str, ...] = ()


def check_variable_names(names: Iterable[str]) -> None:
    """Raise :class:`HomelabKitError` for a name Flux refuses (it fails the whole build)."""
    for name in names:
        if not VARIABLE_NAME.match(name):
            raise HomelabKitError(
                f"variable name {name!r} is invalid: it must match {VARIABLE_NAME.pattern}"
            )


def _disabled(obj: Mapping[str, Any]) -> bool:
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping):
        return False
    for field in ("labels", "annotations"):
        values = meta.get(field)
        if isinstance(values, Mapping) and values.get(DISABLE_KEY) == "disabled":
            return True
    return False


def _label(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    return f"{obj.get('kind', '?')}/{name or '?'}"


def substitute_objects(
    objects: Iterable[Mapping[str, Any]],
    variables: Mapping[str, str],
    *,
    always: bool = False,
    copy: bool = True,
) -> SubstitutionResult:
    """Apply Flux postBuild substitution with ``variables`` to ``objects``.

    Objects labelled or annotated ``kustomize.toolkit.fluxcd.io/substitute: disabled``
    are left alone.  With no variables at all Flux skips substitution entirely (even
    ``$$`` stays), and so do we, unless ``always``: Flux has variables we cannot read
    (a SOPS-encrypted Secret, an object the repository does not hold), so defaults
    apply and every other variable is reported unresolved.

    ``copy``: the objects returned share nothing with ``objects`` (the default);
    with ``copy=False`` only what substitution changes is new (copy on write): an
    object or a subtree without a variable is returned as it is, for a caller that
    owns ``objects`` and drops them.

    :raises HomelabKitError: for a variable name Flux would refuse.

    >>> result = substitute_objects([{"kind": "X", "spec": {"port": "${PORT}"}}], {"PORT": "80"})
    >>> result.objects[0]["spec"]["port"], result.unresolved
    (80, frozenset())
    """
    check_variable_names(variables)

    def unchanged(obj: Mapping[str, Any]) -> dict[str, Any]:
        return deep_copy(dict(obj)) if copy or type(obj) is not dict else obj

    if not variables and not always:
        return SubstitutionResult(tuple(unchanged(o) for o in objects))
    walk = _walk if copy else _walk_shared
    unresolved: set[str] = set()
    errors: list[str] = []
    out: list[dict[str, Any]] = []
    for obj in objects:
        if _disabled(obj):
            out.append(unchanged(obj))
            continue
        if not copy and type(obj) is dict and not _has_dollar(obj):
            out.append(obj)  # nothing to substitute: no walk (most objects)
            continue
        missing: set[str] = set()
        try:
            new = walk(obj, variables, missing)  # new containers where needed
        except _Failure as failure:
            errors.append(f"{_label(obj)}: {failure}")
            out.append(unchanged(obj))
            continue
        unresolved |= missing
        out.append(new)
    return SubstitutionResult(tuple(out), frozenset(unresolved), tuple(errors))


class _Failure(Exception):
    pass


def _has_dollar(obj: dict[str, Any]) -> bool:
    """Whether a ``$`` may be in a key or string of ``obj`` (its JSON, written in C,
    is far cheaper than a walk in Python; anything JSON cannot write: assume so)."""
    try:
        return "$" in _JSON.encode(obj)
    except (TypeError, ValueError, RecursionError):
        return True


_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False)


def _walk(value: Any, variables: Mapping[str, str], missing: set[str]) -> Any:
    if isinstance(value, dict):
        return {
            (_string(k, variables, missing, as_key=True) if isinstance(k, str) else k): _walk(
                v, variables, missing
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_walk(v, variables, missing) for v in value]
    if isinstance(value, str):
        return _string(value, variables, missing)
    return value


def _walk_shared(value: Any, variables: Mapping[str, str], missing: set[str]) -> Any:
    """:func:`_walk`, returning ``value`` itself when nothing in it changes.

    Scalars are handled inline (most are strings without ``$``): one call per
    container, not per node.
    """
    if isinstance(value, dict):
        out: dict[Any, Any] | None = None
        for index, (key, item) in enumerate(value.items()):
            new_key = key
            if isinstance(key, str) and "$" in key:
                new_key = _string(key, variables, missing, as_key=True)
            if isinstance(item, str):
                new_item = _string(item, variables, missing) if "$" in item else item
            elif isinstance(item, dict | list):
                new_item = _walk_shared(item, variables, missing)
            else:
                new_item = item
            if out is None:
                if new_key is key and new_item is item:
                    continue
                out = dict(itertools.islice(value.items(), index))
            out[new_key] = new_item
        return value if out is None else out
    if isinstance(value, list):
        result: list[Any] | None = None
        for index, item in enumerate(value):
            if isinstance(item, str):
                new_item = _string(item, variables, missing) if "$" in item else item
            elif isinstance(item, dict | list):
                new_item = _walk_shared(item, variables, missing)
            else:
                new_item = item
            if result is None:
                if new_item is item:
                    continue
                result = value[:index]
            result.append(new_item)
        return value if result is None else result
    if isinstance(value, str):
        return _string(value, variables, missing)
    return value


def _string(
    text: str, variables: Mapping[str, str], missing: set[str], as_key: bool = False
) -> Any:
    if "$" not in text:
        return text
    try:
        new, unset = expand(text, variables)
    except SubstitutionSyntaxError as exc:
        raise _Failure(f"variable substitution failed: {exc}") from None
    missing |= unset
    if new == text:
        return text
    if as_key or "\n" in text or not _emitted_plain(text):
        return QuotedStr(new)
    return _reread_plain(new)


_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")


def _emitted_plain(text: str) -> bool:
    """Whether a YAML emitter writes ``text`` (a string with ``$``) as a plain scalar."""
    if not text or text != text.strip() or text[0] in _INDICATORS:
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    return all(ch.isprintable() for ch in text)


_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
_FALSE = frozenset({"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$")


def _go_parse_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``: prefixes 0x, 0o, 0b and a leading 0 (octal)."""
    sign = 1
    body = text
    if body[:1] in "+-":
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if not body:
        return None
    base = 10
    lower = body.lower()
    if lower.startswith("0x"):
        base, body = 16, body[2:]
    elif lower.startswith("0o"):
        base, body = 8, body[2:]
    elif lower.startswith("0b"):
        base, body = 2, body[2:]
    elif body.startswith("0") and len(body) > 1:
        base, body = 8, body[1:]
    if not body or not all(c in "0123456789abcdef"[:base] for c in body.lower()):
        return None
    value = sign * int(body, base)
    if not -(2**63) <= value < 2**63:
        return None
    return value


def _reread_plain(text: str) -> Any:
    """Read ``text`` as a plain YAML 1.1 scalar, as Flux's YAML-to-JSON step does."""
    if text != text.strip() or (text and text[0] in _INDICATORS) or ": " in text or " #" in text:
        return _reread_structure(text)
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text[:1] in "0123456789+-.":
        plain = text.replace("_", "")
        number = _go_parse_int(plain)
        if number is not None:
            return number
        if _FLOAT.match(plain):
            result = float(plain)
            if result.is_integer() and abs(result) < 1e21:
                return int(result)
            return result
        if _DATE.match(text):
            year, month, day = (int(p) for p in text.split("-"))
            return f"{year:04d}-{month:02d}-{day:02d}T00:00:00Z"
    return text


def _reread_structure(text: str) -> Any:
    documents, problems = parse_text(f"value: {text}\n", "<substituted>")
    if problems or not documents or not isinstance(documents[0].data, dict):
        raise _Failure("the substituted text is no longer valid YAML")
    value = documents[0].data.get("value")
    return deep_copy(value)


def collect_variables(
    substitute: Mapping[str, Any] | None,
    substitute_from_objects: Iterable[Mapping[str, Any]] = (),
) -> dict[str, str]:
    """The variables of a Flux Kustomization's ``spec.postBuild``.

    :param substitute: ``spec.postBuild.substitute`` (inline values; they win).
    :param substitute_from_objects: the ConfigMaps and Secrets that
        ``spec.postBuild.substituteFrom`` names, in that order (later ones win).
        ConfigMap ``data``, Secret ``data`` (base64-decoded) and ``stringData``.
    :returns: name -> value, with newlines removed from values as Flux does.
    :raises HomelabKitError: for an invalid name, a non-string value, or Secret data
        that is not base64 (the message names the key, never the value).
    """
    variables: dict[str, str] = {}
    for obj in substitute_from_objects:
        label = _label(obj)
        if obj.get("kind") == "Secret":
            data = obj.get("data")
            for key, raw in data.items() if isinstance(data, Mapping) else ():
                try:
                    decoded = base64.b64decode(str(raw or ""), validate=True).decode("utf-8")
                except (binascii.Error, UnicodeDecodeError, ValueError):
                    raise HomelabKitError(
                        f"{label}: data key {key!r} is not base64-encoded UTF-8 text"
                    ) from None
                variables[str(key)] = decoded.replace("\n", "")
            string_data = obj.get("stringData")
            for key, raw in string_data.items() if isinstance(string_data, Mapping) else ():
                variables[str(key)] = _value(raw, label, key).replace("\n", "")
        else:
            data = obj.get("data")
            for key, raw in data.items() if isinstance(data, Mapping) else ():
                variables[str(key)] = _value(raw, label, key).replace("\n", "")
    for key, raw in (substitute or {}).items():
        variables[str(key)] = _value(raw, "spec.postBuild.substitute", key).replace("\n", "")
    check_variable_names(variables)
    return variables


def _value(raw: Any, where: str, key: Any) -> str:
    if isinstance(raw, str):
        return raw
    if raw is None:
        return ""
    raise HomelabKitError(f"{where}: the value of {key!r} must be a string")
