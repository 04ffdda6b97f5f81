"""What the core's decisions ask the service to do, as plain values.

A decision about a conversation comes back as one `Outcome`: the state to store (through
the one compare-and-set claim), the messages to log on the conversation, the messages to
send (queued in the outbox in the same transaction), and the jobs to schedule or cancel
and the Telegram buttons to answer once the transaction has committed (`AfterCommit`).
The service carries them out in that order and decides nothing on the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from routing.conversations import ConversationState, MessagePlan
from routing.ports import Button, Party


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to queue: `body` to `party`, about conversation `contact_id` (None: a
    help text about none, sent from the default helpline number)."""

    party: Party
    body: str
    kind: str  # what it is, kept in the outbox: notify, receipt, reply, taken, help, ...
    contact_id: int | None
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True, slots=True)
class Logged:
    """A message to store on the conversation (the body is content: never logged)."""

    direction: str  # "in" or "out"
    channel: str
    role: str  # foster_parent, staff or system
    name: str | None
    body: str


@dataclass(frozen=True, slots=True)
class ScheduleDeadline:
    """Run the deadline job of step `step` of conversation `contact_id` at `due`."""

    contact_id: int
    step: int
    due: datetime


@dataclass(frozen=True, slots=True)
class CancelDeadline:
    """Abort the deadline job of step `step` (due at `due`): the conversation was taken."""

    contact_id: int
    step: int
    due: datetime


@dataclass(frozen=True, slots=True)
class ScheduleFollowupBatch:
    """Send the batch notice of follow-up window `window` of `contact_id` at `due`."""

    contact_id: int
    window: int
    due: datetime


@dataclass(frozen=True, slots=True)
class AnswerButton:
    """Answer Telegram button tap `query_id` (stops its spinner), showing `text` briefly."""

    query_id: str
    text: str


@dataclass(frozen=True, slots=True)
class EditButtons:
    """Replace the buttons under the bot's message `message_id` in `chat_id`."""

    chat_id: int
    message_id: int
    buttons: tuple[Button, ...]


@dataclass(frozen=True, slots=True)
class StartPacedLanes:
    """Group or info rows were queued: start the paced sending lanes (`helpline.sender`)."""


@dataclass(frozen=True, slots=True)
class EventChanged:
    """Answers or notices of event `event_id` were stored: start the paced lanes and look
    again at when the event's next reminder or offer falls due."""

    event_id: int


AfterCommit = (
    ScheduleDeadline | CancelDeadline | ScheduleFollowupBatch | AnswerButton | EditButtons
    | StartPacedLanes | EventChanged
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one decision does, carried out in order by the service.

    `state` (and `plan`, after a reassignment) is stored for conversation `contact_id`
    only if the stored state is still the one decided on; then `logged` is stored,
    `messages` queued and `after` carried out once the transaction committed. Without
    a `state`, nothing stored changes and the messages are sent as they are."""

    contact_id: int | None = None
    state: ConversationState | None = None
    plan: MessagePlan | None = None
    logged: tuple[Logged, ...] = ()
    messages: tuple[Outgoing, ...] = ()
    after: tuple[AfterCommit, ...] = ()


def help_text(party: Party, body: str, contact_id: int | None = None) -> Outcome:
    """Only a help text to `party`: nothing changes."""
    return Outcome(contact_id, messages=(Outgoing(party, body, "help", contact_id),))
