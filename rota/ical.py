"""Duties as iCalendar (RFC 5545) feeds: one per team, one per person. Pure: no I/O, no clock.

Events carry wall-clock times in the organisation's timezone (``DTSTART;TZID=Europe/Oslo``)
with a VTIMEZONE, so a 22:00-08:00 night stays 22:00-08:00 in every calendar app, 9 h in
March and 11 h in October. Consecutive duties of the same person in the same role merge into
one event. Feeds name teams, staff and the team's duty phone, never a foster home or child,
and not staff's private numbers: calls reach them through the service.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard

from rota.model import ChainEntry, Duty, Organisation, Team
from rota.wallclock import zone

PRODID = "-//Fosterhjemstelefonen//vaktplan//NB"
UID_DOMAIN = "fosterhjemstelefonen"

#: `unstaffed`: the team covers a kommune but nobody is set up as primary.
StintRole = Literal["primary", "backup", "unstaffed"]

_ROLE_ORDER: dict[StintRole, int] = {"primary": 0, "unstaffed": 0, "backup": 1}
_LABEL: dict[StintRole, str] = {"primary": "Vakt", "backup": "Bakvakt", "unstaffed": "Ubemannet"}
_ROLE_TEXT: dict[StintRole, str] = {
    "primary": "Rolle: vakt (ringes først).",
    "backup": "Rolle: bakvakt (ringes hvis vakta ikke svarer).",
    "unstaffed": "Ingen i teamet er satt opp på vakt. Henvendelser går videre i vaktkjeden.",
}


@dataclass(frozen=True, slots=True)
class Stint:
    """One calendar event: `entry` holds `role` for `team` over [start, end)."""

    team: str
    role: StintRole
    start: datetime
    end: datetime
    entry: ChainEntry | None


def stints(duties: Iterable[Duty]) -> list[Stint]:
    """Merge duties into stints: consecutive duties (one ends where the next starts) of the
    same team with the same person in the same role become one stint.

    Primary and backup merge independently, so a backup handoff does not split the primary's
    stint. A duty without primary gives an `unstaffed` stint; one without backup gives none.
    """
    open_: dict[tuple[str, bool], Stint] = {}  # (team, is backup) -> the stint being grown
    done: list[Stint] = []
    for duty in sorted(duties, key=lambda d: (d.team, d.start)):
        parts: tuple[tuple[StintRole, ChainEntry | None], ...] = (
            ("unstaffed" if duty.primary is None else "primary", duty.primary),
            ("backup", duty.backup),
        )
        for role, entry in parts:
            if role == "backup" and entry is None:
                continue
            # primary and unstaffed share one slot: one of them always holds the duty.
            slot = (duty.team, role == "backup")
            current = open_.get(slot)
            if (
                current is not None
                and current.role == role
                and current.entry == entry
                and current.end == duty.start
            ):
                open_[slot] = Stint(duty.team, role, current.start, duty.end, entry)
                continue
            if current is not None:
                done.append(current)
            open_[slot] = Stint(duty.team, role, duty.start, duty.end, entry)
    done.extend(open_.values())
    done.sort(key=lambda s: (s.start, s.team, _ROLE_ORDER[s.role]))
    return done


def team_calendar(
    org: Organisation, team_id: str, duties: Sequence[Duty], *, stamp: datetime
) -> bytes:
    """The team's vaktplan: who is on duty and on backup, and when nobody is.

    `duties` are the team's (`Rota.duties`); `stamp` (aware) becomes every DTSTAMP.
    """
    render = _Renderer(org, stamp)
    team = render.team(team_id)
    merged = stints(_checked(duties, team_id))
    events = []
    for stint in merged:
        who = team.name if stint.entry is None else stint.entry.name
        events.append(render.event(stint, f"{_LABEL[stint.role]}: {who}", f"team:{team_id}"))
    names = {k.id: k.name for k in org.kommuner}
    about = f"Vaktplan for {team.name} i Fosterhjemstelefonen."
    if team.kommuner:
        about += " Svarer for " + ", ".join(names.get(k, k) for k in team.kommuner) + "."
    return render.calendar(f"Vaktplan: {team.name}", about, events, _span(merged))


def person_calendar(
    org: Organisation,
    person_id: str,
    duties_by_team: Mapping[str, Sequence[Duty]],
    *,
    stamp: datetime,
) -> bytes:
    """One person's duties in every team: each stint where they are primary or backup.

    `duties_by_team` maps team id to that team's duties; `stamp` (aware) becomes every DTSTAMP.
    """
    person = next((p for p in org.people if p.id == person_id), None)
    if person is None:
        raise ValueError(f"unknown person {person_id!r}")
    render = _Renderer(org, stamp)
    mine: list[Stint] = []
    for team_id, duties in duties_by_team.items():
        mine.extend(
            s
            for s in stints(_checked(duties, team_id))
            if s.entry is not None and s.entry.person == person_id
        )
    mine.sort(key=lambda s: (s.start, s.team, _ROLE_ORDER[s.role]))
    events = [
        render.event(s, f"{_LABEL[s.role]}: {render.team(s.team).name}", f"person:{person_id}")
        for s in mine
    ]
    about = f"Vaktene til {person.name} i Fosterhjemstelefonen."
    return render.calendar(f"Vaktplan: {person.name}", about, events, _span(mine))


def event_uid(scope: str, stint: Stint) -> str:
    """A UID that stays the same across renderings: from the calendar's scope, the team,
    the stint's start instant and role."""
    start = stint.start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    key = f"{scope}|{stint.team}|{start}|{stint.role}"
    return f"{hashlib.sha1(key.encode()).hexdigest()}@{UID_DOMAIN}"


def vtimezone(tz: ZoneInfo, start: datetime, end: datetime) -> Timezone:
    """A VTIMEZONE for `tz`, exact over the whole years from `start` to `end`: one observance
    per kind of offset, each onset in the local time before the change (RFC 5545 3.6.5).

    icalendar's own `Timezone.from_tzid` writes spring onsets an hour late (DTSTART 03:00
    with TZOFFSETFROM +0100, i.e. 02:00 UTC, while Oslo springs forward at 01:00 UTC), which
    shifts instants in that hour; so we derive it from the zone's transitions.
    """
    # Whole years: the same component for every feed of a year, both changes of each year.
    onsets = _onsets(tz.key, start.astimezone(UTC).year, end.astimezone(UTC).year + 1)
    vtz = Timezone()
    vtz.add("TZID", tz.key)
    for (offset_from, offset_to, name, is_dst), starts in onsets:
        part = TimezoneDaylight() if is_dst else TimezoneStandard()
        part.add("DTSTART", starts[0])
        if starts[1:]:
            part.add("RDATE", list(starts[1:]))
        part.add("TZNAME", name)
        part.add("TZOFFSETFROM", offset_from)
        part.add("TZOFFSETTO", offset_to)
        vtz.add_component(part)
    return vtz


_Onsets = tuple[tuple[tuple[timedelta, timedelta, str, bool], tuple[datetime, ...]], ...]


@lru_cache(maxsize=16)
def _onsets(key: str, first_year: int, last_year: int) -> _Onsets:
    """(offset from, offset to, name, is_dst) -> onsets in floating local time, as VTIMEZONE
    wants them, from 1 January `first_year` to `last_year`; the first observance starts
    on 1 January, its offset unchanged."""
    tz = zone(key)
    first, last = datetime(first_year, 1, 1, tzinfo=UTC), datetime(last_year, 1, 1, tzinfo=UTC)
    observance = _observance(tz, first)
    onsets = {(observance[0], *observance): [_floating(first, observance[0])]}
    for instant in _transitions(tz, first, last):
        before, after = observance, _observance(tz, instant)
        onsets.setdefault((before[0], *after), []).append(_floating(instant, before[0]))
        observance = after
    return tuple((kind, tuple(starts)) for kind, starts in onsets.items())


def _observance(tz: ZoneInfo, instant: datetime) -> tuple[timedelta, str, bool]:
    local = instant.astimezone(tz)
    offset, dst = local.utcoffset(), local.dst()
    assert offset is not None and dst is not None  # a ZoneInfo always knows both
    return offset, local.tzname() or str(offset), bool(dst)


def _floating(instant: datetime, offset: timedelta) -> datetime:
    # A VTIMEZONE's DTSTART/RDATE are local times without TZID, read with TZOFFSETFROM.
    return (instant.astimezone(UTC) + offset).replace(tzinfo=None)


def _transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """UTC instants in (start, end] at which `tz` changes offset or name, to the second.

    Steps of 6 h: real zones never change twice within that.
    """
    found: list[datetime] = []
    step = 6 * 3600
    lo = int(start.timestamp())
    stop = int(end.timestamp())
    current = _observance(tz, start)
    while lo < stop:
        hi = min(lo + step, stop)
        if _observance(tz, datetime.fromtimestamp(hi, UTC)) != current:
            a, b = lo, hi
            while b - a > 1:
                mid = (a + b) // 2
                if _observance(tz, datetime.fromtimestamp(mid, UTC)) == current:
                    a = mid
                else:
                    b = mid
            change = datetime.fromtimestamp(b, UTC)
            found.append(change)
            current = _observance(tz, change)
        lo = hi
    return found


def _checked(duties: Sequence[Duty], team_id: str) -> Sequence[Duty]:
    for duty in duties:
        if duty.team != team_id:
            raise ValueError(f"a duty of team {duty.team!r} given as team {team_id!r}'s")
    return duties


def _span(items: Sequence[Stint]) -> tuple[datetime, datetime] | None:
    if not items:
        return None
    return min(s.start for s in items), max(s.end for s in items)


def _aware(instant: datetime, what: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got {instant!r}")
    return instant


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    """`instant` in `tz` for DTSTART/DTEND with TZID; in UTC when it is the second
    occurrence of a repeated autumn hour, which a TZID local time cannot name."""
    local = _aware(instant, "a duty's start and end").astimezone(tz)
    if local.fold and local.replace(fold=0).utcoffset() != local.utcoffset():
        return instant.astimezone(UTC)
    return local


class _Renderer:
    """Events and the calendar of one feed, sharing the zone, the stamp and descriptions."""

    def __init__(self, org: Organisation, stamp: datetime) -> None:
        self.tz = zone(org.helpline.timezone)
        self.stamp = _aware(stamp, "stamp").astimezone(UTC)
        self._teams = {t.id: t for t in org.teams}
        self._descriptions: dict[tuple[str, StintRole], str] = {}

    def team(self, team_id: str) -> Team:
        try:
            return self._teams[team_id]
        except KeyError:
            raise ValueError(f"unknown team {team_id!r}") from None

    def event(self, stint: Stint, summary: str, scope: str) -> Event:
        event = Event()
        event.add("UID", event_uid(scope, stint))
        event.add("DTSTAMP", self.stamp)
        event.add("DTSTART", _local(stint.start, self.tz))
        event.add("DTEND", _local(stint.end, self.tz))
        event.add("SUMMARY", summary)
        event.add("DESCRIPTION", self._description(stint))
        event.add("TRANSP", "OPAQUE")
        return event

    def _description(self, stint: Stint) -> str:
        key = (stint.team, stint.role)
        text = self._descriptions.get(key)
        if text is None:
            team = self.team(stint.team)
            lines = [_ROLE_TEXT[stint.role], f"Team: {team.name}"]
            if team.duty_phone:
                lines.append(f"Vakttelefon: {team.duty_phone}")
            else:
                lines.append("Anrop kommer til vaktas mobil gjennom Fosterhjemstelefonen.")
            text = self._descriptions[key] = "\n".join(lines)
        return text

    def calendar(
        self, name: str, about: str, events: Sequence[Event], span: tuple[datetime, datetime] | None
    ) -> bytes:
        calendar = Calendar()
        calendar.add("PRODID", PRODID)
        calendar.add("VERSION", "2.0")
        calendar.add("CALSCALE", "GREGORIAN")
        calendar.add("METHOD", "PUBLISH")
        calendar.add("X-WR-CALNAME", name)
        calendar.add("X-WR-CALDESC", about)
        calendar.add("X-WR-TIMEZONE", self.tz.key)
        if span is not None:
            calendar.add_component(vtimezone(self.tz, *span))
        for event in events:
            calendar.add_component(event)
        ical: bytes = calendar.to_ical()
        return ical
