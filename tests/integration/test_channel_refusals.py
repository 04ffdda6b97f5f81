"""What the adapters tell the senders (issue 9): a carrier stop and a blocked bot as reasons,
a vendor's answer as a code (not sent) and its absence as none (maybe sent), Telegram's
retry_after, silent Telegram messages, and the Twilio lookup of a message already sent."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning
from twilio.request_validator import RequestValidator

from bots.telegram import TelegramBot, _retry_after
from bots.twilio_sms import TwilioSms
from routing.ports import BLOCKED, STOPPED, ChannelError
from tests.fakes.telegram_api import FAKE_BOT_TOKEN, FakeTelegram, FakeUser, running_fake_telegram
from tests.fakes.twilio_api import (
    FAKE_ACCOUNT_SID,
    FAKE_AUTH_TOKEN,
    FakeTwilio,
    running_fake_twilio,
)
from tests.fakes.twilio_callbacks import StatusCallbacks
from tests.integration.test_telegram_bot import closed_port

pytestmark = pytest.mark.integration

TO, FROM = "+4798765432", "+4767000090"
BODY = "Nettverkstreff torsdag kl. 18.\n\nSvar STOPP for å melde deg av."
USER = FakeUser(id=5550009, first_name="Liv")


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with running_fake_twilio() as running:
        yield running


@pytest.fixture
async def sms(twilio: FakeTwilio) -> AsyncIterator[TwilioSms]:
    async with TwilioSms(
        account_sid=FAKE_ACCOUNT_SID,
        auth_token=FAKE_AUTH_TOKEN,
        api_base=twilio.base_url,
        status_callback="http://127.0.0.1:1/twilio/status",
    ) as opened:
        yield opened


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with running_fake_telegram(users=[USER]) as running:
        yield running


@pytest.fixture
async def bot(telegram: FakeTelegram) -> AsyncIterator[TelegramBot]:
    async with TelegramBot(token=FAKE_BOT_TOKEN, api_base=telegram.base_url) as opened:
        yield opened


async def test_a_carrier_stop_is_a_reason_not_a_retry(twilio: FakeTwilio, sms: TwilioSms) -> None:
    twilio.refuse(TO)  # the recipient texted STOP to the number: Twilio error 21610
    with pytest.raises(ChannelError) as caught:
        await sms.send_sms(to=TO, from_=FROM, body=BODY)
    error = caught.value
    assert (error.retryable, error.code, error.reason) == (False, 21610, STOPPED)
    assert twilio.messages[0].status == 400 and not twilio.created
    await sms.send_sms(to="+4792345678", from_=FROM, body=BODY)  # others still get it


async def test_an_error_without_a_twilio_code_carries_the_http_status(
    twilio: FakeTwilio, sms: TwilioSms
) -> None:
    twilio.fail_next(503)
    with pytest.raises(ChannelError) as caught:
        await sms.send_sms(to=TO, from_=FROM, body=BODY)
    assert (caught.value.retryable, caught.value.code, caught.value.reason) == (True, 20503, None)


async def test_no_answer_means_no_code() -> None:
    async with TwilioSms(
        account_sid=FAKE_ACCOUNT_SID,
        auth_token=FAKE_AUTH_TOKEN,
        api_base=f"http://127.0.0.1:{closed_port()}",
    ) as sms:
        with pytest.raises(ChannelError) as caught:
            await sms.send_sms(to=TO, from_=FROM, body=BODY)
    assert caught.value.retryable and caught.value.code is None


async def test_find_sent_finds_the_message_twilio_took(twilio: FakeTwilio, sms: TwilioSms) -> None:
    since = twilio._clock()
    assert await sms.find_sent(to=TO, from_=FROM, body=BODY, since=since) is None
    sent = await sms.send_sms(to=TO, from_=FROM, body=BODY)
    await sms.send_sms(to=TO, from_="+4767000001", body=BODY)  # another sender
    await sms.send_sms(to=TO, from_=FROM, body="Noe annet")  # another body
    assert await sms.find_sent(to=TO, from_=FROM, body=BODY, since=since) == sent.provider_id
    later = since + timedelta(minutes=5)
    assert await sms.find_sent(to=TO, from_=FROM, body=BODY, since=later) is None
    assert await sms.find_sent(to="+4792345678", from_=FROM, body=BODY, since=since) is None


async def test_a_blocked_bot_is_a_reason(telegram: FakeTelegram, bot: TelegramBot) -> None:
    telegram.block(USER.id)
    with pytest.raises(ChannelError) as caught:
        await bot.send_text(chat_id=USER.id, text=BODY)
    error = caught.value
    assert (error.retryable, error.code, error.reason) == (False, 403, BLOCKED)
    telegram.fail_next(403, description="Forbidden: user is deactivated")
    with pytest.raises(ChannelError) as other:
        await bot.send_text(chat_id=USER.id, text=BODY)
    assert (other.value.code, other.value.reason) == (403, None)


async def test_flood_control_carries_retry_after(
    telegram: FakeTelegram, bot: TelegramBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB's own constructor warns without it
    telegram.rate_limit_next(retry_after=7)
    with pytest.raises(ChannelError) as caught:
        await bot.send_text(chat_id=USER.id, text=BODY)
    assert (caught.value.retryable, caught.value.code, caught.value.retry_after) == (True, 429, 7.0)


def test_retry_after_is_read_quietly_without_the_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        flood = RetryAfter(3)
    assert _retry_after(flood) == 3.0  # warnings are errors here: reading it must not warn


async def test_a_silent_message_asks_for_no_notification(
    telegram: FakeTelegram, bot: TelegramBot
) -> None:
    await bot.send_text(chat_id=USER.id, text=BODY, disable_notification=True)
    await bot.send_text(chat_id=USER.id, text=BODY)
    silent, loud = telegram.calls_to("sendMessage")
    assert silent.params.get("disable_notification") is True
    assert not loud.params.get("disable_notification")


async def test_the_fake_posts_signed_status_callbacks(twilio: FakeTwilio) -> None:
    got: list[dict[str, str]] = []

    async def webhook(request: web.Request) -> web.Response:
        got.append({k: str(v) for k, v in (await request.post()).items()})
        got[-1]["signature"] = request.headers["X-Twilio-Signature"]
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/twilio/status", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}/twilio/status"
    try:
        async with TwilioSms(
            account_sid=FAKE_ACCOUNT_SID,
            auth_token=FAKE_AUTH_TOKEN,
            api_base=twilio.base_url,
            status_callback=url,
        ) as sms:
            sent = await sms.send_sms(to=TO, from_=FROM, body=BODY)
        async with aiohttp.ClientSession() as session:
            callbacks = StatusCallbacks(twilio, session)
            assert await callbacks.post(sent.provider_id, "delivered") == 200
            assert await callbacks.post(sent.provider_id, "undelivered", 30003) == 200
    finally:
        await runner.cleanup()

    first, second = got
    shown = (first["MessageSid"], first["MessageStatus"], first["To"])
    assert shown == (sent.provider_id, "delivered", TO)
    assert second["ErrorCode"] == "30003" and "ErrorCode" not in first
    signature = first.pop("signature")
    assert RequestValidator(FAKE_AUTH_TOKEN).validate(url, first, signature)
