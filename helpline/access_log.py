"""The access log (innsynslogg): every read of personal data, who, when, what, from where.

The one module that writes and queries `access_log`. It is append-only: there is no
update or delete here, and the table has no foreign keys, so it outlives what it logs.
A read is recorded in the session that reads, so the entry commits with the read: when
the entry cannot be written, the transaction fails and the data is not returned.
"""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.db.models import AccessLogRow

Source = Literal["api", "cli", "console"]
SOURCES: tuple[Source, ...] = ("api", "cli", "console")


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads and from where: `api:<token name>` from an IP address, `cli:<os user>`
    on a host, `console:<person>`."""

    source: Source
    name: str
    client: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.source}:{self.name}"


def cli_reader() -> Reader:
    """The operator running `helpline` here: the OS user on this host."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (a bare container)
        user = f"uid{os.getuid()}"
    return Reader("cli", user, socket.gethostname())


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    actor: str
    source: str
    action: str
    target: str
    client: str | None

    def as_json(self) -> dict[str, str | None]:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "source": self.source,
            "action": self.action,
            "target": self.target,
            "client": self.client,
        }


async def record(
    session: AsyncSession, reader: Reader, action: str, target: str, now: datetime
) -> None:
    """Append one read, flushed at once so a log that cannot be written fails the read."""
    session.add(
        AccessLogRow(
            at=now,
            actor=reader.actor,
            source=reader.source,
            action=action,
            target=target,
            client=reader.client,
        )
    )
    await session.flush()


async def entries(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    limit: int = 100,
    until: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> list[Entry]:
    """The newest entries first, from `since` on and before `until`; `actor` is a whole
    actor (`console:kari`) or the name after its source (`kari`), `action` exact."""
    query = select(AccessLogRow).order_by(AccessLogRow.at.desc(), AccessLogRow.id.desc())
    if since is not None:
        query = query.where(AccessLogRow.at >= since)
    if until is not None:
        query = query.where(AccessLogRow.at < until)
    if actor is not None:
        names = [actor] if ":" in actor else [f"{source}:{actor}" for source in SOURCES]
        query = query.where(AccessLogRow.actor.in_(names))
    if action is not None:
        query = query.where(AccessLogRow.action == action)
    rows = await session.scalars(query.limit(limit))
    return [Entry(r.at, r.actor, r.source, r.action, r.target, r.client) for r in rows]


async def actions(session: AsyncSession) -> list[str]:
    """Every action the log holds, sorted: the choices of a filter."""
    found = await session.scalars(select(AccessLogRow.action).distinct())
    return sorted(found)
