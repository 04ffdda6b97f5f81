"""Quiet hours: a daily wall-clock span (default 21:00-08:00, Europe/Oslo) during which
info messages and group SMS wait. Pure: the instant is passed in.

The span is wall-clock time, so its length follows the clock: the night of the spring
change (last Sunday of March) is an hour shorter, the autumn one an hour longer. A start or
end in the skipped spring hour moves to 03:00, the instant the clock jumps
(`rota.wallclock.local_instant`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rota.model import QuietHours
from rota.wallclock import OSLO, local_instant, utc, zone


def quiet_span(
    now: datetime, quiet: QuietHours, tz: ZoneInfo | None = None
) -> tuple[datetime, datetime] | None:
    """The quiet span [start, end) that `now` falls in, as UTC instants (so that their
    difference is the real duration); None outside."""
    tz = tz or zone(OSLO)
    instant = utc(now)
    today = instant.astimezone(tz).date()
    wraps = quiet.end < quiet.start  # 21:00-08:00 ends on the next day
    for day in (today - timedelta(days=1), today):
        start = local_instant(day, quiet.start, tz)
        end = local_instant(day + timedelta(days=1 if wraps else 0), quiet.end, tz)
        if start <= instant < end:
            return utc(start), utc(end)
    return None


def in_quiet_hours(now: datetime, quiet: QuietHours, tz: ZoneInfo | None = None) -> bool:
    """Is `now` inside quiet hours?"""
    return quiet_span(now, quiet, tz) is not None


def end_of_quiet(now: datetime, quiet: QuietHours, tz: ZoneInfo | None = None) -> datetime | None:
    """When the quiet hours `now` falls in end (in UTC); None when `now` is not in quiet
    hours."""
    span = quiet_span(now, quiet, tz)
    return None if span is None else span[1]
