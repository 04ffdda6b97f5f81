"""Escalation survives a killed worker: the deadline job lives in Redis, not in a process.

Real time here (a 2 s deadline): a message arrives, the worker process is SIGKILLed before
the deadline, a new worker process starts, and the next in the chain is notified, once:
counted when the conversation has moved on past that step.

The worker is another process on the real clock, so the demo's chain would depend on the
hour and week the test runs in. This organisation has one chain at every instant, written
by hand: Ola Berg covers Asker round the clock, alone (no backup), then Barnevernvakta
Vest's only member, Nina Strand, then the fallback.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from helpline.bootstrap import Services, open_services
from helpline.commands.org import load_text
from helpline.db.models import Base, ContactRow, OutboxRow
from helpline.settings import Settings
from tests.conftest import app_client
from tests.e2e.test_messages import HANSEN, Sms
from tests.e2e.twilio_driver import TwilioDriver

pytestmark = pytest.mark.e2e

ORG = """
[helpline]
timezone = "Europe/Oslo"
fallback_phone = "+4740000000"
message_deadline = "2s"

[[kommune]]
id = "asker"
name = "Asker"
numbers = ["+4767000001"]

[[team]]
id = "asker-bvt"
name = "Barnevernstjenesten i Asker"
kind = "kommune"
kommuner = ["asker"]

[[team]]
id = "bvv-vest"
name = "Barnevernvakta Vest"
kind = "barnevernvakt"
kommuner = ["asker"]

[[person]]
id = "ola"
name = "Ola Berg"
phone = "+4791234568"
teams = ["asker-bvt"]

[[person]]
id = "nina"
name = "Nina Strand"
phone = "+4795512340"
teams = ["bvv-vest"]

[[coverage]]
kommune = "asker"
rules = [{ days = "all", from = "00:00", to = "00:00", team = "asker-bvt" }]

[[rotation]]
team = "asker-bvt"
members = ["ola"]
start = "2026-01-05T08:00"
every = "1w"

[[rotation]]
team = "bvv-vest"
members = ["nina"]
start = "2026-01-05T08:00"
every = "1w"

[[foster_home]]
id = "hansen"
name = "Familien Hansen"
kommune = "asker"
phones = ["+4798765432"]
"""
#: The chain at any instant: Ola, then the barnevernvakt's Nina (checked once with
#: `helpline oncall --kommune asker` on this file, at several instants), then the fallback.
SECOND_STEP = "+4795512340"


def worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPLINE_", "TWILIO_"))}
    env |= {
        "HELPLINE_DATA_DIR": str(settings.data_dir),
        "HELPLINE_DATABASE_URL": settings.database_url,
        "HELPLINE_REDIS_URL": settings.redis_url or "",
    }
    return env


@pytest.fixture
def workers(settings: Settings) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start_worker(settings: Settings, workers: list[subprocess.Popen[bytes]], log: Path) -> None:
    with log.open("ab") as out:
        command = [sys.executable, "-m", "helpline.cli", "worker"]
        workers.append(subprocess.Popen(command, env=worker_env(settings), stdout=out, stderr=out))


async def test_a_deadline_fires_after_the_worker_is_killed_and_restarted(
    settings: Settings, workers: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    async with open_services(settings) as services:  # the real clock
        async with services.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(table.delete())
        await services.redis.flushdb()
        await load_text(services, ORG)
        log = tmp_path / "worker.log"
        start_worker(settings, workers, log)
        client = await app_client(services)
        try:
            await Sms(TwilioDriver(client, settings)).send(HANSEN, "Hjelp, vi trenger noen")
        finally:
            await client.close()
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)
        await asyncio.sleep(2.5)  # the deadline passes with no worker running
        start_worker(settings, workers, log)
        escalated = await wait_for(services, SECOND_STEP)
        contact = await moved_past_step(services, 1)
        async with services.sessions() as session:
            again = list(
                await session.scalars(
                    select(OutboxRow).where(OutboxRow.to == SECOND_STEP, OutboxRow.kind == "notify")
                )
            )
    assert "ikke besvart av" in escalated.body
    assert contact.notified_steps >= 2
    assert len(again) == 1, log.read_text()


async def wait_for(services: Services, phone: str) -> OutboxRow:
    for _ in range(300):
        async with services.sessions() as session:
            row = await session.scalar(
                select(OutboxRow).where(OutboxRow.to == phone, OutboxRow.kind == "notify")
            )
        if row is not None:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"no escalation to {phone} within 30 s")


async def moved_past_step(services: Services, step: int) -> ContactRow:
    """The conversation once it has moved past `step`: the next step notified, or the chain
    exhausted. Deadline jobs and the sweep only move a plan forward, so from then on
    nothing can notify `step` again, and counting its notifications is final."""
    for _ in range(300):
        async with services.sessions() as session:
            contact: ContactRow | None = await session.scalar(select(ContactRow))
        if contact is not None and (
            contact.notified_steps > step + 1 or contact.exhausted_at is not None
        ):
            return contact
        await asyncio.sleep(0.1)
    raise AssertionError(f"the conversation did not move past step {step} within 30 s")
