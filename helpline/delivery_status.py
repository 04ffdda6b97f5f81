"""Twilio's message status callbacks: each moves its outbox row forward, never back.

Every SMS asks Twilio for a callback at `/twilio/status` (`helpline.bootstrap`). The
callback names the message by its SID; a callback that comes before the sender recorded
the SID (Twilio is quick, or the sender died right after handing it over) finds the row
still `sending` to that number from that number, and gives it its SID. The move itself is
decided by `routing.delivery.after_callback`. A carrier-level stop (error 21610) is stored
as an opt-out of the network. The webhook runs this once per (MessageSid, status).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpline import optout
from helpline.db.models import OutboxRow
from rota.phones import mask_phone
from routing.classes import NETWORK_SCOPE
from routing.delivery import after_callback, is_carrier_stop

log = logging.getLogger(__name__)


def once_key(form: Mapping[str, str]) -> str:
    """The key a message status callback is processed once under."""
    return f"msgstatus:{form.get('MessageSid', '')}:{form.get('MessageStatus', '')}"


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
    code = int(form["ErrorCode"]) if form.get("ErrorCode", "").isdigit() else None
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
