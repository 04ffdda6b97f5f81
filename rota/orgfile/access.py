"""Reading `[[access]]` entries: who may use the console, in which role, for which kommuner.

Every team member may log in as `vakt` without an entry; an entry gives a person another
role (or a vakt without a team). An admin sees every kommune and names none; a koordinator
names one or more; a vakt sees their teams' kommuner and names none.
"""

from __future__ import annotations

from collections.abc import Collection

from rota.model import ACCESS_ROLES, Access, AccessRole
from rota.orgfile.table import Entry, unknown


class AccessReader:
    """Reads `[[access]]` entries against the kommuner and people read before them."""

    def __init__(self, kommuner: Collection[str], people: Collection[str]) -> None:
        self.kommuner = kommuner
        self.people = people
        self.persons: set[str] = set()  # one entry per person

    def access(self, entry: Entry) -> Access | None:
        person = entry.text("person")
        if person is not None and person not in self.people:
            entry.error("person", unknown("person", person, self.people))
        elif person is not None and person in self.persons:
            entry.error("person", f"person {person!r} already has an access entry")
        if person is not None:
            self.persons.add(person)
        role = self.role(entry)
        kommuner = self.kommuner_of(entry, role)
        if person is None or role is None or kommuner is None:
            return None
        return Access(person, role, tuple(kommuner))

    def role(self, entry: Entry) -> AccessRole | None:
        role = entry.text("role")
        for known in ACCESS_ROLES:
            if role == known:
                return known
        if role is not None:
            expected = ", ".join(repr(r) for r in ACCESS_ROLES)
            entry.error("role", f"unknown role {role!r}: expected one of {expected}")
        return None

    def kommuner_of(self, entry: Entry, role: AccessRole | None) -> list[str] | None:
        kommuner = entry.texts("kommuner", required=False)
        if kommuner is None:
            return None
        if role == "koordinator" and not kommuner:
            entry.error("kommuner", "a koordinator needs one or more kommuner")
            return None
        if role == "admin" and kommuner:
            entry.error("kommuner", "an admin sees every kommune: leave kommuner out")
            return None
        if role == "vakt" and kommuner:
            entry.error("kommuner", "a vakt sees their teams' kommuner: leave kommuner out")
            return None
        for index, kommune in enumerate(kommuner):
            if kommune in kommuner[:index]:
                entry.error("kommuner", f"kommune {kommune!r} is listed twice")
            elif kommune not in self.kommuner:
                entry.error("kommuner", unknown("kommune", kommune, self.kommuner))
        return kommuner
