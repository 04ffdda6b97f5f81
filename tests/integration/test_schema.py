"""The migrations against the models: the schema they build is the one the code expects."""

from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from helpline.db.engine import make_engine
from helpline.db.models import Base

pytestmark = pytest.mark.integration


def _differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def test_the_migrated_schema_is_the_one_the_models_describe(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()


def _migrate(connection: Connection, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(files("helpline") / "migrations"))
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


_NETWORK_TABLES = {
    "groups",
    "group_members",
    "group_staff",
    "group_mutes",
    "opt_outs",
    "group_messages",
    "broadcasts",
}


async def test_the_network_migration_keeps_the_outbox_and_goes_back_cleanly(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, "0004")
            await connection.execute(
                text(
                    'INSERT INTO outbox (channel, "to", sender, body, created_at, status, kind,'
                    " attempts) VALUES ('sms', '+4798765432', '+4767000001', 'x',"
                    " '2026-12-01 09:00:00', 'sent', 'message', 1)"
                )
            )
            await connection.run_sync(_migrate, "0005")
            row = (
                await connection.execute(text("SELECT msg_class, disable_notification FROM outbox"))
            ).one()
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert tuple(row) == ("help", 0) and _NETWORK_TABLES <= tables
            await connection.run_sync(_migrate, "0004", down=True)
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            columns = await connection.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("outbox")}
            )
            assert not _NETWORK_TABLES & tables and "msg_class" not in columns
            assert (await connection.execute(text("SELECT count(*) FROM outbox"))).scalar() == 1
    finally:
        await engine.dispose()
