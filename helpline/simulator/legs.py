"""The legs of a simulated call and the numbers a `<Dial>` rings."""

from __future__ import annotations

from dataclasses import dataclass

from helpline.simulator.policy import Reaction
from helpline.simulator.webhooks import Document


@dataclass(frozen=True, slots=True)
class End:
    """How a leg ended."""

    kind: str  # "hangup", "reject", "exhausted" or "voicemail"
    reason: str = ""


Step = Document | End | None


@dataclass(slots=True)
class Leg:
    """One call leg: the caller's, or a callee's screening leg."""

    who: str  # "caller" or the callee's number
    base: dict[str, str]  # the webhook parameters of this leg, without CallStatus
    status: str = "in-progress"
    reaction: Reaction | None = None  # a callee's; None on the caller's leg

    @property
    def is_caller(self) -> bool:
        return self.reaction is None

    def params(self, **extra: str) -> dict[str, str]:
        return {**self.base, "CallStatus": self.status, **extra}


@dataclass(slots=True)
class Ring:
    """One number rung by a `<Dial>`."""

    number: str
    url: str | None  # the screening leg's TwiML, if any
    method: str
    sid: str
    reaction: Reaction = Reaction.NO_ANSWER
    picked_up: bool = False
