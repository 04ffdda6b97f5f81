"""Outgoing SMS: through Twilio when configured, into the outbox table in sandbox mode.

Every message sent is recorded in the outbox (the delivery record), so a job that runs
twice can see what already went out and does not send it again.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpline.clock import Clock
from helpline.db.models import OutboxRow
from rota.phones import mask_phone
from routing.ports import ChannelError, SmsSender

log = logging.getLogger(__name__)


class Outbox:
    """Sends SMS and keeps the record of what was sent."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        sender: SmsSender | None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._sender = sender

    async def already_sent(self, contact_id: int, to: str) -> bool:
        """Has this contact's message to `to` gone out (or into the sandbox) already?"""
        async with self._sessions() as session:
            row = await session.scalar(
                select(OutboxRow.id).where(
                    OutboxRow.contact_id == contact_id,
                    OutboxRow.to == to,
                    OutboxRow.status.in_(("sent", "sandbox")),
                )
            )
        return row is not None

    async def send_sms(self, *, to: str, from_: str, body: str, contact_id: int | None) -> str:
        """Send one SMS and record it; returns the provider's id (or the outbox id)."""
        status, provider_id = "sandbox", None
        if self._sender is not None:
            try:
                sent = await self._sender.send_sms(to=to, from_=from_, body=body)
            except ChannelError:
                await self._record(to, from_, body, contact_id, "failed", None)
                raise
            status, provider_id = "sent", sent.provider_id
        row = await self._record(to, from_, body, contact_id, status, provider_id)
        log.info("sms to %s %s (contact %s)", mask_phone(to), status, contact_id)
        return provider_id or f"outbox-{row.id}"

    async def _record(
        self,
        to: str,
        from_: str,
        body: str,
        contact_id: int | None,
        status: str,
        provider_id: str | None,
    ) -> OutboxRow:
        now = self._clock()
        row = OutboxRow(channel="sms", to=to, sender=from_, body=body, contact_id=contact_id,
                        created_at=now, status=status, provider_id=provider_id)  # fmt: skip
        async with self._sessions() as session, session.begin():
            session.add(row)
        return row
