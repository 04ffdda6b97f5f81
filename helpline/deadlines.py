"""Deadlines and shift changes of message conversations, the service side.

A deadline job or the every-minute sweep loads a conversation; `routing.conversations`
decides whether anything is due (`on_deadline`, `on_shift_change`), `routing.lifecycle`
says what that sends, and the outcome is stored through the one claim: of two runs that
read the same state (a job and the sweep, two workers) only one acts, the other does
nothing, as the winner already did it.
"""

from __future__ import annotations

from helpline import metrics
from helpline.db.models import ContactRow
from helpline.messages import MessageWork
from routing import lifecycle
from routing.conversations import Escalate, Exhausted, Reassign, on_deadline, on_shift_change


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
