"""Innboks: which message conversations a console user sees, which they may act on, in
what order, and how long the foster parent has waited.

Pure: the service loads the conversations and the times of their messages and hands them
in with the time. Taking, answering and closing are `routing.staff_commands`' decisions,
the same as from SMS and Telegram; `refusal` only says, before the service asks it, why
the browser's form cannot go through, so the user reads it beside the form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from routing.access import Scope
from routing.conversations import Conversation, notified
from routing.replies import Close, Reply, Take
from routing.staff_commands import StaffSender, involved

#: Why a form from the browser is not carried out (`refusal`).
Refusal = str  # "closed", "not_involved" or "flood"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The console user: their person id, own phone and scope."""

    person: str
    phone: str
    scope: Scope


@dataclass(frozen=True, slots=True)
class MessageTime:
    """When one message of a conversation was stored, which way, and from whom."""

    direction: str  # "in" or "out"
    role: str  # foster_parent, staff or system
    at: datetime


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A message conversation as the inbox shows it."""

    conversation: Conversation
    kommune_id: str | None
    channel: str
    started_at: datetime
    messages: tuple[MessageTime, ...]

    @property
    def waiting_since(self) -> datetime | None:
        """Since when the foster parent has waited for an answer: their first message
        after staff last answered; None when every message of theirs has an answer."""
        since: datetime | None = None
        for message in self.messages:
            if message.direction == "out" and message.role == "staff":
                since = None
            elif message.direction == "in" and since is None:
                since = message.at
        if not self.messages and self.conversation.state.first_reply_at is None:
            return self.started_at  # content purged, or not stored yet
        return since


def was_notified(conversation: Conversation, viewer: Viewer) -> bool:
    """Was the viewer told of it (by person, or on their own phone)? Once the chain is
    exhausted everyone in it was alerted."""
    plan, state = conversation.plan, conversation.state
    steps = plan.steps if state.exhausted_at is not None else notified(plan, state)
    return any(e.person == viewer.person or e.phone == viewer.phone for e in steps)


def sees(item: InboxItem, viewer: Viewer) -> bool:
    """May the viewer see this conversation in the inbox? Everyone sees those they were
    notified of or took; a koordinator or admin also every one of their kommuner."""
    conversation = item.conversation
    if conversation.state.taken_phone == viewer.phone or was_notified(conversation, viewer):
        return True
    return viewer.scope.role != "vakt" and viewer.scope.allows(item.kommune_id)


def refusal(
    conversation: Conversation, staff: StaffSender, command: Reply | Take | Close
) -> Refusal | None:
    """Why `command` from the browser cannot be carried out, or None when it can:
    the conversation is closed, the user is not the one who took it (or, untaken, one
    of those notified), or it is the flood conversation of many senders (no answer)."""
    if conversation.state.closed_at is not None:
        return "closed"
    if not involved(conversation, staff):
        return "not_involved"
    if isinstance(command, Reply) and conversation.flood:
        return "flood"
    return None


def ordered(items: Iterable[InboxItem]) -> list[InboxItem]:
    """Urgent first, then those waiting longest, then the answered ones, newest last."""
    far = datetime.max.replace(tzinfo=UTC)

    def key(item: InboxItem) -> tuple[bool, bool, datetime, int]:
        since = item.waiting_since
        return (
            not item.conversation.state.urgent,
            since is None,
            since or far,
            item.conversation.id,
        )

    return sorted(items, key=key)


def version(items: Sequence[InboxItem]) -> str:
    """A short fingerprint of what the inbox shows: it changes when a conversation comes,
    goes, changes state or gets a message, and not with the clock alone."""
    parts = []
    for item in items:
        state = item.conversation.state
        parts.append(
            f"{item.conversation.id}|{state.notified_steps}|{state.taken_phone}|{state.closed_at}"
            f"|{state.first_reply_at}|{state.exhausted_at}|{state.urgent}|{len(item.messages)}"
        )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def waited_text(seconds: float) -> str:
    """A wait as staff read it: «under 1 min», «12 min», «1 t 5 min», «2 d 3 t»."""
    minutes = max(0, int(seconds // 60))
    if minutes < 1:
        return "under 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} t {minutes} min" if minutes else f"{hours} t"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} t" if hours else f"{days} d"
