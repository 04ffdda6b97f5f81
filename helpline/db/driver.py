"""SQLAlchemy Core statements run on asyncpg's own connection: the voice steps' lean path
on PostgreSQL (`helpline.db.events.step_once`).

SQLAlchemy's execute path (a `Connection` and its events, the compiled cache, the cursor
adapter, a `Result`) cost about 150 µs a statement on top of asyncpg's own 40-70 µs (a
loop of a step's read on this 2-core machine), and every voice step runs two. Here a
statement is compiled once by SQLAlchemy's own dialect (its SQL, the order of its
parameters with their bind processors, such as `UTCDateTime`'s, and its columns' result
processors) and run on the driver connection of a connection from SQLAlchemy's pool, which
goes back to the pool after the one statement. A connection whose statement failed or was
given up (a step's timeout cancels it) is invalidated, as SQLAlchemy invalidates one that
disconnects: its socket is closed at once (`helpline.db.engine`) and the pool opens
another.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Executable, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]
#: asyncpg's own errors for a server or connection that went away mid-statement (past
#: SQLAlchemy, they are not its `DBAPIError`s).
GONE = (
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement as asyncpg runs it: `$n` SQL and how to bind and read it."""

    sql: str
    compiled: SQLCompiler
    binds: tuple[tuple[str, Processor | None], ...]
    columns: tuple[Processor | None, ...]
    row: type[tuple[Any, ...]] | None  # a named tuple of the selected columns' keys

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional arguments, with the statement's own bound values filled in."""
        values = self.compiled.construct_params(dict(params))
        return [_processed(process, values[name]) for name, process in self.binds]

    def read(self, record: Any) -> Any:
        """A selected row as a named tuple (attributes like SQLAlchemy's `Row`)."""
        assert self.row is not None and len(record) == len(self.columns)
        return self.row(*map(_processed, self.columns, record))


def _processed(process: Processor | None, value: Any) -> Any:
    """`value` through a bind or result processor; None stays None."""
    return value if process is None or value is None else process(value)


_prepared: dict[tuple[int, int], tuple[Executable, Prepared]] = {}


def prepare(dialect: Dialect, statement: Executable) -> Prepared:
    """`statement` compiled for `dialect`, once (statements here are made once per shape
    and kept, `helpline.db.events`)."""
    key = (id(statement), id(dialect))
    cached = _prepared.get(key)
    if cached is not None and cached[0] is statement:
        return cached[1]
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler) and compiled.positiontup is not None
    binds = tuple(
        (name, compiled.binds[name].type.bind_processor(dialect)) for name in compiled.positiontup
    )
    columns: tuple[Processor | None, ...] = ()
    row: type[tuple[Any, ...]] | None = None
    if isinstance(statement, Select):
        selected = list(statement.selected_columns)
        columns = tuple(column.type.result_processor(dialect, None) for column in selected)
        row = _row_type([str(column.key) for column in selected])
    prepared = Prepared(compiled.string, compiled, binds, columns, row)
    _prepared[key] = (statement, prepared)  # the statement is kept, so its id is not reused
    return prepared


def _row_type(names: list[str]) -> type[tuple[Any, ...]]:
    """A named tuple of `names`; a column without a name (a bare expression) is `_i`."""
    return namedtuple("StepRow", names, rename=True)  # noqa: PYI024  # names known at run time


async def fetch_row(engine: AsyncEngine, statement: Select[Any], params: Mapping[str, Any]) -> Any:
    """The first row `statement` selects (a named tuple), or None."""
    prepared = prepare(engine.dialect, statement)
    record = await _run(engine, "fetchrow", prepared.sql, prepared.arguments(params))
    return None if record is None else prepared.read(record)


async def fetch_value(engine: AsyncEngine, statement: Executable, params: Mapping[str, Any]) -> Any:
    """The first column of the first row `statement` selects, or None."""
    prepared = prepare(engine.dialect, statement)
    value = await _run(engine, "fetchval", prepared.sql, prepared.arguments(params))
    return _processed(prepared.columns[0], value) if prepared.columns else value


async def _run(engine: AsyncEngine, method: str, sql: str, arguments: list[Any]) -> Any:
    pooled = await engine.raw_connection()
    try:
        return await getattr(pooled.driver_connection, method)(sql, *arguments)
    except BaseException as error:  # failed or given up: the connection's state is unknown
        pooled.invalidate(error if isinstance(error, Exception) else None)
        raise
    finally:
        pooled.close()
