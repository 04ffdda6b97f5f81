"""`helpline purge [--dry-run]` against a real database, on the system clock."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from helpline.bootstrap import open_services
from helpline.cli import main
from helpline.db.models import Base, ContactRow, MessageRow, OutboxRow, WebhookEventRow
from helpline.settings import Settings
from tests.integration.cli_support import point_cli_at

pytestmark = pytest.mark.integration

LONG_AGO = datetime(2020, 1, 6, 9, 0, tzinfo=UTC)


async def _old_conversation(settings: Settings) -> None:
    async with open_services(settings, with_redis=False) as services:
        async with services.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(table.delete())
        async with services.sessions() as session, session.begin():
            contact = ContactRow(
                channel="sms",
                kommune_id="asker",
                kommune_name="Asker",
                caller="+4790000001",
                caller_masked="+47•••••001",
                helpline_number="+4767000001",
                started_at=LONG_AGO,
                outcome="closed",
                plan="[]",
                closed_at=LONG_AGO,
                category="annet",
            )
            session.add(contact)
            await session.flush()
            session.add_all(
                [
                    MessageRow(
                        contact_id=contact.id,
                        direction="in",
                        channel="sms",
                        sender_role="foster_parent",
                        body="Hei",
                        created_at=LONG_AGO,
                    ),
                    OutboxRow(
                        channel="sms",
                        to="+4790000001",
                        sender="+4767000001",
                        body="Takk",
                        contact_id=contact.id,
                        created_at=LONG_AGO,
                        status="sandbox",
                        kind="receipt",
                    ),
                    WebhookEventRow(key="sms:SM1", response="<Response/>", created_at=LONG_AGO),
                ]
            )


async def _content(settings: Settings) -> tuple[object, ...]:
    async with open_services(settings, with_redis=False) as services:
        async with services.sessions() as session:
            return (
                list(await session.scalars(select(ContactRow.caller))),
                list(await session.scalars(select(ContactRow.content_purged_at))),
                list(await session.scalars(select(MessageRow.body))),
                list(await session.scalars(select(OutboxRow.body))),
                list(await session.scalars(select(OutboxRow.to))),
                list(await session.scalars(select(WebhookEventRow.key))),
            )


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    asyncio.run(_old_conversation(settings))
    point_cli_at(settings, monkeypatch, tmp_path)
    return settings


def test_purge_dry_run_counts_and_changes_nothing_then_purge_does_it(
    cli: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    before = asyncio.run(_content(cli))
    assert main(["purge", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "(HELPLINE_RETENTION_DAYS=90), would blank or delete:" in out
    labels = (
        "contacts",
        "message bodies",
        "outbox bodies",
        "stored webhook answers",
        "unknown callers' numbers",
    )
    for label in labels:
        assert f"  {label:<26} 1\n" in out + "\n", label
    assert "  recordings                 0" in out
    assert asyncio.run(_content(cli)) == before

    assert main(["purge"]) == 0
    assert "blanked or deleted:" in capsys.readouterr().out
    callers, purged, bodies, outbox, recipients, events = asyncio.run(_content(cli))
    assert callers == [""] and purged != [None]
    assert bodies == [""] and outbox == [""] and recipients == [""] and events == []
    assert main(["purge"]) == 0
    assert "  contacts                   0" in capsys.readouterr().out


def test_a_bad_retention_setting_is_refused(
    cli: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPLINE_RETENTION_DAYS", "zero")
    assert main(["purge"]) == 2
    assert "HELPLINE_RETENTION_DAYS must be a whole number" in capsys.readouterr().err
