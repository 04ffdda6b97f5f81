"""What an event may be: its kind, texts, times and capacity. Pure: `now` is passed in.

The command line and the API validate into the same `Draft` with these rules, so a rule
lives once. Errors are operator-facing English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import Literal, TypeGuard
from zoneinfo import ZoneInfo

from rota.wallclock import local_instant

EventKind = Literal["fagdag", "nettverkstreff", "fosterhjemskafe"]
EVENT_KINDS: tuple[EventKind, ...] = ("fagdag", "nettverkstreff", "fosterhjemskafe")
MAX_TITLE = 100
MAX_PLACE = 100
MAX_NOTE = 500
MAX_CAPACITY = 10_000
_TEXT = re.compile(r"[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*")


class EventError(ValueError):
    """An event that cannot be as asked; the message says why."""


def is_kind(text: str) -> TypeGuard[EventKind]:
    return text in EVENT_KINDS


@dataclass(frozen=True, slots=True)
class Draft:
    """An event's fields, checked by `check_draft`."""

    kind: str
    title: str
    starts: datetime
    ends: datetime
    place: str
    capacity: int | None = None
    rsvp_by: datetime | None = None  # None: the start of the event's day
    note: str | None = None


def default_rsvp_by(starts: datetime, tz: ZoneInfo) -> datetime:
    """Answers by the start of the event's day (so "innen" names the day before)."""
    return local_instant(starts.astimezone(tz).date(), time(0), tz)


def _text(name: str, value: str, limit: int) -> str:
    value = value.strip()
    if not _TEXT.fullmatch(value):
        raise EventError(f"{name}: must have a visible character and no control characters")
    if len(value) > limit:
        raise EventError(f"{name}: at most {limit} characters, not {len(value)}")
    return value


def check_draft(draft: Draft, now: datetime, tz: ZoneInfo, *, new: bool = True) -> Draft:
    """The draft with texts trimmed and the answer deadline filled in, or `EventError`.
    A new event starts in the future; a changed one may keep a past deadline."""
    if not is_kind(draft.kind):
        raise EventError(f"kind: expected one of {', '.join(EVENT_KINDS)}, not {draft.kind!r}")
    title = _text("title", draft.title, MAX_TITLE)
    place = _text("place", draft.place, MAX_PLACE)
    note = _text("note", draft.note, MAX_NOTE) if draft.note is not None else None
    if draft.ends <= draft.starts:
        raise EventError("ends: must be after starts")
    if draft.starts <= now:
        raise EventError("starts: must be in the future")
    if draft.capacity is not None and not 1 <= draft.capacity <= MAX_CAPACITY:
        raise EventError(f"capacity: a whole number of people from 1 to {MAX_CAPACITY}")
    rsvp_by = draft.rsvp_by or default_rsvp_by(draft.starts, tz)
    if draft.rsvp_by is None and rsvp_by <= now:  # an event later today
        rsvp_by = draft.starts
    if rsvp_by > draft.starts:
        raise EventError("rsvp-by: must not be after the start")
    if new and rsvp_by <= now:
        raise EventError("rsvp-by: must be in the future")
    return replace(draft, title=title, place=place, note=note, rsvp_by=rsvp_by)
