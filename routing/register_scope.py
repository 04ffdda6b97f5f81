"""Which register entries a console user sees and edits, and the Register's search.

Pure: the organisation and the user's scope in, entries out. An admin sees everything.
A koordinator sees their kommuner, the teams serving any of them (a shared barnevernvakt
too: it is on duty for them), those teams' people, and the foster homes and groups of
their kommuner. A vakt has no Register (the console answers 404): they reach foster homes
through the conversations they are part of, and the whole list is more than their job
needs. Only foster homes of their kommuner may a koordinator add, edit or deactivate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rota.model import FosterHome, Group, Kommune, Organisation, Person, Team
from routing.access import Scope

_NOT_DIGIT = re.compile(r"\D+")
#: A search with at least this many digits also looks in phone numbers.
_PHONE_DIGITS = 3


@dataclass(frozen=True, slots=True)
class RegisterView:
    kommuner: tuple[Kommune, ...]
    teams: tuple[Team, ...]
    people: tuple[Person, ...]
    foster_homes: tuple[FosterHome, ...]
    groups: tuple[Group, ...]

    @property
    def count(self) -> int:
        return sum(
            map(len, (self.kommuner, self.teams, self.people, self.foster_homes, self.groups))
        )


def has_register(scope: Scope) -> bool:
    """May this user open the Register at all?"""
    return scope.role in ("admin", "koordinator")


def may_load_files(scope: Scope) -> bool:
    """Import and export of the whole rota file: admins only. The file is every kommune's
    register (export would show a koordinator other kommuner's foster homes), and it
    carries `[helpline]` and `[[access]]` (a koordinator's import could make them admin)."""
    return scope.role == "admin"


def may_edit_home(scope: Scope, home: FosterHome) -> bool:
    return has_register(scope) and scope.allows(home.kommune)


def visible_register(org: Organisation, scope: Scope) -> RegisterView:
    """The entries `scope` may see, in register order; nothing for a vakt."""
    if not has_register(scope):
        return RegisterView((), (), (), (), ())
    teams = tuple(t for t in org.teams if any(scope.allows(k) for k in t.kommuner))
    team_ids = {t.id for t in teams}
    people = tuple(p for p in org.people if scope.role == "admin" or team_ids.intersection(p.teams))
    return RegisterView(
        kommuner=tuple(k for k in org.kommuner if scope.allows(k.id)),
        teams=teams,
        people=people,
        foster_homes=tuple(h for h in org.foster_homes if scope.allows(h.kommune)),
        groups=tuple(g for g in org.groups if scope.allows(g.kommune)),
    )


def search(view: RegisterView, query: str) -> RegisterView:
    """The entries whose id or name contains `query` (case-insensitive), or whose phone
    numbers contain its digits (from three digits on: `912 34` finds +4791234567)."""
    text = query.strip().casefold()
    if not text:
        return view
    digits = _NOT_DIGIT.sub("", text)

    def hit(id_: str, name: str, *phones: str | None) -> bool:
        if text in id_.casefold() or text in name.casefold():
            return True
        return len(digits) >= _PHONE_DIGITS and any(p and digits in p for p in phones)

    return RegisterView(
        kommuner=tuple(k for k in view.kommuner if hit(k.id, k.name, *k.numbers)),
        teams=tuple(t for t in view.teams if hit(t.id, t.name, t.duty_phone)),
        people=tuple(p for p in view.people if hit(p.id, p.name, p.phone)),
        foster_homes=tuple(h for h in view.foster_homes if hit(h.id, h.name, *h.phones)),
        groups=tuple(g for g in view.groups if hit(g.id, g.name, g.number)),
    )
