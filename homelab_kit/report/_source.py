"""Source lines for the text format: each file read once, and no secret value ever shown.

A finding in a GitOps repository often points into a file that holds secrets: a
plaintext ``Secret``, a SOPS file, a Talos secrets bundle, an ``env`` entry named
``DB_PASSWORD``.  The text format quotes the offending line, so it must never
quote a value from such a place.  :func:`redact` decides, line by line and
conservatively (hiding too much is fine, too little is not):

* In a *secret-bearing file* every value is hidden.  A file is secret-bearing
  when it declares ``kind: Secret`` anywhere, has a ``sops:`` key, holds a PEM
  private key, or is named like one (``*.sops.yaml``, ``secret.yaml``,
  ``.env``, ``*.pem``, ``*.key``...).
* Anywhere else, a value is hidden when its key, or the key of any enclosing
  mapping, is ``data``/``stringData`` or looks sensitive (``password``,
  ``token``, ``secret``, ``apiKey``, ``privateKey``, ``auth``...), when it is the
  ``value`` of an item whose ``name``/``key`` looks sensitive (``env`` entries),
  when an ``export NAME=value`` line has a sensitive name, or when the line holds
  something that is a credential whatever its key (a URL with a password, a PEM
  block, a SOPS ``ENC[...]`` value, a GitHub or Slack token, a JWT).

A hidden value is shown as ``***`` after the key (``password: ***``); a line that
has no recognisable key, or that is the content of a block scalar whose value is
hidden, becomes ``***`` after its indentation.  Keys are never secret.

Lines cannot see flow style (``{kind: Secret, stringData: {password: x}}`` on one
line), so the same rules are applied to the parsed file as well
(:func:`hidden_columns`): a value found there to be secret is hidden from its
column to the end of its line, and a value that runs over several lines hides them
all.  What either way hides stays hidden.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import attrs

from homelab_kit.yaml import YMap, YSeq, parse_text

MASK = "***"
MAX_FILE_BYTES = 4 * 1024 * 1024
_BINARY_SNIFF = 8192

_SECRET_KIND = re.compile(  # block style, or inside a flow mapping ({kind: Secret, ...})
    r"""(?:^|[{,])[ \t]*["']?kind["']?[ \t]*:[ \t]*["']?Secret["']?[ \t]*"""
    r"""(?:[,}][^\n]*|\#.*)?$""",
    re.MULTILINE,
)
_SOPS_KEY = re.compile(r"""^[ \t]*["']?sops["']?[ \t]*:""", re.MULTILINE)
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_SECRET_NAME = re.compile(
    r"(?:^|[._-])(?:secrets?|sops|enc|talsecret|credentials?)(?:[._-]|$)"
    r"|^\.env(?:\..*)?$|\.env$|\.(?:pem|key|p12|pfx|jks|kdbx)$|^talosconfig$|^kubeconfig",
    re.IGNORECASE,
)
_SENSITIVE_KEY = re.compile(
    r"passw|passphrase|(?:^|[-_.])pass(?:$|[-_.])|secret|token|credential|private|auth|bearer"
    r"|cookie|salt|key$|api[-_.]?key|access[-_.]?key|dsn$|connection[-_.]?string"
    r"|dockerconfig|htpasswd|kubeconfig|talosconfig",
    re.IGNORECASE,
)
# Environment variables are named in capitals without separators as often as with
# them (DBPASS, ADMIN_PWD, APIKEY): any of these anywhere in an env entry's name.
_SENSITIVE_ENV_NAME = re.compile(r"pwd|pass|token|key|secret|credential|auth|private", re.I)
_ENV_STYLE = re.compile(r"[A-Z][A-Z0-9_]*")
# A key inside a flow collection ("{a: 1, password: x}"), for lines the parser
# could not read: the structure is unknown, the line still is.
_FLOW_PAIR = re.compile(
    r"""[{\[,][ \t]*(?P<key>"[^"\n]{0,100}"|'[^'\n]{0,100}'|[A-Za-z0-9_./@$-]{1,100})"""
    r"""[ \t]*:(?:[ \t]+|(?=[,}\]]))"""
)
_DATA_KEYS = frozenset({"data", "stringData"})
_ENV_VALUE_KEYS = frozenset({"value"})
_ENV_NAME_KEYS = frozenset({"name", "key", "envVar", "variable"})

# "  - key:" / '"key":' — a key we may show.  Unquoted keys are restricted to the
# characters Kubernetes, Helm and Talos keys use, so that a value in a block scalar
# ("my passphrase is: x") is never mistaken for a key.
_KEY_LINE = re.compile(
    r"""^(?P<lead>[ \t]*(?:-[ \t]+)*)"""
    r"""(?P<key>"[^"\\\n]{1,100}"|'[^'\n]{1,100}'|[A-Za-z0-9_./@$-]{1,100})"""
    r"""[ \t]*:(?=[ \t]|$)"""
)
_ENV_LINE = re.compile(r"^(?P<lead>[ \t]*(?:export[ \t]+)?)(?P<key>[A-Za-z_][A-Za-z0-9_.]{0,99})=")
_DASH_LINE = re.compile(r"^[ \t]*(?:-(?:[ \t]+|$))+")
_BLOCK_SCALAR = re.compile(r"^(?:[!&]\S*[ \t]+)*[|>][0-9+-]*[ \t]*(?:#.*)?$")
# Values that are credentials whatever their key: a URL with a password, a PEM
# block, a SOPS-encrypted value, well-known token prefixes, a JWT.
_CREDENTIAL_VALUE = re.compile(
    r"://[^/\s:@]+:[^/\s@]+@|-----BEGIN |\bENC\[|\bAGE-SECRET-KEY-"
    r"|\b(?:ghp|gho|ghu|ghs|ghr|github_pat|glpat|xox[abposr])[-_][A-Za-z0-9_]{10,}"
    r"|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
)


@attrs.frozen
class SourceLine:
    """A line as the text format may show it.

    :param text: the line, with any secret value replaced by ``***``.
    :param verbatim: how many leading characters of ``text`` are the file's own;
        the rest (if any) is the mask.
    """

    text: str
    verbatim: int

    @property
    def redacted(self) -> bool:
        """Whether part of the line was hidden."""
        return self.verbatim < len(self.text)


@attrs.frozen
class _Key:
    name: str
    column: int  # 0-based index where the key starts
    end: int  # 0-based index just past the colon
    rest: str  # what follows the colon


class SourceCache:
    """Reads each file under ``root`` at most once and hands out redacted lines.

    Files outside the root (through ``..``, an absolute path or a symbolic link),
    files that are not regular files, larger than :data:`MAX_FILE_BYTES`, binary
    or unreadable have no lines: the text format then shows none.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._resolved_root: Path | None = None
        self._files: dict[str, _File | None] = {}

    def line(self, path: str, number: int) -> SourceLine | None:
        """Line ``number`` (1-based) of ``path``, redacted; None when not available."""
        if number <= 0:
            return None
        if path not in self._files:
            self._files[path] = self._read(path)
        source = self._files[path]
        if source is None or number > len(source.lines):
            return None
        return source.redactor.line(number - 1)

    def raw_lines(self, path: str) -> list[str] | None:
        """Every line of ``path`` as written, for positions only: never to be shown."""
        if path not in self._files:
            self._files[path] = self._read(path)
        source = self._files[path]
        return source.lines if source is not None else None

    def _read(self, path: str) -> _File | None:
        relative = PurePosixPath(path)
        if not path or relative.is_absolute() or ".." in relative.parts:
            return None
        try:
            if self._resolved_root is None:
                self._resolved_root = self._root.resolve()
            full = (self._resolved_root / relative).resolve()
            if not full.is_relative_to(self._resolved_root) or not full.is_file():
                return None
            with full.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except (OSError, ValueError, RuntimeError):
            return None
        if len(data) > MAX_FILE_BYTES or b"\0" in data[:_BINARY_SNIFF]:
            return None
        text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return _File(lines, Redactor(relative.name, text))


@attrs.frozen
class _File:
    lines: list[str]
    redactor: Redactor


class Redactor:
    """The lines of one file's text as they may be shown, secret values hidden.

    Both ways of seeing the file apply: line by line (:func:`redact`) and from its
    parsed structure (:func:`hidden_columns`); a line shows the least of the two.
    """

    def __init__(self, name: str, text: str) -> None:
        self.lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        secret, self._hidden = hidden_columns(text)
        self._whole_file = secret or is_secret_bearing(name, text)

    def line(self, index: int) -> SourceLine:
        """Line ``index`` (0-based), redacted."""
        shown = redact(self.lines, index, whole_file=self._whole_file)
        line = self.lines[index]
        column = min(
            (c for c in (self._hidden.get(index), _flow_hidden(line)) if c is not None),
            default=None,
        )
        if column is None or column >= shown.verbatim:
            return shown
        if not line[:column].strip():
            return _mask_all(line)
        return SourceLine(line[:column] + MASK, column)

    def text(self, index: int) -> str:
        """Line ``index`` (0-based) as it may be shown."""
        return self.line(index).text


def _flow_hidden(line: str) -> int | None:
    """Where a flow collection on ``line`` starts a value that may be secret, if it does.

    The line-by-line view of :func:`hidden_columns`, for files that do not parse:
    a sensitive key's value, and an item's ``value`` when a sensitive ``name`` or
    ``key`` is on the same line.
    """
    if "{" not in line and "[" not in line:
        return None
    named: bool | None = None
    for match in _FLOW_PAIR.finditer(line):
        key = match["key"].strip("\"'")
        if key in _DATA_KEYS or sensitive_key(key):
            return match.end()
        if key in _ENV_VALUE_KEYS:
            if named is None:
                named = any(
                    m["key"].strip("\"'") in _ENV_NAME_KEYS
                    and sensitive_env_name(line[m.end() :].split(",")[0].split("}")[0])
                    for m in _FLOW_PAIR.finditer(line)
                )
            if named:
                return match.end()
    return None


def hidden_columns(text: str) -> tuple[bool, dict[int, int]]:
    """What the parsed ``text`` says must be hidden.

    Returns whether a document is a ``Secret`` or a SOPS file (every value of the
    file is then hidden), and ``{0-based line: 0-based column}`` from which each
    line holding a secret value must be hidden (values under ``data``/
    ``stringData`` or a sensitive key, and the ``value`` of an item whose ``name``
    or ``key`` looks sensitive, such as an ``env`` entry).
    """
    documents, _problems = parse_text(text)
    hidden: dict[int, int] = {}
    secret = False
    for document in documents:
        data = document.data
        if isinstance(data, YMap) and (data.get("kind") == "Secret" or "sops" in data):
            secret = True
        starts = sorted(_starts(data))
        for line, column, value in _secret_values(data):
            _hide(hidden, starts, line, column, value, document.end_line)
    lines = text.split("\n")
    for index in list(hidden):
        if index >= len(lines):
            del hidden[index]
    return secret, hidden


def _starts(data: Any) -> Iterator[tuple[int, int]]:
    """The 1-based position of every node of a document (keys too)."""
    stack, seen = [data], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, YMap):
            yield node.line, node.column
            for key, marks in node.marks.items():
                yield marks[0], marks[1]
                yield marks[2], marks[3]
                stack.append(node.get(key))
        elif isinstance(node, YSeq):
            yield node.line, node.column
            yield from node.item_marks
            stack.extend(node)


def _secret_values(data: Any) -> Iterator[tuple[int, int, Any]]:
    """``(line, column, value)`` of every scalar that may be secret (1-based)."""
    stack: list[tuple[Any, bool]] = [(data, False)]
    seen: set[tuple[int, bool]] = set()
    while stack:
        node, hide = stack.pop()
        if (id(node), hide) in seen:
            continue
        seen.add((id(node), hide))
        if isinstance(node, YMap):
            named = next((node[k] for k in _ENV_NAME_KEYS if isinstance(node.get(k), str)), "")
            for key, value in node.items():
                marks = node.marks.get(key)
                secret = hide or (
                    isinstance(key, str)
                    and (
                        key in _DATA_KEYS
                        or sensitive_key(key)
                        or (key in _ENV_VALUE_KEYS and sensitive_env_name(named))
                    )
                )
                if isinstance(value, YMap | YSeq):
                    stack.append((value, secret))
                elif secret and marks is not None and value is not None:
                    yield marks[2], marks[3], value
        elif isinstance(node, YSeq):
            for item, (line, column) in zip(node, node.item_marks, strict=False):
                if isinstance(item, YMap | YSeq):
                    stack.append((item, hide))
                elif hide and item is not None:
                    yield line, column, item


def _hide(
    hidden: dict[int, int],
    starts: list[tuple[int, int]],
    line: int,
    column: int,
    value: Any,
    end_line: int,
) -> None:
    """Hide a value from ``(line, column)`` to where the next node starts."""
    if line <= 0:
        return
    index = line - 1
    hidden[index] = min(hidden.get(index, column - 1), max(column - 1, 0))
    following = bisect.bisect_right(starts, (line, column))
    stop = starts[following][0] if following < len(starts) else end_line + 1
    # Lines before the next node are the value's own (a block scalar, a quoted or
    # plain scalar over several lines, comments): hidden whole.
    for later in range(line, stop - 1):
        hidden[later] = 0
    if stop > line and following < len(starts) and "\n" in str(value):
        hidden[stop - 1] = 0  # the value's last line may also hold the next node


def is_secret_bearing(name: str, text: str) -> bool:
    """Whether every value of a file must be hidden (see the module docstring)."""
    return bool(
        _SECRET_NAME.search(name)
        or _SECRET_KIND.search(text)
        or _SOPS_KEY.search(text)
        or _PRIVATE_KEY.search(text)
    )


def sensitive_key(name: str) -> bool:
    """Whether a key (or an environment variable's name) suggests a secret value.

    A key in capitals (``DB_PWD:`` in a values file's ``env`` map, a Flux
    ``postBuild.substitute`` variable) is an environment variable's name, and is
    judged as one (:func:`sensitive_env_name`).
    """
    return bool(_SENSITIVE_KEY.search(name)) or (
        _ENV_STYLE.fullmatch(name) is not None and sensitive_env_name(name)
    )


def sensitive_env_name(name: str) -> bool:
    """Whether an environment variable's name suggests a secret (``*PWD``, ``*PASS*``...)."""
    return bool(_SENSITIVE_KEY.search(name) or _SENSITIVE_ENV_NAME.search(name))


def redact(lines: list[str], index: int, *, whole_file: bool = False) -> SourceLine:
    """Line ``index`` (0-based) of ``lines`` with any value that may be secret hidden."""
    line = lines[index]
    own = _key(line)
    hide_from_above = whole_file
    in_block_scalar = False
    for parent in _ancestors(lines, index):
        if parent.name in _DATA_KEYS or sensitive_key(parent.name):
            hide_from_above = True
        if _BLOCK_SCALAR.match(parent.rest.strip()):
            in_block_scalar = True
    if hide_from_above and in_block_scalar:
        # Content of a hidden block scalar: even what looks like a key is value.
        return _mask_all(line)
    hide = hide_from_above or bool(_CREDENTIAL_VALUE.search(line))
    if own is None:
        env = _ENV_LINE.match(line)
        hide = hide or (env is not None and sensitive_env_name(env["key"]))
    elif not in_block_scalar:
        hide = hide or own.name in _DATA_KEYS or sensitive_key(own.name)
        hide = hide or (own.name in _ENV_VALUE_KEYS and _sensitive_sibling(lines, index, own))
    else:
        hide = hide or sensitive_key(own.name)
    if not hide:
        return SourceLine(line, len(line))
    return _mask(line, own)


def _key(line: str) -> _Key | None:
    match = _KEY_LINE.match(line)
    if match is None or line.lstrip().startswith("#"):
        return None
    name = match["key"]
    if name[0] in "\"'":
        name = name[1:-1]
    return _Key(name, match.start("key"), match.end(), line[match.end() :])


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _skippable(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _ancestors(lines: list[str], index: int) -> list[_Key]:
    """The keys of the lines enclosing line ``index``, nearest first, within its document."""
    found: list[_Key] = []
    current = lines[index]
    target = _indent(current) if current.strip() else len(current) + 1
    for j in range(index - 1, -1, -1):
        line = lines[j]
        if line.startswith(("---", "...")):
            break
        if _skippable(line):
            continue
        indent = _indent(line)
        if indent >= target:
            continue
        key = _key(line)
        if key is not None:
            found.append(key)
        target = indent
        if indent == 0:
            break
    return found


def _sensitive_sibling(lines: list[str], index: int, own: _Key) -> bool:
    """Whether ``value:`` belongs to an item whose ``name:`` or ``key:`` looks sensitive."""

    def sensitive_name(key: _Key) -> bool:
        value = key.rest.split(" #", 1)[0].strip().strip("\"'")
        return key.name in _ENV_NAME_KEYS and sensitive_env_name(value)

    for j in range(index - 1, -1, -1):  # up to the item's first key
        line = lines[j]
        if line.startswith(("---", "...")):
            break
        if _skippable(line):
            continue
        key = _key(line)
        if key is not None and key.column == own.column:
            if sensitive_name(key):
                return True
            if _DASH_LINE.match(line):
                break
        elif _indent(line) < own.column:
            break
    for j in range(index + 1, len(lines)):  # down to the item's end
        line = lines[j]
        if line.startswith(("---", "...")):
            break
        if _skippable(line):
            continue
        if _indent(line) < own.column:
            break
        key = _key(line)
        if key is not None and key.column == own.column and sensitive_name(key):
            return True
    return False


def _mask(line: str, own: _Key | None) -> SourceLine:
    if own is not None and not _CREDENTIAL_VALUE.search(line[: own.end]):
        if not own.rest.strip():
            return SourceLine(line, len(line))  # "data:" — nothing to hide
        return SourceLine(f"{line[: own.end]} {MASK}", own.end)
    env = _ENV_LINE.match(line)
    if env is not None and not _CREDENTIAL_VALUE.search(line[: env.end()]):
        return SourceLine(line[: env.end()] + MASK, env.end())
    return _mask_all(line)


def _mask_all(line: str) -> SourceLine:
    if line.strip() in ("", "---", "..."):  # blank, or a document marker
        return SourceLine(line, len(line))
    dash = _DASH_LINE.match(line)
    keep = dash.end() if dash is not None else _indent(line)
    prefix = line[:keep]
    if dash is not None and not prefix.endswith((" ", "\t")):
        prefix += " "
    return SourceLine(prefix + MASK, keep)
