"""The Telegram adapter: the real python-telegram-bot against the fake Bot API, over HTTP."""

import socket
import traceback
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Update
from telegram.warnings import PTBDeprecationWarning

from bots.telegram import ALLOWED_UPDATES, TelegramBot, webhook_secret_ok
from routing.ports import Button, ChannelError, Sent, TelegramSender
from tests.fakes.telegram_api import (
    FAKE_BOT_TOKEN,
    FAKE_BOT_USERNAME,
    NOT_MODIFIED,
    SECRET_HEADER,
    FakeTelegram,
    FakeUser,
    running_fake_telegram,
)

pytestmark = pytest.mark.integration

KARI = FakeUser(id=5550001, first_name="Kari", last_name="Nordmann", username="kari_vakt")
HANSEN = FakeUser(id=5550002, first_name="Liv")
BODY = "Familien Hansen trenger hjelp i natt. Svar #K7 😊"
SECRET = "webhook-Secret_0123456789"
TAKE = Button("Jeg tar den", "take:K7")
CLOSE = Button("Lukk", "close:K7")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with running_fake_telegram(users=[KARI, HANSEN], only_known_chats=True) as running:
        yield running


@pytest.fixture
def received() -> list[Update]:
    return []


def new_bot(fake: FakeTelegram, received: list[Update] | None = None, **extra: Any) -> TelegramBot:
    async def on_update(update: Update) -> None:
        if received is not None:
            received.append(update)

    options: dict[str, Any] = {"token": FAKE_BOT_TOKEN, "api_base": fake.base_url, **extra}
    return TelegramBot(on_update=on_update, **options)


@pytest.fixture
async def bot(fake: FakeTelegram, received: list[Update]) -> AsyncIterator[TelegramBot]:
    async with new_bot(fake, received) as opened:
        yield opened


async def refused(call: Awaitable[object]) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        await call
    return caught.value


def assert_discreet(error: ChannelError, *secrets: str) -> None:
    """Neither the error nor its logged traceback shows the text or the bot token."""
    shown = "".join(traceback.format_exception(error))
    for secret in (BODY, FAKE_BOT_TOKEN, *secrets):
        assert secret not in shown


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- lifecycle --------------------------------------------------------------------------


async def test_initialize_reads_the_bot_username_with_get_me(fake: FakeTelegram) -> None:
    bot = new_bot(fake)
    await bot.initialize()
    try:
        assert bot.bot_username == FAKE_BOT_USERNAME
        assert [call.method for call in fake.calls] == ["getMe"]
        assert fake.calls[0].token == FAKE_BOT_TOKEN
    finally:
        await bot.shutdown()


async def test_async_with_starts_and_stops_the_application(fake: FakeTelegram) -> None:
    bot = new_bot(fake)
    async with bot:
        assert bot.application.running
    assert not bot.application.running
    await bot.stop()  # stopping and shutting down again is harmless
    await bot.shutdown()


async def test_deep_link_opens_the_bot_with_a_start_token(bot: TelegramBot) -> None:
    assert bot.deep_link("Ab3_-x") == f"https://t.me/{FAKE_BOT_USERNAME}?start=Ab3_-x"


@pytest.mark.parametrize("token", ["", "has space", "ø", "a" * 65, "a&b=c"])
async def test_deep_link_refuses_what_telegram_would_not_pass_on(
    bot: TelegramBot, token: str
) -> None:
    with pytest.raises(ValueError, match="start token"):
        bot.deep_link(token)


async def test_the_bot_is_a_telegram_sender(bot: TelegramBot) -> None:
    sender: TelegramSender = bot
    assert sender is bot


# -- sending ----------------------------------------------------------------------------


async def test_send_text_with_buttons_arrives_as_an_inline_keyboard(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    sent = await bot.send_text(chat_id=KARI.id, text=BODY, buttons=[TAKE, CLOSE])

    [call] = fake.calls_to("sendMessage")
    assert call.params == {
        "chat_id": KARI.id,
        "text": BODY,
        "reply_markup": {
            "inline_keyboard": [
                [
                    {"text": "Jeg tar den", "callback_data": "take:K7"},
                    {"text": "Lukk", "callback_data": "close:K7"},
                ]
            ]
        },
    }
    assert sent == Sent(channel="telegram", provider_id=str(call.result["message_id"]))
    assert call.result["reply_markup"] == call.params["reply_markup"]


async def test_message_ids_count_up_per_chat(fake: FakeTelegram, bot: TelegramBot) -> None:
    first = await bot.send_text(chat_id=KARI.id, text=BODY)
    second = await bot.send_text(chat_id=KARI.id, text=BODY)
    other = await bot.send_text(chat_id=HANSEN.id, text=BODY)

    assert [first.provider_id, second.provider_id, other.provider_id] == ["1", "2", "1"]
    assert "reply_markup" not in fake.calls_to("sendMessage")[0].params


async def test_reply_to_quotes_the_message(fake: FakeTelegram, bot: TelegramBot) -> None:
    asked = fake.message_update(HANSEN, "Kan noen ringe meg?")
    asked_id = asked["message"]["message_id"]

    await bot.send_text(chat_id=HANSEN.id, text=BODY, reply_to=asked_id)

    [call] = fake.calls_to("sendMessage")
    assert call.params["reply_parameters"] == {
        "message_id": asked_id,
        "allow_sending_without_reply": True,
    }
    assert call.result["reply_to_message"]["text"] == "Kan noen ringe meg?"


async def test_reply_to_a_deleted_message_still_sends(fake: FakeTelegram, bot: TelegramBot) -> None:
    sent = await bot.send_text(chat_id=HANSEN.id, text=BODY, reply_to=999)

    [call] = fake.calls_to("sendMessage")
    assert call.ok
    assert "reply_to_message" not in call.result
    assert sent.provider_id == str(call.result["message_id"])


async def test_answer_button(fake: FakeTelegram, bot: TelegramBot, received: list[Update]) -> None:
    sent = await bot.send_text(chat_id=KARI.id, text=BODY, buttons=[TAKE])
    await bot.process_update(fake.callback_update(KARI, int(sent.provider_id), TAKE.data))
    [update] = received
    assert update.callback_query is not None

    await bot.answer_button(callback_query_id=update.callback_query.id, text="Den er din")

    [call] = fake.calls_to("answerCallbackQuery")
    assert call.ok
    assert call.params == {"callback_query_id": update.callback_query.id, "text": "Den er din"}


async def test_answering_an_unknown_button_tap_is_not_retryable(bot: TelegramBot) -> None:
    error = await refused(bot.answer_button(callback_query_id="123", text=BODY))

    assert not error.retryable
    assert "query is too old" in str(error).lower()
    assert_discreet(error)


async def test_edit_buttons_replaces_and_removes_them(fake: FakeTelegram, bot: TelegramBot) -> None:
    sent = await bot.send_text(chat_id=KARI.id, text=BODY, buttons=[TAKE])
    message_id = int(sent.provider_id)

    await bot.edit_buttons(chat_id=KARI.id, message_id=message_id, buttons=[CLOSE])
    replaced = fake.messages[(KARI.id, message_id)]["reply_markup"]
    await bot.edit_buttons(chat_id=KARI.id, message_id=message_id, buttons=[])

    first, second = fake.calls_to("editMessageReplyMarkup")
    assert first.params == {
        "chat_id": KARI.id,
        "message_id": message_id,
        "reply_markup": {"inline_keyboard": [[{"text": "Lukk", "callback_data": "close:K7"}]]},
    }
    assert replaced == first.params["reply_markup"]
    assert second.ok
    assert second.params == {"chat_id": KARI.id, "message_id": message_id}
    assert "reply_markup" not in fake.messages[(KARI.id, message_id)]


async def test_an_edit_already_made_is_fine(fake: FakeTelegram, bot: TelegramBot) -> None:
    sent = await bot.send_text(chat_id=KARI.id, text=BODY, buttons=[TAKE])

    await bot.edit_buttons(chat_id=KARI.id, message_id=int(sent.provider_id), buttons=[TAKE])

    [call] = fake.calls_to("editMessageReplyMarkup")
    assert (call.status, call.description) == (400, NOT_MODIFIED)


async def test_editing_a_missing_message_is_not_retryable(bot: TelegramBot) -> None:
    error = await refused(bot.edit_buttons(chat_id=KARI.id, message_id=77, buttons=[TAKE]))

    assert not error.retryable
    assert "message to edit not found" in str(error).lower()


async def test_set_webhook_sends_the_secret_and_the_updates_we_want(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    url = "https://helpline.test/telegram/webhook"

    await bot.set_webhook(url, SECRET)

    [call] = fake.calls_to("setWebhook")
    assert call.params == {
        "url": url,
        "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query"],
        "drop_pending_updates": False,
    }
    info = await bot.application.bot.get_webhook_info()
    assert (info.url, info.allowed_updates) == (url, ALLOWED_UPDATES)


async def test_a_secret_telegram_refuses_is_not_retryable_nor_shown(bot: TelegramBot) -> None:
    secret = "not allowed: spaces"
    error = await refused(bot.set_webhook("https://helpline.test/telegram/webhook", secret))

    assert not error.retryable
    assert_discreet(error, secret)


# -- updates ----------------------------------------------------------------------------


async def test_a_text_message_reaches_on_update(
    fake: FakeTelegram, bot: TelegramBot, received: list[Update]
) -> None:
    payload = fake.message_update(HANSEN, BODY)

    await bot.process_update(payload)

    [update] = received
    assert update.update_id == payload["update_id"]
    assert update.message is not None
    assert update.message.text == BODY
    assert update.message.message_id == payload["message"]["message_id"]
    assert update.message.chat.id == HANSEN.id
    assert update.message.chat.type == "private"
    assert update.effective_user is not None
    assert (update.effective_user.id, update.effective_user.first_name) == (HANSEN.id, "Liv")
    assert not update.effective_user.is_bot


async def test_a_reply_to_a_notification_names_the_notification(
    fake: FakeTelegram, bot: TelegramBot, received: list[Update]
) -> None:
    sent = await bot.send_text(chat_id=KARI.id, text=BODY, buttons=[TAKE])

    await bot.process_update(
        fake.message_update(KARI, "Jeg ringer", reply_to=int(sent.provider_id))
    )

    [update] = received
    assert update.message is not None
    replied = update.message.reply_to_message
    assert replied is not None
    assert replied.message_id == int(sent.provider_id)
    assert replied.from_user is not None and replied.from_user.is_bot
    assert update.message.message_id == int(sent.provider_id) + 1  # one count per chat


async def test_a_start_link_reaches_on_update_as_a_command(
    fake: FakeTelegram, bot: TelegramBot, received: list[Update]
) -> None:
    await bot.process_update(fake.start_update(KARI, "link-Tok3n"))

    [update] = received
    assert update.message is not None
    assert update.message.text == "/start link-Tok3n"
    [entity] = update.message.entities
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, len("/start"))


async def test_a_button_tap_reaches_on_update(
    fake: FakeTelegram, bot: TelegramBot, received: list[Update]
) -> None:
    sent = await bot.send_text(chat_id=KARI.id, text=BODY, buttons=[TAKE, CLOSE])
    payload = fake.callback_update(KARI, int(sent.provider_id), CLOSE.data)

    await bot.process_update(payload)

    [update] = received
    query = update.callback_query
    assert query is not None
    assert query.id == payload["callback_query"]["id"]
    assert query.data == "close:K7"
    assert query.from_user.id == KARI.id
    assert query.message is not None
    assert query.message.message_id == int(sent.provider_id)
    assert query.message.chat.id == KARI.id


async def test_a_tap_on_a_button_the_message_lacks_cannot_be_built(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    sent = await bot.send_text(chat_id=KARI.id, text=BODY, buttons=[TAKE])

    with pytest.raises(ValueError, match="no button"):
        fake.callback_update(KARI, int(sent.provider_id), "close:K7")


async def test_process_update_raises_what_on_update_raised(fake: FakeTelegram) -> None:
    async def on_update(update: Update) -> None:
        raise LookupError("the database said no")

    async with TelegramBot(
        token=FAKE_BOT_TOKEN, api_base=fake.base_url, on_update=on_update
    ) as bot:
        with pytest.raises(LookupError, match="the database said no"):
            await bot.process_update(fake.message_update(HANSEN, BODY))


@pytest.mark.parametrize(
    "payload",
    [{}, {"message": {"text": "hei"}}, {"update_id": 1, "message": {"text": "hei"}}, ["x"]],
    ids=["empty", "no update_id", "message without fields", "not an object"],
)
async def test_a_body_that_is_no_update_is_a_value_error(
    bot: TelegramBot, received: list[Update], payload: Any
) -> None:
    with pytest.raises(ValueError, match="not a Telegram update"):
        await bot.process_update(payload)
    assert received == []


async def test_process_update_needs_an_on_update(fake: FakeTelegram) -> None:
    async with TelegramBot(token=FAKE_BOT_TOKEN, api_base=fake.base_url) as bot:
        with pytest.raises(RuntimeError, match="on_update"):
            await bot.process_update(fake.message_update(HANSEN, BODY))


async def test_updates_posted_to_a_webhook_route_reach_on_update(
    fake: FakeTelegram, bot: TelegramBot, received: list[Update]
) -> None:
    async def webhook(request: web.Request) -> web.Response:
        if not webhook_secret_ok(request.headers.get(SECRET_HEADER), SECRET):
            return web.Response(status=403)
        await bot.process_update(await request.json())
        return web.Response()

    app = web.Application()
    app.router.add_post("/telegram/webhook", webhook)
    async with TestServer(app) as server:
        await bot.set_webhook(str(server.make_url("/telegram/webhook")), SECRET)
        sent = await bot.send_text(chat_id=KARI.id, text=BODY, buttons=[TAKE])

        assert await fake.deliver(fake.message_update(HANSEN, BODY)) == 200
        assert (
            await fake.deliver(fake.callback_update(KARI, int(sent.provider_id), "take:K7")) == 200
        )
        edited = {"update_id": 1, "edited_message": fake.message_update(HANSEN, "x")["message"]}
        assert await fake.deliver(edited) is None  # not in allowed_updates: never sent
        assert fake.webhook is not None
        fake.webhook.secret_token = "forged"
        assert await fake.deliver(fake.message_update(HANSEN, BODY)) == 403

    assert [update.message.text for update in received if update.message] == [BODY]
    assert [update.callback_query.data for update in received if update.callback_query] == [
        "take:K7"
    ]


# -- errors -----------------------------------------------------------------------------


async def test_a_wrong_token_is_not_retryable_and_not_shown(fake: FakeTelegram) -> None:
    wrong = "7012345678:AAE-wrong_token_for_tests_0123456789"
    bot = TelegramBot(token=wrong, api_base=fake.base_url)

    error = await refused(bot.initialize())

    assert not error.retryable
    assert "token was rejected" in str(error)
    assert_discreet(error, wrong)
    [call] = fake.calls
    assert (call.method, call.status, call.description) == ("getMe", 401, "Unauthorized")
    await bot.shutdown()


async def test_an_unreachable_api_at_start_is_retryable() -> None:
    bot = TelegramBot(token=FAKE_BOT_TOKEN, api_base=f"http://127.0.0.1:{closed_port()}")

    error = await refused(bot.initialize())

    assert error.retryable
    assert_discreet(error)


async def test_a_user_who_blocked_the_bot_is_not_retryable(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    fake.block(HANSEN.id)

    error = await refused(bot.send_text(chat_id=HANSEN.id, text=BODY))

    assert not error.retryable
    assert "bot was blocked by the user" in str(error)
    assert f"chat {HANSEN.id}" in str(error)
    assert_discreet(error)


async def test_an_unknown_chat_is_not_retryable(fake: FakeTelegram, bot: TelegramBot) -> None:
    error = await refused(bot.send_text(chat_id=404404, text=BODY))

    assert not error.retryable
    assert "chat not found" in str(error).lower()
    assert fake.calls_to("sendMessage")[0].status == 400


@pytest.mark.parametrize(
    ("status", "description", "retryable"),
    [
        (400, "Bad Request: message text is empty", False),
        (401, "Unauthorized", False),
        (403, "Forbidden: bot was kicked from the group chat", False),
        (404, "Not Found", False),
        (409, "Conflict: can't use getUpdates method while webhook is active", False),
        (500, "Internal Server Error", True),
        (502, "Bad Gateway", True),
    ],
)
async def test_vendor_errors_map_to_channel_errors(
    fake: FakeTelegram, bot: TelegramBot, status: int, description: str, retryable: bool
) -> None:
    fake.fail_next(status, description=description)

    error = await refused(bot.send_text(chat_id=KARI.id, text=BODY, buttons=[TAKE]))

    assert error.retryable is retryable
    assert "sendMessage" in str(error)
    assert_discreet(error)


async def test_flood_control_is_retryable(
    fake: FakeTelegram, bot: TelegramBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PTB 22 warns on every RetryAfter unless this opt-in to its v23 behaviour is set.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake.rate_limit_next(retry_after=7)

    error = await refused(bot.send_text(chat_id=KARI.id, text=BODY))

    assert error.retryable
    assert "RetryAfter" in str(error)
    assert_discreet(error)
    assert fake.calls_to("sendMessage")[0].status == 429


async def test_flood_control_without_the_opt_in_warns_but_maps_alike(
    fake: FakeTelegram, bot: TelegramBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins the PTB 22 quirk: `RetryAfter()` reads its own deprecated int `retry_after`."""
    monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    fake.rate_limit_next(retry_after=7)

    with pytest.warns(PTBDeprecationWarning, match="retry_after"):
        error = await refused(bot.send_text(chat_id=KARI.id, text=BODY))

    assert error.retryable


async def test_a_timeout_is_retryable(fake: FakeTelegram) -> None:
    async with new_bot(fake, timeout=0.2) as bot:
        fake.delay_next(10)
        error = await refused(bot.send_text(chat_id=KARI.id, text=BODY))

    assert error.retryable
    assert "TimedOut" in str(error)
    assert_discreet(error)


async def test_an_api_gone_after_start_is_retryable() -> None:
    async with running_fake_telegram() as fake:
        bot = new_bot(fake)
        await bot.initialize()
    try:
        error = await refused(bot.send_text(chat_id=KARI.id, text=BODY))
    finally:
        await bot.shutdown()

    assert error.retryable
    assert "NetworkError" in str(error)
    assert_discreet(error)


# -- the fake speaks the wire format ----------------------------------------------------


async def test_the_fake_takes_json_bodies_and_method_names_in_any_case(
    fake: FakeTelegram,
) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}/bot{FAKE_BOT_TOKEN}/SENDMESSAGE"
        markup = {"inline_keyboard": [[{"text": "Ja", "callback_data": "yes"}]]}
        payload = {"chat_id": KARI.id, "text": "hei", "reply_markup": markup}
        async with session.post(url, json=payload) as response:
            assert response.status == 200
            body = await response.json()
        async with session.post(f"{fake.base_url}/botWRONG/getMe") as response:
            assert response.status == 401
            refusal = await response.json()

    assert body["ok"] is True
    assert body["result"]["reply_markup"] == markup
    assert body["result"]["chat"] == {
        "id": KARI.id,
        "first_name": "Kari",
        "last_name": "Nordmann",
        "username": "kari_vakt",
        "type": "private",
    }
    assert refusal == {"ok": False, "error_code": 401, "description": "Unauthorized"}


# -- buttons and the webhook secret -----------------------------------------------------


@pytest.mark.parametrize("data", ["a", "x" * 64, "ø" * 32])
def test_button_data_up_to_64_bytes(data: str) -> None:
    assert Button("Ok", data).data == data


@pytest.mark.parametrize(
    ("label", "data"), [("Ok", ""), ("Ok", "x" * 65), ("Ok", "ø" * 33), (" ", "x")]
)
def test_button_data_over_64_bytes_or_no_label(label: str, data: str) -> None:
    with pytest.raises(ValueError, match="button"):
        Button(label, data)


@pytest.mark.parametrize(
    ("header", "secret", "ok"),
    [
        (SECRET, SECRET, True),
        ("wrong", SECRET, False),
        (SECRET[:-1], SECRET, False),
        (None, SECRET, False),
        ("", SECRET, False),
        ("", "", False),
        ("blåbær", "blåbær", True),
    ],
    ids=["right", "wrong", "prefix", "missing", "empty header", "no secret set", "non-ascii"],
)
def test_webhook_secret_ok(header: str | None, secret: str, ok: bool) -> None:
    assert webhook_secret_ok(header, secret) is ok
