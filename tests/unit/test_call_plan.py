"""A call's frozen dial plan and the decisions of its webhook steps: screening, the end of
each `<Dial>`, and the end of the call."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rota.model import ChainEntry
from routing.call_plan import (
    CallPlan,
    Connected,
    Dial,
    DialStep,
    NextAction,
    TakeVoicemail,
    dial_ended,
    ended_outcome,
    first_action,
    freeze_plan,
    screening,
    voicemail_audience,
)
from tests.unit.rota_fixtures import DUTY_PHONE, FALLBACK, FALLBACK_PHONE

KARI = ChainEntry("primary", "asker-bvt", "kari", "Kari Nordmann", "+4791234567")
BVV = ChainEntry("barnevernvakt", "bvv-vest", None, "Barnevernvakta Vest", DUTY_PHONE)
PLAN = freeze_plan((KARI, BVV, FALLBACK))
STEPS = (
    DialStep(0, "primary", "Kari Nordmann", "+4791234567", "asker-bvt", "kari"),
    DialStep(1, "barnevernvakt", "Barnevernvakta Vest", DUTY_PHONE, "bvv-vest", None),
    DialStep(2, "fallback", "Reservenummer", FALLBACK_PHONE, None, None),
)


def test_the_plan_is_the_chain_in_order_and_survives_json() -> None:
    assert PLAN == CallPlan(STEPS)
    assert CallPlan.from_json(PLAN.to_json()) == PLAN
    assert first_action(PLAN) == Dial(STEPS[0])
    assert first_action(CallPlan(())) == TakeVoicemail()


SCREENING = [
    pytest.param("1", False, "accepted", id="one-takes-it"),
    pytest.param(" 1 ", False, "accepted", id="spaces-around"),
    pytest.param("1", True, "declined", id="someone-took-it-already"),
    pytest.param("", False, "declined", id="no-key-their-voicemail"),
    pytest.param("2", False, "declined", id="another-key"),
    pytest.param("11", False, "declined", id="two-keys"),
]


@pytest.mark.parametrize(("digits", "taken", "expected"), SCREENING)
def test_screening(digits: str, taken: bool, expected: str) -> None:
    assert screening(digits, taken) == expected


DIALS = [
    pytest.param(0, "accepted", "completed", "accepted", Connected(), id="taken-call-ends"),
    pytest.param(0, "ringing", "no-answer", "no-answer", Dial(STEPS[1]), id="no-answer-next"),
    pytest.param(0, "ringing", "busy", "busy", Dial(STEPS[1]), id="busy-next"),
    pytest.param(1, "declined", "completed", "declined", Dial(STEPS[2]), id="no-key-next"),
    pytest.param(1, "ringing", "answered", "declined", Dial(STEPS[2]),
                 id="their-voicemail-answered"),
    pytest.param(2, "ringing", "failed", "failed", TakeVoicemail(), id="last-then-voicemail"),
    pytest.param(2, "ringing", "", "no-answer", TakeVoicemail(), id="no-status-is-no-answer"),
    pytest.param(0, "ringing", "weird", "weird", Dial(STEPS[1]), id="unknown-status-kept"),
]  # fmt: skip


@pytest.mark.parametrize(("index", "stored", "status", "outcome", "following"), DIALS)
def test_dial_ended(
    index: int, stored: str, status: str, outcome: str, following: NextAction
) -> None:
    result = dial_ended(PLAN, index, stored, status)
    assert (result.outcome, result.next) == (outcome, following)


ENDS = [
    pytest.param("completed", "in_progress", "abandoned", id="nobody-took-it"),
    pytest.param("completed", "answered", "answered", id="answered"),
    pytest.param("no-answer", "voicemail", "voicemail", id="voicemail-kept"),
    pytest.param("canceled", "in_progress", "abandoned", id="caller-hung-up"),
    pytest.param("in-progress", "in_progress", None, id="not-over-yet"),
    pytest.param("ringing", "answered", None, id="ringing"),
]


@pytest.mark.parametrize(("status", "outcome", "expected"), ENDS)
def test_ended_outcome(status: str, outcome: str, expected: str | None) -> None:
    assert ended_outcome(status, outcome) == expected


def test_a_voicemail_is_told_to_everyone_in_the_chain_once() -> None:
    twice = freeze_plan((KARI, BVV, replace(BVV, role="primary"), FALLBACK))
    assert voicemail_audience(twice) == [KARI.phone, DUTY_PHONE, FALLBACK_PHONE]
