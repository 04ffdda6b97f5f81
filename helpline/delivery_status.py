"""Twilio's message status callbacks: each moves its outbox row forward, never back.

Every SMS asks Twilio for a callback at `/twilio/status` (`helpline.bootstrap`). The
callback names the message by its SID; a callback that comes before the sender recorded
the SID (Twilio is quick, or the sender died right after handing it over) finds the row
still `sending` to that number from that number, and gives it its SID. The move itself is
decided by `routing.delivery.after_callback`. A carrier-level stop (error 21610) is stored
as an opt-out of the network.

A broadcast brings two callbacks per SMS to the process that also takes help messages, so
the usual one costs little (`move_known`): a row known by its SID is moved by one
conditional UPDATE (the forward moves of `routing.delivery.forward_move`), or, when that
moved nothing, found to be there already and left alone. Being forward only, this is
idempotent without a record of the event. Anything else (a SID the outbox does not know
yet, a carrier stop) goes through `apply_message_status`, once per (MessageSid, status).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpline import optout
from helpline.clock import Clock
from helpline.db.events import once
from helpline.db.models import OutboxRow
from rota.phones import mask_phone
from routing.classes import NETWORK_SCOPE
from routing.delivery import after_callback, forward_move, is_carrier_stop

log = logging.getLogger(__name__)


def once_key(form: Mapping[str, str]) -> str:
    """The key a message status callback is processed once under."""
    return f"msgstatus:{form.get('MessageSid', '')}:{form.get('MessageStatus', '')}"


def _error_code(form: Mapping[str, str]) -> int | None:
    return int(form["ErrorCode"]) if form.get("ErrorCode", "").isdigit() else None


async def on_message_status(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, form: Mapping[str, str]
) -> None:
    """Apply one message status callback: the usual case at once, the rest once only."""
    async with sessions() as session, session.begin():
        if await move_known(session, form, clock()):
            return
    await once(
        sessions,
        clock,
        once_key(form),
        lambda session: apply_message_status(session, form, clock()),
    )


async def move_known(session: AsyncSession, form: Mapping[str, str], now: datetime) -> bool:
    """The usual callback, of a message the outbox knows by its SID (and no carrier stop
    to record): move its row if this status moves it forward. False when it is not that
    case and `apply_message_status` must look."""
    sid, code = form.get("MessageSid", ""), _error_code(form)
    move = forward_move(form.get("MessageStatus", ""))
    if not sid or move is None or is_carrier_stop(code):
        return False
    values: dict[str, object] = {"status": move.new}
    if move.new == "delivered":
        values["delivered_at"] = now
    if code is not None:
        values["error_code"] = code
    known = (OutboxRow.provider_id == sid, OutboxRow.channel == "sms")
    result = await session.execute(
        update(OutboxRow).where(*known, OutboxRow.status.in_(move.sources)).values(**values)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount > 0:
        return True
    # Nothing moved: a duplicate, a late status, or a SID not recorded yet (then: look).
    return await session.scalar(select(OutboxRow.id).where(*known).limit(1)) is not None


async def _row(session: AsyncSession, sid: str, to: str, sender: str) -> OutboxRow | None:
    row = await session.scalar(
        select(OutboxRow)
        .where(OutboxRow.provider_id == sid, OutboxRow.channel == "sms")
        .with_for_update()
    )
    if row is not None or not to:
        return row
    return await session.scalar(
        select(OutboxRow)
        .where(
            OutboxRow.status == "sending",
            OutboxRow.channel == "sms",
            OutboxRow.provider_id.is_(None),
            OutboxRow.to == to,
            OutboxRow.sender == sender,
        )
        .order_by(OutboxRow.id)
        .limit(1)
        .with_for_update()
    )


async def apply_message_status(
    session: AsyncSession, form: Mapping[str, str], now: datetime
) -> str:
    """Apply one callback in the caller's transaction; returns the row's new state, or ""
    when nothing changed."""
    sid, reported = form.get("MessageSid", ""), form.get("MessageStatus", "")
    to, sender = form.get("To", ""), form.get("From", "")
    code = _error_code(form)
    if is_carrier_stop(code) and to:
        if await optout.stop(session, "sms", to, NETWORK_SCOPE, "carrier", now):
            log.info("carrier stop for %s recorded as an opt-out", mask_phone(to))
    row = await _row(session, sid, to, sender)
    if row is None:
        log.info("status %r for a message the outbox does not know", reported[:20])
        return ""
    new = after_callback(row.status, reported)
    if new is None:
        return ""
    values: dict[str, object] = {"status": new, "provider_id": sid}
    if new == "delivered":
        values["delivered_at"] = now
    if code is not None:
        values["error_code"] = code
    await session.execute(update(OutboxRow).where(OutboxRow.id == row.id).values(**values))
    return new
