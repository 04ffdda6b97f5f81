"""Once-only processing of inbound events (Twilio retries, Telegram redeliveries).

The work and the record of its answer commit atomically: a retry finds the record and
gets the same answer; a concurrent duplicate loses the insert race, stores nothing and
answers what the winner stored.

Two ways to run an event once:
- `once(sessions, clock, key, work)`: `work` on an ORM session, in one transaction.
- `step_once(engine, clock, key, read, decide)`: the lean path of the voice webhooks, at
  most two round trips to the database. The first is one statement in autocommit: the
  stored answer of `key` (a retry ends here), the rows `read` selects and, on
  PostgreSQL, a new id. `decide` (no I/O) turns them into the answer and the rows to
  write (`Write`); the second round trip stores the key, the answer and those rows in one
  statement, a data-modifying `WITH` whose writes all hinge on the key's
  `INSERT … ON CONFLICT DO NOTHING`. SQLite (no data-modifying `WITH`) writes them in one
  transaction instead, led by the same insert; `_write_sqlite` is the one place the two
  differ.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Executable,
    Row,
    Select,
    Table,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from helpline.clock import Clock
from helpline.db.models import WebhookEventRow

Work = Callable[[AsyncSession], Awaitable[str]]

EVENTS: Table = WebhookEventRow.__table__  # type: ignore[assignment]  # a mapped Table
STORED = "stored_answer"  # the label of the stored answer in `step_once`'s read
NEW_ID = "new_id"


async def once(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, key: str, work: Work
) -> str:
    """Run `work` for event `key` unless it ran before; return its (stored) answer."""
    try:
        async with sessions() as session, session.begin():
            stored = await session.get(WebhookEventRow, key)
            if stored is not None:
                return stored.response
            answer = await work(session)
            session.add(WebhookEventRow(key=key, response=answer, created_at=clock()))
            return answer
    except IntegrityError:
        async with sessions() as session:
            stored = await session.get(WebhookEventRow, key)
            if stored is None:
                raise
            return stored.response


# -- the lean path -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Write:
    """One row to write: inserted (`where` None) or the rows `where` selects updated."""

    table: Table
    values: Mapping[str, Any]
    where: ColumnElement[bool] | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """A step's answer, the rows it writes, and what to count once they are stored."""

    answer: str
    writes: Sequence[Write] = ()
    committed: Sequence[Callable[[], None]] = field(default=())


#: Decides from the row `read` selected (None: no such row) and a new id (None unless
#: asked for); raises to answer nothing (the caller's fallback).
Decide = Callable[[Row[Any] | None, int | None], Decision]


class LostRace(RuntimeError):
    """The key was stored by a concurrent duplicate, whose answer is gone again."""


async def step_once(
    engine: AsyncEngine,
    clock: Clock,
    key: str,
    read: Select[Any] | None,
    decide: Decide,
    new_id: Column[int] | None = None,
) -> str:
    """Run a step once for event `key`: read, decide, write; the (stored) answer.

    `new_id` names an integer primary key column for which `decide` gets a fresh id."""
    stored = _answer_of(key).scalar_subquery().label(STORED)
    query = select(stored) if read is None else read.add_columns(stored)
    postgres = engine.dialect.name == "postgresql"
    if new_id is not None and postgres:
        sequence = func.pg_get_serial_sequence(new_id.table.name, new_id.name)
        query = query.add_columns(func.nextval(sequence).label(NEW_ID))
    async with _autocommit(engine) as connection:
        row = (await connection.execute(query)).first()
        if row is None:  # nothing `read` selects; a stored answer still stands
            answer = await connection.scalar(_answer_of(key))
            if answer is not None:
                return str(answer)
        elif row._mapping[STORED] is not None:
            return str(row._mapping[STORED])
    if postgres:
        allotted = row._mapping[NEW_ID] if new_id is not None and row is not None else None
        decision = await _write_postgres(engine, key, clock(), decide(row, allotted))
    else:
        decision = await _write_sqlite(engine, key, clock(), row, decide, new_id)
    if decision is None:
        return await _stored_answer(engine, key)
    for count in decision.committed:
        count()
    return decision.answer


def _answer_of(key: str) -> Select[tuple[str]]:
    return select(EVENTS.c.response).where(EVENTS.c.key == key)


def _autocommit(engine: AsyncEngine) -> Any:
    """A connection whose every statement commits alone: no BEGIN, no COMMIT."""
    return engine.execution_options(isolation_level="AUTOCOMMIT").connect()


async def _stored_answer(engine: AsyncEngine, key: str) -> str:
    async with _autocommit(engine) as connection:
        answer = await connection.scalar(_answer_of(key))
    if answer is None:
        raise LostRace(f"event {key.split(':')[0]} lost its race and no answer is stored")
    return str(answer)


def _statement(write: Write, gate: ColumnElement[bool] | None) -> Executable:
    """`write` as a statement; with `gate`, one that writes nothing unless it holds."""
    table = write.table
    if write.where is None:
        if gate is None:
            return insert(table).values(dict(write.values))
        values = {**_scalar_defaults(table), **write.values}
        row = select(*(literal(value, table.c[name].type) for name, value in values.items()))
        return insert(table).from_select(list(values), row.where(gate), include_defaults=False)
    statement = update(table).where(write.where).values(dict(write.values))
    return statement.where(gate) if gate is not None else statement


def _scalar_defaults(table: Table) -> dict[str, Any]:
    """The constant Python-side defaults of `table`'s columns, which an
    `INSERT … SELECT` must carry itself."""
    defaults = (column for column in table.columns if column.default is not None)
    return {c.name: c.default.arg for c in defaults if c.default.is_scalar}  # type: ignore[union-attr]


async def _write_postgres(
    engine: AsyncEngine, key: str, now: datetime, decision: Decision
) -> Decision | None:
    """One statement: the key (unless stored meanwhile) and, only then, the writes.
    None: the key was stored."""
    claim = (
        pg_insert(EVENTS)
        .values(key=key, response=decision.answer, created_at=now)
        .on_conflict_do_nothing(index_elements=[EVENTS.c.key])
        .returning(EVENTS.c.key)
        .cte("claim")
    )
    gate = exists(select(claim.c.key))
    writes = [
        _statement(write, gate).cte(f"write_{i}")  # type: ignore[attr-defined]
        for i, write in enumerate(decision.writes)
    ]
    statement = select(func.count()).select_from(claim).add_cte(*writes)
    async with _autocommit(engine) as connection:
        won = await connection.scalar(statement)
    return decision if won else None


async def _write_sqlite(
    engine: AsyncEngine,
    key: str,
    now: datetime,
    row: Row[Any] | None,
    decide: Decide,
    new_id: Column[int] | None,
) -> Decision | None:
    """One transaction, led by the key's insert (which takes SQLite's write lock): the
    key, a new id under that lock, the writes, the answer. None: the key was stored."""
    async with engine.connect() as connection, connection.begin() as transaction:
        claim = sqlite_insert(EVENTS).values(key=key, response="", created_at=now)
        claimed = await connection.scalar(
            claim.on_conflict_do_nothing(index_elements=[EVENTS.c.key]).returning(EVENTS.c.key)
        )
        if claimed is None:
            await transaction.rollback()
            return None
        allotted = None
        if new_id is not None:
            allotted = await connection.scalar(select(func.coalesce(func.max(new_id), 0) + 1))
        decision = decide(row, allotted)
        await _apply(connection, decision.writes)
        await connection.execute(
            update(EVENTS).where(EVENTS.c.key == key).values(response=decision.answer)
        )
    return decision


async def _apply(connection: AsyncConnection, writes: Sequence[Write]) -> None:
    for write in writes:
        await connection.execute(_statement(write, None))
