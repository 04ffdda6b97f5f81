"""The frozen dial plan of a call and what happens after each attempt (pure decisions).

A call's plan is frozen from the on-duty chain when the call starts (STYLE.md habit 4):
a rota edited mid-call never reroutes a ringing call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Literal

from rota.model import ChainEntry

#: Twilio's DialCallStatus for a leg that never accepted, as our attempt outcome: a leg
#: Twilio calls "completed" or "answered" was picked up (perhaps by voicemail) and left
#: without pressing 1.
_DIAL_OUTCOMES = {
    "completed": "declined",
    "answered": "declined",
    "no-answer": "no-answer",
    "busy": "busy",
    "failed": "failed",
    "canceled": "canceled",
}
#: The CallStatus values of a call that has ended.
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})

Screening = Literal["accepted", "declined"]


@dataclass(frozen=True, slots=True)
class DialStep:
    """One number to ring, in order."""

    index: int
    role: str
    name: str
    phone: str
    team: str | None = None
    person: str | None = None


_STEP_FIELDS = tuple(field.name for field in fields(DialStep))


@dataclass(frozen=True, slots=True)
class CallPlan:
    steps: tuple[DialStep, ...]

    def to_json(self) -> str:
        # the fields by name: `dataclasses.asdict` deep-copies each value, and took a
        # seventh of the start step (py-spy)
        return json.dumps(
            [{name: getattr(step, name) for name in _STEP_FIELDS} for step in self.steps],
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> CallPlan:
        return cls(tuple(DialStep(**raw) for raw in json.loads(text)))


@dataclass(frozen=True, slots=True)
class Dial:
    """Ring this step next."""

    step: DialStep


@dataclass(frozen=True, slots=True)
class Connected:
    """The staff member accepted: the call is bridged; nothing more to do."""


@dataclass(frozen=True, slots=True)
class TakeVoicemail:
    """Nobody accepted: the caller may leave a message."""


NextAction = Dial | Connected | TakeVoicemail


def freeze_plan(chain: tuple[ChainEntry, ...]) -> CallPlan:
    """The dial plan of a call: the on-duty chain, in order, as it is right now."""
    return CallPlan(
        tuple(
            DialStep(i, entry.role, entry.name, entry.phone, entry.team, entry.person)
            for i, entry in enumerate(chain)
        )
    )


def first_action(plan: CallPlan) -> NextAction:
    """What a new call does first."""
    return Dial(plan.steps[0]) if plan.steps else TakeVoicemail()


def after_attempt(plan: CallPlan, index: int, accepted: bool) -> NextAction:
    """What follows attempt `index`: connected if accepted, else the next step, else
    voicemail. Screening decides acceptance, not Twilio's DialCallStatus: a staff
    member's own voicemail also "answers" a call, but never presses 1."""
    if accepted:
        return Connected()
    following = index + 1
    if following < len(plan.steps):
        return Dial(plan.steps[following])
    return TakeVoicemail()


def voicemail_audience(plan: CallPlan) -> list[str]:
    """Who gets the SMS about a voicemail: everyone in the call's chain, once per phone."""
    return list(dict.fromkeys(step.phone for step in plan.steps))


def screening(digits: str, taken: bool) -> Screening:
    """The key the staff member pressed: 1 takes the call, unless someone already took it;
    anything else (no key, their voicemail) passes it on."""
    return "accepted" if digits.strip() == "1" and not taken else "declined"


@dataclass(frozen=True, slots=True)
class DialResult:
    """How attempt `index` ended (its stored `outcome`), and what the call does next."""

    outcome: str
    next: NextAction


def dial_ended(plan: CallPlan, index: int, outcome: str, dial_status: str) -> DialResult:
    """A `<Dial>` of attempt `index` ended with Twilio's `dial_status`; `outcome` is the
    attempt's stored outcome (`accepted` when screening took it)."""
    accepted = outcome == "accepted"
    if not accepted:
        outcome = _DIAL_OUTCOMES.get(dial_status, dial_status or "no-answer")
    return DialResult(outcome, after_attempt(plan, index, accepted))


def ended_outcome(call_status: str, outcome: str) -> str | None:
    """The contact's outcome once Twilio says the call is over (`call_status`); None while
    it is not. A call nobody took nor left a voicemail on was abandoned."""
    if call_status not in FINAL_CALL_STATUSES:
        return None
    return "abandoned" if outcome == "in_progress" else outcome
