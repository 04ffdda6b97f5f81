"""The `helpline` command as a process: `python -m helpline`, and a reader that leaves early."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpline.bootstrap import open_services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import Base
from helpline.settings import Settings

pytestmark = pytest.mark.integration


async def _demo(settings: Settings) -> None:
    async with open_services(settings, with_redis=False) as services:
        async with services.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(table.delete())
        await load_text(services, demo_text())


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    """The environment of a command against the test database, with the demo loaded."""
    asyncio.run(_demo(settings))
    return {
        **os.environ,
        "HELPLINE_DATA_DIR": str(settings.data_dir),
        "HELPLINE_DATABASE_URL": settings.database_url,
        "HELPLINE_REDIS_URL": settings.redis_url or "",
    }


def helpline(
    env: dict[str, str], cwd: Path, *argv: str, stdout: int = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "helpline", *argv],
        env=env,
        cwd=cwd,  # no stray .env
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )


def test_python_m_helpline_is_the_helpline_command(env: dict[str, str], tmp_path: Path) -> None:
    done = helpline(env, tmp_path, "calendars", "--json")
    assert done.returncode == 0, done.stderr
    feeds = json.loads(done.stdout)["calendars"]
    assert {"kind": "team", "id": "asker-bvt"} in [
        {"kind": f["kind"], "id": f["id"]} for f in feeds
    ]


def test_a_reader_that_leaves_early_ends_the_command_quietly(
    env: dict[str, str], tmp_path: Path
) -> None:
    # `helpline calendars | head -1`, made deterministic: the reader is gone before the
    # command writes its first byte, so the write fails however short the output is.
    read, write = os.pipe()
    os.close(read)
    try:
        done = helpline(env, tmp_path, "calendars", stdout=write)
    finally:
        os.close(write)
    assert "BrokenPipeError" not in done.stderr and "Traceback" not in done.stderr
    assert done.returncode == 141
