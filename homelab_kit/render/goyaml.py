"""What kustomize's YAML round trip does to a folded (``>``) block scalar.

kustomize writes every object to YAML with go-yaml v3 and reads it back (its JSON
conversion goes through that text), and go-yaml v3's emitter has a bug in folded
scalars: before it writes a line break after a line that does not start with a
space, it looks at the *first* line of the value instead of the next one to decide
whether an extra break is needed (``k := 0`` where libyaml has the current
position).  A folded value such as::

    expression: >-
      object.spec.containers.exists(c,
        c.image.startsWith("docker.io/")
      )

therefore comes back from ``kubectl kustomize`` (and from Flux, which builds the same
way) with an empty line after its first line.  :func:`kustomize_folded` reproduces
that emitter step by step and reads the text back, so the renderer applies what
Flux applies.  Values go-yaml would not write as a block scalar (trailing space, a
space before a line break, control characters) are written quoted and come back
unchanged.
"""

from __future__ import annotations

from functools import lru_cache

from homelab_kit.yaml import parse_text

_BLANK = " \t"


def _printable(ch: str) -> bool:
    code = ord(ch)
    return (
        ch == "\n"
        or 0x20 <= code <= 0x7E
        or code == 0x85
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
        or 0x10000 <= code <= 0x10FFFF
    )


def _block_allowed(value: str) -> bool:
    """go-yaml's ``analyze_scalar``: may ``value`` be written as a block scalar?"""
    if not value or value.endswith(" ") or " \n" in value:
        return False
    return all(ch == "\t" or _printable(ch) for ch in value)


def _emit_folded(value: str) -> str:
    """The ``key: >`` document go-yaml v3 writes for ``value`` (indent 2, no wrapping)."""
    header = ">"
    if value[0] in " \n":
        header += "2"
    if not value.endswith("\n"):
        header += "-"
    elif len(value) >= 2 and value[-2] == "\n":
        header += "+"
    out = [f"k: {header}\n"]
    first = 0
    while first < len(value) and value[first] == "\n":
        first += 1
    # the bug: go-yaml tests the value's first non-break character, not the next line's
    extra_break = first < len(value) and value[first] not in _BLANK
    breaks = True
    leading_spaces = True
    for ch in value:
        if ch == "\n":
            if not breaks and not leading_spaces and extra_break:
                out.append("\n")
            out.append("\n")
            breaks = True
        else:
            if breaks:
                out.append("  ")
                leading_spaces = ch in _BLANK
            out.append(ch)
            breaks = False
    return "".join(out)


@lru_cache(maxsize=1024)
def kustomize_folded(value: str) -> str:
    """The value a folded scalar holding ``value`` has after kustomize's round trip."""
    if (
        "\n" not in value
        or not _block_allowed(value)
        or any(c in value for c in "\r\x85\u2028\u2029")
    ):
        return value
    documents, problems = parse_text(_emit_folded(value), "<go-yaml>")
    if problems or not documents or not isinstance(documents[0].data, dict):
        return value
    result = documents[0].data.get("k")
    return result if isinstance(result, str) else value
