"""Delivery of an outgoing message: when it is tried again, when the outbox gives up,
and how the vendors' reports move its state. Pure.

A help row is `pending` until a deliverer claims it (`sending`, one attempt more) and then
`sent`, or `pending` again after a failure worth retrying, or `failed`. A deliverer that
crashes mid-send leaves its row `sending`: after `SENDING_TIMEOUT` (far longer than any
send may take, 15 s at Twilio) the every-minute sweep takes it for lost and tries again.
Delivery is therefore at least once: a crash after the vendor accepted a message, before
it was marked sent, sends it twice.

The states, lowest first: `held`/`queued`/`pending` (waiting), `sending` (claimed by a
sender), `sent` (the vendor has it), then one of `delivered`, `undelivered`, `failed`
(final). A status callback only ever moves a message forward: Twilio's callbacks can
arrive out of order and twice, and a late `sent` after `delivered` changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal

#: Attempts before the outbox gives up on a message.
MAX_ATTEMPTS = 10
#: How long a row may stay `sending` before it is taken for a crashed deliverer's.
SENDING_TIMEOUT = timedelta(minutes=5)

Next = Literal["pending", "failed"]


def after_failure(retryable: bool, attempts: int) -> Next:
    """A send failed on attempt `attempts`: try again later, or give up."""
    return "pending" if retryable and attempts < MAX_ATTEMPTS else "failed"


def left_sending(claimed_at: datetime | None, now: datetime) -> bool:
    """Was a row claimed at `claimed_at`, still `sending` at `now`, left by a crash?
    A row without a claim time was claimed before they were recorded: long ago."""
    return claimed_at is None or now - claimed_at >= SENDING_TIMEOUT


def after_crash(attempts: int) -> Next:
    """A row left `sending` after `attempts` attempts: try it again, unless it had all."""
    return after_failure(True, attempts)


#: Twilio's error for a recipient who texted STOP to the sending number (a carrier stop).
CARRIER_STOP = 21610

#: Twilio's outbound MessageStatus values as our states.
TWILIO_STATES: Mapping[str, str] = MappingProxyType(
    {
        "accepted": "sent",
        "scheduled": "sent",
        "queued": "sent",
        "sending": "sent",
        "sent": "sent",
        "delivered": "delivered",
        "read": "delivered",
        "undelivered": "undelivered",
        "failed": "failed",
        "canceled": "failed",
    }
)

_RANK: Mapping[str, int] = MappingProxyType(
    {
        "held": 0,
        "queued": 0,
        "pending": 0,
        "sending": 1,
        "sent": 2,
        "delivered": 3,
        "undelivered": 3,
        "failed": 3,
    }  # fmt: skip
)
FINAL = frozenset({"delivered", "undelivered", "failed", "opted_out", "sandbox"})


def after_callback(current: str, reported: str) -> str | None:
    """The state a message in `current` moves to when the vendor reports `reported` (a
    Twilio MessageStatus); None when it stays as it is (final already, not forward, or a
    status we do not know)."""
    new = TWILIO_STATES.get(reported)
    if new is None or current in FINAL or current not in _RANK:
        return None
    return new if _RANK[new] > _RANK[current] else None


@dataclass(frozen=True, slots=True)
class ForwardMove:
    """What one reported status does, as a conditional UPDATE applies it: moves a message
    in any of `sources` to `new` (exactly the moves `after_callback` allows)."""

    new: str
    sources: frozenset[str]


def forward_move(reported: str) -> ForwardMove | None:
    """The move a Twilio MessageStatus makes; None for a status we do not know."""
    new = TWILIO_STATES.get(reported)
    if new is None:
        return None
    return ForwardMove(new, frozenset(s for s in _RANK if after_callback(s, reported) == new))


def is_carrier_stop(error_code: int | None) -> bool:
    """Did the carrier refuse because the recipient stopped messages from this number?"""
    return error_code == CARRIER_STOP
