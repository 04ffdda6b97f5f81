"""A fake Telegram Bot API for tests, speaking the Bot API's wire format.

It serves `/bot<token>/<method>` for the methods the helpline calls, takes parameters as
JSON, form or multipart bodies and the query string like the real server, and answers with
`{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description"}`, so
python-telegram-bot runs against it unchanged. It keeps the messages of each private chat
(ids count up per chat, shared by the user and the bot, as in Telegram), records every
call, and can refuse unknown chats, play a user who blocked the bot, or inject failures.

For end-to-end tests it builds inbound updates as Telegram sends them (a text message, a
`/start <token>` from a deep link, a tap on an inline button) and can post them to the
registered webhook with the secret header.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import hdrs, web

FAKE_BOT_ID = 7012345678
FAKE_BOT_TOKEN = f"{FAKE_BOT_ID}:AAE-fake_token_for_tests_0123456789ab"
FAKE_BOT_USERNAME = "fosterhjem_test_bot"
FAKE_BOT_NAME = "Fosterhjemstelefonen"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?")
_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# How the real server reads each parameter when it arrives as a string (form fields always
# do; JSON bodies may nest objects or send them JSON-encoded, as python-telegram-bot does).
_INT_PARAMS = frozenset(
    {"chat_id", "message_id", "reply_to_message_id", "cache_time", "max_connections"}
)
_BOOL_PARAMS = frozenset(
    {
        "allow_sending_without_reply",
        "disable_notification",
        "drop_pending_updates",
        "protect_content",
        "show_alert",
    }
)
_JSON_PARAMS = frozenset(
    {"allowed_updates", "entities", "link_preview_options", "reply_markup", "reply_parameters"}
)

Json = dict[str, Any]


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(
        self, status: int, description: str, parameters: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = dict(parameters) if parameters else None

    def body(self) -> Json:
        """The JSON body Telegram sends with this error."""
        body: Json = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(problem: str) -> ApiError:
    """A 400 with Telegram's "Bad Request: ..." description."""
    return ApiError(400, f"Bad Request: {problem}")


@dataclass(frozen=True, slots=True)
class FakeUser:
    """A Telegram user in a private chat with the bot (the chat id is the user id)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "nb"

    def as_user(self) -> Json:
        """The Bot API `User` object."""
        user: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                user[key] = value
        return user

    def as_chat(self) -> Json:
        """The Bot API `Chat` object of the private chat with this user."""
        chat: Json = {"id": self.id, "first_name": self.first_name}
        if self.last_name is not None:
            chat["last_name"] = self.last_name
        if self.username is not None:
            chat["username"] = self.username
        chat["type"] = "private"
        return chat


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One call the fake received and how it answered."""

    method: str  # as in the URL, e.g. "sendMessage"
    params: dict[str, Any]  # decoded: ints, bools and JSON objects as the server reads them
    token: str  # the token in the URL
    status: int  # the HTTP status of the answer
    result: Any  # the `result` of a successful answer, None for an error
    description: str | None  # Telegram's description, of an error or of setWebhook's success
    at: float = 0.0  # when it arrived: epoch seconds, or the fake's `stamp` (seconds)

    @property
    def ok(self) -> bool:
        """Whether the Bot API did what was asked."""
        return self.status == HTTPStatus.OK


@dataclass(slots=True)
class Webhook:
    """What setWebhook registered."""

    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    max_connections: int = 40


@dataclass(slots=True)
class _Injected:
    status: int
    description: str
    parameters: dict[str, object] = field(default_factory=dict)


class FakeTelegram:
    """The fake Bot API's state: the bot, its chats and messages, recorded calls, failures."""

    def __init__(
        self,
        *,
        token: str = FAKE_BOT_TOKEN,
        username: str = FAKE_BOT_USERNAME,
        users: Iterable[FakeUser] = (),
        only_known_chats: bool = False,
        require_https: bool = False,
        clock: Callable[[], datetime] | None = None,
        stamp: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        bot_id = token.partition(":")[0]
        self.bot_id = int(bot_id) if bot_id.isdigit() else FAKE_BOT_ID
        self.username = username
        self.users = {user.id: user for user in users}
        self.only_known_chats = only_known_chats
        self.require_https = require_https
        self.blocked: set[int] = set()
        self.base_url = ""  # set by `running_fake_telegram` once the port is known
        self.calls: list[RecordedCall] = []
        self.messages: dict[tuple[int, int], Json] = {}
        self.webhook: Webhook | None = None
        self.deliveries: list[tuple[Json, int]] = []  # (update, HTTP status of the webhook)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._stamp = stamp  # what `RecordedCall.at` reads: a test's simulated time, say
        self._last_message_id: dict[int, int] = {}
        self._callback_queries: set[str] = set()
        self._update_ids = itertools.count(870_000_001)
        self._failures: deque[_Injected] = deque()
        self._delays: deque[float] = deque()
        self._released = asyncio.Event()
        self.holding = 0  # answers held back right now (see delay_next)
        self._session: aiohttp.ClientSession | None = None
        self._methods: dict[str, Callable[[Json], Any]] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "sendMessage": self._send_message,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "editMessageText": self._edit_message_text,
                "answerCallbackQuery": self._answer_callback_query,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
            }.items()
        }
        self.app = web.Application()
        self.app.router.add_route("*", "/bot{token}/{method}", self._serve)
        self.app.router.add_route("*", "/{tail:.*}", self._not_found)

    # -- what tests arrange and read ------------------------------------------------------

    def add_user(self, user: FakeUser) -> FakeUser:
        """Make `user` a chat the bot can write to (needed with `only_known_chats`)."""
        self.users[user.id] = user
        return user

    def block(self, chat_id: int) -> None:
        """Play a user who blocked the bot: sends to them get 403."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """The user unblocked the bot."""
        self.blocked.discard(chat_id)

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Every call of `method` (any letter case, as Telegram matches it), oldest first."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | None = None) -> list[Json]:
        """The messages sendMessage created, oldest first, in one chat or in all."""
        return [
            call.result
            for call in self.calls_to("sendMessage")
            if call.ok and (chat_id is None or call.result["chat"]["id"] == chat_id)
        ]

    def fail_next(
        self,
        status: int,
        *,
        description: str | None = None,
        count: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next `count` calls with `status` and Telegram's error body."""
        if status < 400 or count < 1:
            raise ValueError(f"fail_next needs an error status and a positive count: {status}")
        parameters: dict[str, object] = {}
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        text = description or _DESCRIPTIONS.get(status, HTTPStatus(status).phrase)
        self._failures.extend(_Injected(status, text, parameters) for _ in range(count))

    def rate_limit_next(self, retry_after: int = 5, count: int = 1) -> None:
        """Answer the next `count` calls with Telegram's 429 flood-control error."""
        self.fail_next(
            429,
            description=f"Too Many Requests: retry after {retry_after}",
            count=count,
            retry_after=retry_after,
        )

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """Hold the next `count` answers back for `seconds` (released when the fake stops)."""
        self._delays.extend([seconds] * count)

    def release(self) -> None:
        """Let every held-back answer go now."""
        self._released.set()

    # -- inbound updates, as Telegram sends them --------------------------------------------

    def message_update(self, user: FakeUser, text: str, *, reply_to: int | None = None) -> Json:
        """An update with a text message from `user`, optionally replying to a message."""
        self.users.setdefault(user.id, user)
        message: Json = {
            "message_id": self._next_message_id(user.id),
            "from": user.as_user(),
            "chat": user.as_chat(),
            "date": self._timestamp(),
            "text": text,
        }
        command = _COMMAND.match(text)
        if command:
            message["entities"] = [{"offset": 0, "length": command.end(), "type": "bot_command"}]
        if reply_to is not None:
            message["reply_to_message"] = self._message(user.id, reply_to)
        self.messages[(user.id, message["message_id"])] = message
        return {"update_id": next(self._update_ids), "message": message}

    def start_update(self, user: FakeUser, payload: str | None = None) -> Json:
        """The update a deep link `https://t.me/<bot>?start=<payload>` makes when tapped."""
        return self.message_update(user, "/start" if payload is None else f"/start {payload}")

    def callback_update(
        self, user: FakeUser, message_id: int, data: str, *, chat_id: int | None = None
    ) -> Json:
        """An update for `user` tapping the button with `data` under one of the bot's messages.

        Raises `ValueError` when that message has no such button: Telegram could not send it.
        """
        chat = user.id if chat_id is None else chat_id
        message = self._message(chat, message_id)
        buttons = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        if not any(button.get("callback_data") == data for row in buttons for button in row):
            raise ValueError(f"message {message_id} in chat {chat} has no button {data!r}")
        self.users.setdefault(user.id, user)
        query_id = str(secrets.randbits(63))
        self._callback_queries.add(query_id)
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": query_id,
                "from": user.as_user(),
                "message": message,
                "chat_instance": str(-(abs(hash((self.bot_id, chat))) % 10**19)),
                "data": data,
            },
        }

    async def deliver(self, update: Json) -> int | None:
        """Post `update` to the webhook as Telegram does; the webhook's HTTP status.

        None when the webhook's `allowed_updates` leave this kind of update out.
        """
        if self.webhook is None or self._session is None:
            raise RuntimeError("no webhook is set, or the fake is not running")
        kind = next(key for key in update if key != "update_id")
        allowed = self.webhook.allowed_updates
        if allowed and kind not in allowed:
            return None
        headers: dict[str, str] = {hdrs.CONTENT_TYPE: "application/json"}
        if self.webhook.secret_token is not None:
            headers[SECRET_HEADER] = self.webhook.secret_token
        async with self._session.post(
            self.webhook.url, data=json.dumps(update), headers=headers
        ) as response:
            status = response.status
        self.deliveries.append((update, status))
        return status

    # -- the HTTP side --------------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    async def _serve(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        arrived = self._stamp()
        params: Json = {}
        try:
            params = await _read_params(request)
            await self._held_back()
            result, description = self._answer(token, method, params)
        except ApiError as error:
            self.calls.append(
                RecordedCall(method, params, token, error.status, None, error.description, arrived)
            )
            return web.json_response(error.body(), status=error.status)
        self.calls.append(RecordedCall(method, params, token, 200, result, description, arrived))
        body: Json = {"ok": True, "result": result}
        if description is not None:
            body["description"] = description
        return web.json_response(body)

    async def _held_back(self) -> None:
        """Hold this answer back if `delay_next` asked for it."""
        if not self._delays:
            return
        self.holding += 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), self._delays.popleft())
        finally:
            self.holding -= 1

    def _answer(self, token: str, method: str, params: Json) -> tuple[Any, str | None]:
        if self._failures:
            failure = self._failures.popleft()
            raise ApiError(failure.status, failure.description, failure.parameters)
        if token != self.token:
            raise ApiError(401, "Unauthorized")
        handler = self._methods.get(method.lower())
        if handler is None:
            raise ApiError(404, "Not Found")
        answer = handler(params)
        if isinstance(answer, tuple):
            return answer[0], answer[1]
        return answer, None

    # -- the methods ----------------------------------------------------------------------

    def _bot_user(self) -> Json:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": FAKE_BOT_NAME,
            "username": self.username,
        }

    def _get_me(self, params: Json) -> Json:
        return {
            **self._bot_user(),
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _send_message(self, params: Json) -> Json:
        chat_id = self._writable_chat(params)
        text = _text(params)
        markup = _inline_markup(params.get("reply_markup"))
        message: Json = {
            "message_id": 0,
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": self._timestamp(),
        }
        replied = self._replied_message(chat_id, params)
        if replied is not None:
            message["reply_to_message"] = replied
        message["text"] = text
        if markup is not None:
            message["reply_markup"] = markup
        message["message_id"] = self._next_message_id(chat_id)
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _edit_message_reply_markup(self, params: Json) -> Json:
        message = self._editable_message(params)
        markup = _inline_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        return self._edit(message, text=message["text"], markup=markup)

    def _edit_message_text(self, params: Json) -> Json:
        message = self._editable_message(params)
        text = _text(params)
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        markup = _inline_markup(params.get("reply_markup"))
        if text == message["text"] and markup == message.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        return self._edit(message, text=text, markup=markup)

    def _answer_callback_query(self, params: Json) -> bool:
        query_id = params.get("callback_query_id")
        if not isinstance(query_id, str) or query_id not in self._callback_queries:
            raise ApiError(400, QUERY_TOO_OLD)
        return True

    def _set_webhook(self, params: Json) -> tuple[bool, str]:
        url = params.get("url") or ""
        if not isinstance(url, str):
            raise bad_request("bad webhook: URL must be a string")
        if not url:
            return self._delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        if self.require_https and parts.scheme != "https":
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (isinstance(secret, str) and _SECRET_TOKEN.fullmatch(secret)):
            raise bad_request("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if allowed is not None and not (
            isinstance(allowed, list) and all(isinstance(kind, str) for kind in allowed)
        ):
            raise bad_request("can't parse allowed updates")
        webhook = Webhook(url=url, secret_token=secret, allowed_updates=allowed)
        if params.get("max_connections") is not None:
            webhook.max_connections = int(params["max_connections"])
        already = self.webhook == webhook
        self.webhook = webhook
        return True, "Webhook is already set" if already else "Webhook was set"

    def _delete_webhook(self, params: Json) -> tuple[bool, str]:
        was_set = self.webhook is not None
        self.webhook = None
        return True, "Webhook was deleted" if was_set else "Webhook is already deleted"

    def _get_webhook_info(self, params: Json) -> Json:
        if self.webhook is None:
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        info: Json = {
            "url": self.webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": 0,
            "max_connections": self.webhook.max_connections,
            "ip_address": "127.0.0.1",
        }
        if self.webhook.allowed_updates is not None:
            info["allowed_updates"] = self.webhook.allowed_updates
        return info

    # -- chats and messages ---------------------------------------------------------------

    def _writable_chat(self, params: Json) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if not isinstance(chat_id, int) or (self.only_known_chats and chat_id not in self.users):
            raise bad_request("chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _chat(self, chat_id: int) -> Json:
        user = self.users.get(chat_id)
        if user is None:
            return {"id": chat_id, "first_name": f"Bruker {chat_id}", "type": "private"}
        return user.as_chat()

    def _message(self, chat_id: int, message_id: int) -> Json:
        try:
            message = self.messages[(chat_id, message_id)]
        except KeyError:
            raise ValueError(f"no message {message_id} in chat {chat_id}") from None
        return {key: value for key, value in message.items() if key != "reply_to_message"}

    def _replied_message(self, chat_id: int, params: Json) -> Json | None:
        reply = params.get("reply_parameters")
        legacy = params.get("reply_to_message_id")
        if reply is None and legacy is None:
            return None
        if reply is None:
            reply = {
                "message_id": legacy,
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
            raise bad_request("can't parse reply parameters JSON object")
        if (chat_id, reply["message_id"]) in self.messages:
            return self._message(chat_id, reply["message_id"])
        if reply.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")

    def _editable_message(self, params: Json) -> Json:
        if "inline_message_id" in params:
            raise bad_request("inline messages are not served by this fake")
        chat_id = self._writable_chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise bad_request("message identifier is not specified")
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        return message

    def _edit(self, message: Json, *, text: str, markup: Json | None) -> Json:
        message["text"] = text
        message["edit_date"] = self._timestamp()
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        return dict(message)

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _timestamp(self) -> int:
        return int(self._clock().timestamp())


# -- reading parameters like the Bot API ------------------------------------------------


async def _read_params(request: web.Request) -> Json:
    """The call's parameters from the query string and a JSON, form or multipart body."""
    params: Json = {key: value for key, value in request.query.items()}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON object")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        params.update((key, value) for key, value in form.items() if isinstance(value, str))
    return {key: _decode(key, value) for key, value in params.items()}


def _decode(key: str, value: Any) -> Any:
    """A parameter as the server reads it: strings of ints, booleans and JSON are parsed."""
    if not isinstance(value, str):
        return value
    if key in _INT_PARAMS:
        return int(value) if re.fullmatch(r"-?[0-9]+", value) else value
    if key in _BOOL_PARAMS:
        return value.lower() in ("true", "1")
    if key in _JSON_PARAMS:
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise bad_request(f"can't parse {key.replace('_', ' ')} JSON object") from None
    return value


def _text(params: Json) -> str:
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("message text is empty")
    if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
        raise bad_request("message is too long")
    return text


def _inline_markup(markup: Any) -> Json | None:
    """The inline keyboard a message will carry, None for none; 400 for a bad one."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return None  # a reply keyboard or force_reply: not part of the message object
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    for row in rows:
        for button in row:
            _check_button(button)
    if not any(rows):
        return None
    return {"inline_keyboard": rows}


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not (
        isinstance(data, str) and 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA
    ):
        raise bad_request("BUTTON_DATA_INVALID")
    if data is None and "url" not in button:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )


@contextlib.asynccontextmanager
async def running_fake_telegram(
    *,
    token: str = FAKE_BOT_TOKEN,
    username: str = FAKE_BOT_USERNAME,
    users: Iterable[FakeUser] = (),
    only_known_chats: bool = False,
    require_https: bool = False,
    clock: Callable[[], datetime] | None = None,
    stamp: Callable[[], float] = time.time,
) -> AsyncIterator[FakeTelegram]:
    """Serve a `FakeTelegram` on 127.0.0.1 at a free port; `.base_url` is its address."""
    fake = FakeTelegram(
        token=token,
        username=username,
        users=users,
        only_known_chats=only_known_chats,
        require_https=require_https,
        clock=clock,
        stamp=stamp,
    )
    runner = web.AppRunner(fake.app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        fake.base_url = f"http://{host}:{port}"
        async with aiohttp.ClientSession() as session:
            fake._session = session
            try:
                yield fake
            finally:
                fake._session = None
    finally:
        fake.release()
        await runner.cleanup()
