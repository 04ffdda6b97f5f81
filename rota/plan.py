"""The rota laid out for reading: weeks and months of local dates, shifts cut at local
midnight, and the balance of duty hours per person over a period.

Pure: the engine's shifts and duties come in, plain values go out. The console's
Vaktplan renders these; it decides nothing itself.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from rota.model import ChainEntry, Duty, Gap, Shift
from rota.wallclock import local_midnight, utc

T = TypeVar("T")

_ONE_DAY = timedelta(days=1)
WEEK_DAYS = 7
REPORT_WEEKS = 52


def week_of(day: date) -> list[date]:
    """Monday to Sunday of the ISO week holding `day`."""
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=i) for i in range(WEEK_DAYS)]


def month_weeks(year: int, month: int) -> list[list[date]]:
    """The weeks (Monday first) that hold a day of the month: 4 to 6 rows of 7 dates,
    with the neighbouring months' days filling the first and last rows."""
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    return [list(week) for week in weeks]


def next_month(year: int, month: int, step: int) -> tuple[int, int]:
    """The (year, month) `step` months after (or before, negative) the given one."""
    index = year * 12 + month - 1 + step
    return index // 12, index % 12 + 1


@dataclass(frozen=True, slots=True)
class Piece(Generic[T]):
    """The part [start, end) of `item` that falls on one local date."""

    start: datetime
    end: datetime
    item: T


def by_day(
    items: Iterable[T],
    span: Callable[[T], tuple[datetime, datetime]],
    days: Sequence[date],
    tz: ZoneInfo,
) -> dict[date, list[Piece[T]]]:
    """Each of `days` with the pieces of the items that fall on it, in time order.

    A day runs from its local midnight to the next, so a DST day is 23 or 25 hours and a
    night shift shows on both dates it touches."""
    # In UTC: the difference of two datetimes in one zone ignores the DST change between.
    bounds = {
        day: (utc(local_midnight(day, tz)), utc(local_midnight(day + _ONE_DAY, tz))) for day in days
    }
    found: dict[date, list[Piece[T]]] = {day: [] for day in days}
    for item in items:
        s, e = (utc(t) for t in span(item))
        for day, (a, b) in bounds.items():
            if s < b and e > a:
                found[day].append(Piece(max(s, a), min(e, b), item))
    for pieces in found.values():
        pieces.sort(key=lambda p: p.start)
    return found


def shift_span(shift: Shift) -> tuple[datetime, datetime]:
    return shift.start, shift.end


def duty_span(duty: Duty) -> tuple[datetime, datetime]:
    return duty.start, duty.end


def role_of(chain: Sequence[ChainEntry], role: str) -> ChainEntry | None:
    """The chain's entry with `role` (primary, backup, barnevernvakt), if any."""
    return next((e for e in chain if e.role == role), None)


@dataclass(frozen=True, slots=True)
class Balance:
    """A person's duty over a period: hours as primary and as backup."""

    person: str
    name: str
    primary: timedelta
    backup: timedelta

    @property
    def total(self) -> timedelta:
        return self.primary + self.backup


def balance(
    stretches: Iterable[tuple[datetime, datetime, ChainEntry | None, ChainEntry | None]],
    members: Sequence[tuple[str, str]] = (),
) -> list[Balance]:
    """Duty hours per person from (start, end, primary, backup) stretches.

    `members` (id, name) are listed even with no duty, so an unbalanced rotation shows;
    people come in that order, then the others as they first appear."""
    hours: dict[str, list[timedelta]] = {pid: [timedelta(0), timedelta(0)] for pid, _ in members}
    names = dict(members)
    for start, end, primary, backup in stretches:
        for slot, entry in ((0, primary), (1, backup)):
            if entry is None or entry.person is None:
                continue
            names.setdefault(entry.person, entry.name)
            hours.setdefault(entry.person, [timedelta(0), timedelta(0)])[slot] += _length(
                start, end
            )
    return [Balance(pid, names[pid], p, b) for pid, (p, b) in hours.items()]


def shift_stretches(
    shifts: Iterable[Shift],
) -> list[tuple[datetime, datetime, ChainEntry | None, ChainEntry | None]]:
    """A kommune's shifts as the (start, end, primary, backup) stretches of `balance`."""
    return [
        (s.start, s.end, role_of(s.chain, "primary"), role_of(s.chain, "backup"))
        for s in shifts
        if s.team is not None
    ]


def duty_stretches(
    duties: Iterable[Duty],
) -> list[tuple[datetime, datetime, ChainEntry | None, ChainEntry | None]]:
    """A team's duties as the (start, end, primary, backup) stretches of `balance`."""
    return [(d.start, d.end, d.primary, d.backup) for d in duties]


def gap_hours(gaps: Iterable[Gap]) -> timedelta:
    """The total length of the gaps."""
    return sum((_length(g.start, g.end) for g in gaps), timedelta(0))


def _length(start: datetime, end: datetime) -> timedelta:
    """Elapsed time, DST-safe whatever zone the instants carry."""
    return utc(end) - utc(start)


def hours(span: timedelta) -> float:
    """A length in hours, as the report shows it."""
    return span.total_seconds() / 3600
