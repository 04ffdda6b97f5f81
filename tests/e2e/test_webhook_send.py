"""A message webhook answers once its messages are committed, not once they are sent.

Twilio and Telegram answer in their own time: the webhook hands its outbox rows to a
background delivery that starts at once. Here the fake vendor holds its answer back: the
webhook has answered while the fake still holds, and once released each message has gone
out exactly once and is recorded as sent. The app's shutdown waits for such a send.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from helpline.bootstrap import Services, open_services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import OutboxRow
from tests.conftest import FrozenClock, app_client
from tests.e2e.demo_duty import MONDAY_10
from tests.e2e.test_messages import Sms
from tests.e2e.twilio_driver import TwilioDriver
from tests.fakes.telegram_api import FAKE_BOT_TOKEN, FakeTelegram, FakeUser, running_fake_telegram
from tests.fakes.twilio_api import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, running_fake_twilio

pytestmark = pytest.mark.e2e

SECRET = "webhook-secret-for-tests"
STRANGER = FakeUser(id=5550123, first_name="Ukjent")
UNKNOWN_NUMBER = "+4791234599"
HOLD = 20.0  # seconds the fake holds its answer unless released (far past any wait here)


async def rows(services: Services) -> list[OutboxRow]:
    async with services.sessions() as session:
        return list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


async def until(condition_met: object, what: str) -> None:
    """Wait (a bounded number of loop turns) until the callable `condition_met` holds."""
    assert callable(condition_met)
    for _ in range(2_000):
        if condition_met():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
async def live(services: Services, clock: FrozenClock) -> AsyncIterator[Services]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    yield services


async def test_an_sms_webhook_answers_while_twilio_holds_the_send(live: Services) -> None:
    async with running_fake_twilio() as fake:
        settings = replace(
            live.settings,
            twilio_account_sid=FAKE_ACCOUNT_SID,
            twilio_auth_token=FAKE_AUTH_TOKEN,
            twilio_api_base=fake.base_url,
        )
        async with open_services(settings, clock=live.clock) as services:
            client = await app_client(services, settle=False)
            closing: asyncio.Task[None] | None = None
            try:
                fake.delay_next(HOLD)
                await Sms(TwilioDriver(client, settings)).send(UNKNOWN_NUMBER, "")  # answered
                await until(lambda: fake.holding == 1, "Twilio received the send")
                assert fake.holding == 1 and not fake.created  # still held: not yet sent
                [row] = await rows(services)
                assert row.status == "sending" and row.to == UNKNOWN_NUMBER

                closing = asyncio.create_task(client.close())  # the app's shutdown...
                for _ in range(20):
                    await asyncio.sleep(0)
                assert not closing.done()  # ...waits for the send
                fake.release()
                await closing
            finally:
                if closing is None:
                    await client.close()
    [row] = await rows(services)
    assert row.status == "sent"
    assert [m.form["To"] for m in fake.messages] == [UNKNOWN_NUMBER]  # exactly once
    assert row.provider_id == fake.messages[0].sid


async def test_a_telegram_webhook_answers_while_the_bot_api_holds_the_send(
    live: Services,
) -> None:
    async with running_fake_telegram() as fake:
        settings = replace(
            live.settings,
            telegram_bot_token=FAKE_BOT_TOKEN,
            telegram_api_base=fake.base_url,
            telegram_webhook_secret=SECRET,
        )
        async with open_services(settings, clock=live.clock) as services:
            client = await app_client(services, settle=False)
            try:
                assert services.telegram is not None
                await services.telegram.set_webhook(
                    str(client.server.make_url("/telegram/webhook")), SECRET
                )
                fake.delay_next(HOLD)
                status = await fake.deliver(fake.message_update(STRANGER, "Hei"))
                assert status == 200  # answered...
                await until(lambda: fake.holding == 1, "the Bot API received the send")
                assert not sent(fake, STRANGER)  # ...while the send is still held

                fake.release()
                await services.outbox.drain()
            finally:
                await client.close()
    assert len(sent(fake, STRANGER)) == 1  # exactly once
    [row] = await rows(services)
    assert row.status == "sent" and row.to == str(STRANGER.id)


def sent(fake: FakeTelegram, user: FakeUser) -> list[object]:
    return [call for call in fake.calls_to("sendMessage") if call.params.get("chat_id") == user.id]
