"""Flux's ``envsubst``: the ``${...}`` language of postBuild substitution.

A re-implementation of the grammar of ``github.com/fluxcd/pkg/envsubst`` (Flux's
fork of drone/envsubst), which kustomize-controller runs over each object's YAML:

* ``${VAR}``; ``$VAR`` without braces is plain text;
* ``$$`` is an escaped ``$`` (``$${VAR}`` gives the text ``${VAR}``);
* defaults ``${VAR:=word}``, ``${VAR=word}``, ``${VAR:-word}``, ``${VAR:+word}``,
  ``${VAR:?word}`` (all of them: the value when set and non-empty, else ``word``);
* ``${#VAR}``, ``${VAR,}``, ``${VAR,,}``, ``${VAR^}``, ``${VAR^^}``, ``${VAR:1:2}``,
  ``${VAR#p}``, ``${VAR##p}``, ``${VAR%p}``, ``${VAR%%p}``, ``${VAR/a/b}``,
  ``${VAR//a/b}``, ``${VAR/#a/b}``, ``${VAR/%a/b}``;
* anything else after ``${`` is a syntax error (``${VAR-x}``, ``${a.b}``, ``${}``).

Unlike Flux, an unset variable is never replaced by ``""``: :func:`expand` leaves
the whole ``${...}`` as written and reports the name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs


class SubstitutionSyntaxError(ValueError):
    """The text has a ``${`` that Flux cannot parse (Flux fails the whole build)."""


@attrs.frozen
class _Func:
    name: str  # "" for a plain ${VAR}
    param: str
    args: tuple[tuple[_Node, ...], ...]
    source: str


_Node = str | _Func

_DEFAULT_OPS = frozenset({"=", ":=", ":-", ":+", ":?", "-", "+", "?"})


def _is_ident(ch: str) -> bool:
    return ch.isalpha() or ch.isdigit() or ch == "_"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def at_open(self) -> bool:
        return self.peek() == "$" and self.peek(1) == "{"

    def parse(self) -> list[_Node]:
        nodes: list[_Node] = []
        buffer: list[str] = []
        while self.pos < len(self.text):
            if self.at_open():
                if buffer:
                    nodes.append("".join(buffer))
                    buffer = []
                start = self.pos
                self.pos += 2
                nodes.append(self.func(start))
            elif self.peek() == "$" and self.peek(1) == "$":
                buffer.append("$")
                self.pos += 2
            else:
                # Literal text up to the next ``$`` (after this one) in one step.
                end = self.text.find("$", self.pos + 1)
                end = len(self.text) if end < 0 else end
                buffer.append(self.text[self.pos : end])
                self.pos = end
        if buffer:
            nodes.append("".join(buffer))
        return nodes

    def fail(self, message: str) -> SubstitutionSyntaxError:
        return SubstitutionSyntaxError(message)

    def ident(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and _is_ident(self.text[self.pos]):
            self.pos += 1
        return self.text[start : self.pos]

    def close(self, start: int, name: str, param: str, args: list[tuple[_Node, ...]]) -> _Func:
        if self.peek() != "}":
            raise self.fail("bad substitution")
        self.pos += 1
        return _Func(name, param, tuple(args), self.text[start : self.pos])

    def func(self, start: int) -> _Func:
        if self.peek() == "#":
            self.pos += 1
            param = self.ident()
            if not param:
                raise self.fail("bad substitution")
            return self.close(start, "#", param, [])
        param = self.ident()
        if not param:
            raise self.fail("unable to parse variable name")
        ch = self.peek()
        if ch == ":" and self.peek(1) in ("=", "-", "?", "+"):
            name = ":" + self.peek(1)
            self.pos += 2
            return self.default(start, name, param)
        if ch == "=":
            self.pos += 1
            return self.default(start, "=", param)
        if ch == ":":
            self.pos += 1
            return self.substr(start, param)
        if ch in (",", "^"):
            name = ch
            self.pos += 1
            if self.peek() == ch:
                name += ch
                self.pos += 1
            return self.close(start, name, param, [])
        if ch in ("#", "%"):
            name = ch
            self.pos += 1
            if self.peek() == ch:
                name += ch
                self.pos += 1
            arg = self.param(lambda c: c != "}")
            return self.close(start, name, param, [arg])
        if ch == "/":
            return self.replace(start, param)
        if ch != "}":
            raise self.fail("missing closing brace")
        self.pos += 1
        return _Func("", param, (), self.text[start : self.pos])

    def param(self, accept: object, escapes: bool = False) -> tuple[_Node, ...]:
        """One argument: a nested ``${...}`` or text up to a rejected character."""
        assert callable(accept)
        if self.at_open():
            begin = self.pos
            self.pos += 2
            return (self.func(begin),)
        buffer: list[str] = []
        while self.pos < len(self.text):
            ch = self.peek()
            if self.at_open():
                break
            if escapes and ch == "$" and self.peek(1) == "$":
                buffer.append("$")
                self.pos += 2
                continue
            if escapes and ch == "\\" and self.peek(1) in ("/", "\\"):
                buffer.append(self.peek(1))
                self.pos += 2
                continue
            if not accept(ch):
                break
            buffer.append(ch)
            self.pos += 1
        if not buffer:
            raise self.fail("unable to parse substitution within function")
        return ("".join(buffer),)

    def default(self, start: int, name: str, param: str) -> _Func:
        args: list[tuple[_Node, ...]] = []
        while True:
            if self.peek() == "}":
                return self.close(start, name, param, args)
            args.append(self.param(lambda c: c != "}"))

    def substr(self, start: int, param: str) -> _Func:
        args = [self.param(lambda c: c not in ":}")]
        if self.peek() == ":":
            self.pos += 1
            args.append(self.param(lambda c: c != "}"))
        return self.close(start, ":", param, args)

    def replace(self, start: int, param: str) -> _Func:
        self.pos += 1
        name = "/"
        if self.peek() in ("/", "#", "%"):
            name += self.peek()
            self.pos += 1
        args: list[tuple[_Node, ...]] = []
        if self.peek() == "/":
            args.append(("",))
        else:
            args.append(self.param(lambda c: c != "/", escapes=True))
        if self.peek() != "/":
            raise self.fail("bad substitution")
        self.pos += 1
        if self.peek() == "}":
            return self.close(start, name, param, args)
        args.append(self.param(lambda c: c != "}", escapes=True))
        return self.close(start, name, param, args)


def parse(text: str) -> list[_Node]:
    """Parse ``text``; raises :class:`SubstitutionSyntaxError` as Flux would fail."""
    return _Parser(text).parse()


def _glob(pattern: str) -> re.Pattern[str]:
    """Go's ``path.Match`` pattern as a regular expression."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        ch = pattern[index]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and index + 1 < len(pattern):
            index += 1
            out.append(re.escape(pattern[index]))
        elif ch == "[":
            end = pattern.find("]", index + 1)
            if end < 0:
                raise ValueError("bad pattern")
            body = pattern[index + 1 : end]
            if body.startswith("^"):
                body = "^" + body[1:].replace("\\", "\\\\")
            else:
                body = body.replace("\\", "\\\\")
            out.append(f"[{body}]")
            index = end
        else:
            out.append(re.escape(ch))
        index += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def _trim(value: str, pattern: str, longest: bool, suffix: bool) -> str:
    try:
        regex = _glob(pattern)
    except (ValueError, re.error):
        return value
    candidates = range(len(value), -1, -1) if longest else range(len(value) + 1)
    for size in candidates:
        part = value[len(value) - size :] if suffix else value[:size]
        if size and regex.match(part):
            return value[: len(value) - size] if suffix else value[size:]
    return value


def _substr(value: str, args: list[str]) -> str:
    try:
        pos = int(args[0])
    except (ValueError, IndexError):
        return value
    if pos < 0:
        pos = max(len(value) + pos, 0)
    if len(args) == 1:
        return value[pos:]
    try:
        length = int(args[1])
    except ValueError:
        return value
    if length < 0:
        end = len(value) + length
        return "" if end < pos else value[pos:end]
    return value[pos : pos + length]


def _apply(name: str, value: str, args: list[str]) -> str:
    if name in _DEFAULT_OPS or name == "":
        return value if value or not args else "".join(args)
    if name == "#" and not args:
        return str(len(value.encode("utf-8")))
    if name == ",":
        return value[:1].lower() + value[1:]
    if name == ",,":
        return value.lower()
    if name == "^":
        return value[:1].upper() + value[1:]
    if name == "^^":
        return value.upper()
    if name in ("#", "##", "%", "%%"):
        return _trim(value, args[0], len(name) == 2, name[0] == "%")
    if name == ":":
        return _substr(value, args)
    old = args[0] if args else ""
    new = args[1] if len(args) > 1 else ""
    if name == "/":
        return value.replace(old, new, 1)
    if name == "//":
        return value.replace(old, new)
    if name == "/#":
        return new + value[len(old) :] if len(args) == 2 and value.startswith(old) else value
    if name == "/%":
        return (
            value[: len(value) - len(old)] + new
            if len(args) == 2 and value.endswith(old)
            else value
        )
    return value


def _eval(
    nodes: tuple[_Node, ...] | list[_Node], variables: Mapping[str, str], unresolved: set[str]
) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
            continue
        missing_before = len(unresolved)
        args = [_eval(arg, variables, unresolved) for arg in node.args]
        if node.param not in variables:
            if node.name in _DEFAULT_OPS:
                out.append("".join(args))
            else:
                unresolved.add(node.param)
                out.append(node.source)
            continue
        if len(unresolved) != missing_before and not (
            node.name in _DEFAULT_OPS and variables[node.param]
        ):
            out.append(node.source)
            continue
        out.append(_apply(node.name, variables[node.param], args))
    return "".join(out)


def expand(text: str, variables: Mapping[str, str]) -> tuple[str, frozenset[str]]:
    """Substitute ``variables`` into ``text`` as Flux does, keeping unset ones as written.

    :returns: the new text and the names of variables that were needed but unset.
    :raises SubstitutionSyntaxError: for text Flux cannot parse.

    >>> expand("${A}-${B:=b}-$${C}-${D}", {"A": "a"})
    ('a-b-${C}-${D}', frozenset({'D'}))
    """
    unresolved: set[str] = set()
    result = _eval(parse(text), variables, unresolved)
    return result, frozenset(unresolved)
