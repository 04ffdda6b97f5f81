"""What each voice webhook costs the database.

On PostgreSQL every statement is a round trip, and so are a transaction's BEGIN and its
COMMIT or ROLLBACK: a webhook may cost two. They are counted by asyncpg itself (a query
logger on every connection taken from the pool), as the steps run their statements on
asyncpg's connection (`helpline.db.driver`), past SQLAlchemy's engine events. On SQLite
the engine events count them. SQLite has no data-modifying `WITH`:
there a step reads in one statement and then writes in one transaction that reads nothing,
so SQLite's write lock is held for the writes alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from tests.conftest import FrozenClock, app_client
from tests.e2e.demo_duty import MONDAY_10
from tests.e2e.twilio_driver import TwilioDriver, dialled_number, incoming

pytestmark = pytest.mark.e2e

ASKER_LINE = "+4767000001"
HANSEN = "+4798765432"
ROUND_TRIPS = 2  # per voice webhook on PostgreSQL


@dataclass
class Trips:
    """The statements one webhook sent (first word, in a transaction?) and the
    transactions it opened and ended."""

    statements: list[tuple[str, bool]] = field(default_factory=list)
    begins: int = 0
    ends: int = 0
    commits: int = 0

    @property
    def round_trips(self) -> int:
        return len(self.statements) + self.begins + self.ends


def _autocommit(connection: Any) -> bool:
    return bool(connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT")


@contextmanager
def counted(services: Services) -> Iterator[list[Trips]]:
    """Count what reaches the database; `trips[-1]` collects until a new `Trips` is
    appended (after `settled()`). The register's version (read by the background
    refresh, never by a call) is left out."""
    trips = [Trips()]
    if services.engine.dialect.driver == "asyncpg":
        with _counted_by_asyncpg(services, trips):
            yield trips
    else:
        with _counted_by_engine(services, trips):
            yield trips


@contextmanager
def _counted_by_asyncpg(services: Services, trips: list[Trips]) -> Iterator[None]:
    def logged(query: Any) -> None:
        sql = query.query
        if "org_meta" in sql:
            return
        kind = sql.split()[0].upper()
        if kind == "BEGIN" or kind.startswith("START"):
            trips[-1].begins += 1
        elif kind in ("COMMIT", "ROLLBACK"):
            trips[-1].ends += 1
            trips[-1].commits += kind == "COMMIT"
        else:
            trips[-1].statements.append((kind, False))

    watched: list[Any] = []

    def checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        connection = dbapi_connection.driver_connection
        connection.add_query_logger(logged)
        watched.append(connection)

    engine = services.engine.sync_engine
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield
    finally:
        event.remove(engine.pool, "checkout", checkout)
        for connection in watched:
            connection.remove_query_logger(logged)


@contextmanager
def _counted_by_engine(services: Services, trips: list[Trips]) -> Iterator[None]:
    engine = services.engine.sync_engine

    def statement(conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if "org_meta" not in sql:
            trips[-1].statements.append((sql.split()[0].upper(), not _autocommit(conn)))

    def begin(conn: Any) -> None:
        trips[-1].begins += not _autocommit(conn)

    def end(conn: Any) -> None:
        trips[-1].ends += not _autocommit(conn)

    def commit(conn: Any) -> None:
        trips[-1].commits += not _autocommit(conn)

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", statement),
        ("begin", begin),
        ("commit", end),
        ("commit", commit),
        ("rollback", end),
    ]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


async def settled() -> None:
    """asyncpg calls its query loggers soon after a statement, not in it."""
    for _ in range(3):
        await asyncio.sleep(0)


@pytest.fixture
async def twilio(services: Services, clock: FrozenClock) -> AsyncIterator[TwilioDriver]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    async with services.refreshing_organisation():  # as `helpline serve` runs
        await services.organisation()
        client = await app_client(services)
        yield TwilioDriver(client, services.settings)
        await client.close()


def _within_budget(services: Services, trips: Trips) -> bool:
    if services.engine.dialect.name == "postgresql":
        return trips.round_trips <= ROUND_TRIPS
    kinds = [kind for kind, _inside in trips.statements]  # SQLite begins before a write
    return kinds[:1] == ["SELECT"] and "SELECT" not in kinds[1:] and trips.commits <= 1


async def test_every_voice_webhook_costs_at_most_two_round_trips(
    twilio: TwilioDriver, services: Services
) -> None:
    call = incoming("CA-trips", HANSEN, ASKER_LINE)
    leg = {"CallSid": "CA-trips-leg", "ParentCallSid": "CA-trips", "From": ASKER_LINE}
    spent: dict[str, Trips] = {}
    with counted(services) as trips:

        async def step(name: str, url: str, form: dict[str, str]) -> Any:
            await settled()
            trips.append(Trips())
            document = await twilio.twiml(url, form)
            await settled()
            spent[name] = trips[-1]
            return document

        start = await step("voice", "/twilio/voice", call)
        await step("voice, retried", "/twilio/voice", call)
        number = dialled_number(start)
        whisper = await step("screen", number.get("url", ""), leg)
        gather = whisper.find("Gather")
        assert gather is not None
        await step("screened", gather.get("action", ""), {**leg, "Digits": "2"})
        dial = start.find("Dial")
        assert dial is not None
        document = await step("dialled", dial.get("action", ""), {**call, "DialCallStatus": "busy"})
        while (dial := document.find("Dial")) is not None:
            form = {**call, "DialCallStatus": "no-answer"}
            document = await step(f"dialled {len(spent)}", dial.get("action", ""), form)
        record = document.find("Record")
        assert record is not None
        recording = {**call, "RecordingUrl": "https://api.twilio.com/rec/RE9"}
        await step("recorded", record.get("action", ""), recording)
        ended = {**call, "CallStatus": "completed", "CallDuration": "30"}
        await step("status", "/twilio/status", ended)
    over = {name: t for name, t in spent.items() if not _within_budget(services, t)}
    assert over == {}, "\n".join(f"{name}: {t}" for name, t in over.items())
    retried = spent["voice, retried"]
    assert len(retried.statements) == 1 and retried.commits == 0
    if services.engine.dialect.name == "postgresql":
        assert retried.round_trips == 1
