"""Who is calling or writing, which kommune answers for them, and whom to reach.

Calls and messages start the same way (`route_contact`): identify the caller, take the
on-duty chain of their kommune at that instant, and never nobody: without a chain, the
fallback number alone. The caller's channel then freezes that chain as its plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rota.engine import Rota
from rota.model import (
    ChainEntry,
    FosterHome,
    Group,
    Kommune,
    Organisation,
    Person,
    Team,
    fallback_entry,
)


@dataclass(frozen=True, slots=True)
class Caller:
    """An identified caller: their foster home (None when unknown) and kommune."""

    kommune: Kommune | None
    foster_home: FosterHome | None

    @property
    def known(self) -> bool:
        return self.foster_home is not None


class Directory:
    """Lookups by phone number over one organisation; build once, query many."""

    def __init__(self, org: Organisation) -> None:
        self.kommuner = {k.id: k for k in org.kommuner}
        self.homes_by_phone = {phone: home for home in org.foster_homes for phone in home.phones}
        self.kommune_by_number = {n: k for k in org.kommuner for n in k.numbers}
        self.helpline_numbers = frozenset(self.kommune_by_number)
        self.people = {p.id: p for p in org.people}
        self.people_by_phone: dict[str, Person] = {p.phone: p for p in org.people}
        self.teams_by_duty_phone: dict[str, Team] = {
            t.duty_phone: t for t in org.teams if t.duty_phone
        }
        self.homes = {h.id: h for h in org.foster_homes}
        self.groups = {g.id: g for g in org.groups}
        self.groups_by_number = {g.number: g for g in org.groups if g.number}
        self.network_number = org.helpline.network_number
        homes_groups: dict[str, list[Group]] = {}
        for group in org.groups:
            for home in group.homes:
                homes_groups.setdefault(home, []).append(group)
        self._groups_of_home = {home: tuple(groups) for home, groups in homes_groups.items()}
        self._first = org.kommuner[0] if org.kommuner else None

    def groups_of(self, home_id: str) -> tuple[Group, ...]:
        """The groups a foster home belongs to, as hub or member, in file order."""
        return self._groups_of_home.get(home_id, ())

    def identify(self, caller: str | None, dialled: str | None, default: str | None) -> Caller:
        """A known foster home belongs to its kommune; an unknown caller to the kommune
        owning the dialled number, else the configured default, else the first kommune.
        Unknown callers are still helped: this never fails."""
        home = self.homes_by_phone.get(caller) if caller else None
        if home is not None:
            return Caller(self.kommuner.get(home.kommune), home)
        kommune = self.kommune_by_number.get(dialled) if dialled else None
        if kommune is None and default is not None:
            kommune = self.kommuner.get(default)
        return Caller(kommune or self._first, None)


@dataclass(frozen=True, slots=True)
class Routed:
    """A new contact: who it is from, their kommune, and the chain to reach (never empty)."""

    kommune: Kommune | None
    foster_home: FosterHome | None
    chain: tuple[ChainEntry, ...]


def conversation_line(routed: Routed, dialled: str) -> str:
    """The helpline number a conversation speaks from: the one written to, else the
    kommune's first ("" when neither is known: the service's first number then)."""
    kommune = routed.kommune
    return dialled or (kommune.numbers[0] if kommune and kommune.numbers else "")


def route_contact(
    directory: Directory,
    rota: Rota,
    caller: str | None,
    dialled: str | None,
    default_kommune: str | None,
    at: datetime,
    home: FosterHome | None = None,
) -> Routed:
    """Identify who calls or writes (`home` when the channel already knows the foster home,
    as a linked Telegram chat does) and the on-duty chain of their kommune at `at`."""
    who = directory.identify(caller, dialled, default_kommune)
    kommune = who.kommune
    if home is not None:
        kommune = directory.kommuner.get(home.kommune, kommune)
    else:
        home = who.foster_home
    chain = rota.on_duty(kommune.id, at) if kommune else ()
    if not chain:  # no kommune at all: still never nobody
        chain = (fallback_entry(rota.org.helpline.fallback_phone),)
    return Routed(kommune, home, chain)
