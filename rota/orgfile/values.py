"""Value codecs of the organisation file: text to times, durations, dates and back.

Each `parse_*` raises `ValueError` with a message a coordinator can act on; each `format_*`
writes what the matching parser reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rota.model import DAY_WORDS, WEEKDAYS, MonthDay, QuietHours, Season
from rota.wallclock import local_instant

#: Canonical order of day words when a rule is written back.
_DAY_ORDER = (*WEEKDAYS, "weekday", "weekend", "holiday", "all")
_DAY = 86_400  # seconds
_UNITS = {"w": 7 * _DAY, "d": _DAY, "h": 3600, "m": 60, "s": 1}

_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")
_LOCAL_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](.+)")
_DURATION = re.compile(r"(?:\d+[wdhms])+")
_SPAN = re.compile(r"(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})")


def parse_time(text: str) -> time:
    match = _TIME.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError
        hour, minute, second = (int(part) for part in match.groups(default="0"))
        return time(hour, minute, second)
    except ValueError:
        raise ValueError(f"invalid time {text!r}: expected HH:MM, 00:00 to 23:59") from None


def parse_month_day(text: str) -> MonthDay:
    match = _MONTH_DAY.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError
        day = date(2000, int(match[1]), int(match[2]))  # a leap year: 02-29 is a date
    except ValueError:
        raise ValueError(f"invalid date {text!r}: expected MM-DD, e.g. 12-24") from None
    return day.month, day.day


def parse_season(text: str) -> Season:
    parts = text.split("..")
    try:
        if len(parts) != 2:
            raise ValueError
        return Season(parse_month_day(parts[0]), parse_month_day(parts[1]))
    except ValueError:
        raise ValueError(
            f"invalid season {text!r}: expected MM-DD..MM-DD, e.g. 06-01..08-31"
        ) from None


def parse_quiet_hours(text: str) -> QuietHours:
    """`HH:MM-HH:MM`, wall-clock; it may wrap midnight (21:00-08:00)."""
    problem = "expected HH:MM-HH:MM, e.g. 21:00-08:00"
    match = _SPAN.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError
        start, end = parse_time(match[1]), parse_time(match[2])
    except ValueError:
        raise ValueError(f"invalid quiet hours {text!r}: {problem}") from None
    if start == end:
        raise ValueError(f"invalid quiet hours {text!r}: must not start and end at the same time")
    return QuietHours(start, end)


def parse_days(text: str) -> frozenset[str]:
    words = [word.strip().lower() for word in text.split(",")]
    unknown = [word for word in words if word not in DAY_WORDS]
    if unknown:
        raise ValueError(
            f"unknown day word {unknown[0]!r}: expected mon..sun, weekday, weekend, holiday"
            " or all, separated by commas"
        )
    return frozenset(words)


def parse_duration(text: str) -> timedelta:
    compact = text.strip().lower()
    if _DURATION.fullmatch(compact) is None:
        raise ValueError(f"invalid duration {text!r}: expected e.g. 90s, 10m, 1h, 1d, 2w")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in re.findall(r"(\d+)([wdhms])", compact))
    if seconds == 0:
        raise ValueError(f"invalid duration {text!r}: must be longer than zero")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"invalid duration {text!r}: too long") from None


def parse_period(text: str) -> timedelta:
    period = parse_duration(text)
    if period % timedelta(days=1):
        raise ValueError(f"invalid period {text!r}: must be whole days, e.g. 1d, 7d, 1w, 2w")
    return period


def local_parser(tz: ZoneInfo) -> Callable[[str], datetime]:
    """A parser of local wall-clock date-times in `tz` (no offset in the text)."""

    def parse(text: str) -> datetime:
        match = _LOCAL_DATETIME.fullmatch(text.strip())
        if match is None:
            raise ValueError(
                f"invalid date and time {text!r}: expected local wall-clock"
                " YYYY-MM-DDTHH:MM, without offset"
            )
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise ValueError(f"invalid date in {text!r}") from None
        try:
            return local_instant(day, parse_time(match[4]), tz)
        except OverflowError:  # the instant is past year 9999 in UTC
            raise ValueError(f"invalid date and time {text!r}: out of range") from None

    return parse


def format_time(at: time) -> str:
    return f"{at:%H:%M:%S}" if at.second else f"{at:%H:%M}"


def format_local(instant: datetime, tz: ZoneInfo) -> str:
    local = instant.astimezone(tz)
    return f"{local:%Y-%m-%d}T{format_time(local.time())}"


def format_duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in _UNITS.items():
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError("unreachable: every whole number of seconds divides by 1s")


def format_month_day(month_day: MonthDay) -> str:
    return f"{month_day[0]:02d}-{month_day[1]:02d}"


def format_season(season: Season) -> str:
    return f"{format_month_day(season.start)}..{format_month_day(season.end)}"


def format_quiet_hours(span: QuietHours) -> str:
    return f"{span.start:%H:%M}-{span.end:%H:%M}"


def format_days(days: frozenset[str]) -> str:
    return ",".join(word for word in _DAY_ORDER if word in days)
