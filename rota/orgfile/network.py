"""Reading the network: `[[group]]` entries, and the dialled numbers they share with the
helpline.

A number that is dialled (a kommune's helpline number, the network number, a group's own
number) must lead one way only, so every such number is claimed once, by one entry.
"""

from __future__ import annotations

from collections.abc import Collection

from rota.model import Group, GroupKind
from rota.orgfile.table import Entry, unknown
from rota.phones import mask_phone, normalise_phone

_GROUP_KINDS: tuple[GroupKind, ...] = ("ressursfamilie", "nettverk")


class NumberClaims:
    """Which entry owns each dialled number; a second owner is an error on its entry."""

    def __init__(self) -> None:
        self._owner: dict[str, str] = {}  # number -> owner, e.g. "kommune 'asker'"

    def claim(self, entry: Entry, key: str, numbers: list[str], owner: str) -> None:
        for index, number in enumerate(numbers):
            first = self._owner.setdefault(number, owner)
            if first != owner:
                entry.error(key, f"{mask_phone(number)} is already claimed by {first}")
            elif number in numbers[:index]:
                entry.error(key, f"{mask_phone(number)} is listed twice")


class GroupReader:
    """Reads `[[group]]` entries against the register read before them."""

    def __init__(
        self,
        kommuner: Collection[str],
        homes: Collection[str],
        people: Collection[str],
        numbers: NumberClaims,
    ) -> None:
        self.kommuner = kommuner
        self.homes = homes
        self.people = people
        self.numbers = numbers
        self.ids: set[str] = set()

    def group(self, entry: Entry) -> Group | None:
        id_ = entry.text("id")
        if id_ is not None and id_ in self.ids:
            entry.error("id", f"duplicate id {id_!r}: another group already uses it")
        name = entry.text("name")
        kind = self.kind(entry)
        kommune = entry.text("kommune")
        if kommune is not None and kommune not in self.kommuner:
            entry.error("kommune", unknown("kommune", kommune, self.kommuner))
        hub = self.hub(entry, kind)
        members = self.members(entry, kind, hub)
        staff = entry.texts("staff")
        if staff == []:
            entry.error("staff", "must list at least one person who follows the group")
        self.distinct_refs(entry, "staff", "person", staff or [], self.people)
        number = entry.parsed("number", normalise_phone, required=False)
        if id_ is None:
            return None
        self.ids.add(id_)
        if number is not None:
            self.numbers.claim(entry, "number", [number], f"group {id_!r}")
        if name is None or kind is None or kommune is None or members is None or not staff:
            return None
        if kind == "ressursfamilie" and hub is None:
            return None
        return Group(id_, name, kind, kommune, hub, tuple(members), tuple(staff), number)

    def kind(self, entry: Entry) -> GroupKind | None:
        kind = entry.text("kind")
        for known in _GROUP_KINDS:
            if kind == known:
                return known
        if kind is not None:
            message = f"unknown group kind {kind!r}: expected 'ressursfamilie' or 'nettverk'"
            entry.error("kind", message)
        return None

    def hub(self, entry: Entry, kind: GroupKind | None) -> str | None:
        """A ressursfamilie's own foster home; a nettverk has none."""
        if kind == "nettverk":
            if "hub" in entry.table:
                entry.error("hub", "a nettverk has no hub: only a ressursfamilie has one")
            return None
        hub = entry.text("hub", required=kind == "ressursfamilie")
        if hub is not None and hub not in self.homes:
            entry.error("hub", unknown("foster_home", hub, self.homes))
        return hub

    def members(self, entry: Entry, kind: GroupKind | None, hub: str | None) -> list[str] | None:
        members = entry.texts("members")
        if members is None:
            return None
        if not members and kind == "nettverk":
            entry.error("members", "must list at least one foster_home")
        hubs = () if hub is None else (hub,)
        self.distinct_refs(entry, "members", "foster_home", members, self.homes, hubs)
        return members

    def distinct_refs(
        self,
        entry: Entry,
        key: str,
        kind: str,
        ids: list[str],
        known: Collection[str],
        hub: Collection[str] = (),
    ) -> None:
        """Each id once, each known; the hub is not among the members."""
        for index, id_ in enumerate(ids):
            if id_ in hub:
                entry.error(key, f"{kind} {id_!r} is the hub: leave it out of {key}")
            elif id_ in ids[:index]:
                entry.error(key, f"{kind} {id_!r} is listed twice")
            elif id_ not in known:
                entry.error(key, unknown(kind, id_, known))
