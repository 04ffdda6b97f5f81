"""Outgoing SMS and Telegram messages, delivered from a transactional outbox.

The transaction that decides to send a message also writes it (status `pending`), so a
decision and its messages commit or roll back together and a retried webhook never sends
twice. `deliver` then claims each pending row with a conditional update — of two
deliverers only one sends — and hands it to Twilio or Telegram. Without credentials for a
channel (sandbox mode) the row is stored as `sandbox` and nothing is sent. A job sweeps
rows left pending (a vendor outage) every minute, and rows a crashed deliverer left
`sending` for `routing.delivery.SENDING_TIMEOUT` (5 minutes): at-least-once delivery.

A webhook does not wait for the vendor: `deliver_soon` starts the delivery of its rows at
once, in a task this outbox tracks, after the webhook's transaction committed; `drain`
awaits those tasks (the web app's shutdown). A row a task did not get to stays pending
for the sweep.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from helpline.clock import Clock
from helpline.db.models import OutboxRow
from helpline.refusals import record_refusal
from rota.phones import mask_phone
from routing.delivery import SENDING_TIMEOUT, after_crash, after_failure, left_sending
from routing.ports import Button, ChannelError, Sent, SmsSender, TelegramSender

log = logging.getLogger(__name__)

#: A single statement that commits alone: no BEGIN and COMMIT round trips around it.
AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


class Outbox:
    """Queues messages inside a transaction and delivers them after it commits."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        sms: SmsSender | None,
        telegram: TelegramSender | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._sms = sms
        self.telegram = telegram
        self._background: set[asyncio.Task[int]] = set()

    @property
    def sms(self) -> SmsSender | None:
        """The SMS channel, None in sandbox mode (the paced sender uses it too)."""
        return self._sms

    def queue(
        self,
        session: AsyncSession,
        *,
        channel: str,
        to: str,
        sender: str,
        body: str,
        contact_id: int | None,
        kind: str = "message",
        buttons: Sequence[Button] = (),
        reply_to: int | None = None,
    ) -> OutboxRow:
        """Add a message to the caller's transaction; deliver it after the commit."""
        live = self._sms if channel == "sms" else self.telegram
        row = OutboxRow(
            channel=channel,
            to=to,
            sender=sender,
            body=body,
            contact_id=contact_id,
            created_at=self._clock(),
            status="pending" if live else "sandbox",
            kind=kind,
            buttons=json.dumps([[b.label, b.data] for b in buttons]) if buttons else None,
            reply_to=reply_to,
            attempts=0,
        )
        session.add(row)
        return row

    async def already_queued(self, contact_id: int, to: str, kind: str) -> bool:
        """Is a message of `kind` for this contact to `to` queued or delivered already?"""
        async with self._sessions() as session:
            found = await session.scalar(
                select(OutboxRow.id).where(
                    OutboxRow.contact_id == contact_id,
                    OutboxRow.to == to,
                    OutboxRow.kind == kind,
                    OutboxRow.status != "failed",
                )
            )
        return found is not None

    async def deliver(self, ids: Sequence[int]) -> int:
        """Send these pending rows (each claimed first); returns how many went out."""
        sent = 0
        for row_id in ids:
            sent += await self._deliver_one(row_id)
        return sent

    def deliver_soon(self, ids: Sequence[int]) -> None:
        """Start sending these committed pending rows now, without waiting for the vendor:
        in a background task that `drain` awaits. The claim keeps a row from going twice,
        the sweep sends what the task could not."""
        if not ids:
            return
        task = asyncio.create_task(self._deliver_in_background(list(ids)))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for every delivery `deliver_soon` started (and those they start)."""
        while self._background:
            await asyncio.gather(*self._background)

    async def _deliver_in_background(self, ids: list[int]) -> int:
        try:
            return await self.deliver(ids)
        except Exception as error:  # the database went away: the rows stay for the sweep
            log.error("outbox: %d messages left to the sweep: %s", len(ids), type(error).__name__)
            return 0

    async def deliver_pending(self) -> int:
        """Send every pending row: the sweep after crashes and vendor outages."""
        await self.recover_sending()
        async with self._sessions() as session:
            ids = list(
                await session.scalars(
                    select(OutboxRow.id).where(OutboxRow.status == "pending").order_by(OutboxRow.id)
                )
            )
        return await self.deliver(ids)

    async def recover_sending(self) -> int:
        """Rows a crashed deliverer left `sending`: pending again (or failed, when they had
        every attempt). Returns how many will be tried again."""
        now = self._clock()
        moved: Counter[str] = Counter()
        async with self._sessions() as session, session.begin():
            stuck = await session.execute(
                select(OutboxRow.id, OutboxRow.attempts, OutboxRow.claimed_at).where(
                    OutboxRow.status == "sending",
                    OutboxRow.msg_class == "help",  # the paced lane recovers its own
                    or_(
                        OutboxRow.claimed_at.is_(None),
                        OutboxRow.claimed_at <= now - SENDING_TIMEOUT,
                    ),
                )
            )
            for row_id, attempts, claimed_at in stuck.all():
                if not left_sending(claimed_at, now):
                    continue
                status = after_crash(attempts)
                result = await session.execute(
                    update(OutboxRow)
                    .where(
                        OutboxRow.id == row_id,
                        OutboxRow.status == "sending",
                        _same_claim(claimed_at),
                    )
                    .values(status=status)
                )
                moved[status] += result.rowcount  # type: ignore[attr-defined]  # CursorResult
        if moved:
            log.warning(
                "outbox: messages left sending by a crash: %d tried again, %d given up",
                moved["pending"],
                moved["failed"],
            )
        return moved["pending"]

    async def _deliver_one(self, row_id: int) -> int:
        # One statement, committed alone: the claim (of two deliverers only one matches)
        # returns the row it claimed, with no transaction around it.
        async with self._sessions() as session:
            await session.connection(execution_options=AUTOCOMMIT)
            row = await session.scalar(
                update(OutboxRow)
                .where(OutboxRow.id == row_id, OutboxRow.status == "pending")
                .values(status="sending", attempts=OutboxRow.attempts + 1, claimed_at=self._clock())
                .returning(OutboxRow)
                .execution_options(synchronize_session=False)
            )
        if row is None:
            return 0
        try:
            result = await self._send(row)
        except ChannelError as error:
            await record_refusal(self._sessions, row.channel, row.to, error, self._clock())
            status = after_failure(error.retryable, row.attempts)
            await self._finish(row_id, status, None)
            log.warning(
                "%s %d to %s not delivered (%s): %s",
                row.channel,
                row_id,
                _masked(row),
                "will retry" if status == "pending" else "gave up",
                error,
            )
            return 0
        await self._finish(row_id, "sent", result.provider_id)
        log.info("%s %d to %s sent (%s)", row.channel, row_id, _masked(row), row.kind)
        return 1

    async def _send(self, row: OutboxRow) -> Sent:
        if row.channel == "sms":
            assert self._sms is not None
            return await self._sms.send_sms(to=row.to, from_=row.sender, body=row.body)
        assert self.telegram is not None
        buttons = [Button(label, data) for label, data in json.loads(row.buttons or "[]")]
        return await self.telegram.send_text(
            chat_id=int(row.to), text=row.body, buttons=buttons, reply_to=row.reply_to
        )

    async def _finish(self, row_id: int, status: str, provider_id: str | None) -> None:
        async with self._sessions() as session:
            await session.connection(execution_options=AUTOCOMMIT)
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row_id)
                .values(status=status, provider_id=provider_id)
            )


def _same_claim(claimed_at: datetime | None) -> ColumnElement[bool]:
    if claimed_at is None:
        return OutboxRow.claimed_at.is_(None)
    return OutboxRow.claimed_at == claimed_at


def _masked(row: OutboxRow) -> str:
    return mask_phone(row.to) if row.channel == "sms" else "a Telegram chat"
