"""When an outgoing message is tried again, and when the outbox gives up on it.

A row is `pending` until a deliverer claims it (`sending`, one attempt more) and then
`sent`, or `pending` again after a failure worth retrying, or `failed`. A deliverer that
crashes mid-send leaves its row `sending`: after `SENDING_TIMEOUT` (far longer than any
send may take, 15 s at Twilio) the every-minute sweep takes it for lost and tries again.
Delivery is therefore at least once: a crash after the vendor accepted a message, before
it was marked sent, sends it twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
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
