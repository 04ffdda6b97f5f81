"""The engine gives up on an unreachable PostgreSQL by itself, before a caller's 3 s: a
blackholed database (connections accepted, never answered) must not hold a webhook for
asyncpg's default minute. Runs without PostgreSQL: the fault proxy swallows the handshake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from helpline.db.engine import make_engine
from tests.faults.proxy import FaultProxy
from tests.faults.rig import CALL_ANSWER_S, proxied, upstream

GIVE_UP_S = 0.5


@pytest.fixture
async def blackhole() -> AsyncIterator[FaultProxy]:
    proxy = FaultProxy("127.0.0.1", 9)  # never reached: every connection is swallowed
    await proxy.start()
    await proxy.set_mode("blackhole")
    try:
        yield proxy
    finally:
        await proxy.stop()


async def test_connecting_to_a_blackholed_database_times_out_on_its_own(
    blackhole: FaultProxy,
) -> None:
    engine = make_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{blackhole.port}/nowhere")

    async def ping() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    attempt = asyncio.create_task(ping())
    try:
        done, _ = await asyncio.wait({attempt}, timeout=CALL_ANSWER_S)  # the caller's bound
        assert done, "the engine still waits for the database when the caller gave up"
        assert isinstance(attempt.exception(), DBAPIError | TimeoutError | OSError)
        assert blackhole.counts.swallowed >= 1
    finally:
        attempt.cancel()
        await asyncio.gather(attempt, return_exceptions=True)
        await engine.dispose()


async def test_a_caller_waiting_for_a_pooled_connection_is_let_go_when_it_gives_up(
    stores: tuple[str, str],
) -> None:
    """The pool's own wait is longer than a call may take (a message webhook in a burst
    waits rather than fails); a voice step's timeout must end the wait at once."""
    database_url, _redis = stores
    engine = make_engine(database_url)
    held = [await engine.connect() for _ in range(engine.pool.size())]  # type: ignore[attr-defined]
    assert engine.pool.timeout() > GIVE_UP_S  # type: ignore[attr-defined]  # a QueuePool

    async def query() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    attempt = asyncio.create_task(asyncio.wait_for(query(), GIVE_UP_S))
    try:
        done, _ = await asyncio.wait({attempt}, timeout=CALL_ANSWER_S)
        assert done, "a caller that gave up still waits for the pool"
        assert isinstance(attempt.exception(), TimeoutError)
    finally:
        attempt.cancel()
        await asyncio.gather(attempt, return_exceptions=True)
        for connection in held:
            await connection.close()
        await engine.dispose()


async def test_a_stalled_connection_is_let_go_when_its_caller_gives_up(
    stores: tuple[str, str],
) -> None:
    database_url, _redis = stores
    host, port = upstream(database_url, 5432)
    proxy = FaultProxy(host, port)
    await proxy.start()
    engine = make_engine(proxied(database_url, proxy.port))

    async def query() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            await proxy.set_mode("blackhole")  # the open connection stalls
            await connection.execute(text("SELECT 2"))

    # A caller giving up after GIVE_UP_S must not then wait for SQLAlchemy's graceful
    # close of the invalidated connection (2 s, over the stalled socket).
    attempt = asyncio.create_task(asyncio.wait_for(query(), GIVE_UP_S))
    try:
        done, _ = await asyncio.wait({attempt}, timeout=GIVE_UP_S + 1.0)
        assert done, "the stalled connection held its caller after it gave up"
        assert isinstance(attempt.exception(), TimeoutError)
    finally:
        attempt.cancel()
        await asyncio.gather(attempt, return_exceptions=True)
        await proxy.set_mode("pass")
        await engine.dispose()
        await proxy.stop()
