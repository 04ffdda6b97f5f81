"""The overlap rule of coverage: a kommune's rules must never be in force at the same time.

Two rules overlap when, on some date a rule can see (weekday, holiday or not, month-day),
both start a shift covering the same wall-clock time, or an overnight shift of one date
runs into a shift of the next. Checked on a small set of sample days that is exhaustive:
see `_month_day_samples`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

from rota.model import CoverageRule, MonthDay

_DAY = 86_400  # seconds


@dataclass(frozen=True, slots=True)
class RuleDay:
    """What a rule can see of a date: weekday (0=Monday), holiday status and month-day."""

    weekday: int
    holiday: bool
    month_day: MonthDay


@dataclass(frozen=True, slots=True)
class Overlap:
    """Rules `first` < `second` (positions in their list) both cover `day` from `start` to
    `end`, wall-clock; `end` may be past midnight, then it is on the next date."""

    first: int
    second: int
    day: RuleDay
    start: time
    end: time


def overlaps(rules: Sequence[CoverageRule]) -> Iterator[Overlap]:
    """Each pair of rules that can be in force at the same wall-clock time, with an example."""
    for i, first in enumerate(rules):
        for j in range(i + 1, len(rules)):
            found = _find_overlap(first, rules[j])
            if found is not None:
                day, start, end = found
                yield Overlap(i, j, day, _clock(start), _clock(end))


def _find_overlap(a: CoverageRule, b: CoverageRule) -> tuple[RuleDay, int, int] | None:
    """A date and an interval (seconds from its midnight) covered by both rules, if any.

    Shifts are compared on one date, and an overnight shift against the next date's.
    """
    samples = _month_day_samples(a, b)
    for day in _days(samples):
        if a.applies(day.weekday, day.holiday, day.month_day) and b.applies(
            day.weekday, day.holiday, day.month_day
        ):
            hit = _intersect(_span(a), _span(b))
            if hit is not None:
                return day, hit[0], hit[1]
    for day, following in _consecutive_days(samples):
        for early, late in ((a, b), (b, a)):
            if not early.overnight or not early.applies(day.weekday, day.holiday, day.month_day):
                continue
            if late.applies(following.weekday, following.holiday, following.month_day):
                start, end = _span(late)
                hit = _intersect(_span(early), (start + _DAY, end + _DAY))
                if hit is not None:
                    return following, hit[0] - _DAY, hit[1] - _DAY
    return None


def _span(rule: CoverageRule) -> tuple[int, int]:
    start, end = _seconds(rule.start), _seconds(rule.end)
    return (start, end + _DAY) if rule.overnight else (start, end)


def _seconds(at: time) -> int:
    return at.hour * 3600 + at.minute * 60 + at.second


def _intersect(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int] | None:
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return (start, end) if start < end else None


def _clock(seconds: int) -> time:
    return time(*divmod(seconds % _DAY // 60, 60), seconds % 60)


def _month_day_samples(a: CoverageRule, b: CoverageRule) -> list[MonthDay]:
    """Month-days enough to decide whether two seasons, or a season and the day after
    another, can meet: where two recurring ranges intersect, one range's first day lies in
    the other, so each boundary and the days either side of it suffice. (A season that
    holds 02-28 but not 02-29 ends on 02-28, so the common-year step 02-28 -> 03-01 starts
    from a boundary too.)"""
    samples: set[MonthDay] = {(1, 15)}
    for season in (a.season, b.season):
        if season is not None:
            for boundary in (season.start, season.end):
                day = date(2000, *boundary)  # a leap year: 02-29 is a date
                for near in (day - timedelta(days=1), day, day + timedelta(days=1)):
                    samples.add((near.month, near.day))
    return sorted(samples)


def _days(samples: list[MonthDay]) -> Iterator[RuleDay]:
    for month_day in samples:
        for weekday in range(7):
            for holiday in (False, True):
                yield RuleDay(weekday, holiday, month_day)


def _consecutive_days(samples: list[MonthDay]) -> Iterator[tuple[RuleDay, RuleDay]]:
    """Pairs (date, next date); holiday status of each is free, the weekday follows."""
    for day in _days(samples):
        for following in _next_month_days(day.month_day):
            for holiday in (False, True):
                yield day, RuleDay((day.weekday + 1) % 7, holiday, following)


def _next_month_days(month_day: MonthDay) -> tuple[MonthDay, ...]:
    if month_day == (2, 28):
        return (2, 29), (3, 1)  # leap year, common year
    following = date(2000, *month_day) + timedelta(days=1)  # 12-31 -> 01-01 (of 2001)
    return ((following.month, following.day),)
