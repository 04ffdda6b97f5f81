"""The organisation as plain, immutable values: the input of every rota computation.

Nothing here knows about storage or the network. `helpline` builds an `Organisation`
from the database or from a rota file and hands it to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Literal

TeamKind = Literal["kommune", "barnevernvakt"]
GroupKind = Literal["ressursfamilie", "nettverk"]
Role = Literal["primary", "backup", "barnevernvakt", "fallback"]
#: Who may use the console: `admin` (everything), `koordinator` (their kommuner) and
#: `vakt` (every team member is one without an entry: their teams' kommuner).
AccessRole = Literal["admin", "koordinator", "vakt"]
ACCESS_ROLES: tuple[AccessRole, ...] = ("admin", "koordinator", "vakt")

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Every word a coverage rule's `days` may use.
DAY_WORDS: frozenset[str] = frozenset(WEEKDAYS) | {"weekday", "weekend", "holiday", "all"}

MonthDay = tuple[int, int]  # (month, day), e.g. (12, 24)


@dataclass(frozen=True, slots=True)
class Kommune:
    id: str
    name: str
    numbers: tuple[str, ...] = ()  # helpline numbers (E.164) that belong to this kommune


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    name: str
    kind: TeamKind
    kommuner: tuple[str, ...]
    duty_phone: str | None = None  # a team phone carried by whoever is on duty


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    phone: str
    teams: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FosterHome:
    id: str
    name: str
    kommune: str
    phones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Group:
    """Foster homes that stand together: a ressursfamilie, or a nettverk.

    A ressursfamilie is an experienced foster family (`hub`, its own foster home) with the
    foster homes linked to it (`members`); a nettverk has members only (`hub` is None).
    `staff` are the people who follow and moderate the group. `number` is the group's own
    number (E.164); without one it is reached through the helpline's network number.
    """

    id: str
    name: str
    kind: GroupKind
    kommune: str
    hub: str | None
    members: tuple[str, ...]
    staff: tuple[str, ...]
    number: str | None = None

    @property
    def homes(self) -> tuple[str, ...]:
        """Every foster home in the group: the hub first, then the members."""
        return self.members if self.hub is None else (self.hub, *self.members)


@dataclass(frozen=True, slots=True)
class Access:
    """A person's role in the console; `kommuner` names a koordinator's kommuner (an
    admin and a vakt name none: an admin sees all, a vakt their teams' kommuner)."""

    person: str
    role: AccessRole
    kommuner: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily wall-clock span [start, end); it wraps midnight when `end` is before `start`
    (21:00-08:00). Info messages wait through it, group SMS too; help never waits."""

    start: time
    end: time


@dataclass(frozen=True, slots=True)
class Season:
    """A recurring date range, both ends included; it may wrap the new year (11-01..02-28)."""

    start: MonthDay
    end: MonthDay

    def contains(self, month_day: MonthDay) -> bool:
        if self.start <= self.end:
            return self.start <= month_day <= self.end
        return month_day >= self.start or month_day <= self.end


@dataclass(frozen=True, slots=True)
class CoverageRule:
    """`team` answers for the kommune from `start` to `end` (wall-clock) on the matching days.

    A rule whose `end` is not after `start` runs past midnight and belongs to its start
    date (22:00-08:00 on Friday ends on Saturday at 08:00).
    """

    days: frozenset[str]
    start: time
    end: time
    team: str
    season: Season | None = None

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def applies(self, weekday: int, is_holiday: bool, month_day: MonthDay) -> bool:
        """Does the rule start a shift on a date with this weekday (0=Monday), holiday
        status and month-day? On a holiday only rules naming `holiday` or `all` apply."""
        if self.season is not None and not self.season.contains(month_day):
            return False
        if "all" in self.days:
            return True
        if is_holiday:
            return "holiday" in self.days
        if WEEKDAYS[weekday] in self.days:
            return True
        if weekday < 5:
            return "weekday" in self.days
        return "weekend" in self.days


@dataclass(frozen=True, slots=True)
class Coverage:
    kommune: str
    rules: tuple[CoverageRule, ...]


@dataclass(frozen=True, slots=True)
class Rotation:
    """Members of a team take turns; the one after the primary is backup.

    `start` is an aware datetime whose wall-clock time in the organisation's timezone is
    the handoff time; handoffs repeat every `every` (whole days) at that same wall-clock
    time, across DST changes.
    """

    team: str
    members: tuple[str, ...]
    start: datetime
    every: timedelta


@dataclass(frozen=True, slots=True)
class Override:
    """`person` is the team's primary over [start, end) (aware datetimes)."""

    team: str
    person: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class HelplineConfig:
    fallback_phone: str
    timezone: str = "Europe/Oslo"
    message_deadline: timedelta = timedelta(minutes=10)
    extra_holidays: tuple[MonthDay, ...] = ()
    # The network: the number of groups without their own, of invitations and answers.
    network_number: str | None = None
    quiet_hours: QuietHours = QuietHours(time(21), time(8))
    ressursfamilie_size: int = 5  # more linked homes than this is warned about (1:5)


@dataclass(frozen=True, slots=True)
class Organisation:
    """The whole setup: register, coverage, rotas and groups. Tuples keep the file order."""

    helpline: HelplineConfig
    kommuner: tuple[Kommune, ...] = ()
    teams: tuple[Team, ...] = ()
    people: tuple[Person, ...] = ()
    coverage: tuple[Coverage, ...] = ()
    rotations: tuple[Rotation, ...] = ()
    overrides: tuple[Override, ...] = ()
    foster_homes: tuple[FosterHome, ...] = ()
    groups: tuple[Group, ...] = ()
    access: tuple[Access, ...] = ()


@dataclass(frozen=True, slots=True)
class ChainEntry:
    """One step of an on-duty chain: whom to call, and why they are in it."""

    role: Role
    team: str | None
    person: str | None
    name: str
    phone: str


#: What the fallback number is called in a chain.
FALLBACK_NAME = "Reservenummer"


def fallback_entry(phone: str) -> ChainEntry:
    """The chain entry of the fallback number: the last resort, never nobody."""
    return ChainEntry("fallback", None, None, FALLBACK_NAME, phone)


@dataclass(frozen=True, slots=True)
class Shift:
    """Over [start, end) the kommune is answered by `team` with this chain.

    `team` is None when no rule covers the kommune: the chain is then the barnevernvakt
    serving the kommune (if any) and the fallback. `covered` is False in that case and
    when the covering team has nobody to call.
    """

    kommune: str
    start: datetime
    end: datetime
    team: str | None
    chain: tuple[ChainEntry, ...] = field(default=())
    covered: bool = True


@dataclass(frozen=True, slots=True)
class Gap:
    """An interval where a kommune has no covering rule or its team has nobody to call."""

    kommune: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Duty:
    """Over [start, end) `team` covers at least one kommune with this primary and backup."""

    team: str
    start: datetime
    end: datetime
    primary: ChainEntry | None
    backup: ChainEntry | None
