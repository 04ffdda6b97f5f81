"""What a vendor's refusal says about a recipient, stored: a carrier-level stop (Twilio
error 21610: they texted STOP to the number) becomes an opt-out of the network (source
`carrier`); a Telegram "bot was blocked by the user" marks their link blocked, so help
reaches them by SMS. Called by every sender, help included, after a failed send.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpline import optout, telegram_links
from rota.phones import mask_phone
from routing.classes import NETWORK_SCOPE
from routing.ports import BLOCKED, STOPPED, ChannelError

log = logging.getLogger(__name__)


async def apply_refusal(
    session: AsyncSession, channel: str, to: str, error: ChannelError, now: datetime
) -> bool:
    """Store what `error` says about the recipient, in the caller's transaction; whether
    it said anything."""
    if error.reason == STOPPED and channel == "sms":
        if await optout.stop(session, "sms", to, NETWORK_SCOPE, "carrier", now):
            log.info("carrier stop for %s recorded as an opt-out", mask_phone(to))
        return True
    if error.reason == BLOCKED and channel == "telegram" and to.lstrip("-").isdigit():
        if await telegram_links.mark_blocked(session, int(to), now):
            log.info("a Telegram user blocked the bot: help goes to them by SMS")
        return True
    return False


async def record_refusal(
    sessions: async_sessionmaker[AsyncSession],
    channel: str,
    to: str,
    error: ChannelError,
    now: datetime,
) -> None:
    """`apply_refusal` in a transaction of its own; a storage failure is logged, never
    raised, so the sender carries on."""
    if error.reason is None:
        return
    try:
        async with sessions() as session, session.begin():
            await apply_refusal(session, channel, to, error, now)
    except SQLAlchemyError as failure:
        log.error("could not record a refusal (%s): %s", error.reason, type(failure).__name__)
