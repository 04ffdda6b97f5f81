"""When the outbox tries a message again, and when it gives up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routing.delivery import MAX_ATTEMPTS, SENDING_TIMEOUT, after_crash, after_failure, left_sending

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("retryable", "attempts", "expected"),
    [
        (True, 1, "pending"),
        (True, MAX_ATTEMPTS - 1, "pending"),
        (True, MAX_ATTEMPTS, "failed"),
        (False, 1, "failed"),  # refused (a wrong number, wrong credentials): never again
    ],
)
def test_after_failure(retryable: bool, attempts: int, expected: str) -> None:
    assert after_failure(retryable, attempts) == expected


@pytest.mark.parametrize(
    ("claimed", "expected"),
    [
        (NOW - timedelta(seconds=20), False),  # a slow send: still going
        (NOW - SENDING_TIMEOUT + timedelta(seconds=1), False),
        (NOW - SENDING_TIMEOUT, True),
        (NOW - timedelta(days=2), True),
        (None, True),  # claimed before claim times were stored
    ],
)
def test_left_sending(claimed: datetime | None, expected: bool) -> None:
    assert left_sending(claimed, NOW) is expected


def test_a_row_left_sending_is_tried_again_unless_it_had_every_attempt() -> None:
    assert SENDING_TIMEOUT == timedelta(minutes=5)
    after = [after_crash(n) for n in (1, MAX_ATTEMPTS - 1, MAX_ATTEMPTS)]
    assert after == ["pending", "pending", "failed"]
