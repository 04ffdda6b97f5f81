"""What the command-line tests share: emptied stores, the environment pointing `helpline`
at the test database and Redis, and running a command with its output captured."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline.bootstrap import open_services
from helpline.cli import main
from helpline.db.models import Base
from helpline.settings import Settings


async def empty_stores(settings: Settings) -> None:
    """Delete every row of every table."""
    async with open_services(settings, with_redis=False) as services:
        async with services.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(table.delete())


def point_cli_at(settings: Settings, monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    """Run commands in `workdir` (no stray .env) against the test database and Redis."""
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HELPLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HELPLINE_REDIS_URL", settings.redis_url or "")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`helpline ARGV...`: its exit status, stdout and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
