"""Telegram end to end: the real python-telegram-bot inside the app, against a fake Bot API
that delivers updates to our webhook with the secret header, as Telegram does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from helpline.bootstrap import Services, open_services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import ContactRow, OutboxRow
from helpline.linking import create_link_token
from rota.engine import Rota
from rota.orgfile import parse_org
from tests.conftest import FrozenClock, app_client
from tests.e2e.test_messages import ASKER_LINE, HANSEN, Sms
from tests.e2e.twilio_driver import TwilioDriver
from tests.fakes.telegram_api import FAKE_BOT_TOKEN, FakeTelegram, FakeUser, running_fake_telegram

pytestmark = pytest.mark.e2e

SECRET = "webhook-secret-for-tests"
MONDAY_10 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
STAFF_USER = FakeUser(id=5550001, first_name="Vakt")
PARENT_USER = FakeUser(id=5550002, first_name="Forelder")
STRANGER_USER = FakeUser(id=5550003, first_name="Ukjent")


@dataclass
class World:
    services: Services
    fake: FakeTelegram
    client: TestClient[web.Request, web.Application]
    twilio: TwilioDriver

    async def link(self, user: FakeUser, kind: str, target: str) -> str:
        async with self.services.sessions() as session, session.begin():
            token, _ = await create_link_token(session, kind, target, self.services.clock())
        assert await self.fake.deliver(self.fake.start_update(user, token)) == 200
        return token

    def texts(self, user: FakeUser) -> list[str]:
        return [str(m.get("text", "")) for m in self.fake.sent_messages(user.id)]

    async def contact(self) -> ContactRow:
        async with self.services.sessions() as session:
            rows = list(await session.scalars(select(ContactRow).order_by(ContactRow.id)))
        return rows[-1]


@pytest.fixture
async def world(services: Services, clock: FrozenClock) -> AsyncIterator[World]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    async with running_fake_telegram() as fake:
        settings = replace(
            services.settings,
            telegram_bot_token=FAKE_BOT_TOKEN,
            telegram_api_base=fake.base_url,
            telegram_webhook_secret=SECRET,
        )
        async with open_services(settings, clock=clock) as live:
            client = await app_client(live)
            try:
                assert live.telegram is not None
                url = str(client.server.make_url("/telegram/webhook"))
                await live.telegram.set_webhook(url, SECRET)
                yield World(live, fake, client, TwilioDriver(client, settings))
            finally:
                await client.close()


def primary_person() -> str:
    entry = Rota(parse_org(demo_text())).on_duty("asker", MONDAY_10)[0]
    assert entry.person is not None
    return entry.person


def last_message(fake: FakeTelegram, user: FakeUser) -> dict[str, Any]:
    return fake.sent_messages(user.id)[-1]


async def test_a_deep_link_links_once(world: World) -> None:
    token = await world.link(STAFF_USER, "person", primary_person())
    assert "koblet til Fosterhjemstelefonen" in world.texts(STAFF_USER)[-1]
    assert await world.fake.deliver(world.fake.start_update(STAFF_USER, token)) == 200
    assert "ugyldig" in world.texts(STAFF_USER)[-1]


async def test_staff_take_with_the_button_and_answer_by_replying(world: World) -> None:
    await world.link(STAFF_USER, "person", primary_person())
    await Sms(world.twilio).send(HANSEN, "Kan noen ringe oss?")
    contact = await world.contact()
    notification = last_message(world.fake, STAFF_USER)
    assert f"#K{contact.id}" in notification["text"] and "Familien Hansen" in notification["text"]
    buttons = [b["callback_data"] for row in notification["reply_markup"]["inline_keyboard"]
               for b in row]  # fmt: skip
    assert buttons == [f"take:{contact.id}", f"close:{contact.id}"]

    tap = world.fake.callback_update(STAFF_USER, notification["message_id"], f"take:{contact.id}")
    assert await world.fake.deliver(tap) == 200
    assert (await world.contact()).answered_at == MONDAY_10
    assert world.fake.calls_to("answerCallbackQuery")

    reply = world.fake.message_update(STAFF_USER, "Jeg ringer dere om ti minutter.",
                                      reply_to=notification["message_id"])  # fmt: skip
    assert await world.fake.deliver(reply) == 200
    async with world.services.sessions() as session:
        relayed = list(await session.scalars(select(OutboxRow).where(OutboxRow.to == HANSEN)))
    assert relayed[-1].body.endswith("Jeg ringer dere om ti minutter.")
    assert relayed[-1].sender == ASKER_LINE
    assert await world.fake.deliver(reply) == 200  # a redelivery (same update_id): once
    async with world.services.sessions() as session:
        again = list(await session.scalars(select(OutboxRow).where(OutboxRow.to == HANSEN)))
    assert len(again) == len(relayed)


async def test_close_with_the_category_buttons(world: World) -> None:
    await world.link(STAFF_USER, "person", primary_person())
    await Sms(world.twilio).send(HANSEN, "Et spørsmål")
    contact = await world.contact()
    message_id = last_message(world.fake, STAFF_USER)["message_id"]
    await world.fake.deliver(world.fake.callback_update(STAFF_USER, message_id,
                                                        f"close:{contact.id}"))  # fmt: skip
    [edit] = world.fake.calls_to("editMessageReplyMarkup")
    assert "skole" in str(edit.params)
    await world.fake.deliver(world.fake.callback_update(STAFF_USER, message_id,
                                                        f"cat:{contact.id}:1"))  # fmt: skip
    closed = await world.contact()
    assert closed.closed_at == MONDAY_10 and closed.category == "skole"


async def test_a_linked_foster_home_writes_on_telegram_and_gets_the_answer_there(
    world: World,
) -> None:
    await world.link(PARENT_USER, "foster_home", "hansen")
    assert await world.fake.deliver(world.fake.message_update(PARENT_USER, "Hei fra oss")) == 200
    contact = await world.contact()
    assert (contact.channel, contact.foster_home_id) == ("telegram", "hansen")
    assert "113" in world.texts(PARENT_USER)[-1]  # the receipt
    primary = Rota(parse_org(demo_text())).on_duty("asker", MONDAY_10)[0].phone
    await Sms(world.twilio).send(primary, f"#K{contact.id} Vi ringer snart.")
    assert world.texts(PARENT_USER)[-1].endswith("Vi ringer snart.")


async def test_an_unknown_telegram_user_only_gets_the_how_to(world: World) -> None:
    assert await world.fake.deliver(world.fake.message_update(STRANGER_USER, "Hei?")) == 200
    [answer] = world.texts(STRANGER_USER)
    assert "Vi kjenner ikke igjen" in answer and "112" in answer
    async with world.services.sessions() as session:
        assert list(await session.scalars(select(ContactRow))) == []


async def test_a_forged_secret_is_403(world: World) -> None:
    update = world.fake.message_update(STRANGER_USER, "Hei?")
    for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
        response = await world.client.post("/telegram/webhook", json=update, headers=headers)
        assert response.status == 403
    assert world.texts(STRANGER_USER) == []
