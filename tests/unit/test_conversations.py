"""The escalation of a message conversation: a frozen plan and decisions handed the time."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rota.model import ChainEntry
from routing.conversations import (
    Closed,
    ConversationState,
    DeadlineDecision,
    Decision,
    Escalate,
    Exhausted,
    MessagePlan,
    Nothing,
    Notify,
    Reassign,
    Replied,
    ShiftDecision,
    Taken,
    advance,
    current,
    due_at,
    freeze_message_plan,
    notify_first,
    on_deadline,
    on_shift_change,
    taken_notices,
)
from tests.unit.rota_fixtures import DUTY_PHONE, FALLBACK, oslo, utc

MIN = timedelta(minutes=1)
DEADLINE = 10 * MIN

KARI = ChainEntry("primary", "asker-bvt", "kari", "Kari Nordmann", "+4791234567")
OLA = ChainEntry("backup", "asker-bvt", "ola", "Ola Hansen", "+4791234568")
PER = ChainEntry("primary", "asker-bvt", "per", "Per Berg", "+4791234569")
NINA = ChainEntry("barnevernvakt", "bvv-vest", "nina", "Nina Vik", DUTY_PHONE)
OMAR = ChainEntry("primary", "bvv-vest", "omar", "Omar Ali", DUTY_PHONE)
CHAIN = (KARI, OLA, NINA, FALLBACK)
PLAN = freeze_message_plan(CHAIN, DEADLINE)

# A Tuesday evening in March (CET, UTC+1): the message arrives at 21:00 Oslo time.
OPENED = oslo(2026, 3, 10, 21, 0)
OPENED_UTC = utc(2026, 3, 10, 20, 0)
T = {m: OPENED_UTC + m * MIN for m in range(0, 121)}  # minutes after opening, in UTC

TAKEN = utc(2026, 3, 10, 20, 4)
CLOSED = utc(2026, 3, 10, 20, 30)


def state(
    notified: int,
    last: datetime,
    *,
    taken: datetime | None = None,
    closed: datetime | None = None,
    exhausted: datetime | None = None,
) -> ConversationState:
    return ConversationState(notified, taken, closed, last, exhausted)


OPEN = state(1, OPENED)  # Kari was notified when the message came in


def test_the_plan_is_the_chain_as_it_was() -> None:
    assert PLAN == MessagePlan(CHAIN, DEADLINE)
    assert PLAN.steps[0] is KARI and PLAN.steps[-1] is FALLBACK


@pytest.mark.parametrize(
    ("chain", "deadline"),
    [((), DEADLINE), (CHAIN, timedelta(0)), (CHAIN, -MIN)],
    ids=["no-steps", "zero-deadline", "negative-deadline"],
)
def test_a_plan_needs_steps_and_a_positive_deadline(
    chain: tuple[ChainEntry, ...], deadline: timedelta
) -> None:
    with pytest.raises(ValueError):
        freeze_message_plan(chain, deadline)


def test_the_plan_round_trips_through_json() -> None:
    plan = freeze_message_plan((replace(KARI, name="Bjørn Ås"), FALLBACK), 90 * timedelta(0, 1))
    text = plan.to_json()
    assert MessagePlan.from_json(text) == plan
    assert json.loads(text)["deadline_seconds"] == 90
    assert "Bjørn Ås" in text


def test_a_new_conversation_notifies_the_primary_with_a_deadline_in_utc() -> None:
    notify = notify_first(PLAN, OPENED)
    assert notify == Notify(0, KARI, T[10])
    assert notify.due_at.tzinfo is UTC


DEADLINES = [
    pytest.param(OPEN, T[9], Nothing(), id="before-the-deadline"),
    pytest.param(OPEN, T[10], Escalate(1, OLA, T[20], KARI), id="at-the-deadline"),
    pytest.param(OPEN, T[35], Escalate(1, OLA, T[45], KARI), id="late-job-next-step-only"),
    pytest.param(state(2, T[10]), T[20], Escalate(2, NINA, T[30], OLA), id="second-escalation"),
    pytest.param(state(3, T[20]), T[30], Escalate(3, FALLBACK, T[40], NINA), id="to-fallback"),
    pytest.param(state(4, T[30]), T[39], Nothing(), id="fallback-still-has-time"),
    pytest.param(state(4, T[30]), T[40], Exhausted(CHAIN), id="exhausted"),
    pytest.param(state(4, T[30], exhausted=T[40]), T[90], Nothing(), id="exhausted-alerts-once"),
    pytest.param(state(1, OPENED, taken=TAKEN), T[10], Nothing(), id="taken"),
    pytest.param(state(2, T[10], taken=T[12]), T[60], Nothing(), id="taken-late"),
    pytest.param(state(1, OPENED, closed=CLOSED), T[40], Nothing(), id="closed"),
    pytest.param(state(0, OPENED), T[9], Nothing(), id="lost-first-notification-waits"),
    pytest.param(state(0, OPENED), T[10], Escalate(0, KARI, T[20], None), id="lost-first"),
]


@pytest.mark.parametrize(("before", "now", "expected"), DEADLINES)
def test_on_deadline(before: ConversationState, now: datetime, expected: DeadlineDecision) -> None:
    assert on_deadline(PLAN, before, now) == expected


def test_a_job_that_runs_twice_escalates_once() -> None:
    first = on_deadline(PLAN, OPEN, T[10])
    assert first == Escalate(1, OLA, T[20], KARI)
    # Two workers that loaded the same state decide the same step: the step index is the
    # idempotency key, so the conditional update lets one of them through.
    assert on_deadline(PLAN, OPEN, T[10] + timedelta(seconds=3)) == replace(
        first, due_at=T[20] + timedelta(seconds=3)
    )
    after = advance(OPEN, first, T[10])
    assert after == state(2, T[10])
    assert on_deadline(PLAN, after, T[10]) == Nothing()
    assert on_deadline(PLAN, after, T[19]) == Nothing()


def test_a_late_job_gives_the_next_person_a_full_deadline_from_now() -> None:
    late = on_deadline(PLAN, OPEN, T[35])
    assert isinstance(late, Escalate)
    after = advance(OPEN, late, T[35])
    assert due_at(PLAN, after) == T[45]
    assert on_deadline(PLAN, after, T[44]) == Nothing()
    assert on_deadline(PLAN, after, T[45]) == Escalate(2, NINA, T[55], OLA)


def test_the_deadline_is_ten_real_minutes_across_the_autumn_dst_change() -> None:
    # 2026-10-25: 03:00 CEST becomes 02:00 CET. Kari is notified at 02:55 CEST (00:55 UTC);
    # ten real minutes later the clock reads 02:05 CET, "before" 02:55 on the wall.
    notified = state(1, oslo(2026, 10, 25, 2, 55, fold=0))
    assert due_at(PLAN, notified) == utc(2026, 10, 25, 1, 5)
    assert on_deadline(PLAN, notified, oslo(2026, 10, 25, 2, 4, fold=1)) == Nothing()
    assert on_deadline(PLAN, notified, oslo(2026, 10, 25, 2, 5, fold=1)) == Escalate(
        1, OLA, utc(2026, 10, 25, 1, 15), KARI
    )


def test_the_deadline_across_the_spring_dst_change() -> None:
    # 2026-03-29: 02:00 CET becomes 03:00 CEST. 01:55 CET + 10 min is 03:05 CEST.
    notified = state(1, oslo(2026, 3, 29, 1, 55))
    assert on_deadline(PLAN, notified, oslo(2026, 3, 29, 3, 4)) == Nothing()
    assert isinstance(on_deadline(PLAN, notified, oslo(2026, 3, 29, 3, 5)), Escalate)


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 3, 10, 21, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError):
        notify_first(PLAN, naive)
    with pytest.raises(ValueError):
        on_deadline(PLAN, OPEN, naive)
    with pytest.raises(ValueError):
        state(1, naive)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40 * 60), max_size=30))
def test_deadline_jobs_at_any_times_notify_each_step_once_in_order(gaps: list[int]) -> None:
    """Jobs run at arbitrary (late, early, repeated) instants: every step is notified at
    most once, in order, never before the previous deadline, and the alert comes once."""
    now, conversation = OPENED_UTC, OPEN
    steps, alerts = [0], 0
    for gap in gaps:
        now += timedelta(seconds=gap)
        decision = on_deadline(PLAN, conversation, now)
        if isinstance(decision, Escalate):
            assert now >= conversation.last_notified_at + DEADLINE
            steps.append(decision.step_index)
        alerts += isinstance(decision, Exhausted)
        conversation = advance(conversation, decision, now)
    assert steps == list(range(len(steps)))
    assert alerts <= 1
    assert alerts == 0 or steps == [0, 1, 2, 3]


NEW_DAY = (PER, KARI, NINA, FALLBACK)  # Per took over as primary; Kari is backup now
SHIFT = utc(2026, 3, 10, 20, 15)


SHIFTS = [
    pytest.param(
        OPEN,
        NEW_DAY,
        Reassign(MessagePlan(NEW_DAY, DEADLINE), Notify(0, PER, SHIFT + DEADLINE), KARI),
        id="primary-changed",
    ),
    pytest.param(
        state(2, T[10]),
        (OLA, PER, NINA, FALLBACK),
        Nothing(),
        id="escalated-to-the-new-primary",
    ),
    pytest.param(state(4, T[30]), CHAIN, Nothing(), id="same-chain-never-restarts"),
    pytest.param(
        state(4, T[30], exhausted=T[40]),
        NEW_DAY,
        Reassign(MessagePlan(NEW_DAY, DEADLINE), Notify(0, PER, SHIFT + DEADLINE), FALLBACK),
        id="exhausted-goes-to-the-new-primary",
    ),
    pytest.param(
        state(1, OPENED),
        (OMAR, FALLBACK),
        Reassign(MessagePlan((OMAR, FALLBACK), DEADLINE), Notify(0, OMAR, SHIFT + DEADLINE), KARI),
        id="to-the-night-team",
    ),
    pytest.param(state(1, OPENED, taken=TAKEN), NEW_DAY, Nothing(), id="taken"),
    pytest.param(state(1, OPENED, closed=TAKEN), NEW_DAY, Nothing(), id="closed"),
    pytest.param(OPEN, (), Nothing(), id="nobody-to-move-to"),
]


@pytest.mark.parametrize(("before", "new_chain", "expected"), SHIFTS)
def test_on_shift_change(
    before: ConversationState, new_chain: tuple[ChainEntry, ...], expected: ShiftDecision
) -> None:
    assert on_shift_change(PLAN, before, new_chain, SHIFT) == expected


def test_a_duty_phone_handed_to_the_next_person_is_a_new_person() -> None:
    night = freeze_message_plan((replace(OMAR, person="nina", name="Nina Vik"), FALLBACK), DEADLINE)
    decision = on_shift_change(night, OPEN, (OMAR, FALLBACK), SHIFT)
    assert isinstance(decision, Reassign)
    assert decision.notify.entry == OMAR


def test_a_reassigned_conversation_escalates_in_its_new_plan() -> None:
    exhausted = state(4, T[30], exhausted=T[40])
    decision = on_shift_change(PLAN, exhausted, NEW_DAY, SHIFT)
    assert isinstance(decision, Reassign)
    moved = advance(exhausted, decision, SHIFT)
    assert moved == state(1, SHIFT)
    assert current(decision.plan, moved) == PER
    assert on_deadline(decision.plan, moved, SHIFT + DEADLINE) == Escalate(
        1, KARI, SHIFT + 2 * DEADLINE, PER
    )
    assert on_shift_change(decision.plan, moved, NEW_DAY, SHIFT + MIN) == Nothing()


TAKEN_NOTICES = [
    pytest.param(state(3, T[20]), OLA.phone, [KARI, NINA], id="taker-left-out"),
    pytest.param(state(1, OPENED), KARI.phone, [], id="only-the-taker-was-told"),
    pytest.param(state(2, T[10]), FALLBACK.phone, [KARI, OLA], id="taker-not-notified-yet"),
    pytest.param(state(4, T[30]), NINA.phone, [KARI, OLA, FALLBACK], id="everyone-else"),
    pytest.param(state(0, OPENED), KARI.phone, [], id="nobody-notified"),
]


@pytest.mark.parametrize(("conversation", "taker", "expected"), TAKEN_NOTICES)
def test_taken_notices(
    conversation: ConversationState, taker: str, expected: list[ChainEntry]
) -> None:
    assert taken_notices(PLAN, conversation, taker) == expected


def test_taken_notices_go_once_per_phone() -> None:
    # Not from the rota engine (its chains are deduplicated), but a stored plan may be odd.
    plan = MessagePlan((OMAR, replace(OMAR, role="backup", person="siri"), FALLBACK), DEADLINE)
    assert taken_notices(plan, state(3, T[20]), KARI.phone) == [OMAR, FALLBACK]


def test_advance_on_nothing_keeps_the_state() -> None:
    assert advance(OPEN, Nothing(), T[3]) is OPEN


STAFF_DECISIONS = [
    pytest.param(OPEN, Taken(OLA.phone, OLA.name),
                 replace(OPEN, taken_at=T[4], taken_phone=OLA.phone, taken_by=OLA.name),
                 id="taken"),
    pytest.param(replace(OPEN, taken_at=T[2], taken_phone=KARI.phone, taken_by=KARI.name),
                 Taken(OLA.phone, OLA.name),
                 replace(OPEN, taken_at=T[2], taken_phone=KARI.phone, taken_by=KARI.name),
                 id="taken-twice-keeps-the-first"),
    pytest.param(OPEN, Replied(), replace(OPEN, first_reply_at=T[4], outcome="answered"),
                 id="replied"),
    pytest.param(replace(OPEN, first_reply_at=T[1], outcome="answered"), Replied(),
                 replace(OPEN, first_reply_at=T[1], outcome="answered"), id="replied-again"),
    pytest.param(OPEN, Closed("skole"),
                 replace(OPEN, closed_at=T[4], category="skole", outcome="closed"), id="closed"),
    pytest.param(replace(OPEN, first_reply_at=T[1], outcome="answered"), Closed("skole"),
                 replace(OPEN, first_reply_at=T[1], outcome="answered", closed_at=T[4],
                         category="skole"), id="closed-after-an-answer"),
    pytest.param(state(1, OPENED, closed=CLOSED), Closed("helse"), state(1, OPENED, closed=CLOSED),
                 id="closed-twice-keeps-the-first"),
    pytest.param(state(4, T[30]), Exhausted(CHAIN),
                 replace(state(4, T[30], exhausted=T[4]), urgent=True), id="exhausted-is-urgent"),
]  # fmt: skip


@pytest.mark.parametrize(("before", "decision", "after"), STAFF_DECISIONS)
def test_advance(before: ConversationState, decision: Decision, after: ConversationState) -> None:
    assert advance(before, decision, T[4]) == after
