"""The small ports (Protocols) the channel adapters in `bots/` implement.

The service talks to the outside only through these; tests use in-memory fakes and the
real adapters run against local fake servers speaking the vendors' wire formats.
"""

from __future__ import annotations

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


class SmsSender(Protocol):
    """Sends an SMS from one of the helpline's numbers."""

    async def send_sms(self, *, to: str, from_: str, body: str) -> Sent:
        """Send `body` to `to` (E.164) from `from_` (a helpline number)."""
        ...
