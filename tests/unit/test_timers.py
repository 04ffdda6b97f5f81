"""The timer's pure parts: how long a worker sleeps, the members' names and kinds, and
the deadline a conversation read back from the database puts on the timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpline.deadlines import pending_deadline
from helpline.effects import SCHEDULE_MARGIN, deadline_contact, deadline_key
from helpline.timers import kind_of, next_wait
from rota.model import ChainEntry
from routing.conversations import MessagePlan, notify_first

OPENED = datetime(2026, 11, 23, 9, 0, 0, 250_000, tzinfo=UTC)
PLAN = MessagePlan(
    (
        ChainEntry("primary", "asker-bvt", "kari", "Kari", "+4791234567"),
        ChainEntry("fallback", None, None, "Vakttelefonen", "+4740000000"),
    ),
    timedelta(minutes=10),
)


@pytest.mark.parametrize(
    ("now", "next_score", "wait"),
    [
        (100.0, None, 0.1),  # nothing scheduled: poll
        (100.0, 200.0, 0.1),  # due later: poll
        (100.0, 100.04, pytest.approx(0.04)),  # due sooner than the poll: wake then
        (100.0, 99.0, 0.0),  # overdue (a lease just ran out): at once
    ],
)
def test_a_worker_sleeps_a_poll_or_until_the_next_member_is_due(
    now: float, next_score: float | None, wait: float
) -> None:
    assert next_wait(now, next_score, 0.1) == wait


def test_a_deadline_member_names_its_conversation_and_kind() -> None:
    key = deadline_key(42, 1, OPENED)
    assert key == "deadline:42:1:1795424401"  # whole seconds, rounded up
    assert (kind_of(key), deadline_contact(key)) == ("deadline", 42)
    with pytest.raises(ValueError):
        deadline_contact("followup:42:1:0")


def test_a_conversation_read_back_puts_the_deadline_its_opening_scheduled() -> None:
    first = notify_first(PLAN, OPENED)
    member, due = pending_deadline(42, PLAN, 1, OPENED)
    assert member == deadline_key(42, 0, first.due_at)
    assert due == first.due_at.timestamp() + SCHEDULE_MARGIN


def test_after_an_escalation_the_read_back_deadline_is_the_next_steps() -> None:
    escalated = OPENED + timedelta(minutes=10, seconds=1)
    member, due = pending_deadline(42, PLAN, 2, escalated)
    assert member == deadline_key(42, 1, escalated + PLAN.deadline)
    assert due == (escalated + PLAN.deadline).timestamp() + SCHEDULE_MARGIN
