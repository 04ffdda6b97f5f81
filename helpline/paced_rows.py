"""The paced lane's rows in the outbox: claiming, finishing, releasing held ones and taking
back the claims of senders that died.

Group and info rows are written `queued` (or `held` with `not_before`, or `opted_out`).
A sender claims a batch with one conditional UPDATE, `queued` -> `sending`, so of two
senders one wins each row; it records the outcome only while the row is still its claim
(`sending`), so a status callback that came first (`sent`, `delivered`) is never undone.

States and moves of a paced row:

    held --(not_before passed: release_held)--> queued
    queued --(claim)--> sending
    sending --(sent)--> sent --(callbacks)--> delivered | undelivered | failed
    sending --(opted out / quiet hours at send time)--> opted_out | held
    sending --(refused: retry later / give up)--> queued (not_before) | failed
    sending --(claim older than LEASE: the sender died; recover_stuck)--> queued
    sending --(no live channel: sandbox mode)--> sandbox

Help rows (`pending`/`sending`/`sent`/`failed`/`sandbox`) are the help lane's
(`helpline.outbox`) and are never touched here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpline.db.models import OutboxRow
from rota.wallclock import utc
from routing.classes import Decision, HoldUntil, MsgClass, SendSilently, outbox_status
from routing.ports import Button
from routing.segments import segments

#: A live sender holds a row at most a few seconds of pacing plus one vendor time-out
#: (15 s); a claim older than this belongs to a sender that died.
LEASE = timedelta(seconds=60)
PACED_CLASSES = ("group", "info")


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed row, as the sender needs it."""

    id: int
    channel: str
    to: str
    sender: str
    body: str
    msg_class: str
    group_id: str | None
    segments: int | None
    attempts: int
    created_at: datetime
    disable_notification: bool
    buttons: str | None = None  # JSON [[label, data]], under a Telegram message


@dataclass(frozen=True, slots=True)
class NewRow:
    """A group or info message to one recipient, as `routing.classes.decide` placed it."""

    channel: str
    to: str
    sender: str  # the sending number; "bot" on Telegram
    body: str
    msg_class: MsgClass
    kind: str  # "broadcast", "group", "welcome", ...
    decision: Decision
    broadcast_id: int | None = None
    group_id: str | None = None
    buttons: tuple[Button, ...] = ()  # under a Telegram message


async def insert_rows(session: AsyncSession, rows: list[NewRow], now: datetime) -> None:
    """Write paced rows in the caller's transaction: `queued`, `held` (until the decision's
    time) or `opted_out`; after the commit, `helpline.sender.kick` starts the lanes."""
    if not rows:
        return
    values = [
        {
            "channel": row.channel,
            "to": row.to,
            "sender": row.sender,
            "body": row.body,
            "contact_id": None,
            "created_at": now,
            "status": outbox_status(row.decision),
            "provider_id": None,
            "kind": row.kind,
            "buttons": _buttons(row.buttons),
            "reply_to": None,
            "attempts": 0,
            "msg_class": row.msg_class,
            "not_before": utc(row.decision.until) if isinstance(row.decision, HoldUntil) else None,
            "broadcast_id": row.broadcast_id,
            "group_id": row.group_id,
            "segments": segments(row.body).count if row.channel == "sms" else None,
            "disable_notification": isinstance(row.decision, SendSilently),
        }
        for row in rows
    ]
    await session.execute(insert(OutboxRow), values)


def _buttons(buttons: tuple[Button, ...]) -> str | None:
    """Buttons as the outbox stores them: JSON [[label, data]], or None."""
    return json.dumps([[b.label, b.data] for b in buttons]) if buttons else None


def _due(now: datetime) -> Any:
    return and_(
        OutboxRow.status == "queued",
        OutboxRow.msg_class.in_(PACED_CLASSES),
        or_(OutboxRow.not_before.is_(None), OutboxRow.not_before <= now),
    )


async def claim(
    sessions: async_sessionmaker[AsyncSession], now: datetime, limit: int
) -> list[Claimed]:
    """Claim up to `limit` due rows, oldest first, for this sender alone."""
    async with sessions() as session, session.begin():
        # SKIP LOCKED on PostgreSQL: concurrent claimers take different rows rather than
        # queueing on the same ones (SQLite, which has one writer, ignores it).
        candidates = select(OutboxRow.id).where(_due(now)).order_by(OutboxRow.id).limit(limit)
        ids = list(await session.scalars(candidates.with_for_update(skip_locked=True)))
        if not ids:
            return []
        rows = await session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(ids), OutboxRow.status == "queued")
            .values(status="sending", claimed_at=now, attempts=OutboxRow.attempts + 1)
            .returning(
                OutboxRow.id,
                OutboxRow.channel,
                OutboxRow.to,
                OutboxRow.sender,
                OutboxRow.body,
                OutboxRow.msg_class,
                OutboxRow.group_id,
                OutboxRow.segments,
                OutboxRow.attempts,
                OutboxRow.created_at,
                OutboxRow.disable_notification,
                OutboxRow.buttons,
            )
        )
        return sorted((Claimed(**dict(row._mapping)) for row in rows), key=lambda c: c.id)


async def has_due(sessions: async_sessionmaker[AsyncSession], now: datetime) -> bool:
    """Is any paced row waiting to be claimed?"""
    async with sessions() as session:
        return (await session.scalar(select(OutboxRow.id).where(_due(now)).limit(1))) is not None


async def finish(
    sessions: async_sessionmaker[AsyncSession], row_id: int, status: str, **values: Any
) -> bool:
    """Record the outcome of a claim, unless the row moved on meanwhile (a status callback
    that came first); whether it was recorded."""
    async with sessions() as session, session.begin():
        return await finish_in(session, row_id, status, **values)


async def finish_in(session: AsyncSession, row_id: int, status: str, **values: Any) -> bool:
    """`finish` in the caller's transaction."""
    result = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == row_id, OutboxRow.status == "sending")
        .values(status=status, **values)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def release_held(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Held rows whose time has come become queued; returns how many. (Looked for first:
    this runs twice a second, and an UPDATE would take SQLite's write lock each time.)"""
    held = and_(OutboxRow.status == "held", OutboxRow.not_before <= now)
    async with sessions() as session, session.begin():
        if await session.scalar(select(OutboxRow.id).where(held).limit(1)) is None:
            return 0
        result = await session.execute(update(OutboxRow).where(held).values(status="queued"))
    assert isinstance(result, CursorResult)
    return result.rowcount


async def recover_stuck(
    sessions: async_sessionmaker[AsyncSession], now: datetime, lease: timedelta = LEASE
) -> list[int]:
    """Claims older than `lease` (their sender died) go back to the queue; their ids. The
    next claim asks the vendor first whether it already has the message."""
    stuck = and_(
        OutboxRow.status == "sending",
        OutboxRow.msg_class.in_(PACED_CLASSES),
        OutboxRow.claimed_at < now - lease,
    )
    async with sessions() as session, session.begin():
        if await session.scalar(select(OutboxRow.id).where(stuck).limit(1)) is None:
            return []
        result = await session.execute(
            update(OutboxRow).where(stuck).values(status="queued").returning(OutboxRow.id)
        )
        return sorted(result.scalars())
