"""Events as iCalendar (RFC 5545): one event's `.ics` from a family's personal link, and the
events a team is invited to, added to the staff's duty feeds. Pure: the stamp is passed in.

The UID is the event's own (`event-<id>@fosterhjemstelefonen`), the same in every
calendar; SEQUENCE is the event's, raised on every change, so calendar apps replace what
they have; a cancelled event is `STATUS:CANCELLED`. Times carry TZID Europe/Oslo with the
VTIMEZONE of `rota.ical` (exact over DST changes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from rota.ical import PRODID, UID_DOMAIN, vtimezone
from routing.invitation_texts import KIND_LABELS


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """An event as calendars show it."""

    id: int
    kind: str
    title: str
    starts: datetime
    ends: datetime
    place: str
    sequence: int
    cancelled: bool
    note: str | None = None


def event_uid(event_id: int) -> str:
    return f"event-{event_id}@{UID_DOMAIN}"


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    """In `tz` for TZID, or in UTC for the second pass of a repeated autumn hour."""
    local = instant.astimezone(tz)
    if local.fold and local.replace(fold=0).utcoffset() != local.utcoffset():
        return instant.astimezone(UTC)
    return local


def component(event: CalendarEvent, tz: ZoneInfo, stamp: datetime) -> Event:
    """The VEVENT of `event`."""
    vevent = Event()
    vevent.add("UID", event_uid(event.id))
    vevent.add("DTSTAMP", stamp.astimezone(UTC))
    vevent.add("SEQUENCE", event.sequence)
    vevent.add("DTSTART", _local(event.starts, tz))
    vevent.add("DTEND", _local(event.ends, tz))
    vevent.add("SUMMARY", event.title)
    vevent.add("LOCATION", event.place)
    about = KIND_LABELS.get(event.kind, event.kind)
    vevent.add("DESCRIPTION", f"{about}. {event.note}" if event.note else about)
    vevent.add("STATUS", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("TRANSP", "OPAQUE")
    return vevent


def event_calendar(event: CalendarEvent, tz: ZoneInfo, stamp: datetime) -> bytes:
    """The `.ics` of one event."""
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    calendar.add_component(vtimezone(tz, event.starts, event.ends))
    calendar.add_component(component(event, tz, stamp))
    ical: bytes = calendar.to_ical()
    return ical


def with_events(
    ics: bytes, events: Sequence[CalendarEvent], tz: ZoneInfo, stamp: datetime
) -> bytes:
    """A duty feed with `events` added, its VTIMEZONE widened to cover them."""
    if not events:
        return ics
    calendar = Calendar.from_ical(ics)
    kept = [c for c in calendar.subcomponents if not isinstance(c, Timezone)]
    starts = [e.starts for e in events] + [
        c.decoded("DTSTART") for c in kept if isinstance(c, Event)
    ]
    ends = [e.ends for e in events] + [c.decoded("DTEND") for c in kept if isinstance(c, Event)]
    calendar.subcomponents = [vtimezone(tz, min(starts), max(ends)), *kept]
    for event in events:
        calendar.add_component(component(event, tz, stamp))
    ical: bytes = calendar.to_ical()
    return ical
