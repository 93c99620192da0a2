"""What a failed schema check looks like: a path into the object, a sentence and a code."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import attrs

from homelab_kit.yaml import key_position_of, position_of

#: Every code a :class:`SchemaViolation` can carry.
#:
#: ``unknown-field``  a key the schema does not allow (a typo, usually);
#: ``type``           a value of the wrong JSON type;
#: ``required``       a required field is missing (or the object has no apiVersion/kind);
#: ``enum``           a value outside the allowed set;
#: ``pattern``        a string that does not match the schema's regular expression;
#: ``other``          any other constraint (lengths, bounds, oneOf, ...);
#: ``no-schema``      no schema is known for the kind, so nothing was checked.
ViolationCode = Literal[
    "unknown-field", "type", "required", "enum", "pattern", "other", "no-schema"
]

Path = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_$-]+\Z")


@attrs.frozen
class SchemaViolation:
    """One way an object breaks its schema.

    ``path`` leads from the document root to the offending value (mapping keys and
    list indexes).  ``message`` is one sentence that names the field and says what
    the schema expects.  When ``at_key`` is true the diagnostic belongs on the
    mapping *key* at ``path`` (an unknown field, or the mapping that lacks a
    required field) rather than on its value; :meth:`position` applies that rule.
    """

    path: Path
    message: str
    code: ViolationCode
    at_key: bool = False

    def position(self, root: Any) -> tuple[int, int] | None:
        """1-based (line, column) of the violation inside ``root`` (a parsed document).

        ``None`` when ``root`` carries no positions (plain dicts).
        """
        if self.at_key:
            return key_position_of(root, self.path)
        return position_of(root, self.path)


def display_path(path: Path) -> str:
    """A path as people write it: ``spec.containers[0].env["MY.VAR"]``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out.append(f"[{part}]")
        elif isinstance(part, str) and _PLAIN_KEY.match(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{json.dumps(str(part), ensure_ascii=False)}]")
    return "".join(out)
