"""Storage of the network's groups: which members are muted, and the messages written to
them.

A mute names the group and the foster home by id and outlives reloads of the register.
Whether a home may be muted in a group is decided by `routing.groups.membership`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.db.models import GroupMessageRow, GroupMuteRow


async def mute(session: AsyncSession, group_id: str, home_id: str, now: datetime, by: str) -> bool:
    """Mute the home in the group; False when it was muted already (that mute stands).

    Insert-or-nothing, so two staff muting at once both succeed and one row is kept."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(GroupMuteRow)
        .values(group_id=group_id, foster_home_id=home_id, muted_at=now, muted_by=by)
        .on_conflict_do_nothing(index_elements=["group_id", "foster_home_id"])
    )
    result = await session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def unmute(session: AsyncSession, group_id: str, home_id: str) -> bool:
    """Lift the mute; False when the home was not muted."""
    result = await session.execute(
        delete(GroupMuteRow).where(
            GroupMuteRow.group_id == group_id, GroupMuteRow.foster_home_id == home_id
        )
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def is_muted(session: AsyncSession, group_id: str, home_id: str) -> bool:
    """Are the home's messages to the group stored and not relayed?"""
    found = await session.scalar(
        select(GroupMuteRow.muted_at).where(
            GroupMuteRow.group_id == group_id, GroupMuteRow.foster_home_id == home_id
        )
    )
    return found is not None


async def tell_once(session: AsyncSession, group_id: str, home_id: str, now: datetime) -> bool:
    """Mark the muted home told; True only the first time (tell them then)."""
    result = await session.execute(
        update(GroupMuteRow)
        .where(
            GroupMuteRow.group_id == group_id,
            GroupMuteRow.foster_home_id == home_id,
            GroupMuteRow.told_at.is_(None),
        )
        .values(told_at=now)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def messages(session: AsyncSession, group_id: str, limit: int) -> list[GroupMessageRow]:
    """The group's newest messages first (the caller records the read in the access log)."""
    rows = await session.scalars(
        select(GroupMessageRow)
        .where(GroupMessageRow.group_id == group_id)
        .order_by(GroupMessageRow.created_at.desc(), GroupMessageRow.id.desc())
        .limit(limit)
    )
    return list(rows)


async def mutes(session: AsyncSession, group_id: str) -> dict[str, datetime]:
    """The group's muted foster homes by id, with when each was muted."""
    rows = await session.execute(
        select(GroupMuteRow.foster_home_id, GroupMuteRow.muted_at).where(
            GroupMuteRow.group_id == group_id
        )
    )
    return {home: at for home, at in rows}
