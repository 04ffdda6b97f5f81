"""The small ports (Protocols) the channel adapters in `bots/` implement.

The service talks to the outside only through these; tests use in-memory fakes and the
real adapters run against local fake servers speaking the vendors' wire formats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class ChannelError(Exception):
    """A channel could not deliver; adapters turn vendor errors into this."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


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
    ) -> Sent:
        """Send `text` to `chat_id`, with inline `buttons`, as a reply to message `reply_to`."""
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
