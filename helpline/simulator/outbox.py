"""The service's outbox read from its database: what `simulate sms` shows was sent back out
(`helpline outbox` lists the same rows). Reading it is a read of personal data, so each
read is in the access log, as `helpline outbox` is."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpline import access_log
from helpline.clock import Clock, system_clock
from helpline.db.models import OutboxRow
from helpline.simulator.sms import Delivered


class ServiceOutbox:
    """An `OutboxReader` over the service's database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock = system_clock,
        reader: access_log.Reader | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._reader = reader  # who reads (the console's user); None: the operator here

    async def mark(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.max(OutboxRow.id))) or 0)

    async def since(self, mark: int) -> list[Delivered]:
        async with self._sessions() as session, session.begin():
            await access_log.record(
                session,
                self._reader or access_log.cli_reader(),
                "outbox.list",
                f"after={mark}",
                self._clock(),
            )
            rows = await session.scalars(
                select(OutboxRow).where(OutboxRow.id > mark).order_by(OutboxRow.id)
            )
            return [
                Delivered(row.channel, row.to, row.sender, row.body, row.kind, row.status)
                for row in rows
            ]
