"""Deadlines and shift changes of message conversations, the service side.

A deadline job or the every-minute sweep loads a conversation; `routing.conversations`
decides whether anything is due (`on_deadline`, `on_shift_change`), `routing.lifecycle`
says what that sends, and the outcome is stored through the one claim: of two runs that
read the same state (a job and the sweep, two workers) only one acts, the other does
nothing, as the winner already did it.

`resync` puts the pending deadline of every open conversation back on the timer
(`helpline.timers`) from the database, the source of truth: what Redis lost while it was
away or flushed fires once it answers again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from helpline import metrics, timers
from helpline.bootstrap import LoadedOrg, Services
from helpline.db.models import ContactRow
from helpline.effects import SCHEDULE_MARGIN, deadline_key
from helpline.messages import MessageWork, plan_of, state_of
from routing import lifecycle
from routing.conversations import (
    Escalate,
    Exhausted,
    MessagePlan,
    Nothing,
    Reassign,
    on_deadline,
    on_shift_change,
)

RESYNC_BATCH = 1000  # members per ZADD


async def deadline(work: MessageWork, contact: ContactRow) -> bool:
    """A deadline job (or the sweep) for one conversation: escalate or alert, once.
    True when this run acted."""
    conversation = work.view(contact)
    decision = on_deadline(conversation.plan, conversation.state, work.now)
    if not isinstance(decision, Escalate | Exhausted):
        return False
    body = await work.first_body(contact) if isinstance(decision, Escalate) else ""
    outcome = lifecycle.deadline_passed(
        conversation,
        decision,
        body,
        await work.chats(conversation.plan),
        work.services.settings.coordinators,
        work.now,
    )
    if not await work.carry_out(outcome, contact):
        return False
    kind = "next_step" if isinstance(decision, Escalate) else "exhausted"
    metrics.escalated(work.session, contact.channel, kind)
    return True


def has_work(loaded: LoadedOrg, contact: ContactRow, now: datetime) -> bool:
    """Whether the sweep has anything to do for this conversation, as read: a deadline
    that passed, or a shift change that moves it (`deadline`, `shift_change` decide again
    on the locked row)."""
    plan, state = plan_of(contact), state_of(contact)
    if not isinstance(on_deadline(plan, state, now), Nothing):
        return True
    if contact.kommune_id is None:
        return False
    chain = loaded.rota.on_duty(contact.kommune_id, now)
    return not isinstance(on_shift_change(plan, state, chain, now), Nothing)


async def shift_change(work: MessageWork, contact: ContactRow) -> bool:
    """Move a conversation nobody has taken to whoever is on duty now. True when this
    run moved it."""
    if contact.kommune_id is None:
        return False
    conversation = work.view(contact)
    new_chain = work.loaded.rota.on_duty(contact.kommune_id, work.now)
    decision = on_shift_change(conversation.plan, conversation.state, new_chain, work.now)
    if not isinstance(decision, Reassign):
        return False
    chats = await work.chats(conversation.plan, decision.plan)
    outcome = lifecycle.reassigned(
        conversation, decision, await work.first_body(contact), chats, work.now
    )
    if not await work.carry_out(outcome, contact):
        return False
    metrics.escalated(work.session, contact.channel, "reassigned")
    return True


def pending_deadline(
    contact_id: int,
    plan: MessagePlan,
    notified_steps: int,
    last_notified_at: datetime,
) -> tuple[str, float]:
    """The timer member and due instant (epoch seconds) of an open conversation's latest
    deadline: the very ones its `ScheduleDeadline` put on the timer."""
    due = last_notified_at + plan.deadline
    return deadline_key(contact_id, max(0, notified_steps - 1), due), (
        due.timestamp() + SCHEDULE_MARGIN
    )


async def resync(services: Services) -> int:
    """Add the pending deadline of every open conversation nobody took to the timer (those
    there already keep theirs); returns how many conversations were read."""
    async with services.sessions() as session:
        rows = (
            await session.execute(
                select(
                    ContactRow.id,
                    ContactRow.message_plan,
                    ContactRow.notified_steps,
                    ContactRow.last_notified_at,
                    ContactRow.started_at,
                ).where(
                    ContactRow.message_plan.is_not(None),
                    ContactRow.closed_at.is_(None),
                    ContactRow.answered_at.is_(None),
                    ContactRow.exhausted_at.is_(None),
                    ContactRow.content_purged_at.is_(None),
                )
            )
        ).all()
    pending = [
        pending_deadline(c, MessagePlan.from_json(plan), steps, last_notified_at or started_at)
        for c, plan, steps, last_notified_at, started_at in rows
        if plan is not None  # selected so: for the type checker
    ]
    for start in range(0, len(pending), RESYNC_BATCH):
        await timers.add_many(services.redis, dict(pending[start : start + RESYNC_BATCH]))
    return len(rows)
