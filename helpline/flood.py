"""Flood control, the service side: counters in Redis, notices read from the database.

`routing.flood` decides; this module asks Redis what the decisions need (has this
conversation's follow-up window been claimed, how many unknown numbers opened a
conversation on this line this hour), stores the messages and sends the notices. Redis
is only asked, never trusted with a message: when it fails, staff are notified as if
there were no limit (fail open), and every message is stored whatever Redis says.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from helpline import intake
from helpline.db.models import ContactRow, MessageRow, OutboxRow
from helpline.messages import MessageWork
from rota.phones import mask_phone
from routing import flood as decide
from routing import lifecycle
from routing.effects import Logged, ScheduleFollowupBatch

log = logging.getLogger(__name__)


class FloodGate:
    """The counters flood control keeps in Redis, shared by every web process.

    Keys hold a window's number, so the time that decides is the service's clock; Redis
    expiry only clears old keys away."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def claim_followup_window(self, contact_id: int, window: decide.Window) -> bool | None:
        """True for the first claim of a conversation's window; None when Redis fails."""
        key = f"flood:followup:{contact_id}:{window.index}"
        keep = int((window.end - window.start).total_seconds()) * 2 + 60
        try:
            return bool(await self._redis.set(key, "1", nx=True, ex=keep))
        except (RedisError, OSError) as error:
            log.warning(
                "follow-up window of conversation %d not checked (%s): notifying now",
                contact_id,
                type(error).__name__,
            )
            return None

    async def count_unknown(self, line: str, window: decide.Window) -> int | None:
        """Count one more new conversation from an unknown number on `line` in `window`;
        the count so far, this one included, or None when Redis fails."""
        try:
            return await count_in_window(self._redis, f"flood:unknown:{line}", window)
        except (RedisError, OSError) as error:
            log.warning(
                "unknown-number cap not checked (%s): opening a conversation", type(error).__name__
            )
            return None


async def count_in_window(redis: aioredis.Redis, name: str, window: decide.Window) -> int:
    """Count one more under `name` in `window`: the count so far, this one included.

    The key holds the window's number, so the service's clock decides which count is
    current; the key expires after two windows only to clear it away. Raises what Redis
    raises: each caller decides whether to fail open (flood control) or closed (login)."""
    key = f"{name}:{window.index}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, int((window.end - window.start).total_seconds()) * 2)
        count, _ = await pipe.execute()
    return int(count)


def _gate(conv: MessageWork) -> FloodGate:
    return FloodGate(conv.services.redis)


def _span(conv: MessageWork) -> timedelta:
    return timedelta(seconds=conv.services.settings.followup_batch)


async def opened(conv: MessageWork, contact: ContactRow) -> None:
    """A new conversation's first notice opens its follow-up window: follow-ups in the
    same window come in one batch notice. (Its mark was stored with it, at `conv.now`:
    `intake.open_conversation`.)"""
    await _gate(conv).claim_followup_window(contact.id, decide.window_at(conv.now, _span(conv)))


async def follow_up(conv: MessageWork, contact: ContactRow, message: MessageRow) -> None:
    """A further message in an open conversation: notify now, or in the window's batch."""
    window = decide.window_at(conv.now, _span(conv))
    claimed = await _gate(conv).claim_followup_window(contact.id, window)
    decision = decide.follow_up(claimed, window, contact.followup_notified_at, message.created_at)
    if isinstance(decision, decide.NotifyNow):
        await notify_pending(conv, contact, message)
    else:
        conv.effects.after.append(ScheduleFollowupBatch(contact.id, window.index, decision.due_at))


async def notify_pending(
    conv: MessageWork, contact: ContactRow, current: MessageRow | None = None
) -> int:
    """One notice of every follow-up staff were not told of (and `current`, the message
    being handled); returns how many it told. Runs again safely: the stored mark moves
    with a compare-and-set, so of two runs only one notifies."""
    await conv.session.flush()
    mark = contact.followup_notified_at  # None: opened before flood control, all told
    pending = [MessageRow.created_at > mark] if mark is not None else []
    if current is not None:
        pending.append(MessageRow.id == current.id)
    if not pending:
        return 0
    rows = await conv.session.scalars(
        select(MessageRow)
        .where(MessageRow.contact_id == contact.id, MessageRow.direction == "in", or_(*pending))
        .order_by(MessageRow.id)
    )
    notice = decide.notice(
        [decide.Pending(r.created_at, r.body) for r in rows], contact.followup_notified_at
    )
    if notice is None:
        return 0
    if not await _move_mark(conv, contact, notice.notified_up_to):
        notice = decide.after_lost_mark(notice, current.body if current else None)
        if notice is None:
            return 0
    conversation = conv.view(contact)
    outcome = lifecycle.followups_told(
        conversation, notice.bodies, await conv.chats(conversation.plan)
    )
    await conv.carry_out(outcome, contact)
    return len(notice.bodies)


async def _move_mark(conv: MessageWork, contact: ContactRow, to: datetime) -> bool:
    before = contact.followup_notified_at
    unmoved = (
        ContactRow.followup_notified_at.is_(None)
        if before is None
        else ContactRow.followup_notified_at == before
    )
    result = await conv.session.execute(
        update(ContactRow)
        .where(ContactRow.id == contact.id, unmoved)
        .values(followup_notified_at=to)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult
        return False
    set_committed_value(contact, "followup_notified_at", to)  # what is stored now
    return True


async def floods(conv: MessageWork, line: str) -> bool:
    """Count a new conversation from an unknown number on `line`; over the hourly cap?"""
    count = await _gate(conv).count_unknown(line, decide.window_at(conv.now, decide.HOUR))
    return decide.floods(count, conv.services.settings.unknown_per_hour)


async def join(conv: MessageWork, sender: str, line: str, body: str, channel: str) -> None:
    """Over the cap: the message joins the line's open flood conversation (opening it,
    and alerting the coordinators once); the sender gets the neutral receipt once."""
    contact = await conv.session.scalar(
        select(ContactRow)
        .where(
            ContactRow.flood.is_(True),
            ContactRow.closed_at.is_(None),
            ContactRow.content_purged_at.is_(None),
            ContactRow.helpline_number == line,
        )
        .order_by(ContactRow.id.desc())
        .limit(1)
        .with_for_update()
    )
    settings = conv.services.settings
    logged = Logged("in", channel, "foster_parent", mask_phone(sender), body)
    if contact is None:
        contact = await intake.start_conversation(
            conv, None, sender, line, channel, None, as_flood=True
        )
        conv.record(contact, logged)
        await intake.notify_opened(conv, contact, body)
        await opened(conv, contact)
        alert = lifecycle.flood_opened(
            conv.view(contact), settings.coordinators, settings.unknown_per_hour
        )
        await conv.carry_out(alert, contact)
        log.warning(
            "flood: unknown numbers over the hourly cap on a helpline number; "
            "conversation %d collects them",
            contact.id,
        )
        return
    message = conv.record(contact, logged)
    await follow_up(conv, contact, message)
    told = await conv.session.scalar(
        select(OutboxRow.id)
        .where(
            OutboxRow.contact_id == contact.id, OutboxRow.to == sender, OutboxRow.kind == "receipt"
        )
        .limit(1)
    )
    receipt = lifecycle.flood_receipt(conv.view(contact), sender, told=told is not None)
    await conv.carry_out(receipt, contact)
