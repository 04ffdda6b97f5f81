"""Storage keeps personal data out of error messages and away from other local users."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from helpline.bootstrap import Services
from helpline.db.engine import make_engine, migrate
from helpline.db.models import KommuneRow
from helpline.embedded_redis import EmbeddedRedis

pytestmark = pytest.mark.integration

SECRET_NAME = "Familien Hemmelig"


async def test_a_database_error_does_not_quote_the_bound_values(services: Services) -> None:
    async with services.sessions() as session, session.begin():
        session.add(KommuneRow(id="dup", name="Første", position=1))
    with pytest.raises(IntegrityError) as caught:
        async with services.sessions() as session, session.begin():
            session.add(KommuneRow(id="dup", name=SECRET_NAME, position=2))
    message = str(caught.value)
    assert "INSERT INTO kommuner" in message  # the statement is still there to debug with
    assert SECRET_NAME not in message and "parameters hidden" in message


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under a permissive umask, and put the old one back."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


@pytest.mark.usefixtures("umask")
def test_the_sqlite_file_and_its_wal_are_private_whatever_the_umask(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    engine = make_engine(f"sqlite+aiosqlite:///{data_dir / 'helpline.db'}")

    async def modes_while_open() -> dict[str, int]:
        await migrate(engine)
        async with engine.connect() as connection:  # -wal and -shm exist while it is open
            await connection.execute(text("SELECT count(*) FROM kommuner"))
            modes = {path.name: mode(path) for path in data_dir.iterdir()}
        await engine.dispose()
        return modes

    modes = asyncio.run(modes_while_open())
    assert modes == {"helpline.db": 0o600, "helpline.db-shm": 0o600, "helpline.db-wal": 0o600}
    assert mode(data_dir) == 0o700


@pytest.mark.usefixtures("umask")
def test_an_existing_database_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    path.write_bytes(b"")
    path.chmod(0o644)
    make_engine(f"sqlite+aiosqlite:///{path}")
    assert mode(path) == 0o600


@pytest.mark.usefixtures("umask")
def test_the_embedded_redis_directory_and_files_are_private(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    try:
        redis.Redis(unix_socket_path=str(server.socket)).set("k", "v")
        modes = {p.name: stat.S_IMODE(p.lstat().st_mode) for p in server.data_dir.rglob("*")}
    finally:
        server.stop()
    assert mode(server.data_dir) == 0o700
    assert {"redis.lock", "redis.log", "redis.sock"} <= set(modes)
    assert any(name.startswith("appendonly") for name in modes)
    assert {name: m & 0o077 for name, m in modes.items()} == dict.fromkeys(modes, 0)
