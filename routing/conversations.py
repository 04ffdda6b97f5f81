"""Message conversations: the frozen escalation plan and the decisions that move it.

A conversation freezes the on-duty chain when it opens (STYLE.md habit 4); durable deadline
jobs then move a cursor through it. Every decision here is made from stored state and the
time passed in, so a job that runs late, twice, or after a restart decides the same thing.

How the service applies a decision: `advance` computes the new state, and the service
stores it as one conditional update that matches the state the decision was made from (the
claim), so that of two concurrent runs only one wins and only the winner sends:

* `Notify` / `Escalate` at step k: `notified_steps = k + 1`, `last_notified_at = now`;
  schedule the deadline job at `due_at`, keyed on (conversation, k).
* `Exhausted`: `exhausted_at = now`, urgent; alert everyone in `entries` and the
  coordinators.
* `Reassign`: store the new plan, `notified_steps = 1`, `last_notified_at = now`,
  `exhausted_at = None`; schedule the deadline job of the new first step.
* `Taken` (a staff member takes it), `Replied` (their answer was relayed), `Closed`: see
  `routing.staff_commands`, which decides them.

`routing.lifecycle` turns these decisions into the messages and jobs of an `Outcome`.

All instants returned are in UTC.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta

from rota.model import ChainEntry
from routing.ports import Party
from routing.replies import short_code


@dataclass(frozen=True, slots=True)
class MessagePlan:
    """Whom to notify, in order, and how long each has to take it.

    Never empty: an on-duty chain always ends with the fallback number."""

    steps: tuple[ChainEntry, ...]
    deadline: timedelta

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("a message plan needs at least one step")
        if self.deadline <= timedelta(0):
            raise ValueError("a message plan needs a positive deadline")

    def to_json(self) -> str:
        return json.dumps(
            {
                "deadline_seconds": self.deadline.total_seconds(),
                "steps": [asdict(step) for step in self.steps],
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> MessagePlan:
        raw = json.loads(text)
        return cls(
            tuple(ChainEntry(**step) for step in raw["steps"]),
            timedelta(seconds=raw["deadline_seconds"]),
        )


@dataclass(frozen=True, slots=True)
class ConversationState:
    """What the database knows about a conversation: every field a decision changes.

    `notified_steps` counts the plan's steps notified so far (steps 0..n-1);
    `last_notified_at` is when the latest was (the opening time while it is 0). A staff
    member took it at `taken_at` (`taken_phone`, `taken_by`: their phone and name);
    `first_reply_at` is when the first answer was relayed to the foster parent."""

    notified_steps: int
    taken_at: datetime | None
    closed_at: datetime | None
    last_notified_at: datetime
    exhausted_at: datetime | None = None
    taken_phone: str | None = None
    taken_by: str | None = None
    first_reply_at: datetime | None = None
    category: str | None = None
    outcome: str = "in_progress"  # in_progress, answered (a reply was relayed) or closed
    urgent: bool = False  # nobody took it in time: stays so after a reassignment

    def __post_init__(self) -> None:
        if self.notified_steps < 0:
            raise ValueError("notified_steps cannot be negative")
        for instant in (
            self.taken_at,
            self.closed_at,
            self.last_notified_at,
            self.exhausted_at,
            self.first_reply_at,
        ):
            if instant is not None:
                _utc(instant)

    @property
    def settled(self) -> bool:
        """Taken or closed: escalation is over for good."""
        return self.taken_at is not None or self.closed_at is not None


@dataclass(frozen=True, slots=True)
class Conversation:
    """A message conversation as the core decides on it, built from the stored row.

    `foster_home` and `kommune` are names (None: an unknown number, no kommune); `foster`
    is where the foster parent reads answers; `flood` marks the one conversation that
    collects unknown numbers over the hourly cap on a helpline number."""

    id: int
    plan: MessagePlan
    state: ConversationState
    foster_home: str | None
    kommune: str | None
    foster: Party
    flood: bool = False

    @property
    def code(self) -> str:
        """The code staff write it with: `K7`."""
        return short_code(self.id)


@dataclass(frozen=True, slots=True)
class Notify:
    """Notify `entry` (step `step_index` of the plan); it has until `due_at`."""

    step_index: int
    entry: ChainEntry
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Escalate:
    """The deadline passed: notify `entry` at `step_index`, saying `missed` did not answer.

    `missed` is None only when nobody had been notified (a lost first notification)."""

    step_index: int
    entry: ChainEntry
    due_at: datetime
    missed: ChainEntry | None


@dataclass(frozen=True, slots=True)
class Exhausted:
    """Everyone in the chain was notified and nobody took it: alert them all."""

    entries: tuple[ChainEntry, ...]


@dataclass(frozen=True, slots=True)
class Reassign:
    """A shift change: the conversation moves to `plan`, starting with `notify`.

    `previous` is the person notified last under the old plan (None if nobody was)."""

    plan: MessagePlan
    notify: Notify
    previous: ChainEntry | None


@dataclass(frozen=True, slots=True)
class Taken:
    """A staff member (`phone`, `name`) took the conversation: escalation stops."""

    phone: str
    name: str


@dataclass(frozen=True, slots=True)
class Replied:
    """A staff member's answer was relayed to the foster parent."""


@dataclass(frozen=True, slots=True)
class Closed:
    """A staff member closed the conversation with `category`."""

    category: str


@dataclass(frozen=True, slots=True)
class Nothing:
    """Nothing to do."""


DeadlineDecision = Escalate | Exhausted | Nothing
ShiftDecision = Reassign | Nothing


def freeze_message_plan(chain: tuple[ChainEntry, ...], deadline: timedelta) -> MessagePlan:
    """The escalation plan of a new conversation: the on-duty chain as it is right now."""
    return MessagePlan(tuple(chain), deadline)


def notify_first(plan: MessagePlan, opened_at: datetime) -> Notify:
    """Whom a new conversation notifies, and when their deadline falls."""
    return Notify(0, plan.steps[0], _utc(opened_at) + plan.deadline)


def due_at(plan: MessagePlan, state: ConversationState) -> datetime:
    """When the deadline of the latest notification falls."""
    return _utc(state.last_notified_at) + plan.deadline


def notified(plan: MessagePlan, state: ConversationState) -> tuple[ChainEntry, ...]:
    """The steps notified so far, in order."""
    return plan.steps[: state.notified_steps]


def current(plan: MessagePlan, state: ConversationState) -> ChainEntry | None:
    """The person notified last: the one the conversation waits for."""
    sent = notified(plan, state)
    return sent[-1] if sent else None


def on_deadline(plan: MessagePlan, state: ConversationState, now: datetime) -> DeadlineDecision:
    """What a deadline job does when it runs at `now`, however late or often it runs.

    Escalates only an open conversation nobody has taken whose latest deadline has passed,
    to the first step not yet notified; alerts once when every step was notified."""
    if state.settled or state.exhausted_at is not None:
        return Nothing()
    instant = _utc(now)
    if instant < due_at(plan, state):
        return Nothing()
    index = state.notified_steps
    if index >= len(plan.steps):
        return Exhausted(plan.steps)
    return Escalate(index, plan.steps[index], instant + plan.deadline, current(plan, state))


def on_shift_change(
    plan: MessagePlan, state: ConversationState, new_chain: tuple[ChainEntry, ...], now: datetime
) -> ShiftDecision:
    """Move an open conversation nobody has taken to the new person on duty.

    Reassigns when the person notified last is not the new chain's primary (by person and
    phone: a duty phone handed to the next person counts as a new person). Nothing when the
    chain did not change, so a boundary that changes nobody never restarts an escalation."""
    instant = _utc(now)
    if state.settled or not new_chain:
        return Nothing()
    if _parties(new_chain) == _parties(plan.steps):
        return Nothing()
    previous = current(plan, state)
    if previous is not None and _party(previous) == _party(new_chain[0]):
        return Nothing()
    new_plan = freeze_message_plan(new_chain, plan.deadline)
    return Reassign(new_plan, notify_first(new_plan, instant), previous)


def taken_notices(
    plan: MessagePlan, state: ConversationState, taker_phone: str
) -> list[ChainEntry]:
    """Who to tell that a conversation is taken: everyone notified but the taker, once each."""
    seen = {taker_phone}
    told: list[ChainEntry] = []
    for entry in notified(plan, state):
        if entry.phone not in seen:
            seen.add(entry.phone)
            told.append(entry)
    return told


Decision = Notify | Escalate | Exhausted | Reassign | Taken | Replied | Closed | Nothing


def advance(state: ConversationState, decision: Decision, now: datetime) -> ConversationState:
    """The state after the service has carried out `decision` at `now`.

    Taking a taken conversation, or closing a closed one, changes nothing."""
    instant = _utc(now)
    match decision:
        case Notify() | Escalate():
            return replace(state, notified_steps=decision.step_index + 1, last_notified_at=instant)
        case Exhausted():
            return replace(state, exhausted_at=instant, urgent=True)
        case Reassign():
            return replace(state, notified_steps=1, last_notified_at=instant, exhausted_at=None)
        case Taken(phone=phone, name=name) if state.taken_at is None:
            return replace(state, taken_at=instant, taken_phone=phone, taken_by=name)
        case Replied():
            return replace(
                state, first_reply_at=state.first_reply_at or instant, outcome="answered"
            )
        case Closed(category=category) if state.closed_at is None:
            outcome = "closed" if state.first_reply_at is None else state.outcome
            return replace(state, closed_at=instant, category=category, outcome=outcome)
    return state


def _party(entry: ChainEntry) -> tuple[str | None, str]:
    return (entry.person, entry.phone)


def _parties(chain: tuple[ChainEntry, ...]) -> list[tuple[str | None, str]]:
    return [_party(entry) for entry in chain]


def _utc(instant: datetime) -> datetime:
    # Arithmetic and comparison on two datetimes sharing a ZoneInfo are wall-clock, which
    # is wrong across a DST change (02:55 CEST + 10 min is 02:05 CET); UTC is not.
    if instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant.isoformat()}: pass an aware one")
    return instant.astimezone(UTC)
