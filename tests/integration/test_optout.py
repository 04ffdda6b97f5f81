"""Opt-outs and blocked Telegram links on a real database (SQLite by default, PostgreSQL in
the CI pass): idempotent, per scope, outliving reloads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import OptOutRow, TelegramLinkRow
from helpline.optout import is_opted_out, opted_out, start, stop
from helpline.telegram_links import all_links, help_party_of, link_of, mark_blocked, unblock
from routing.channels import TelegramLink
from routing.ports import Party

pytestmark = pytest.mark.integration

PHONE = "+4798765432"
TELEGRAM = Party("telegram", "77")


async def test_stop_and_start_are_idempotent_and_per_scope(services: Services) -> None:
    now = services.clock()
    async with services.sessions() as session, session.begin():
        assert await stop(session, "sms", PHONE, "network", "keyword", now)
        assert not await stop(session, "sms", PHONE, "network", "carrier", now + timedelta(1))
        assert await stop(session, "sms", PHONE, "group:asker-rf-nilsen", "keyword", now)
    async with services.sessions() as session, session.begin():
        row = await session.scalar(select(OptOutRow).where(OptOutRow.scope == "network"))
        assert row is not None and (row.source, row.created_at) == ("keyword", now)
        assert await is_opted_out(session, "sms", PHONE, ["network"])
        assert await is_opted_out(session, "sms", PHONE, ["group:asker-rf-nilsen", "network"])
        assert not await is_opted_out(session, "sms", PHONE, ["group:baerum-nettverk"])
        assert not await is_opted_out(session, "telegram", PHONE, ["network"])
        assert not await is_opted_out(session, "sms", PHONE, [])  # help: no scope stops it
        assert await opted_out(session, ["network"]) == {("sms", PHONE)}
        assert await start(session, "sms", PHONE, "network")
        assert not await start(session, "sms", PHONE, "network")
        assert not await is_opted_out(session, "sms", PHONE, ["network"])
        assert await is_opted_out(session, "sms", PHONE, ["group:asker-rf-nilsen"])
        count = await session.scalar(select(func.count()).select_from(OptOutRow))
    assert count == 1


async def test_an_opt_out_outlives_a_reload(services: Services) -> None:
    await load_text(services, demo_text())
    async with services.sessions() as session, session.begin():
        await stop(session, "sms", PHONE, "network", "carrier", services.clock())
    await load_text(services, demo_text())
    async with services.sessions() as session:
        assert await is_opted_out(session, "sms", PHONE, ["network"])


async def test_a_blocked_bot_sends_help_by_sms_until_the_user_writes_again(
    services: Services,
) -> None:
    now = services.clock()
    async with services.sessions() as session, session.begin():
        session.add(
            TelegramLinkRow(
                user_id=77, chat_id=77, kind="foster_home", target_id="hansen", linked_at=now
            )
        )
    async with services.sessions() as session, session.begin():
        assert await help_party_of(session, "foster_home", "hansen", PHONE) == TELEGRAM
        assert await mark_blocked(session, 77, now) == 1
        assert await mark_blocked(session, 77, now + timedelta(hours=1)) == 0  # the first stands
        assert await link_of(session, "foster_home", "hansen") == TelegramLink(77, blocked=True)
        assert await help_party_of(session, "foster_home", "hansen", PHONE) == Party("sms", PHONE)
        assert await all_links(session) == {("foster_home", "hansen"): TelegramLink(77, True)}
        assert await help_party_of(session, "person", "kari", "+4791234567") == Party(
            "sms", "+4791234567"
        )
    async with services.sessions() as session, session.begin():
        assert await unblock(session, 77)
        assert not await unblock(session, 77)
        assert await help_party_of(session, "foster_home", "hansen", PHONE) == TELEGRAM
