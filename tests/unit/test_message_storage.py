"""Every field of a conversation's state has its column, and back (no database needed)."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from helpline.db.models import ContactRow
from helpline.messages import STATE_COLUMNS, state_of
from routing.conversations import ConversationState


def test_every_state_field_is_stored_in_a_column_of_contacts() -> None:
    assert set(STATE_COLUMNS) == {f.name for f in fields(ConversationState)}
    assert set(STATE_COLUMNS.values()) <= set(ContactRow.__table__.columns.keys())


def test_the_state_read_from_a_row_is_the_row() -> None:
    started = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    taken = datetime(2026, 3, 10, 20, 4, tzinfo=UTC)
    row = ContactRow(
        started_at=started,
        notified_steps=2,
        last_notified_at=None,
        answered_at=taken,
        acknowledged_phone="+4791234568",
        answered_by="Ola",
        first_answer_at=taken,
        closed_at=None,
        exhausted_at=None,
        category=None,
        outcome="answered",
        urgent=False,
    )
    state = state_of(row)
    stored = [f.name for f in fields(state) if f.name != "last_notified_at"]
    assert [getattr(row, STATE_COLUMNS[name]) for name in stored] == [
        getattr(state, name) for name in stored
    ]
    assert state.last_notified_at == started  # never notified: counted from the opening
