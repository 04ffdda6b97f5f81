"""The composition root: settings in, wired services out (STYLE.md habit 5).

Every entry point (web app, worker, command line) opens `Services` here, and tests pass
their own settings and clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from helpline.db.engine import make_engine, sessionmaker
from helpline.db.register import current_version, read_organisation
from helpline.embedded_redis import EmbeddedRedis
from helpline.settings import Settings
from rota.engine import Rota
from rota.model import Organisation

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


@dataclass
class LoadedOrg:
    """The organisation of one register version and its rota index."""

    version: int
    org: Organisation
    rota: Rota


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: aioredis.Redis
    redis_url: str
    clock: Clock = system_clock
    _loaded: LoadedOrg | None = field(default=None, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def organisation(self) -> LoadedOrg | None:
        """The current organisation, rebuilt only when the register's version changed."""
        async with self.sessions() as session:
            version = await current_version(session)
            if version is None:
                return None
            if self._loaded is not None and self._loaded.version == version:
                return self._loaded
            async with self._lock:
                if self._loaded is None or self._loaded.version != version:
                    org = await read_organisation(session)
                    assert org is not None
                    self._loaded = LoadedOrg(version, org, Rota(org))
            return self._loaded


@asynccontextmanager
async def open_services(
    settings: Settings, *, clock: Clock = system_clock, with_redis: bool = True
) -> AsyncIterator[Services]:
    """Open the database engine and Redis (starting the embedded one if no URL is set)."""
    embedded: EmbeddedRedis | None = None
    redis_url = settings.redis_url
    if redis_url is None:
        embedded = EmbeddedRedis(settings.data_dir)
        redis_url = embedded.url
        if with_redis:
            await asyncio.to_thread(embedded.start)
        else:
            embedded = None
    engine = make_engine(settings.database_url)
    client = aioredis.from_url(redis_url)  # connects lazily: unused without `with_redis`
    try:
        yield Services(settings, engine, sessionmaker(engine), client, redis_url, clock)
    finally:
        await client.aclose()
        await engine.dispose()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
