"""Once-only processing of inbound events (Twilio retries, Telegram redeliveries).

The work and the record of its answer commit in one transaction: a retry finds the
record and gets the same answer; a concurrent duplicate loses the insert race, rolls its
work back and answers what the winner stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpline.clock import Clock
from helpline.db.models import WebhookEventRow

Work = Callable[[AsyncSession], Awaitable[str]]


async def once(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, key: str, work: Work
) -> str:
    """Run `work` for event `key` unless it ran before; return its (stored) answer."""
    try:
        async with sessions() as session, session.begin():
            stored = await session.get(WebhookEventRow, key)
            if stored is not None:
                return stored.response
            answer = await work(session)
            session.add(WebhookEventRow(key=key, response=answer, created_at=clock()))
            return answer
    except IntegrityError:
        async with sessions() as session:
            stored = await session.get(WebhookEventRow, key)
            if stored is None:
                raise
            return stored.response
