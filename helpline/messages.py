"""Message conversations (henvendelser by SMS or Telegram): the unit of work.

The service side decides nothing. A handler loads the conversation (`view`) and the
Telegram chats of its staff (`chats`), asks `routing` (`staff_commands`, `lifecycle`,
`conversations`) and carries the `Outcome` out (`carry_out`): the new state is stored
through the one compare-and-set claim, messages are logged and queued in the outbox in
the same transaction, and jobs are collected in `Effects`, run after the commit.

Handlers: `helpline.foster_messages` (a foster parent writes), `helpline.staff_messages`
(staff write or tap a button), `helpline.deadlines` (deadline jobs and shift changes),
`helpline.flood` (follow-up batches and unknown numbers over the cap).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement

from helpline import metrics
from helpline.bootstrap import LoadedOrg, Services
from helpline.db.models import ContactRow, MessageRow, TelegramLinkRow
from helpline.effects import Effects
from routing.conversations import Conversation, ConversationState, MessagePlan
from routing.effects import Logged, Outcome, Outgoing
from routing.recipients import TelegramChats, foster_party

MESSAGE_CHANNELS = ("sms", "telegram")

#: Each field of `ConversationState` and the column that stores it. The columns of a
#: taken conversation keep their older names (see `ContactRow`).
STATE_COLUMNS = {
    "notified_steps": "notified_steps",
    "taken_at": "answered_at",
    "closed_at": "closed_at",
    "last_notified_at": "last_notified_at",
    "exhausted_at": "exhausted_at",
    "taken_phone": "acknowledged_phone",
    "taken_by": "answered_by",
    "first_reply_at": "first_answer_at",
    "category": "category",
    "outcome": "outcome",
    "urgent": "urgent",
}


@dataclass
class MessageWork:
    """One unit of work: a session, the organisation, the time, and the effects."""

    services: Services
    session: AsyncSession
    loaded: LoadedOrg
    now: datetime
    effects: Effects = field(default_factory=Effects)

    # -- loading -------------------------------------------------------------------------

    def view(self, contact: ContactRow) -> Conversation:
        """The conversation as the core sees it: plain values, no ORM row."""
        return Conversation(
            contact.id,
            plan_of(contact),
            state_of(contact),
            contact.foster_home_name,
            contact.kommune_name,
            foster_party(contact.channel, contact.telegram_chat_id, contact.caller),
            contact.flood,
        )

    async def chats(self, *plans: MessagePlan) -> TelegramChats:
        """The Telegram chats of the people in `plans` who linked one."""
        people = {e.person for plan in plans for e in plan.steps if e.person is not None}
        if not people:
            return {}
        rows = await self.session.execute(
            select(TelegramLinkRow.target_id, TelegramLinkRow.chat_id).where(
                TelegramLinkRow.kind == "person", TelegramLinkRow.target_id.in_(people)
            )
        )
        found: dict[str, str] = {}
        for person, chat_id in rows:
            found.setdefault(person, str(chat_id))
        return found

    async def first_body(self, contact: ContactRow) -> str:
        """The conversation's first message (quoted in escalations and reassignments)."""
        first = await self.session.scalar(
            select(MessageRow.body)
            .where(MessageRow.contact_id == contact.id, MessageRow.direction == "in")
            .order_by(MessageRow.id)
        )
        return first or ""

    # -- carrying out ----------------------------------------------------------------------

    async def carry_out(self, outcome: Outcome, contact: ContactRow | None = None) -> bool:
        """Store, log, queue and collect what `outcome` says, for conversation `contact`.

        False when the state it was decided from changed meanwhile (another run won the
        claim): then nothing is stored, logged or sent."""
        row = _row(contact, outcome.contact_id)
        if outcome.state is not None:
            if row is None:
                raise ValueError("an outcome that changes a state names its conversation")
            if not await self.claim(row, outcome.state, outcome.plan):
                return False
        for logged in outcome.logged:
            if row is None:
                raise ValueError("an outcome that logs a message names its conversation")
            self.record(row, logged)
        for message in outcome.messages:
            self.send(message, _row(contact, message.contact_id))
        self.effects.after.extend(outcome.after)
        return True

    async def claim(
        self, contact: ContactRow, state: ConversationState, plan: MessagePlan | None = None
    ) -> bool:
        """Store `state` (and `plan`) only if nobody changed the conversation since it was
        read: a compare-and-set on every state column, the one path of every change.
        SQLite ignores FOR UPDATE, so two runs (a deadline job and the sweep, two staff
        members) may have read the same state: only the one whose update matches acts."""
        before = state_of(contact)
        values: dict[str, object] = {
            STATE_COLUMNS[name]: getattr(state, name)
            for name in STATE_COLUMNS
            if getattr(state, name) != getattr(before, name)
        }
        if state.closed_at != before.closed_at:
            values["ended_at"] = state.closed_at
        if plan is not None and plan != plan_of(contact):
            values["message_plan"] = plan.to_json()
        if not values:
            return True
        compared = [*STATE_COLUMNS.values(), "message_plan"]
        result = await self.session.execute(
            update(ContactRow)
            .where(
                ContactRow.id == contact.id,
                *(_same(name, getattr(contact, name)) for name in compared),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult
            return False
        if "outcome" in values:
            metrics.contact_reached(self.session, contact.channel, state.outcome)
        for name, value in values.items():
            set_committed_value(contact, name, value)
        return True

    def send(
        self, message: Outgoing, contact: ContactRow | None, from_number: str | None = None
    ) -> None:
        """Queue `message` in the outbox, from the conversation's helpline number (or
        `from_number`: an answer from the network or a group's number)."""
        sender = from_number or (contact.helpline_number if contact else self.default_sender())
        party = message.party
        row = self.services.outbox.queue(
            self.session,
            channel=party.channel,
            to=party.to,
            sender=sender if party.channel == "sms" else "bot",
            body=message.body,
            contact_id=contact.id if contact else None,
            kind=message.kind,
            buttons=message.buttons,
        )
        if row.status == "pending":  # a sandbox row is stored as delivered: nothing to claim
            self.effects.rows.append(row)

    def default_sender(self) -> str:
        """The first helpline number: the sender of texts about no conversation."""
        numbers = [n for k in self.loaded.org.kommuner for n in k.numbers]
        return numbers[0] if numbers else ""

    def record(self, contact: ContactRow, logged: Logged) -> MessageRow:
        """Store one message of a conversation (the body is content: never logged)."""
        message = MessageRow(
            contact_id=contact.id,
            direction=logged.direction,
            channel=logged.channel,
            sender_role=logged.role,
            sender_name=logged.name,
            body=logged.body,
            created_at=self.now,
        )
        self.session.add(message)
        return message


def plan_of(contact: ContactRow) -> MessagePlan:
    assert contact.message_plan is not None
    return MessagePlan.from_json(contact.message_plan)


def state_of(contact: ContactRow) -> ConversationState:
    return ConversationState(
        notified_steps=contact.notified_steps,
        taken_at=contact.answered_at,
        closed_at=contact.closed_at,
        last_notified_at=contact.last_notified_at or contact.started_at,
        exhausted_at=contact.exhausted_at,
        taken_phone=contact.acknowledged_phone,
        taken_by=contact.answered_by,
        first_reply_at=contact.first_answer_at,
        category=contact.category,
        outcome=contact.outcome,
        urgent=contact.urgent,
    )


def _row(contact: ContactRow | None, contact_id: int | None) -> ContactRow | None:
    """The row an outcome or message is about (None: about no conversation)."""
    if contact_id is None:
        return None
    if contact is None or contact.id != contact_id:
        raise ValueError(f"conversation {contact_id} was not loaded")
    return contact


def _same(column: str, value: object) -> ColumnElement[bool]:
    attribute: InstrumentedAttribute[object] = getattr(ContactRow, column)
    return attribute.is_(None) if value is None else attribute == value
