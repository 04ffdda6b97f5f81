"""Telegram end to end: the real python-telegram-bot inside the app, against a fake Bot API
that delivers updates to our webhook with the secret header, as Telegram does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from helpline.bootstrap import Services, open_services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import Base, ContactRow, OutboxRow, TelegramLinkRow
from helpline.linking import create_link_token
from tests.conftest import FrozenClock, app_client
from tests.e2e.demo_duty import ASKER_MONDAY_10, MONDAY_10
from tests.e2e.test_messages import ASKER_LINE, HANSEN, Sms
from tests.e2e.twilio_driver import TwilioDriver
from tests.fakes.telegram_api import FAKE_BOT_TOKEN, FakeTelegram, FakeUser, running_fake_telegram

pytestmark = pytest.mark.e2e

SECRET = "webhook-secret-for-tests"
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
    """Asker's primary on Monday 10:00, who links their Telegram: Ola Berg."""
    person = ASKER_MONDAY_10[0].person
    assert person is not None
    return person


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
    buttons = [
        b["callback_data"] for row in notification["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert buttons == [f"take:{contact.id}", f"close:{contact.id}"]

    tap = world.fake.callback_update(STAFF_USER, notification["message_id"], f"take:{contact.id}")
    assert await world.fake.deliver(tap) == 200
    assert (await world.contact()).answered_at == MONDAY_10
    assert world.fake.calls_to("answerCallbackQuery")

    reply = world.fake.message_update(
        STAFF_USER, "Jeg ringer dere om ti minutter.", reply_to=notification["message_id"]
    )
    assert await world.fake.deliver(reply) == 200
    async with world.services.sessions() as session:
        relayed = list(
            await session.scalars(
                select(OutboxRow).where(OutboxRow.to == HANSEN).order_by(OutboxRow.id)
            )
        )
    assert relayed[-1].body.endswith("Jeg ringer dere om ti minutter.")
    assert relayed[-1].sender == ASKER_LINE
    assert await world.fake.deliver(reply) == 200  # a redelivery (same update_id): once
    async with world.services.sessions() as session:
        again = list(
            await session.scalars(
                select(OutboxRow).where(OutboxRow.to == HANSEN).order_by(OutboxRow.id)
            )
        )
    assert len(again) == len(relayed)


async def test_close_with_the_category_buttons(world: World) -> None:
    await world.link(STAFF_USER, "person", primary_person())
    await Sms(world.twilio).send(HANSEN, "Et spørsmål")
    contact = await world.contact()
    message_id = last_message(world.fake, STAFF_USER)["message_id"]
    await world.fake.deliver(
        world.fake.callback_update(STAFF_USER, message_id, f"close:{contact.id}")
    )
    [edit] = world.fake.calls_to("editMessageReplyMarkup")
    assert "skole" in str(edit.params)
    await world.fake.deliver(
        world.fake.callback_update(STAFF_USER, message_id, f"cat:{contact.id}:1")
    )
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
    await Sms(world.twilio).send(ASKER_MONDAY_10[0].phone, f"#K{contact.id} Vi ringer snart.")
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


GROUP_CHAT = {"id": -1001234567890, "title": "Vaktgruppa", "type": "supergroup"}


def in_group(update: dict[str, Any]) -> dict[str, Any]:
    """`update` as if it came from a group chat the bot was added to."""
    if "callback_query" in update:
        update["callback_query"]["message"] = {
            **update["callback_query"]["message"],
            "chat": GROUP_CHAT,
        }
    else:
        update["message"] = {**update["message"], "chat": GROUP_CHAT}
    return update


async def row_counts(services: Services) -> dict[str, int]:
    async with services.sessions() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


async def test_a_link_token_from_a_group_chat_links_nothing_and_answers_nothing(
    world: World,
) -> None:
    async with world.services.sessions() as session, session.begin():
        token, _ = await create_link_token(
            session, "person", primary_person(), world.services.clock()
        )
    before = await row_counts(world.services)
    update = in_group(world.fake.start_update(STAFF_USER, token))
    assert await world.fake.deliver(update) == 200
    assert await world.fake.deliver(in_group(world.fake.message_update(STAFF_USER, "Hei"))) == 200
    assert world.fake.calls_to("sendMessage") == []
    assert await row_counts(world.services) == before
    async with world.services.sessions() as session:
        assert await session.get(TelegramLinkRow, STAFF_USER.id) is None
    # The token is still good where the bot does talk: the private chat.
    assert await world.fake.deliver(world.fake.start_update(STAFF_USER, token)) == 200
    assert "koblet til Fosterhjemstelefonen" in world.texts(STAFF_USER)[-1]


async def test_a_button_tapped_in_a_group_chat_is_ignored(world: World) -> None:
    await world.link(STAFF_USER, "person", primary_person())
    await Sms(world.twilio).send(HANSEN, "Kan noen ringe oss?")
    contact = await world.contact()
    message_id = last_message(world.fake, STAFF_USER)["message_id"]
    before = await row_counts(world.services)
    tap = world.fake.callback_update(STAFF_USER, message_id, f"take:{contact.id}")
    assert await world.fake.deliver(in_group(tap)) == 200
    assert world.fake.calls_to("answerCallbackQuery") == []
    assert (await world.contact()).answered_at is None
    assert await row_counts(world.services) == before


@pytest.mark.parametrize("data", ["take:abc", "x:y", "cat:{id}:99", "close:", "take:99999999999"])
async def test_odd_button_data_is_answered_ukjent_valg_and_changes_nothing(
    world: World, data: str
) -> None:
    await world.link(STAFF_USER, "person", primary_person())
    await Sms(world.twilio).send(HANSEN, "Kan noen ringe oss?")
    contact = await world.contact()
    message_id = last_message(world.fake, STAFF_USER)["message_id"]
    sent = len(world.fake.calls_to("sendMessage"))
    tap = world.fake.callback_update(STAFF_USER, message_id, f"take:{contact.id}")
    tap["callback_query"]["data"] = data.format(id=contact.id)
    before = await row_counts(world.services)

    assert await world.fake.deliver(tap) == 200

    [answer] = world.fake.calls_to("answerCallbackQuery")
    assert answer.ok and answer.params.get("text") == "Ukjent valg."
    assert len(world.fake.calls_to("sendMessage")) == sent
    assert world.fake.calls_to("editMessageReplyMarkup") == []
    after = await row_counts(world.services)
    assert after == {**before, "webhook_events": before["webhook_events"] + 1}
    assert (await world.contact()).answered_at is None


def _malformed(fake: FakeTelegram) -> list[tuple[str, bytes]]:
    def update(change: dict[str, Any]) -> bytes:
        message = {**fake.message_update(STRANGER_USER, "Hei")["message"], **change}
        return json.dumps({"update_id": 900, "message": message}).encode()

    return [
        ("not JSON", b"{nope"),
        ("not UTF-8", b'{"update_id": 1, "message": "\xff"}'),
        ("a list", b"[1, 2]"),
        ("no update_id", b'{"message": {}}'),
        ("update_id a string", b'{"update_id": "1"}'),
        ("update_id a bool", b'{"update_id": true}'),
        ("message not an object", b'{"update_id": 1, "message": 5}'),
        ("deeply nested", b'{"update_id": 1, "x": ' + b"[" * 50000 + b"]" * 50000 + b"}"),
        ("chat id a string", update({"chat": {"id": "abc", "type": "private"}})),
        ("chat id past 64 bits", update({"chat": {"id": 2**70, "type": "private"}})),
        ("chat type a number", update({"chat": {"id": 5, "type": 3}})),
        ("text a number", update({"text": 5})),
        ("a NUL in the text", update({"text": "Hei\u0000"})),
        ("a lone surrogate", update({"text": "Hei \ud800"})),
        ("a date past all time", update({"date": 10**20})),
        ("from a string", update({"from": "someone"})),
        ("no chat", update({"chat": None})),
        ("a button on a message without a chat", json.dumps({"update_id": 901, "callback_query": {
            "id": "q1", "from": {"id": 5, "is_bot": False, "first_name": "X"},
            "data": "take:1", "message": {"message_id": 1, "date": 0}}}).encode()),
        ("a button without a sender", json.dumps({"update_id": 902, "callback_query": {
            "id": "q2", "data": "take:1"}}).encode()),
    ]  # fmt: skip


async def test_a_malformed_telegram_body_is_400_and_stores_nothing(world: World) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    before = await row_counts(world.services)
    for name, body in _malformed(world.fake):
        response = await world.client.post("/telegram/webhook", data=body, headers=headers)
        assert response.status == 400, (name, response.status, await response.text())
    assert world.fake.calls_to("sendMessage") == []
    assert await row_counts(world.services) == before
