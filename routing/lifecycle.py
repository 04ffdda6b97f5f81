"""A message conversation's life, decision by decision, as `Outcome`s the service carries
out: it opens (the primary is notified, the sender gets one receipt), follow-ups are told,
deadlines pass (the next step is notified, or everyone is alerted), the shift changes
(it moves to the new person on duty). What staff commands do is in
`routing.staff_commands`; when escalation happens is decided in `routing.conversations`,
and how follow-ups are batched in `routing.flood`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from routing import message_texts as say
from routing.conversations import (
    Conversation,
    Escalate,
    Exhausted,
    Reassign,
    advance,
    notify_first,
)
from routing.effects import Outcome, Outgoing, ScheduleDeadline
from routing.ports import Party
from routing.recipients import (
    TelegramChats,
    alert_audience,
    followup_targets,
    notification,
    party_for,
)


def opened(conversation: Conversation, body: str, chats: TelegramChats, now: datetime) -> Outcome:
    """A new conversation whose first message is `body`: notify the plan's first step
    and start its deadline; the sender gets the one receipt (naming nobody when the
    number is unknown: a stranger must not learn who is on duty)."""
    first = notify_first(conversation.plan, now)
    minutes = say.whole_minutes(conversation.plan.deadline)
    receipt = (
        say.receipt(first.entry, minutes)
        if conversation.foster_home is not None
        else say.neutral_receipt(minutes)
    )
    notify = notification(conversation.id, first.entry, chats, _first_text(conversation, body))
    return Outcome(
        conversation.id,
        advance(conversation.state, first, now),
        messages=(notify, Outgoing(conversation.foster, receipt, "receipt", conversation.id)),
        after=(ScheduleDeadline(conversation.id, 0, first.due_at),),
    )


def deadline_passed(
    conversation: Conversation,
    decision: Escalate | Exhausted,
    body: str,
    chats: TelegramChats,
    coordinators: Iterable[str],
    now: datetime,
) -> Outcome:
    """Nobody took it in time (`decision` from `conversations.on_deadline`): notify the
    next step, saying who did not answer; or, the chain exhausted, alert everyone in it
    and the coordinators (the alert never quotes the message)."""
    code, minutes = conversation.code, say.whole_minutes(conversation.plan.deadline)
    home, kommune = conversation.foster_home, conversation.kommune
    if isinstance(decision, Exhausted):
        alert = say.exhausted_alert(
            home, kommune, code, minutes, [e.name for e in decision.entries]
        )
        return Outcome(
            conversation.id,
            advance(conversation.state, decision, now),
            messages=tuple(
                Outgoing(party, alert, "alert", conversation.id)
                for party in alert_audience(decision.entries, chats, coordinators)
            ),
        )
    missed = decision.missed.name if decision.missed else "ingen"

    def text(telegram: bool) -> str:
        return say.escalation_notification(
            home, kommune, body, code, missed, minutes, telegram=telegram
        )

    return Outcome(
        conversation.id,
        advance(conversation.state, decision, now),
        messages=(notification(conversation.id, decision.entry, chats, text),),
        after=(ScheduleDeadline(conversation.id, decision.step_index, decision.due_at),),
    )


def reassigned(
    conversation: Conversation, decision: Reassign, body: str, chats: TelegramChats, now: datetime
) -> Outcome:
    """A shift change (`decision` from `conversations.on_shift_change`): tell the one
    notified last that it moved, and notify the new plan's first step afresh."""
    moved: tuple[Outgoing, ...] = ()
    if decision.previous is not None:
        notice = say.moved_notice(conversation.code, decision.notify.entry.name)
        moved = (Outgoing(party_for(decision.previous, chats), notice, "moved", conversation.id),)
    first = decision.notify
    return Outcome(
        conversation.id,
        advance(conversation.state, decision, now),
        plan=decision.plan,
        messages=(
            *moved,
            notification(conversation.id, first.entry, chats, _first_text(conversation, body)),
        ),
        after=(ScheduleDeadline(conversation.id, 0, first.due_at),),
    )


def followups_told(
    conversation: Conversation, bodies: Sequence[str], chats: TelegramChats
) -> Outcome:
    """One notice of follow-ups `bodies` (oldest first), to the one who took it or else
    everyone notified."""
    text = say.follow_up_batch(
        conversation.foster_home, conversation.kommune, bodies, conversation.code
    )
    return Outcome(
        conversation.id,
        messages=tuple(
            Outgoing(party_for(entry, chats), text, "follow_up", conversation.id)
            for entry in followup_targets(conversation)
        ),
    )


def flood_opened(conversation: Conversation, coordinators: Iterable[str], cap: int) -> Outcome:
    """Unknown numbers went over the hourly cap on a line: the coordinators are told once,
    when its flood conversation opens."""
    alert = say.flood_alert(conversation.kommune, conversation.code, cap)
    return Outcome(
        conversation.id,
        messages=tuple(
            Outgoing(Party("sms", phone), alert, "flood_alert", conversation.id)
            for phone in coordinators
        ),
    )


def flood_receipt(conversation: Conversation, sender: str, told: bool) -> Outcome:
    """Another unknown number joined the flood conversation: its neutral receipt, once."""
    if told:
        return Outcome(conversation.id)
    receipt = say.neutral_receipt(say.whole_minutes(conversation.plan.deadline))
    message = Outgoing(Party("sms", sender), receipt, "receipt", conversation.id)
    return Outcome(conversation.id, messages=(message,))


def _first_text(conversation: Conversation, body: str) -> Callable[[bool], str]:
    """The words of a first notification (opening, reassignment) quoting `body`."""

    def text(telegram: bool) -> str:
        if conversation.flood:
            return say.flood_notification(
                conversation.kommune, body, conversation.code, telegram=telegram
            )
        return say.staff_notification(
            conversation.foster_home,
            conversation.kommune,
            body,
            conversation.code,
            telegram=telegram,
        )

    return text
