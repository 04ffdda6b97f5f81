"""The organisation's version history: every load (a file, or a console edit) is a
version with its rota file text, how it was made and by whom, so that a file dumped from
an older version can be refused with what changed since (`helpline.commands.org`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.db import models as m

#: How many of the newest versions keep their rota file text (to list changes since);
#: older ones lose it, so removed entries do not linger in the history.
KEPT_TEXTS = 100


async def last_recorded(session: AsyncSession) -> int:
    """The newest recorded version, 0 when none is."""
    return (await session.scalar(select(func.max(m.OrgVersionRow.version)))) or 0


async def record(
    session: AsyncSession,
    version: int,
    text: str,
    now: datetime,
    origin: str,
    person: str | None,
    summary: str,
) -> None:
    """Record `version` with its rota file `text`; the oldest lose their text."""
    session.add(m.OrgVersionRow(
        version=version, made_at=now, origin=origin, person_id=person,
        summary=summary, text=text,
    ))  # fmt: skip
    await session.execute(
        update(m.OrgVersionRow)
        .where(m.OrgVersionRow.version <= version - KEPT_TEXTS)
        .values(text=None)
    )
    await session.flush()


async def lock_register(session: AsyncSession) -> int | None:
    """The current version, the register locked against other writers until the
    transaction ends (PostgreSQL; SQLite has one writer anyway)."""
    return await session.scalar(select(m.OrgMeta.version).with_for_update())


async def versions_after(session: AsyncSession, version: int) -> list[m.OrgVersionRow]:
    """The recorded versions after `version`, oldest first."""
    rows = await session.scalars(
        select(m.OrgVersionRow)
        .where(m.OrgVersionRow.version > version)
        .order_by(m.OrgVersionRow.version)
    )
    return list(rows)


async def version_text(session: AsyncSession, version: int) -> str | None:
    """The rota file of a recorded version, None when it is not kept."""
    return await session.scalar(
        select(m.OrgVersionRow.text).where(m.OrgVersionRow.version == version)
    )


async def version_origins(session: AsyncSession) -> dict[int, str]:
    """`version -> origin` ("file" or "console") of every recorded version."""
    rows = await session.execute(select(m.OrgVersionRow.version, m.OrgVersionRow.origin))
    return {version: origin for version, origin in rows}
