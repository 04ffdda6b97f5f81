"""Who is calling or writing, and which kommune answers for them."""

from __future__ import annotations

from dataclasses import dataclass

from rota.model import FosterHome, Group, Kommune, Organisation, Person, Team


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
