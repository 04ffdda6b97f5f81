"""Staffing: who within a team is primary and backup at an instant, and over a range.

A team's rotation hands over at the same wall-clock time every period; an override makes
someone primary over an interval (where overrides overlap, the latest start wins) and the
rotation's primary then backs them up. Instants are UTC.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from rota.memo import Memo
from rota.model import ChainEntry, Organisation, Override, Person, Rotation, Team
from rota.wallclock import utc, utc_instants, zone

#: A team's (primary, backup) at some instant.
PrimaryBackup = tuple[ChainEntry | None, ChainEntry | None]
#: The same, by ids: (team, primary person, backup person). Cheap to hash and compare.
StaffKey = tuple[str, str | None, str | None]

_ONE_DAY = timedelta(days=1)


class UnknownTeam(KeyError):
    """No team with this id in the organisation."""


@dataclass(frozen=True, slots=True)
class Table:
    """A team's staff over a range, piecewise constant: `staff[i]` on [bounds[i], bounds[i+1]).

    A staff of None is nobody, not even a team: the table of a missing barnevernvakt.
    """

    bounds: list[datetime]
    staff: list[StaffKey | None]
    staffed: list[bool]  # the piece has a primary to call
    callable: bool  # every piece has


#: Nobody, over all time.
NOBODY = Table(
    [datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)], [None], [False], False
)


@dataclass(frozen=True, slots=True)
class _Turns:
    """A rotation in wall-clock terms: handoff n is at `at` on `first_day + n * every` days."""

    members: tuple[str, ...]
    first_day: date
    at: time
    every: int


@dataclass(frozen=True, slots=True)
class _TeamIndex:
    team: Team
    turns: _Turns | None
    override_bounds: list[datetime]  # sorted UTC edges of all the team's overrides
    override_people: list[str | None]  # the winner on [bounds[i], bounds[i+1])


class Staffing:
    """Rotations and overrides of every team, read at instants and over ranges."""

    def __init__(
        self,
        org: Organisation,
        *,
        limit: int,
        range_limit: int,
    ) -> None:
        self._people: dict[str, Person] = {p.id: p for p in org.people}
        self._teams = _index_teams(org, self._people)
        self._tz = zone(org.helpline.timezone)
        self._instants = utc_instants(self._tz, limit)
        #: The chain entries of a staff.
        self.entries: Memo[StaffKey, PrimaryBackup] = Memo(self._entries, limit)
        self._tables: Memo[tuple[str, datetime, datetime], Table] = Memo(self._table, range_limit)

    def __contains__(self, team_id: object) -> bool:
        return team_id in self._teams

    def check(self, team_id: str) -> None:
        """Raise `UnknownTeam` unless the organisation has this team."""
        if team_id not in self._teams:
            raise UnknownTeam(team_id)

    def at(self, team_id: str, t: datetime, day: date) -> tuple[StaffKey, datetime | None]:
        """The team's staff at `t` (local date `day`) and when it may next change (None: never)."""
        index = self._teams[team_id]
        until: datetime | None = None
        override: str | None = None
        bounds = index.override_bounds
        if bounds:
            i = bisect_right(bounds, t)
            if i < len(bounds):
                until = bounds[i]
                override = index.override_people[i - 1] if i else None
        current = following = None
        turns = index.turns
        if turns is not None:
            # Handoff n falls on t's local date or before; on that date it may still be ahead.
            n = (day - turns.first_day).days // turns.every
            if self._handoff(turns, n) > t:
                n -= 1
            current = turns.members[n % len(turns.members)]
            following = turns.members[(n + 1) % len(turns.members)]
            handoff = self._handoff(turns, n + 1)
            until = handoff if until is None or handoff < until else until
        primary = override if override is not None else current
        candidates = (current, following) if override else (following,)
        backup = next((p for p in candidates if p is not None and p != primary), None)
        return (team_id, primary, backup), until

    def table(self, team_id: str, start: datetime, end: datetime) -> Table:
        """The team's staff over [start, end) as a piecewise-constant table."""
        return self._tables[(team_id, start, end)]

    def _handoff(self, turns: _Turns, n: int) -> datetime:
        return self._instants[(turns.first_day + timedelta(days=n * turns.every), turns.at)]

    def _table(self, key: tuple[str, datetime, datetime]) -> Table:
        team_id, start, end = key
        bounds: list[datetime] = [start]
        staff: list[StaffKey | None] = []
        t = start
        while t < end:
            now, until = self.at(team_id, t, t.astimezone(self._tz).date())
            t = end if until is None or until > end else until
            if staff and staff[-1] == now:
                bounds[-1] = t
            else:
                staff.append(now)
                bounds.append(t)
        staffed = [s is not None and self.entries[s][0] is not None for s in staff]
        return Table(bounds, staff, staffed, all(staffed))

    def _entries(self, key: StaffKey) -> PrimaryBackup:
        team_id, primary, backup = key
        team = self._teams[team_id].team
        return self._primary_entry(team, primary), self._backup_entry(team, backup)

    def _primary_entry(self, team: Team, person_id: str | None) -> ChainEntry | None:
        person = self._people[person_id] if person_id else None
        if team.duty_phone:
            name = person.name if person else team.name
            return ChainEntry("primary", team.id, person_id, name, team.duty_phone)
        if person is None:
            return None
        return ChainEntry("primary", team.id, person.id, person.name, person.phone)

    def _backup_entry(self, team: Team, person_id: str | None) -> ChainEntry | None:
        if person_id is None:
            return None
        person = self._people[person_id]
        return ChainEntry("backup", team.id, person.id, person.name, person.phone)


def _index_teams(org: Organisation, people: dict[str, Person]) -> dict[str, _TeamIndex]:
    rotations: dict[str, Rotation] = {}
    for rot in org.rotations:
        rotations.setdefault(rot.team, rot)
    overrides: dict[str, list[Override]] = {}
    for ov in org.overrides:
        overrides.setdefault(ov.team, []).append(ov)
    teams = {team.id: team for team in org.teams}
    for team_id in (*rotations, *overrides):
        if team_id not in teams:
            raise ValueError(f"rotation or override: unknown team {team_id!r}")
    index: dict[str, _TeamIndex] = {}
    for team in org.teams:
        turns = _turns(rotations.get(team.id), people, org.helpline.timezone)
        bounds, winners = _override_table(overrides.get(team.id, []), people)
        index[team.id] = _TeamIndex(team, turns, bounds, winners)
    return index


def _turns(rot: Rotation | None, people: dict[str, Person], tz_key: str) -> _Turns | None:
    if rot is None or not rot.members:
        return None
    for member in rot.members:
        if member not in people:
            raise ValueError(f"rotation {rot.team!r}: unknown person {member!r}")
    if rot.every < _ONE_DAY or rot.every % _ONE_DAY:
        raise ValueError(f"rotation {rot.team!r}: every must be whole days, got {rot.every}")
    local = utc(rot.start).astimezone(zone(tz_key))
    return _Turns(rot.members, local.date(), local.time().replace(fold=0), rot.every.days)


def _override_table(
    overrides: list[Override], people: dict[str, Person]
) -> tuple[list[datetime], list[str | None]]:
    """Flatten overrides into edges and the winner between them: the latest start wins."""
    items: list[tuple[datetime, int, datetime, str]] = []
    for order, ov in enumerate(overrides):
        if ov.person not in people:
            raise ValueError(f"override {ov.team!r}: unknown person {ov.person!r}")
        s, e = utc(ov.start), utc(ov.end)
        if s < e:
            items.append((s, order, e, ov.person))
    items.sort()
    bounds = sorted({s for s, *_ in items} | {e for _, _, e, _ in items})
    winners: list[str | None] = []
    active: list[tuple[int, datetime, str]] = []  # a heap on -rank: the latest start on top
    k = 0
    for t in bounds[:-1]:
        while k < len(items) and items[k][0] <= t:
            heapq.heappush(active, (-k, items[k][2], items[k][3]))
            k += 1
        while active and active[0][1] <= t:
            heapq.heappop(active)
        winners.append(active[0][2] if active else None)
    return bounds, winners
