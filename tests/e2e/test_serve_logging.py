"""A real `helpline -v serve` logs through the redacting set-up and the masking access log,
and keeps its data directory private, under a permissive umask."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import stat
import sys
from pathlib import Path

import aiohttp
import pytest

from bench.harness import free_port
from helpline.commands.org import demo_text
from helpline.db.engine import make_engine, migrate
from tests.e2e.test_outage import call

pytestmark = pytest.mark.e2e

FEED_TOKEN = "Feed-t0ken_that-is-not-known"


async def wait_until_up(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the service did not come up")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_serve_masks_tokens_and_numbers_and_keeps_its_files_private(
    tmp_path: Path,
) -> None:
    port, data_dir = free_port(), tmp_path / "var"
    data_dir.mkdir(mode=0o755)  # as an older version, or another umask, left them
    engine = make_engine(f"sqlite+aiosqlite:///{data_dir / 'helpline.db'}")
    await migrate(engine)
    await engine.dispose()
    data_dir.chmod(0o755)
    (data_dir / "helpline.db").chmod(0o644)
    org_file = tmp_path / "org.toml"
    org_file.write_text(demo_text(), encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HELPLINE_", "TWILIO_", "TELEGRAM_"))
    }
    env |= {
        "HELPLINE_DATA_DIR": str(data_dir),
        "HELPLINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HELPLINE_ORG_FILE": str(org_file),
        "HELPLINE_DEBUG_LIBRARIES": "1",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = ("-m", "helpline.cli", "-v", "serve", "--port", str(port), "--no-jobs")
        process = await asyncio.create_subprocess_exec(
            sys.executable, *serve, env=env, stdout=out, stderr=out, umask=0o000
        )
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_until_up(base)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/ical/{FEED_TOKEN}.ics") as response:
                assert response.status == 404
        status, _ = await call(base, "CA-logged")
        assert status == 200
        modes = {path.name: mode(path) for path in data_dir.glob("helpline.db*")}
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    text = log.read_text(encoding="utf-8")
    # The masking access logger's own format: no timestamp of its own, the time taken.
    assert re.search(
        r'aiohttp.access: 127.0.0.1 "GET /ical/\*\*\*.ics HTTP/1.1" 404 \d+ [\d.]+s', text
    )
    assert '"POST /twilio/voice HTTP/1.1" 200' in text
    assert "DEBUG sqlalchemy.engine.Engine: Row [payload hidden]" in text  # libraries spoke
    assert FEED_TOKEN not in text
    assert "98765432" not in text and "Familien Hansen" not in text
    assert mode(data_dir) == 0o700
    assert modes == {"helpline.db": 0o600, "helpline.db-wal": 0o600, "helpline.db-shm": 0o600}
