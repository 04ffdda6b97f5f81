"""Once-only processing of inbound events (Twilio retries, Telegram redeliveries).

The work and the record of its answer commit atomically: a retry finds the record and
gets the same answer; a concurrent duplicate loses the insert race, stores nothing and
answers what the winner stored.

Two ways to run an event once:
- `once(sessions, clock, key, work)`: `work` on an ORM session, in one transaction.
- `step_once(engine, clock, key, read, params, decide)`: the lean path of the voice
  webhooks, two round trips on PostgreSQL. The first is one statement in autocommit: the
  stored answer of `key` (a retry ends here), the row `read` selects and a new id from a
  sequence. `decide` (no I/O) turns them into the answer and the rows to write (`Write`);
  the second stores the key, the answer and those rows in one statement, a
  data-modifying `WITH` whose writes all hinge on the key's `INSERT … ON CONFLICT DO
  NOTHING`. Statements are made once per shape, with bound parameters, and on PostgreSQL
  run on asyncpg's own connection (`helpline.db.driver`). SQLite has no
  data-modifying `WITH`: there the step is one transaction led by the same insert
  (`_step_sqlite`, the one place the two differ).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Executable,
    Select,
    Table,
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from helpline.clock import Clock
from helpline.db import driver
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
    """One row to write: inserted (`where` None), or updated where each column of
    `where` equals its value."""

    table: Table
    values: Mapping[str, Any]
    where: Mapping[str, Any] | None = None

    @property
    def shape(self) -> tuple[str, tuple[str, ...], tuple[str, ...] | None]:
        """What the statement looks like, whatever the values."""
        where = tuple(self.where) if self.where is not None else None
        return self.table.name, tuple(self.values), where


@dataclass(frozen=True, slots=True)
class Decision:
    """A step's answer, the rows it writes, and what to count once they are stored."""

    answer: str
    writes: Sequence[Write] = ()
    committed: Sequence[Callable[[], None]] = field(default=())


#: A row `read` selected, its columns as attributes: SQLAlchemy's `Row` on SQLite, a
#: named tuple on PostgreSQL (`helpline.db.driver`).
StepRow = Any
#: Decides from the row `read` selected (None: no such row) and a new id (None unless
#: asked for); raises to answer nothing (the caller's fallback).
Decide = Callable[[StepRow | None, int | None], Decision]


class LostRace(RuntimeError):
    """The key was stored by a concurrent duplicate, whose answer is gone again."""


async def step_once(
    engine: AsyncEngine,
    clock: Clock,
    key: str,
    read: Select[Any] | None,
    params: Mapping[str, Any],
    decide: Decide,
    new: Write | None = None,
) -> str:
    """Run a step once for event `key`: read, decide, write; the (stored) answer.

    `read` selects with bound parameters `params` (build it once: statements here are
    made once per shape and reused, so a step builds no SQL). `new` is a row to insert
    first, whose new id (its table's `id`) `decide` is handed."""
    postgres = engine.dialect.name == "postgresql"
    query = _read_statement(read, new.table.c.id if new is not None and postgres else None)
    row = await _read(engine, query, {**params, "event_key": key})
    if row is None:  # nothing `read` selects; a stored answer still stands
        answer = await _value(engine, _ANSWER, {"event_key": key})
        if answer is not None:
            return str(answer)
    elif getattr(row, STORED) is not None:
        return str(getattr(row, STORED))
    if not postgres:
        return await _committed(
            engine, key, await _step_sqlite(engine, clock, key, row, decide, new)
        )
    if new is None:
        decision = decide(row, None)
    else:
        assert row is not None  # the read of a new row is the stored answer, always a row
        allotted = getattr(row, NEW_ID)
        decision = decide(row, allotted)
        first = Write(new.table, {"id": allotted, **new.values})
        decision = replace(decision, writes=(first, *decision.writes))
    return await _committed(engine, key, await _write_postgres(engine, key, clock(), decision))


async def _committed(engine: AsyncEngine, key: str, decision: Decision | None) -> str:
    """The answer of a step that stored `decision` (counted now), or of the duplicate
    that stored first (`decision` None)."""
    if decision is None:
        return await _stored_answer(engine, key)
    for count in decision.committed:
        count()
    return decision.answer


_ANSWER = select(EVENTS.c.response).where(EVENTS.c.key == bindparam("event_key"))
_CLAIM: dict[str, Any] = {
    "key": bindparam("event_key"),
    "response": bindparam("event_response"),
    "created_at": bindparam("event_at", type_=EVENTS.c.created_at.type),
}
_reads: dict[tuple[int, int], tuple[Select[Any] | None, Select[Any]]] = {}
_writes: dict[tuple[object, ...], Executable] = {}


def _read_statement(read: Select[Any] | None, new_id: Column[int] | None) -> Select[Any]:
    """`read` with the stored answer and, given `new_id`, the next id of its sequence."""
    cache_key = (id(read), id(new_id))
    cached = _reads.get(cache_key)
    if cached is not None and cached[0] is read:
        return cached[1]
    stored = _ANSWER.scalar_subquery().label(STORED)
    query = select(stored) if read is None else read.add_columns(stored)
    if new_id is not None:
        sequence = func.pg_get_serial_sequence(new_id.table.name, new_id.name)
        query = query.add_columns(func.nextval(sequence).label(NEW_ID))
    _reads[cache_key] = (read, query)  # `read` is kept, so its id is not reused
    return query


async def _read(engine: AsyncEngine, statement: Select[Any], params: Mapping[str, Any]) -> Any:
    """The first row `statement` selects, or None: on asyncpg itself on PostgreSQL
    (`helpline.db.driver`); on SQLite a plain connection, which begins nothing before a
    write."""
    if engine.dialect.driver == "asyncpg":
        return await driver.fetch_row(engine, statement, params)
    async with engine.connect() as connection:
        return (await connection.execute(statement, params)).first()


async def _value(engine: AsyncEngine, statement: Executable, params: Mapping[str, Any]) -> Any:
    """The first column of the first row `statement` selects, or None; as `_read`."""
    if engine.dialect.driver == "asyncpg":
        return await driver.fetch_value(engine, statement, params)
    async with engine.connect() as connection:
        return await connection.scalar(statement, params)


async def _stored_answer(engine: AsyncEngine, key: str) -> str:
    answer = await _value(engine, _ANSWER, {"event_key": key})
    if answer is None:
        raise LostRace(f"event {key.split(':')[0]} lost its race and no answer is stored")
    return str(answer)


def _params(i: int, write: Write) -> dict[str, Any]:
    """The bound values of write number `i`, named as `_statement` names them."""
    values = write.values if write.where is not None else _with_defaults(write)
    params = {f"w{i}_{name}": value for name, value in values.items()}
    params.update((f"w{i}_where_{name}", value) for name, value in (write.where or {}).items())
    return params


def _with_defaults(write: Write) -> dict[str, Any]:
    return {**_scalar_defaults(write.table), **write.values}


def _statement(i: int, write: Write, gate: ColumnElement[bool] | None) -> Executable:
    """Write number `i` as a statement of bound parameters; with `gate`, one that writes
    nothing unless it holds."""
    table = write.table

    def bound(name: str, prefix: str = "") -> Any:
        return bindparam(f"w{i}_{prefix}{name}", type_=table.c[name].type)

    if write.where is None:
        names = list(_with_defaults(write))
        if gate is None:
            return insert(table).values({name: bound(name) for name in names})
        row = select(*(bound(name) for name in names)).where(gate)
        return insert(table).from_select(names, row, include_defaults=False)
    where = [table.c[name] == bound(name, "where_") for name in write.where]
    statement = update(table).where(*where).values({name: bound(name) for name in write.values})
    return statement.where(gate) if gate is not None else statement


def _scalar_defaults(table: Table) -> dict[str, Any]:
    """The constant Python-side defaults of `table`'s columns, which an
    `INSERT … SELECT` must carry itself."""
    defaults = (column for column in table.columns if column.default is not None)
    return {c.name: c.default.arg for c in defaults if c.default.is_scalar}  # type: ignore[union-attr]


def _postgres_statement(writes: Sequence[Write]) -> Executable:
    """One statement: the key (unless stored) and, only then, the writes; it selects
    how many keys it stored (0 or 1)."""
    shape = ("postgresql", *(write.shape for write in writes))
    statement = _writes.get(shape)
    if statement is None:
        claim = (
            pg_insert(EVENTS)
            .values(_CLAIM)
            .on_conflict_do_nothing(index_elements=[EVENTS.c.key])
            .returning(EVENTS.c.key)
            .cte("claim")
        )
        gate = exists(select(claim.c.key))
        ctes = [
            _statement(i, write, gate).cte(f"write_{i}")  # type: ignore[attr-defined]
            for i, write in enumerate(writes)
        ]
        statement = _writes[shape] = select(func.count()).select_from(claim).add_cte(*ctes)
    return statement


async def _write_postgres(
    engine: AsyncEngine, key: str, now: datetime, decision: Decision
) -> Decision | None:
    """The key, its answer and the writes in one statement. None: the key was stored."""
    params = {"event_key": key, "event_response": decision.answer, "event_at": now}
    for i, write in enumerate(decision.writes):
        params.update(_params(i, write))
    won = await _value(engine, _postgres_statement(decision.writes), params)
    return decision if won else None


_SQLITE_CLAIM = (
    sqlite_insert(EVENTS)
    .values(_CLAIM)
    .on_conflict_do_nothing(index_elements=[EVENTS.c.key])
    .returning(EVENTS.c.key)
)


async def _step_sqlite(
    engine: AsyncEngine,
    clock: Clock,
    key: str,
    row: StepRow | None,
    decide: Decide,
    new: Write | None,
) -> Decision | None:
    """SQLite has no data-modifying `WITH`: one transaction, the new row first (its id
    comes back), then the key with its answer, then the writes. This process's writers
    queue on an asyncio lock, not in SQLite's busy handler (which sleeps up to 100 ms a
    turn). None: a duplicate stored the key (or the new row) first."""
    try:
        async with _writer(engine), engine.connect() as connection:
            async with connection.begin() as transaction:
                allotted = None
                if new is not None:
                    allotted = await connection.scalar(
                        _cached("sqlite-new", 0, new), _params(0, new)
                    )
                decision = decide(row, allotted)
                claim = {"event_key": key, "event_response": decision.answer, "event_at": clock()}
                if await connection.scalar(_SQLITE_CLAIM, claim) is None:
                    await transaction.rollback()
                    return None
                for i, write in enumerate(decision.writes):
                    await connection.execute(_cached("sqlite", i, write), _params(i, write))
    except IntegrityError:  # the new row's unique columns taken by a duplicate
        return None
    return decision


def _cached(kind: str, i: int, write: Write) -> Executable:
    shape = (kind, i, write.shape)
    statement = _writes.get(shape)
    if statement is None:
        statement = _statement(i, write, None)
        if kind == "sqlite-new":
            statement = statement.returning(write.table.c.id)  # type: ignore[attr-defined]
        _writes[shape] = statement
    return statement


_writers: weakref.WeakKeyDictionary[object, asyncio.Lock] = weakref.WeakKeyDictionary()


def _writer(engine: AsyncEngine) -> asyncio.Lock:
    """The lock this process's SQLite write transactions on `engine` take in turn."""
    lock = _writers.get(engine.sync_engine)
    if lock is None:
        lock = _writers[engine.sync_engine] = asyncio.Lock()
    return lock
