"""Events, the service side: making, changing, cancelling, attendance, and what `show`,
`list` and the statistics read. The rules are `routing.event_rules` and
`routing.invitations`; sending is `helpline.invitations`.

Every change of an event, and every answer to it, first takes the event's row lock
(`lock`: an UPDATE of its counter, which PostgreSQL holds to the commit and which takes
SQLite's write lock), so answers and changes to one event are taken one at a time and yes
never exceeds capacity.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.db.models import EventRow, InvitationRow
from rota.model import Organisation
from routing.access import Scope
from routing.audience import AudienceError, parse_audience, target_kommuner, unreachable
from routing.event_calendar import CalendarEvent
from routing.event_rules import Draft, EventError, check_draft
from routing.invitation_texts import EventText, invitation_fits
from routing.invitations import EventFacts, Reply, is_answer

Problem = Literal["invalid", "not_found", "conflict"]
CHANNELS = ("sms", "telegram")
VIAS = ("sms", "telegram", "link")


class EventProblem(ValueError):
    """An event operation refused: `problem` says how (a malformed request, an event or
    audience unknown or out of scope, or a state that forbids it, e.g. cancelled)."""

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


# -- values the cores take -------------------------------------------------------------------


def facts(row: EventRow) -> EventFacts:
    return EventFacts(
        row.id, row.starts_at, row.ends_at, row.capacity, row.rsvp_by, row.status == "cancelled"
    )


def reply(row: InvitationRow) -> Reply:
    return Reply(
        row.foster_home_id,
        row.invited_at,
        row.answer if row.answer is not None and is_answer(row.answer) else None,
        row.people,
        row.queue,
        row.offer_until,
        row.answered_at,
    )


def text_of(row: EventRow, tz: ZoneInfo) -> EventText:
    return EventText(
        row.id, row.title, row.starts_at, row.ends_at, row.place, row.rsvp_by, tz, row.note
    )


def calendar_of(row: EventRow) -> CalendarEvent:
    return CalendarEvent(
        row.id,
        row.kind,
        row.title,
        row.starts_at,
        row.ends_at,
        row.place,
        row.sequence,
        row.status == "cancelled",
        row.note,
    )


# -- loading ----------------------------------------------------------------------------------


async def lock(session: AsyncSession, event_id: int) -> EventRow | None:
    """The event, locked for this transaction; None when there is none. Bumps its counter
    (which numbers the waitlist)."""
    result = await session.execute(
        update(EventRow)
        .where(EventRow.id == event_id)
        .values(counter=EventRow.counter + 1)
        .returning(EventRow.id)
    )
    if result.scalar() is None:
        return None
    return await session.get(EventRow, event_id, populate_existing=True)


async def invitations(session: AsyncSession, event_id: int) -> list[InvitationRow]:
    rows = await session.scalars(
        select(InvitationRow).where(InvitationRow.event_id == event_id).order_by(InvitationRow.id)
    )
    return list(rows)


async def standing(session: AsyncSession, event_id: int, *also: str) -> list[InvitationRow]:
    """The invitations whose answer holds or waits for a place (yes, waitlist), and those
    of homes `also`: all that the capacity decisions look at."""
    rows = await session.scalars(
        select(InvitationRow)
        .where(
            InvitationRow.event_id == event_id,
            or_(
                InvitationRow.answer.in_(("yes", "waitlist")),
                InvitationRow.foster_home_id.in_(also),
            ),
        )
        .order_by(InvitationRow.id)
    )
    return list(rows)


def in_scope(row: EventRow, scope: Scope) -> bool:
    """An event belongs to the kommuner of its audience; a koordinator sees it when every
    one of them is theirs (an event with no audience yet: only an admin)."""
    kommuner = [k for k in row.kommuner.split(",") if k]
    if not kommuner:
        return scope.role == "admin"
    return all(scope.allows(k) for k in kommuner)


async def get(session: AsyncSession, event_id: int, scope: Scope) -> EventRow | None:
    """The event if it exists and is in scope (both missing and out of scope: None)."""
    row = await session.get(EventRow, event_id)
    return row if row is not None and in_scope(row, scope) else None


async def locked(session: AsyncSession, event_id: int, scope: Scope) -> EventRow:
    row = await lock(session, event_id)
    if row is None or not in_scope(row, scope):
        raise EventProblem("not_found", f"no event {event_id}")
    return row


# -- making and changing ----------------------------------------------------------------------


def audience_kommuner(audience: str, org: Organisation, scope: Scope) -> tuple[str, str]:
    """The audience as stored and its kommuner, or `EventProblem` (unknown and out of
    scope alike: not found)."""
    try:
        targets = parse_audience(audience)
    except AudienceError as error:
        raise EventProblem("invalid", f"audience: {error}") from None
    missing = unreachable(targets, org, scope.allows)
    if missing:
        raise EventProblem("not_found", f"no {', '.join(map(str, missing))}")
    kommuner: set[str] = set()
    for target in targets:
        kommuner |= target_kommuner(target, org) or frozenset()
    return ",".join(map(str, targets)), ",".join(sorted(kommuner))


def _checked(draft: Draft, now: datetime, tz: ZoneInfo, link_base: str, new: bool) -> Draft:
    try:
        checked = check_draft(draft, now, tz, new=new)
    except EventError as error:
        raise EventProblem("invalid", str(error)) from None
    assert checked.rsvp_by is not None
    text = EventText(
        2_147_483_647, checked.title, checked.starts, checked.ends, checked.place,
        checked.rsvp_by, tz,
    )  # fmt: skip
    if not invitation_fits(text, link_base):
        raise EventProblem(
            "invalid", "title and place are too long for an invitation of two SMS segments"
        )
    return checked


async def create(
    session: AsyncSession,
    org: Organisation,
    draft: Draft,
    audience: str | None,
    created_by: str,
    now: datetime,
    scope: Scope,
    link_base: str,
    tz: ZoneInfo,
) -> int:
    """Store a new event; its id."""
    checked = _checked(draft, now, tz, link_base, new=True)
    stored, kommuner = audience_kommuner(audience, org, scope) if audience else ("", "")
    if not kommuner and scope.role != "admin":
        raise EventProblem("invalid", "audience: a koordinator's event needs an audience")
    assert checked.rsvp_by is not None
    row = EventRow(
        kind=checked.kind, title=checked.title, place=checked.place, note=checked.note,
        starts_at=checked.starts, ends_at=checked.ends, rsvp_by=checked.rsvp_by,
        capacity=checked.capacity, audience=stored, kommuner=kommuner, created_at=now,
        created_by=created_by, sequence=0, counter=0, status="open",
    )  # fmt: skip
    session.add(row)
    await session.flush()
    return row.id


@dataclass(frozen=True, slots=True)
class Change:
    """What `change` was asked to change (None: keep)."""

    starts: datetime | None = None
    ends: datetime | None = None
    place: str | None = None
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class Changed:
    moved: bool  # time or place changed: yes and waitlist are told
    capacity_up: bool


def apply_change(
    row: EventRow, change: Change, now: datetime, tz: ZoneInfo, link_base: str
) -> Changed:
    """Check and apply `change` to the locked `row`; raises the SEQUENCE when anything
    changed."""
    if row.status == "cancelled":
        raise EventProblem("conflict", f"event {row.id} is cancelled")
    draft = Draft(
        row.kind, row.title, change.starts or row.starts_at, change.ends or row.ends_at,
        change.place if change.place is not None else row.place,
        change.capacity if change.capacity is not None else row.capacity,
        row.rsvp_by, row.note,
    )  # fmt: skip
    if draft.rsvp_by is not None and draft.rsvp_by > draft.starts:
        draft = replace(draft, rsvp_by=draft.starts)
    checked = _checked(draft, now, tz, link_base, new=False)
    moved = (checked.starts, checked.ends, checked.place) != (
        row.starts_at,
        row.ends_at,
        row.place,
    )
    capacity_up = (row.capacity or 0) < (checked.capacity or 0) or (
        row.capacity is not None and checked.capacity is None
    )
    if not moved and checked.capacity == row.capacity:
        return Changed(False, False)
    assert checked.rsvp_by is not None
    row.starts_at, row.ends_at, row.place = checked.starts, checked.ends, checked.place
    row.capacity, row.rsvp_by = checked.capacity, checked.rsvp_by
    row.sequence += 1
    return Changed(moved, capacity_up)


def cancel(row: EventRow, reason: str | None, now: datetime) -> None:
    """Cancel the locked `row` (once)."""
    if row.status == "cancelled":
        raise EventProblem("conflict", f"event {row.id} is cancelled already")
    row.status, row.cancelled_at, row.cancel_reason = "cancelled", now, reason
    row.sequence += 1


async def attendance(
    session: AsyncSession, row: EventRow, present: Sequence[str], absent: Sequence[str]
) -> int:
    """Mark invited homes present (or, `absent`, not); returns how many are present."""
    rows = {r.foster_home_id: r for r in await invitations(session, row.id)}
    unknown = sorted({h for h in (*present, *absent) if h not in rows})
    if unknown:
        raise EventProblem("invalid", f"not invited to event {row.id}: {', '.join(unknown)}")
    for home in present:
        rows[home].attended = True
    for home in absent:
        rows[home].attended = False
    return sum(1 for r in rows.values() if r.attended)


# -- reading ----------------------------------------------------------------------------------


def _iso(instant: datetime | None, tz: ZoneInfo) -> str | None:
    return None if instant is None else instant.astimezone(tz).isoformat()


def counts(rows: Iterable[InvitationRow]) -> dict[str, int]:
    """invited, yes, no (expired offers count as no), waitlist, no_answer, people_yes,
    attended."""
    listed = list(rows)
    answers = Counter(r.answer for r in listed)
    return {
        "invited": len(listed),
        "yes": answers["yes"],
        "no": answers["no"] + answers["expired"],
        "waitlist": answers["waitlist"],
        "no_answer": answers[None],
        "people_yes": sum(r.people for r in listed if r.answer == "yes"),
        "attended": sum(1 for r in listed if r.attended),
    }


def by_channel(rows: Iterable[InvitationRow]) -> dict[str, dict[str, Any]]:
    """Per channel the home was invited on: invited, answered, the answer rate; and how
    many answers came by each channel."""
    listed = list(rows)
    result: dict[str, dict[str, Any]] = {}
    for channel in CHANNELS:
        mine = [r for r in listed if r.channel == channel]
        answered = sum(1 for r in mine if r.answered_via is not None)
        result[channel] = {
            "invited": len(mine),
            "answered": answered,
            "answer_rate": round(answered / len(mine), 3) if mine else None,
        }
    via = Counter(r.answered_via for r in listed if r.answered_via is not None)
    result["answered_by"] = {channel: via[channel] for channel in VIAS}
    return result


def summary(row: EventRow, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "title": row.title,
        "starts": _iso(row.starts_at, tz),
        "ends": _iso(row.ends_at, tz),
        "place": row.place,
        "capacity": row.capacity,
    }


def _position(rows: Sequence[InvitationRow]) -> dict[str, int]:
    line = sorted((r for r in rows if r.answer == "waitlist"), key=lambda r: (r.queue or 0, r.id))
    return {r.foster_home_id: i for i, r in enumerate(line, start=1)}


def document(row: EventRow, rows: Sequence[InvitationRow], tz: ZoneInfo) -> dict[str, Any]:
    """What `event show --json` and `GET /api/events/{id}` give."""
    places = _position(rows)
    answered = sorted((r for r in rows if r.answer is not None), key=lambda r: r.id)
    shown = {
        **summary(row, tz),
        **counts(rows),
        "answers": [
            {
                "foster_home": r.foster_home_id,
                "answer": r.answer,
                "people": r.people,
                "position": places.get(r.foster_home_id),
                "channel": r.answered_via,
                "at": _iso(r.answered_at, tz),
            }
            for r in answered
        ],
    }
    return {
        **shown,
        "status": row.status,
        "rsvp_by": _iso(row.rsvp_by, tz),
        "audience": row.audience,
        "sequence": row.sequence,
        "answered": sum(1 for r in rows if r.answer is not None),
        "by_channel": by_channel(rows),
    }


async def show(
    session: AsyncSession, event_id: int, tz: ZoneInfo, scope: Scope
) -> dict[str, Any] | None:
    row = await get(session, event_id, scope)
    if row is None:
        return None
    return document(row, await invitations(session, event_id), tz)


async def list_events(session: AsyncSession, tz: ZoneInfo, scope: Scope) -> list[dict[str, Any]]:
    """Every event in scope, soonest first, with its counts (no foster homes named)."""
    rows = [r for r in await session.scalars(select(EventRow).order_by(EventRow.starts_at))]
    rows = [r for r in rows if in_scope(r, scope)]
    grouped: dict[int, list[InvitationRow]] = defaultdict(list)
    if rows:
        found = await session.scalars(
            select(InvitationRow).where(InvitationRow.event_id.in_([r.id for r in rows]))
        )
        for invitation in found:
            grouped[invitation.event_id].append(invitation)
    return [{**summary(r, tz), "status": r.status, **counts(grouped[r.id])} for r in rows]


async def kommune_statistics(
    session: AsyncSession,
    tz: ZoneInfo,
    scope: Scope,
    now: datetime,
    kommune: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Per kommune and month: events held (started by `now`, not cancelled), homes invited,
    homes and people coming, homes present."""
    query = (
        select(EventRow, InvitationRow)
        .join(InvitationRow, InvitationRow.event_id == EventRow.id)
        .where(EventRow.status != "cancelled", EventRow.starts_at <= now)
    )
    if since is not None:
        query = query.where(EventRow.starts_at >= since)
    if until is not None:
        query = query.where(EventRow.starts_at < until)
    allowed = scope.list_kommuner(kommune)
    table: dict[tuple[str, str], dict[str, Any]] = {}
    events: dict[tuple[str, str], set[int]] = defaultdict(set)
    for event, invitation in (await session.execute(query)).all():
        place = invitation.kommune_id
        if place is None or (allowed is not None and place not in allowed):
            continue
        month = event.starts_at.astimezone(tz).strftime("%Y-%m")
        key = (place, month)
        entry = table.setdefault(
            key, {"kommune": place, "month": month, "events": 0, "invited": 0, "yes": 0,
                  "people_yes": 0, "attended": 0},
        )  # fmt: skip
        events[key].add(event.id)
        entry["invited"] += 1
        entry["yes"] += invitation.answer == "yes"
        entry["people_yes"] += invitation.people if invitation.answer == "yes" else 0
        entry["attended"] += invitation.attended
    for key, ids in events.items():
        table[key]["events"] = len(ids)
    return [table[key] for key in sorted(table)]


async def team_events(
    session: AsyncSession, teams: Sequence[str], start: datetime, end: datetime
) -> list[CalendarEvent]:
    """Events between `start` and `end` whose audience names one of `teams`."""
    wanted = {f"team:{team}" for team in teams}
    rows = await session.scalars(
        select(EventRow)
        .where(EventRow.ends_at > start, EventRow.starts_at < end)
        .order_by(EventRow.starts_at)
    )
    return [calendar_of(r) for r in rows if wanted & set(r.audience.split(","))]
