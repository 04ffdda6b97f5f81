"""Telegram links as the senders need them: who is reached on Telegram, and who blocked
the bot.

A Telegram 403 "bot was blocked by the user" marks every link of that chat blocked; help
messages to them then go by SMS (`routing.channels.help_party`) until they write to the
bot again, which `unblock` records.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.db.models import TelegramLinkRow
from routing.audience import LinkKey
from routing.channels import TelegramLink, help_party
from routing.ports import Party


async def mark_blocked(session: AsyncSession, chat_id: int, now: datetime) -> int:
    """The user of `chat_id` blocked the bot; returns how many links were marked (an
    earlier mark is kept)."""
    result = await session.execute(
        update(TelegramLinkRow)
        .where(TelegramLinkRow.chat_id == chat_id, TelegramLinkRow.blocked_at.is_(None))
        .values(blocked_at=now)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount


async def unblock(session: AsyncSession, user_id: int) -> bool:
    """The user wrote to the bot again: it reaches them; False when it was not blocked."""
    result = await session.execute(
        update(TelegramLinkRow)
        .where(TelegramLinkRow.user_id == user_id, TelegramLinkRow.blocked_at.is_not(None))
        .values(blocked_at=None)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def link_of(session: AsyncSession, kind: str, target_id: str) -> TelegramLink | None:
    """The Telegram link of a person or foster home ("person"/"foster_home"), if any."""
    row = await session.scalar(
        select(TelegramLinkRow)
        .where(TelegramLinkRow.kind == kind, TelegramLinkRow.target_id == target_id)
        .order_by(TelegramLinkRow.linked_at.desc())
        .limit(1)
    )
    return None if row is None else TelegramLink(row.chat_id, row.blocked_at is not None)


async def help_party_of(session: AsyncSession, kind: str, target_id: str, phone: str) -> Party:
    """Where a help message to this person or foster home goes: Telegram, unless they have
    no link or blocked the bot, then SMS to `phone`."""
    return help_party(phone, await link_of(session, kind, target_id))


async def all_links(session: AsyncSession) -> dict[LinkKey, TelegramLink]:
    """Every link by (kind, target id), the newest of a target's links winning."""
    rows = await session.scalars(select(TelegramLinkRow).order_by(TelegramLinkRow.linked_at))
    return {(r.kind, r.target_id): TelegramLink(r.chat_id, r.blocked_at is not None) for r in rows}
