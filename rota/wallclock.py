"""Wall-clock times to instants, the DST-safe way.

Rota boundaries are written as local wall-clock times (Europe/Oslo). Twice a year a local
time does not map to exactly one instant:

* spring forward (last Sunday of March, 02:00 -> 03:00): 02:00-02:59 never happens; a
  boundary there moves to 03:00 local, the instant the clock jumps.
* fall back (last Sunday of October, 03:00 -> 02:00): 02:00-02:59 happens twice; a boundary
  there takes its first occurrence (summer time, fold=0).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from rota.memo import Memo

OSLO = "Europe/Oslo"


@lru_cache(maxsize=64)
def zone(key: str) -> ZoneInfo:
    """The tz database zone `key`, cached."""
    return ZoneInfo(key)


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant (aware, in `tz`) when the wall clock in `tz` shows `at` on `day`.

    A skipped time resolves to the end of the skipped hour; a repeated time to its first
    occurrence.
    """
    candidate = datetime.combine(day, at, tzinfo=tz)  # fold=0: the first occurrence
    wall = candidate.replace(tzinfo=None)
    if _wall(candidate.astimezone(UTC), tz) == wall:
        return candidate
    # Skipped: the earliest instant whose wall-clock reads `wall` or later is the jump.
    # The two readings of the skipped time bracket it; search to the second.
    a = candidate.astimezone(UTC)
    b = candidate.replace(fold=1).astimezone(UTC)
    lo, hi = min(a, b), max(a, b)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if _wall(mid, tz) >= wall:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0).astimezone(tz)


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The instant a local date begins."""
    return local_instant(day, time(0, 0), tz)


def add_days(instant: datetime, days: int, tz: ZoneInfo) -> datetime:
    """Move `instant` by whole days keeping its wall-clock time (DST-safe)."""
    local = instant.astimezone(tz)
    return local_instant(local.date() + timedelta(days=days), local.time().replace(fold=0), tz)


def utc(at: datetime) -> datetime:
    """`at` in UTC; a naive datetime is refused, it names no instant."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: pass an aware instant")
    return at.astimezone(UTC)


def utc_instants(tz: ZoneInfo, limit: int) -> Memo[tuple[date, time], datetime]:
    """`local_instant` in UTC as a memo: (local date, wall-clock time) -> instant."""
    return Memo(lambda key: local_instant(key[0], key[1], tz).astimezone(UTC), limit)
