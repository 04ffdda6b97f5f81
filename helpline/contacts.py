"""The contact log: queries and the JSON shape shared by the API and the command line.

Lists carry metadata only (caller masked). The detail of one contact carries the caller's
number and the recording. Both enforce the reader's `Scope`: a contact outside it is
not found, exactly like a missing one. Callers record each read in the access log, in
the same transaction (`helpline.access_log`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.db.models import AttemptRow, ContactRow, MessageRow
from routing.access import Scope

OUTCOMES = ("in_progress", "answered", "voicemail", "abandoned", "closed")
CHANNELS = ("voice", "sms", "telegram")


@dataclass(frozen=True, slots=True)
class ContactFilter:
    kommune: str | None = None
    since: datetime | None = None
    outcome: str | None = None
    channel: str | None = None
    limit: int = 100
    until: datetime | None = None  # started before this instant
    category: str | None = None

    def describe(self) -> str:
        """The normalised query, as the access log records it: fixed order, instants in
        UTC, values URL-encoded, e.g. `kommune=asker&since=2026-11-23T09:00:00Z&limit=100`."""
        fields = (
            ("kommune", self.kommune),
            ("since", _utc_text(self.since)),
            ("until", _utc_text(self.until)),
            ("outcome", self.outcome),
            ("channel", self.channel),
            ("category", self.category),
            ("limit", str(self.limit)),
        )
        present = [(name, value) for name, value in fields if value is not None]
        return urlencode(present, safe=":", quote_via=quote)


async def list_contacts(
    session: AsyncSession, where: ContactFilter, scope: Scope
) -> list[dict[str, object]]:
    """Contacts in `scope`, newest first, as JSON-ready summaries with their attempts."""
    query = select(ContactRow).order_by(ContactRow.started_at.desc(), ContactRow.id.desc())
    kommuner = scope.list_kommuner(where.kommune)
    if kommuner is not None:
        if not kommuner:
            return []
        query = query.where(ContactRow.kommune_id.in_(sorted(kommuner)))
    if where.since:
        query = query.where(ContactRow.started_at >= where.since)
    if where.until:
        query = query.where(ContactRow.started_at < where.until)
    if where.category:
        query = query.where(ContactRow.category == where.category)
    if where.outcome:
        query = query.where(ContactRow.outcome == where.outcome)
    if where.channel:
        query = query.where(ContactRow.channel == where.channel)
    rows = list(await session.scalars(query.limit(where.limit)))
    attempts = await _attempts(session, [row.id for row in rows])
    return [summary(row, attempts[row.id]) for row in rows]


async def read_contact(
    session: AsyncSession, contact_id: int, scope: Scope
) -> dict[str, object] | None:
    """One contact with its content; None when it is missing or outside `scope`."""
    row = await session.get(ContactRow, contact_id)
    if row is None or not scope.allows(row.kommune_id):
        return None
    attempts = await _attempts(session, [contact_id])
    messages = await session.scalars(
        select(MessageRow).where(MessageRow.contact_id == contact_id).order_by(MessageRow.id)
    )
    return {
        **summary(row, attempts[contact_id]),
        "caller": row.caller,
        "recording_url": row.recording_url,
        "recording_seconds": row.recording_seconds,
        "messages": [
            {
                "direction": m.direction,
                "channel": m.channel,
                "sender_role": m.sender_role,
                "sender_name": m.sender_name,
                "body": m.body,
                "at": m.created_at.isoformat(),
            }
            for m in messages
        ],
    }


def summary(row: ContactRow, attempts: list[AttemptRow]) -> dict[str, object]:
    """A contact's metadata: never a message body, the caller's number masked."""
    answered = row.answered_at
    return {
        "id": row.id,
        "channel": row.channel,
        "kommune": row.kommune_id,
        "foster_home": (
            {"id": row.foster_home_id, "name": row.foster_home_name} if row.foster_home_id else None
        ),
        "caller": row.caller_masked,
        "helpline_number": row.helpline_number,
        "started_at": row.started_at.isoformat(),
        "answered_at": answered.isoformat() if answered else None,
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "seconds_to_answer": _seconds(row.started_at, answered),
        "seconds_to_first_answer": _seconds(row.started_at, row.first_answer_at),
        "closed_at": row.closed_at.isoformat() if row.closed_at else None,
        "category": row.category,
        "answered_by": row.answered_by,
        "duration_seconds": row.duration_seconds,
        "outcome": row.outcome,
        "urgent": row.urgent,
        "attempts": [
            {
                "step": a.step,
                "role": a.role,
                "team": a.team_id,
                "person": a.person_id,
                "name": a.name,
                "outcome": a.outcome,
                "started_at": a.started_at.isoformat(),
                "ended_at": a.ended_at.isoformat() if a.ended_at else None,
            }
            for a in attempts
        ],
    }


async def _attempts(session: AsyncSession, ids: list[int]) -> dict[int, list[AttemptRow]]:
    grouped: dict[int, list[AttemptRow]] = defaultdict(list)
    if ids:
        rows = await session.scalars(
            select(AttemptRow).where(AttemptRow.contact_id.in_(ids)).order_by(AttemptRow.step)
        )
        for row in rows:
            grouped[row.contact_id].append(row)
    return grouped


def _utc_text(instant: datetime | None) -> str | None:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z") if instant else None


def _seconds(start: datetime, end: datetime | None) -> int | None:
    return int((end - start).total_seconds()) if end else None
