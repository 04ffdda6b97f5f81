"""What one inbound message costs the database: the statements each webhook runs, counted
with SQLAlchemy's engine events (the latency itself is `bench/messages.py`'s)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from helpline.bootstrap import Services
from tests.e2e.test_deadline_timer import sms
from tests.e2e.test_messages import HANSEN, JOHANSEN, Sms

__all__ = ["sms"]  # the fixture
pytestmark = pytest.mark.e2e

#: The most statements an SMS that opens a conversation runs, in sandbox mode: the event
#: key's lookup and insert, the open conversation's lookup, the contact, the message, the
#: staff's Telegram chats, the claim of the first notice, the two outbox rows (one INSERT
#: of both on PostgreSQL). Before: 12, with a claim of each sandbox row for delivery and
#: the follow-up mark written in an UPDATE of its own.
OPENING = 9
#: A follow-up told at once: the event key twice, the conversation, the message, the
#: pending follow-ups, the mark moved, the staff's Telegram chats, the notice. Before: 10,
#: with the moved mark read back and the sandbox row claimed.
FOLLOW_UP = 8


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    """The first line of each statement run on the engine within the block. The
    register's version is left out: `serve` reads it in the background, and here (no
    background refresh) a webhook reads it once a second, whenever a second has passed."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "org_meta" not in statement:
            seen.append(statement.split("\n", 1)[0])

    engine = services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def test_an_sms_opening_a_conversation_runs_at_most_nine_statements(
    services: Services, sms: Sms
) -> None:
    await sms.send(JOHANSEN, "Hei")  # the organisation loaded, the caches warm
    with statements(services) as seen:
        await sms.send(HANSEN, "Kan noen ringe oss?")
    assert len(seen) <= OPENING, "\n".join(seen)


async def test_a_follow_up_runs_at_most_eight_statements(services: Services, sms: Sms) -> None:
    await sms.send(HANSEN, "Kan noen ringe oss?")
    with statements(services) as seen:
        await sms.send(HANSEN, "Det haster litt.")
    assert len(seen) <= FOLLOW_UP, "\n".join(seen)
