"""Statements run on asyncpg's own connection (`helpline.db.driver`, the voice steps'
path on PostgreSQL): SQLAlchemy's types still apply, and a statement given up takes its
connection out of the pool."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, func, insert, select

from helpline.bootstrap import Services
from helpline.db import driver
from helpline.db.events import EVENTS

OSLO_WINTER = timezone(timedelta(hours=1))
INSERT = (
    insert(EVENTS)
    .values(
        key=bindparam("key"),
        response=bindparam("response"),
        created_at=bindparam("at", type_=EVENTS.c.created_at.type),
    )
    .returning(EVENTS.c.key)
)
READ = select(EVENTS.c.key, EVENTS.c.created_at, func.length(EVENTS.c.response)).where(
    EVENTS.c.key == bindparam("key")
)


@pytest.fixture
def postgres(services: Services) -> Services:
    if services.engine.dialect.driver != "asyncpg":
        pytest.skip("asyncpg's own connection: PostgreSQL only")
    return services


async def test_bind_and_result_processors_apply(postgres: Services) -> None:
    engine = postgres.engine
    at = datetime(2026, 12, 1, 3, 0, tzinfo=OSLO_WINTER)
    params = {"key": "k1", "response": "<Response/>", "at": at}
    assert await driver.fetch_value(engine, INSERT, params) == "k1"
    row = await driver.fetch_row(engine, READ, {"key": "k1"})
    assert row is not None and row.key == "k1" and row._2 == len("<Response/>")
    assert row.created_at == at and row.created_at.tzinfo is UTC
    assert await driver.fetch_row(engine, READ, {"key": "none"}) is None
    with pytest.raises(ValueError, match="naive datetime refused"):
        await driver.fetch_value(
            engine, INSERT, {**params, "key": "k2", "at": at.replace(tzinfo=None)}
        )
    assert await driver.fetch_row(engine, READ, {"key": "k2"}) is None
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # every one returned


async def test_a_statement_given_up_takes_its_connection_out_of_the_pool(
    postgres: Services,
) -> None:
    engine = postgres.engine
    pid = await driver.fetch_value(engine, select(func.pg_backend_pid()), {})
    sleeping = select(func.pg_sleep(5))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(driver.fetch_value(engine, sleeping, {}), 0.2)
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    again = await driver.fetch_value(engine, select(func.pg_backend_pid()), {})
    assert again != pid  # the given-up connection was closed, not handed out again
