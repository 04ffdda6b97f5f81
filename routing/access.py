"""Who may read which contacts: the scope of an API token (and, later, a console login).

An `admin` reads every kommune, and contacts with no kommune; a `koordinator` reads
the kommuner of their scope and nothing else. Pure: the caller loads the token and the
register and hands them in.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypeGuard

Role = Literal["admin", "koordinator"]
ROLES: tuple[Role, ...] = ("admin", "koordinator")

DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=365)
_LIFETIME = re.compile(r"([0-9]{1,4})([dw])")


class GrantError(ValueError):
    """A token cannot be granted as asked; the message says why (English)."""


def is_role(text: str) -> TypeGuard[Role]:
    return text in ROLES


@dataclass(frozen=True, slots=True)
class Scope:
    """The kommuner a reader may see. A koordinator with no kommuner sees nothing."""

    role: Role
    kommuner: frozenset[str] = frozenset()

    def allows(self, kommune: str | None) -> bool:
        """May this reader see a contact of `kommune`? One with no kommune (an unknown
        caller on an unknown line) belongs to no koordinator: only an admin sees it."""
        if self.role == "admin":
            return True
        return kommune is not None and kommune in self.kommuner

    def list_kommuner(self, requested: str | None) -> frozenset[str] | None:
        """The kommuner a list may show, for an optional `kommune=` filter; None means
        no restriction (an admin without a filter). A filter outside the scope gives the
        empty set: the list is empty, exactly as for a kommune without contacts."""
        if requested is not None:
            return frozenset({requested}) if self.allows(requested) else frozenset()
        return None if self.role == "admin" else self.kommuner


ADMIN = Scope("admin")


def grant_scope(role: str, kommuner: Sequence[str], known: Collection[str]) -> Scope:
    """The scope of a new token: an admin has every kommune and names none; a
    koordinator names one or more kommuner of the register."""
    if not is_role(role):
        raise GrantError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    if role == "admin":
        if kommuner:
            raise GrantError("an admin token reads every kommune: give no --kommune")
        return ADMIN
    if not kommuner:
        raise GrantError("a koordinator token needs one or more --kommune ID")
    unknown = sorted({k for k in kommuner if k not in known})
    if unknown:
        raise GrantError(
            f"unknown kommune {', '.join(map(repr, unknown))}: "
            f"expected one of {', '.join(sorted(known)) or '(none loaded)'}"
        )
    return Scope(role, frozenset(kommuner))


def token_lifetime(text: str | None) -> timedelta:
    """How long a new token lives: `90d` by default, written as days or weeks (`30d`,
    `12w`), at most a year, so every token is renewed by someone who still needs it."""
    if text is None:
        return DEFAULT_LIFETIME
    match = _LIFETIME.fullmatch(text.strip().lower())
    if match is None:
        raise GrantError(f"--expires-in: expected days or weeks, e.g. 90d or 12w, got {text!r}")
    lifetime = timedelta(days=int(match[1]) * (7 if match[2] == "w" else 1))
    if not timedelta(0) < lifetime <= MAX_LIFETIME:
        raise GrantError(f"--expires-in: must be from 1d to {MAX_LIFETIME.days}d, got {text!r}")
    return lifetime
