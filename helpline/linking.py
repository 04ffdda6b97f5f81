"""One-time Telegram deep links: a coordinator creates one, the person opens it once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from helpline.db.models import LinkTokenRow, TelegramLinkRow

LINK_TTL = timedelta(hours=72)
KINDS = ("person", "foster_home")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_link_token(
    session: AsyncSession, kind: str, target_id: str, now: datetime
) -> tuple[str, datetime]:
    """A fresh token (only its hash is stored) and when it expires."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    token = secrets.token_urlsafe(24)
    expires = now + LINK_TTL
    session.add(
        LinkTokenRow(
            token_hash=_hash(token),
            kind=kind,
            target_id=target_id,
            created_at=now,
            expires_at=expires,
        )
    )
    return token, expires


async def redeem(
    session: AsyncSession, token: str, user_id: int, chat_id: int, now: datetime
) -> str | None:
    """Link the Telegram user if the token is known, unused and unexpired; returns the kind
    linked, or None. A user linked before is re-linked to the new target."""
    row = await session.get(LinkTokenRow, _hash(token))
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    row.used_at = now
    link = await session.get(TelegramLinkRow, user_id)
    if link is None:
        session.add(
            TelegramLinkRow(
                user_id=user_id,
                chat_id=chat_id,
                kind=row.kind,
                target_id=row.target_id,
                linked_at=now,
            )
        )
    else:
        link.chat_id = chat_id
        link.kind = row.kind
        link.target_id = row.target_id
        link.linked_at = now
    return row.kind
