"""Opt-outs: STOPP (or a carrier-level stop) and START, stored per channel, address and scope.

A scope is `network` (STOPP to the network number: every info message and the group
messages sent from it) or `group:<id>` (STOPP to a group's own number). Which scopes stop
a message is decided by `routing.classes.opt_out_scopes`; help is never stopped. Every call
is idempotent: stopping twice keeps the first stop, starting what is not stopped is fine.
An opt-out names no register entry and outlives reloads.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Literal

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.db.models import OptOutRow

Source = Literal["keyword", "carrier"]


async def stop(
    session: AsyncSession,
    channel: str,
    address: str,
    scope: str,
    source: Source,
    now: datetime,
) -> bool:
    """Record that `address` on `channel` wants no more messages of `scope`; False when
    it had stopped them already (that stop stands)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(OptOutRow)
        .values(channel=channel, address=address, scope=scope, source=source, created_at=now)
        .on_conflict_do_nothing(index_elements=["channel", "address", "scope"])
    )
    result = await session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def start(session: AsyncSession, channel: str, address: str, scope: str) -> bool:
    """Lift the stop of `scope` (whoever made it: a keyword or the carrier); False when
    there was none."""
    result = await session.execute(
        delete(OptOutRow).where(
            OptOutRow.channel == channel, OptOutRow.address == address, OptOutRow.scope == scope
        )
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def is_opted_out(
    session: AsyncSession, channel: str, address: str, scopes: Collection[str]
) -> bool:
    """Has `address` stopped any of `scopes`? (No scopes, as for help: never.)"""
    if not scopes:
        return False
    found = await session.scalar(
        select(OptOutRow.id)
        .where(
            OptOutRow.channel == channel,
            OptOutRow.address == address,
            OptOutRow.scope.in_(list(scopes)),
        )
        .limit(1)
    )
    return found is not None


async def opted_out(session: AsyncSession, scopes: Collection[str]) -> set[tuple[str, str]]:
    """Every (channel, address) that stopped any of `scopes`: for checking many at once."""
    if not scopes:
        return set()
    rows = await session.execute(
        select(OptOutRow.channel, OptOutRow.address).where(OptOutRow.scope.in_(list(scopes)))
    )
    return {(channel, address) for channel, address in rows}


async def start_all(session: AsyncSession, channel: str, address: str) -> int:
    """Lift every stop of `address` on `channel` (Telegram's `/start`); how many there were."""
    result = await session.execute(
        delete(OptOutRow).where(OptOutRow.channel == channel, OptOutRow.address == address)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount
