"""Findings: what a check reports, ordered by where they are."""

from __future__ import annotations

import enum
from typing import Any

import attrs

from homelab_kit.location import Location


class Severity(enum.IntEnum):
    """How serious a finding is. Higher is worse; ``--fail-on`` compares these."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """``"error"``/``"warning"``/``"info"`` (any case) to a Severity."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (choose from {choices})") from None


@attrs.frozen
class Edit:
    """Replace the value at ``key_path`` of document ``document`` in ``path``.

    ``value`` is plain data; ``None`` with ``delete=True`` removes the key.  Fixes
    are applied through round-trip YAML editing, so comments and layout survive.
    """

    path: str
    document: int
    key_path: tuple[str | int, ...]
    value: Any = None
    delete: bool = False


SAFE = "safe"
UNSAFE = "unsafe"


@attrs.frozen
class Fix:
    """An automatic fix a check offers: a short description and its edits.

    ``applicability`` is ruff's: a ``safe`` fix keeps what the owner meant and is
    applied by ``lint --fix``; an ``unsafe`` one may change how the cluster behaves
    (a deliberate ``prune: false``, waiting where nothing waited) and is applied only
    with ``--unsafe-fixes``.
    """

    description: str
    edits: tuple[Edit, ...]
    applicability: str = attrs.field(default=SAFE, validator=attrs.validators.in_((SAFE, UNSAFE)))

    @property
    def safe(self) -> bool:
        return self.applicability == SAFE


@attrs.frozen(order=False)
class Diagnostic:
    """One finding.

    :param location: where the problem is.
    :param check_id: the stable ID of the check that found it (``flux-ks-prune``).
    :param message: one sentence saying what is wrong; never a secret value.
    :param severity: how serious it is (the configured severity, after overrides).
    :param remediation: what to do about it, in one short sentence.
    :param fix: an automatic fix, when the check has an unambiguous one.
    :param cluster: the cluster the finding is about, when the repository has several
        and the finding is not the same in all of them (None otherwise).
    """

    location: Location
    check_id: str
    message: str
    severity: Severity = Severity.ERROR
    remediation: str = ""
    fix: Fix | None = attrs.field(default=None, eq=False)
    cluster: str | None = None

    def sort_key(self) -> tuple[Location, str, str, str]:
        return (self.location, self.check_id, self.message, self.cluster or "")

    @property
    def labelled_message(self) -> str:
        """The message as people read it: ``[cluster main] ...`` when it names a cluster."""
        return f"[cluster {self.cluster}] {self.message}" if self.cluster else self.message

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Diagnostic):
            return NotImplemented
        return self.sort_key() < other.sort_key()

    def __str__(self) -> str:
        return f"{self.location}: {self.severity} [{self.check_id}] {self.labelled_message}"
