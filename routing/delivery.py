"""Delivery state of an outgoing message, from the vendors' reports. Pure.

The outbox states, lowest first: `held`/`queued`/`pending` (waiting), `sending` (claimed
by a sender), `sent` (the vendor has it), then one of `delivered`, `undelivered`, `failed`
(final). A status callback only ever moves a message forward: Twilio's callbacks can
arrive out of order and twice, and a late `sent` after `delivered` changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

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


def is_carrier_stop(error_code: int | None) -> bool:
    """Did the carrier refuse because the recipient stopped messages from this number?"""
    return error_code == CARRIER_STOP
