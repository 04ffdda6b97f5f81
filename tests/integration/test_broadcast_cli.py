"""`helpline broadcast send` and `show` on a real database and Redis (sandbox mode)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpline.bootstrap import open_services
from helpline.db import models as m
from helpline.optout import stop
from helpline.settings import Settings
from rota.wallclock import OSLO, local_instant, zone
from tests.integration.cli_support import run
from tests.integration.test_groups import _demo

pytestmark = pytest.mark.integration

TEXT = "Nettverkstreff torsdag kl. 18. Velkommen!"


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """The demo loaded, and the environment pointing the command line at it."""
    asyncio.run(_demo(settings))
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HELPLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HELPLINE_REDIS_URL", settings.redis_url or "")
    return settings


async def _count(settings: Settings, table: type[m.Base]) -> int:
    async with open_services(settings, with_redis=False) as services:
        async with services.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def _stop(settings: Settings, phone: str) -> None:
    async with open_services(settings, with_redis=False) as services:
        async with services.sessions() as session, session.begin():
            await stop(session, "sms", phone, "network", "keyword", services.clock())


def next_evening() -> str:
    """23:00 Oslo time a week from now: in quiet hours, in the future, within a year."""
    day = (datetime.now(UTC) + timedelta(days=7)).astimezone(zone(OSLO)).date()
    return f"{day.isoformat()}T23:00"


def next_noon() -> str:
    """12:00 Oslo time a week from now: outside quiet hours, whenever the tests run."""
    return next_evening().replace("T23:00", "T12:00")


def test_a_dry_run_counts_and_stores_nothing(
    cli: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_stop(cli, "+4798765432"))
    code, out, err = run(
        capsys,
        "broadcast",
        "send",
        "--to",
        "kommune:asker,team:asker-bvt",
        "--text",
        TEXT,
        "--at",  # not now: after 21:00 in Oslo, now is in quiet hours and 8 are held
        next_noon(),
        "--dry-run",
    )
    assert (code, err) == (0, "")
    assert out == (
        "dry run, nothing stored: 9 recipients; 1 opted out, 0 on Telegram, 8 by "
        "SMS (1 segment each), 0 held by quiet hours\n"
    )
    assert asyncio.run(_count(cli, m.BroadcastRow)) == asyncio.run(_count(cli, m.OutboxRow)) == 0


def test_send_then_show(cli: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    evening = next_evening()
    code, out, _ = run(
        capsys,
        "broadcast",
        "send",
        "--to",
        "home:hansen,home:olsen",
        "--text",
        TEXT,
        "--at",
        evening,
        "--json",
    )
    made = json.loads(out)
    held_until = local_instant(
        datetime.fromisoformat(evening).date() + timedelta(days=1), time(8), zone(OSLO)
    )
    assert code == 0 and made["dry_run"] is False and made["held_by_quiet_hours"] == 3
    assert (made["recipients"], made["sms"], made["sms_segments"]) == (3, 3, 1)
    code, out, _ = run(capsys, "broadcast", "show", str(made["id"]), "--json")
    shown = json.loads(out)
    assert code == 0 and set(shown) == {
        "id",
        "audience",
        "created_at",
        "send_at",
        "states",
        "channels",
    }
    assert shown["audience"] == "home:hansen,home:olsen"
    assert datetime.fromisoformat(shown["send_at"]) == local_instant(
        datetime.fromisoformat(evening).date(), time(23), zone(OSLO)
    )
    assert shown["states"]["held"] == 3 and sum(shown["states"].values()) == 3
    assert shown["channels"] == {"sms": 3, "telegram": 0}

    async def not_before() -> set[datetime | None]:
        async with open_services(cli, with_redis=False) as services:
            async with services.sessions() as session:
                return set(await session.scalars(select(m.OutboxRow.not_before)))

    assert asyncio.run(not_before()) == {held_until}
    code, out, _ = run(capsys, "broadcast", "show", str(made["id"]))
    assert code == 0 and "held 3" in out and "sms 3" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "kommune:oslo", "--text", TEXT], "no kommune:oslo"),
        (["--to", "kommune asker", "--text", TEXT], "is not kind:id"),
        (["--to", "kommune:asker", "--text", " "], "visible character"),
        (["--to", "kommune:asker", "--text", TEXT, "--at", "2020-01-01T10:00"], "in the past"),
        (["--to", "kommune:asker", "--text", TEXT, "--at", "snart"], "not an ISO 8601"),
    ],
)
def test_send_refuses_and_stores_nothing(
    cli: Settings, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "broadcast", "send", *argv)
    assert (code, out) == (2, "") and message in err
    assert asyncio.run(_count(cli, m.BroadcastRow)) == 0


def test_show_of_an_unknown_broadcast(cli: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "broadcast", "show", "99")
    assert code == 2 and "no broadcast 99" in err
