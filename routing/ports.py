"""The small ports (Protocols) the channel adapters in `bots/` implement.

The service talks to the outside only through these; tests use in-memory fakes and the
real adapters run against local fake servers speaking the vendors' wire formats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

#: Why a recipient cannot be reached on a channel any more (`ChannelError.reason`):
#: "stopped" (the carrier: they texted STOP to the number, Twilio error 21610) or
#: "blocked" (they blocked the Telegram bot).
STOPPED = "stopped"
BLOCKED = "blocked"


class ChannelError(Exception):
    """A channel could not deliver; adapters turn vendor errors into this.

    `code` is the vendor's error code (Twilio's error code, Telegram's HTTP status) when
    the vendor answered: the message was then not sent. None when no answer came (a
    time-out, a lost connection): it may have been. `retry_after`: seconds the vendor
    asked us to wait (Telegram's 429). `reason`: STOPPED or BLOCKED, or None."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        code: int | None = None,
        retry_after: float | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code
        self.retry_after = retry_after
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Sent:
    """What a channel reports back about one outgoing message or call."""

    channel: str  # "sms", "voice", "telegram"
    provider_id: str  # Twilio SID, Telegram message id, or the outbox id in sandbox mode


@dataclass(frozen=True, slots=True)
class Party:
    """Where someone reads us: an SMS number, or a Telegram chat."""

    channel: str  # "sms" or "telegram"
    to: str  # E.164, or a Telegram chat id


class SmsSender(Protocol):
    """Sends an SMS from one of the helpline's numbers."""

    async def send_sms(self, *, to: str, from_: str, body: str) -> Sent:
        """Send `body` to `to` (E.164) from `from_` (a helpline number)."""
        ...

    async def find_sent(self, *, to: str, from_: str, body: str, since: datetime) -> str | None:
        """The id of a message with this body the vendor accepted from `from_` to `to` at
        or after `since`, or None: asked before sending again what may have been sent."""
        ...


#: Telegram's limit on an inline button's callback_data, in UTF-8 bytes.
MAX_BUTTON_DATA_BYTES = 64


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button under a Telegram message; tapping it sends `data` back to the bot."""

    label: str
    data: str  # Telegram's callback_data: 1 to 64 bytes of UTF-8

    def __post_init__(self) -> None:
        if not self.label.strip():
            raise ValueError("a button needs a label")
        size = len(self.data.encode("utf-8"))
        if not 1 <= size <= MAX_BUTTON_DATA_BYTES:
            raise ValueError(
                f"button data must be 1 to {MAX_BUTTON_DATA_BYTES} bytes of UTF-8, not {size}"
            )


class TelegramSender(Protocol):
    """Sends and edits the bot's messages in Telegram chats and answers button taps."""

    async def send_text(
        self,
        *,
        chat_id: int,
        text: str,
        buttons: Sequence[Button] = (),
        reply_to: int | None = None,
        disable_notification: bool = False,
    ) -> Sent:
        """Send `text` to `chat_id`, with inline `buttons`, as a reply to message `reply_to`;
        `disable_notification`: without a sound (group messages in quiet hours)."""
        ...

    async def answer_button(self, *, callback_query_id: str, text: str) -> None:
        """Answer a button tap; Telegram shows `text` briefly and stops the button spinner."""
        ...

    async def edit_buttons(
        self, *, chat_id: int, message_id: int, buttons: Sequence[Button]
    ) -> None:
        """Replace the buttons under one of the bot's messages; no buttons removes them."""
        ...


class RecordingStore(Protocol):
    """Where voicemail recordings live (Twilio): the purge deletes them for good."""

    async def delete_recording(self, sid: str) -> None:
        """Delete recording `sid`; one that is already gone counts as deleted. Raises
        `ChannelError` when it could not be deleted (retryable: try again later)."""
        ...
