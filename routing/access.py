"""Who may read which contacts: the scope of an API token or of a console login.

An `admin` reads every kommune, and contacts with no kommune; a `koordinator` reads
the kommuner of their scope and nothing else; a `vakt` (console only) the kommuner their
teams serve. Pure: the caller loads the token or the register and hands them in.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypeGuard

from rota.model import Organisation

Role = Literal["admin", "koordinator", "vakt"]
TokenRole = Literal["admin", "koordinator"]
#: The roles an API token may carry; `vakt` is a console role only.
ROLES: tuple[TokenRole, ...] = ("admin", "koordinator")

DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=365)
_LIFETIME = re.compile(r"([0-9]{1,4})([dw])")


class GrantError(ValueError):
    """A token cannot be granted as asked; the message says why (English)."""


def is_role(text: str) -> TypeGuard[TokenRole]:
    """Is `text` a role an API token may carry?"""
    return text in ROLES


@dataclass(frozen=True, slots=True)
class Scope:
    """The kommuner a reader may see. A koordinator or vakt with no kommuner sees nothing."""

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


def console_scope(org: Organisation, person_id: str) -> Scope | None:
    """What a person may see in the console, None when they may not log in.

    Their `[[access]]` entry decides; without one, a team member is a vakt. A vakt sees
    the kommuner their teams serve (the kommuner whose duties and conversations they can
    be part of), whether the role is their entry's or implicit."""
    person = next((p for p in org.people if p.id == person_id), None)
    if person is None:
        return None
    entry = next((a for a in org.access if a.person == person_id), None)
    if entry is not None and entry.role == "admin":
        return ADMIN
    if entry is not None and entry.role == "koordinator":
        return Scope("koordinator", frozenset(entry.kommuner))
    if entry is None and not person.teams:
        return None
    teams = set(person.teams)
    return Scope("vakt", frozenset(k for t in org.teams if t.id in teams for k in t.kommuner))


def visible_kommuner(org: Organisation, scope: Scope) -> tuple[str, ...]:
    """The register's kommuner this scope may see, in register order."""
    return tuple(k.id for k in org.kommuner if scope.allows(k.id))


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
