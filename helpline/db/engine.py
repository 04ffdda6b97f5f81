"""The async database engine, Alembic migrations and sessions."""

from __future__ import annotations

import contextlib
import os
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

#: Seconds to open a PostgreSQL connection: well inside a caller's 3 s to hear the
#: fallback (`helpline.web.twilio_voice.STEP_TIMEOUT`).
CONNECT_TIMEOUT = 1.0
#: Seconds to wait for a pooled connection. A voice step gives up at its own
#: `STEP_TIMEOUT` (2 s) whatever it waits on; a message webhook waits longer rather than
#: fail: at 1.5 s, 5 of 1,000 SMS webhooks of the escalation bench (50 at once, a
#: quiet machine) got a 500 waiting for the pool.
POOL_TIMEOUT = 5.0


class NotMigrated(RuntimeError):
    """The database schema is not at the newest migration."""


def make_engine(url: str) -> AsyncEngine:
    """An async engine for `url`; SQLite gets foreign keys, WAL and a busy timeout, and a
    private file. Bound parameters (message bodies, numbers) never appear in SQLAlchemy's
    log lines or exception messages (`hide_parameters`)."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            private_sqlite_file(Path(path))
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # A pool sized for the webhooks' concurrency, all of it kept: overflow connections are
    # closed as soon as they are returned, and at 64 concurrent callers the voice bench saw
    # them opened and closed all the time. Connecting and waiting for a pooled
    # connection both give up before a voice step's own timeout, so an overloaded or
    # unreachable database (a blackhole answers nothing, not even RST) still yields the
    # fallback TwiML at once, instead of after asyncpg's default minute.
    engine = create_async_engine(
        url,
        pool_size=30,
        max_overflow=0,
        pool_timeout=POOL_TIMEOUT,
        pool_recycle=300,
        hide_parameters=True,
        connect_args={"timeout": CONNECT_TIMEOUT},
    )
    if engine.dialect.driver == "asyncpg":
        # A connection is invalidated when its caller gives up on it (a time-out cancels
        # the query). SQLAlchemy then closes it gracefully, waiting up to 2 s for the
        # server over the same socket: over a stalled one, a caller that gave up after
        # 2 s waits 4. Closing the socket at once loses nothing: the session is gone.
        engine.sync_engine.dialect.do_terminate = _terminate_at_once  # type: ignore[method-assign]  # per engine, on purpose
    return engine


def _terminate_at_once(dbapi_connection: DBAPIConnection) -> None:
    dbapi_connection._terminate_force_close()


def private_directory(path: Path) -> None:
    """Create `path` if needed and make it 0700 (owner only), whatever the umask."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def private_sqlite_file(path: Path) -> None:
    """Make the SQLite file 0600 before SQLite opens it, whatever the umask; SQLite gives
    its -wal and -shm files the database file's mode. A directory created here is 0700.

    An existing file is not opened: closing any descriptor of it would drop every POSIX
    lock this process holds on it, SQLite's included, and another process's last
    connection would then delete the -wal and -shm files under our open ones."""
    if not path.parent.exists():
        private_directory(path.parent)
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
        with contextlib.suppress(FileNotFoundError):
            (path.parent / name).chmod(0o600)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (no lazy loads in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("helpline") / "migrations"))
    return config


def _upgrade(connection: Connection) -> None:
    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _check(connection: Connection) -> None:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        raise NotMigrated(
            f"database is at revision {current or 'none'}, expected {head}: run `helpline migrate`"
        )


async def migrate(engine: AsyncEngine) -> None:
    """Upgrade the schema to the newest migration."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def check_migrated(engine: AsyncEngine) -> None:
    """Raise `NotMigrated` unless the schema is at the newest migration."""
    async with engine.connect() as connection:
        await connection.run_sync(_check)
