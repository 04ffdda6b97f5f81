"""Plays the Twilio phone network against a running service (`helpline simulate`).

A caller rings a helpline number (`simulate_call`): the simulator posts the webhooks Twilio
would post, signed the way Twilio signs them, follows the TwiML the service answers, rings
the numbers it dials, plays each callee's screening leg (the whisper) and writes down what
everyone hears. Who picks up is an `AnswerPolicy`. Nothing here is real telephony:
durations are simulated seconds and recording URLs are made up, so a run is deterministic
apart from the SIDs. A text (`simulate_sms`) is one signed webhook; what the service sent
back out is read from its outbox.

policy.py      who picks up (`--answer`)
transcript.py  what happened, and the simulator's errors
forms.py       the forms Twilio posts
webhooks.py    signed requests and the TwiML answered
legs.py        the legs of a call and the numbers rung
player.py      the call player
sms.py         an SMS exchange; outbox.py reads what the service sent
"""

from __future__ import annotations

from helpline.simulator.forms import SANDBOX_ACCOUNT_SID, random_sid
from helpline.simulator.player import (
    ACCEPT_DIGIT,
    APPLICATION_ERROR_TEXT,
    DEFAULT_MAX_REQUESTS,
    simulate_call,
)
from helpline.simulator.policy import (
    POLICY_GRAMMAR,
    AnswerPolicy,
    PolicyError,
    Reaction,
    canonical_phone,
)
from helpline.simulator.transcript import (
    Exchange,
    Outcome,
    ServiceUnreachable,
    SimulatorError,
    Transcript,
)
from helpline.simulator.webhooks import WEBHOOK_TIMEOUT, Endpoint

__all__ = [
    "ACCEPT_DIGIT",
    "APPLICATION_ERROR_TEXT",
    "DEFAULT_MAX_REQUESTS",
    "WEBHOOK_TIMEOUT",
    "Endpoint",
    "POLICY_GRAMMAR",
    "SANDBOX_ACCOUNT_SID",
    "AnswerPolicy",
    "Exchange",
    "Outcome",
    "PolicyError",
    "Reaction",
    "ServiceUnreachable",
    "SimulatorError",
    "Transcript",
    "canonical_phone",
    "random_sid",
    "simulate_call",
]
