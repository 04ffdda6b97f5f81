"""The Telegram bot: python-telegram-bot v22 inside our aiohttp app, fed by our webhook.

PTB's `Application` runs without an `Updater` (`updater(None)`): Telegram posts updates to
`POST /telegram/webhook`, the route checks the secret header with `webhook_secret_ok` and
hands the JSON body to `TelegramBot.process_update`. Outgoing calls go to the Bot API at a
configurable base URL, so tests run the real library against a local fake server.
"""

from __future__ import annotations

import contextvars
import hmac
import re
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any, Self

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    ExtBot,
    JobQueue,
    TypeHandler,
)
from telegram.warnings import PTBDeprecationWarning

from routing.ports import BLOCKED, Button, ChannelError, Sent

TELEGRAM_API_BASE = "https://api.telegram.org"
#: Seconds one request to the Bot API may take to connect, to write, and to read.
DEFAULT_TIMEOUT = 15.0
#: The only updates the helpline asks Telegram for.
ALLOWED_UPDATES = ("message", "callback_query")
#: Telegram's rule for a deep link's start parameter.
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
# editMessageReplyMarkup with the markup a message already has is a 400 with this text;
# for us it means the edit was done before (a retried job, a button tapped twice).
_NOT_MODIFIED = "message is not modified"
# A 403 with this text: the user blocked the bot (help then goes to them by SMS).
_BLOCKED = "bot was blocked by the user"
_STATUSES: tuple[tuple[type[TelegramError], int], ...] = (
    (BadRequest, 400), (InvalidToken, 401), (Forbidden, 403), (RetryAfter, 429),
)  # fmt: skip

UpdateCallback = Callable[[Update], Awaitable[None]]
# What `ApplicationBuilder().build()` makes when nothing but URLs and timeouts is customised.
_App = Application[
    ExtBot[None],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]

# The exceptions `on_update` raised while PTB dispatched the update being processed, so
# `process_update` can raise them: PTB itself only logs a handler's exception.
_handler_errors: contextvars.ContextVar[list[Exception]] = contextvars.ContextVar(
    "telegram_handler_errors"
)


class NotAnUpdate(ValueError):
    """A webhook body that is not a Telegram update the helpline can act on."""


def parse_update(payload: Any, bot: ExtBot[None]) -> Update:
    """`payload` as an `Update` whose fields the helpline reads have their Bot API types.

    PTB's `de_json` trusts the Bot API and checks no types (a chat id may come back a
    string), so the fields read downstream are checked here; `NotAnUpdate` otherwise.
    """
    if not isinstance(payload, dict):
        raise NotAnUpdate("not a Telegram update: not a JSON object")
    _check_strings(payload)
    try:
        update = Update.de_json(payload, bot)
    except Exception as exc:  # any failure to parse untrusted JSON: not an update
        raise NotAnUpdate(f"not a Telegram update: {type(exc).__name__}") from None
    problem = _update_problem(update)
    if problem is not None:
        raise NotAnUpdate(f"not a Telegram update: {problem}")
    return update


def _check_strings(payload: Any) -> None:
    """Refuse text no database stores: NUL characters and lone surrogates."""
    stack = [payload]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and ("\x00" in value or not _encodable(value)):
            raise NotAnUpdate("not a Telegram update: a string with a NUL or a lone surrogate")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _update_problem(update: Update) -> str | None:
    """What is wrong with the fields the helpline reads, or None."""
    if not _id(update.update_id):
        return "update_id"
    message, query = update.message, update.callback_query
    if message is not None:
        if not isinstance(message.text, str | None):
            return "message.text"
        reply = message.reply_to_message
        if reply is not None and not _id(reply.message_id):
            return "message.reply_to_message"
        return _message_problem(message, "message")
    if query is not None:
        if not isinstance(query.id, str) or not query.id or not isinstance(query.data, str | None):
            return "callback_query"
        if query.from_user is None or not _id(query.from_user.id):
            return "callback_query.from"
        if query.message is not None:
            return _message_problem(query.message, "callback_query.message")
    return None


def _message_problem(message: MaybeInaccessibleMessage, where: str) -> str | None:
    # PTB leaves a missing required field None (typed as present): check before reading.
    chat: object = message.chat
    if not _id(message.message_id) or chat is None or not _id(message.chat.id):
        return where
    if not isinstance(message.chat.type, str):
        return f"{where}.chat.type"
    user = message.from_user if isinstance(message, Message) else None
    if user is not None and not _id(user.id):
        return f"{where}.from"
    return None


def _id(value: object) -> bool:
    """A Bot API integer id: at most 64 bits (negative for group chats), never a bool."""
    return type(value) is int and -(2**63) <= value < 2**63


def webhook_secret_ok(header: str | None, secret: str) -> bool:
    """Whether `X-Telegram-Bot-Api-Secret-Token` is our secret, compared in constant time."""
    if header is None or not secret:
        return False
    return hmac.compare_digest(header.encode("utf-8"), secret.encode("utf-8"))


def inline_keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """The buttons as one row of an inline keyboard; None for no buttons."""
    if not buttons:
        return None
    row = [InlineKeyboardButton(button.label, callback_data=button.data) for button in buttons]
    return InlineKeyboardMarkup([row])


class TelegramBot:
    """`routing.ports.TelegramSender` over the Bot API, and the entry point for updates.

    Lifecycle, e.g. in an aiohttp `cleanup_ctx`: `async with bot: yield`, or `initialize()`
    (checks the token with getMe), `start()`, then `stop()` and `shutdown()`. Sends are not
    retried here: a retried sendMessage can arrive twice, so the caller decides from
    `ChannelError.retryable`. Error messages name the method and chat, never the text.
    """

    def __init__(
        self,
        *,
        token: str,
        api_base: str = TELEGRAM_API_BASE,
        on_update: UpdateCallback | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._token = token
        self._on_update = on_update
        api_base = api_base.rstrip("/")
        # PTB appends the token to both base URLs: `{api_base}/bot{token}/{method}`.
        self.application: _App = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{api_base}/bot")
            .base_file_url(f"{api_base}/file/bot")
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .write_timeout(timeout)
            .updater(None)
            .build()
        )
        self.application.add_handler(TypeHandler(Update, self._dispatch, block=True))

    def set_handler(self, on_update: UpdateCallback) -> None:
        """Plug in what decides about updates (the service, once it is wired)."""
        self._on_update = on_update

    @property
    def bot_username(self) -> str:
        """The bot's @username without the @, from getMe at `initialize()`."""
        return self.application.bot.username

    def deep_link(self, token: str) -> str:
        """The link that opens the bot and sends it `/start <token>`."""
        if not _START_PARAMETER.fullmatch(token):
            raise ValueError("a start token is 1 to 64 characters of A-Z, a-z, 0-9, _ and -")
        return f"https://t.me/{self.bot_username}?start={token}"

    async def initialize(self) -> None:
        """Open the HTTP clients and fetch the bot's own user with getMe."""
        try:
            await self.application.initialize()
        except BaseException as exc:
            # PTB opens the HTTP clients before getMe and, when getMe fails, leaves them open:
            # the application does not count as initialized, so its shutdown skips the bot.
            await self.application.bot.shutdown()
            if isinstance(exc, TelegramError):
                raise self._channel_error(exc, "getMe") from None
            raise

    async def start(self) -> None:
        """Start the application's update queue (the webhook route does not need it)."""
        if not self.application.running:
            await self.application.start()

    async def stop(self) -> None:
        """Stop the application, letting updates already in its queue finish."""
        if self.application.running:
            await self.application.stop()

    async def shutdown(self) -> None:
        """Close the HTTP clients; a no-op when `initialize()` never ran."""
        await self.application.shutdown()

    async def __aenter__(self) -> Self:
        await self.initialize()
        try:
            await self.start()
        except BaseException:
            await self.shutdown()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self.stop()
        finally:
            await self.shutdown()

    async def send_text(
        self,
        *,
        chat_id: int,
        text: str,
        buttons: Sequence[Button] = (),
        reply_to: int | None = None,
        disable_notification: bool = False,
    ) -> Sent:
        """Send `text`; the `Sent` carries Telegram's message id within the chat."""
        reply = (
            None
            if reply_to is None
            else ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
        )
        try:
            message = await self.application.bot.send_message(
                chat_id=chat_id,
                text=text,
                reply_markup=inline_keyboard(buttons),
                reply_parameters=reply,
                disable_notification=True if disable_notification else None,  # None: not sent
            )
        except TelegramError as exc:
            raise self._channel_error(exc, "sendMessage", chat_id=chat_id, text=text) from None
        return Sent(channel="telegram", provider_id=str(message.message_id))

    async def answer_button(self, *, callback_query_id: str, text: str) -> None:
        """Answer a button tap with a short notice at the top of the chat."""
        try:
            await self.application.bot.answer_callback_query(callback_query_id, text=text)
        except TelegramError as exc:
            raise self._channel_error(exc, "answerCallbackQuery", text=text) from None

    async def edit_buttons(
        self, *, chat_id: int, message_id: int, buttons: Sequence[Button]
    ) -> None:
        """Replace the buttons under message `message_id`; an edit already made is fine."""
        try:
            await self.application.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=inline_keyboard(buttons)
            )
        except BadRequest as exc:
            if _NOT_MODIFIED not in exc.message.lower():
                raise self._channel_error(exc, "editMessageReplyMarkup", chat_id=chat_id) from None
        except TelegramError as exc:
            raise self._channel_error(exc, "editMessageReplyMarkup", chat_id=chat_id) from None

    async def set_webhook(self, url: str, secret: str) -> None:
        """Ask Telegram to post message and button updates to `url` with `secret`."""
        try:
            await self.application.bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=False,
            )
        except TelegramError as exc:
            raise self._channel_error(exc, "setWebhook", text=secret) from None

    async def process_update(self, payload: Any) -> None:
        """Parse a webhook body and run `on_update` on it, raising what `on_update` raised.

        Raises `NotAnUpdate` when the body is not an update, so the route can answer 400.
        """
        if self._on_update is None:
            raise RuntimeError("TelegramBot has no on_update callback to process updates with")
        update = parse_update(payload, self.application.bot)
        errors: list[Exception] = []
        reset = _handler_errors.set(errors)
        try:
            await self.application.process_update(update)
        finally:
            _handler_errors.reset(reset)
        if errors:
            raise errors[0]

    async def _dispatch(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The TypeHandler callback: `on_update`, its exception kept for `process_update`."""
        if self._on_update is None:
            return
        try:
            await self._on_update(update)
        except Exception as exc:
            errors = _handler_errors.get(None)
            if errors is None:  # an update from PTB's own queue: let PTB log it
                raise
            errors.append(exc)

    def _channel_error(
        self, exc: TelegramError, method: str, *, chat_id: int | None = None, text: str = ""
    ) -> ChannelError:
        """`exc` as our error; its message names neither the token nor `text`."""
        where = f"Telegram {method}" + ("" if chat_id is None else f" to chat {chat_id}")
        if isinstance(exc, InvalidToken):
            # PTB's own message quotes the token.
            return ChannelError(f"{where}: the bot token was rejected", retryable=False)
        detail = str(exc).replace(self._token, "<token>")
        if text and text in detail:
            detail = "(Telegram's description quotes the text, so it is left out)"
        # BadRequest subclasses NetworkError in PTB, but a bad request stays bad.
        retryable = isinstance(exc, RetryAfter | TimedOut) or (
            isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)
        )
        blocked = isinstance(exc, Forbidden) and _BLOCKED in exc.message.lower()
        return ChannelError(
            f"{where}: {type(exc).__name__}: {detail}",
            retryable=retryable,
            code=_status(exc),
            retry_after=_retry_after(exc) if isinstance(exc, RetryAfter) else None,
            reason=BLOCKED if blocked else None,
        )


def _status(exc: TelegramError) -> int | None:
    """The Bot API's HTTP status behind `exc`, for the errors that are answers (the
    request was refused, so nothing was sent); None for time-outs and lost connections."""
    for kind, status in _STATUSES:
        if isinstance(exc, kind):
            return status
    return None


def _retry_after(exc: RetryAfter) -> float:
    """Seconds Telegram asked us to wait. PTB 22 warns on reading `retry_after` unless
    PTB_TIMEDELTA is set (and then gives a timedelta): read it either way, quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
