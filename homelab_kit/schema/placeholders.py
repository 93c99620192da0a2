"""Values the validator cannot judge as written: Flux ``${VAR}`` placeholders and SOPS ciphertext.

Flux's ``postBuild.substitute`` replaces ``${VAR}`` in the *text* of a manifest before it
is parsed again, so ``replicas: ${REPLICAS}`` becomes an integer in the cluster while the
file holds a string.  The validator therefore never reports a type, enum, pattern or
length error for a string that still contains an unresolved placeholder; when the
variables are known it substitutes them (as Flux does) and judges the result.

SOPS-encrypted values (``ENC[AES256_GCM,data:...,type:int]``) are opaque in the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from homelab_kit.yaml.reader import resolve_plain

# Flux supports only the braced form; the bash operators it accepts that matter for a
# value are the defaults (${var:=x}, ${var:-x}, ${var=x}, ${var-x}).  Anything fancier
# (${var/a/b}, ${var:1:2}) is left unresolved and therefore never judged.
_VARIABLE = re.compile(r"\$\{([_a-zA-Z][_a-zA-Z0-9]*)(?:(:?[=-])([^}]*))?\}")
_ANY_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


def is_opaque(value: str) -> bool:
    """Whether ``value`` cannot be judged as written (a placeholder or SOPS ciphertext)."""
    return "${" in value or (value.startswith("ENC[") and value.endswith("]"))


def substitute(value: str, variables: Mapping[str, str] | None) -> str | None:
    """``value`` with its ``${VAR}`` placeholders replaced, as Flux would.

    Returns ``None`` when a placeholder remains that ``variables`` cannot resolve (or
    when ``value`` is SOPS ciphertext): such a value is unknowable before reconciliation.
    A value without placeholders is returned unchanged.
    """
    if value.startswith("ENC[") and value.endswith("]"):
        return None
    if "${" not in value:
        return value
    if variables is None:
        return None
    unresolved = False

    def replace(match: re.Match[str]) -> str:
        nonlocal unresolved
        name, operator, default = match.groups()
        if name in variables:
            found = str(variables[name])
            if operator in (":=", ":-") and found == "":
                return str(default)
            return found
        if operator is not None:
            return str(default)
        unresolved = True
        return match.group(0)

    result = _VARIABLE.sub(replace, value)
    if unresolved or _ANY_PLACEHOLDER.search(result):
        return None
    return result


def reinterpret(text: str) -> Any:
    """What a substituted plain scalar becomes when Flux parses the manifest again.

    ``"5"`` becomes ``5`` and ``"true"`` becomes ``True``; text that would parse as a
    mapping or sequence is returned as ``None`` to mean "cannot tell".
    """
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        return None
    return resolve_plain(stripped)
