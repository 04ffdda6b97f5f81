"""A conversation's life as outcomes: opened, follow-ups told, deadlines, shift changes."""

from __future__ import annotations

from dataclasses import replace

from routing import lifecycle
from routing import message_texts as say
from routing.conversations import (
    Escalate,
    Exhausted,
    Reassign,
    freeze_message_plan,
    notify_first,
)
from routing.effects import Outcome, Outgoing, ScheduleDeadline
from routing.ports import Party
from routing.recipients import staff_buttons
from tests.unit.message_fixtures import (
    DEADLINE,
    HANSEN_SMS,
    KARI,
    KARI_CHAT,
    KARI_SMS,
    NINA,
    OLA,
    OLA_SMS,
    PLAN,
    at,
    hansen,
)
from tests.unit.rota_fixtures import FALLBACK, FALLBACK_PHONE

BODY = "Vi trenger hjelp i kveld"
COORDINATOR = "+4791112222"


def test_a_new_conversation_notifies_the_primary_and_sends_one_receipt() -> None:
    new = hansen(notified=0)
    outcome = lifecycle.opened(new, BODY, {}, at(0))
    notice = say.staff_notification("Familien Hansen", "Asker", BODY, "K7", telegram=False)
    assert outcome == Outcome(
        7,
        replace(new.state, notified_steps=1, last_notified_at=at(0)),
        messages=(
            Outgoing(KARI_SMS, notice, "notify", 7),
            Outgoing(HANSEN_SMS, say.receipt(KARI, 10), "receipt", 7),
        ),
        after=(ScheduleDeadline(7, 0, at(10)),),
    )


def test_an_unknown_number_gets_the_neutral_receipt_and_telegram_staff_buttons() -> None:
    stranger = replace(hansen(notified=0), foster_home=None, foster=Party("sms", "+4790000001"))
    outcome = lifecycle.opened(stranger, BODY, {"kari": "5001"}, at(0))
    notify, receipt = outcome.messages
    assert (notify.party, notify.buttons) == (KARI_CHAT, staff_buttons(7))
    assert notify.body == say.staff_notification(None, "Asker", BODY, "K7", telegram=True)
    assert receipt == Outgoing(Party("sms", "+4790000001"), say.neutral_receipt(10), "receipt", 7)


def test_a_flood_conversation_is_notified_in_flood_words() -> None:
    outcome = lifecycle.opened(hansen(notified=0, flood=True), BODY, {}, at(0))
    assert outcome.messages[0].body == say.flood_notification("Asker", BODY, "K7", telegram=False)


def test_a_passed_deadline_notifies_the_next_step_naming_who_missed_it() -> None:
    escalate = Escalate(1, OLA, at(20), KARI)
    outcome = lifecycle.deadline_passed(hansen(), escalate, BODY, {}, (COORDINATOR,), at(10))
    text = say.escalation_notification(
        "Familien Hansen", "Asker", BODY, "K7", KARI.name, 10, telegram=False
    )
    assert outcome == Outcome(
        7,
        replace(hansen().state, notified_steps=2, last_notified_at=at(10)),
        messages=(Outgoing(OLA_SMS, text, "notify", 7),),
        after=(ScheduleDeadline(7, 1, at(20)),),
    )


def test_a_lost_first_notification_says_nobody_missed_it() -> None:
    outcome = lifecycle.deadline_passed(
        hansen(notified=0), Escalate(0, KARI, at(20), None), BODY, {}, (), at(10)
    )
    assert outcome.messages[0].body == say.escalation_notification(
        "Familien Hansen", "Asker", BODY, "K7", "ingen", 10, telegram=False
    )


def test_an_exhausted_chain_alerts_everyone_and_the_coordinators_without_the_message() -> None:
    exhausted = Exhausted(PLAN.steps)
    outcome = lifecycle.deadline_passed(
        hansen(notified=4, last=30), exhausted, BODY, {"kari": "5001"}, (COORDINATOR,), at(40)
    )
    alert = say.exhausted_alert(
        "Familien Hansen", "Asker", "K7", 10, [KARI.name, OLA.name, NINA.name, FALLBACK.name]
    )
    assert outcome.state == replace(
        hansen(notified=4, last=30).state, exhausted_at=at(40), urgent=True
    )
    assert [(m.party, m.kind) for m in outcome.messages] == [
        (Party("sms", FALLBACK_PHONE), "alert"),
        (Party("sms", COORDINATOR), "alert"),
        (OLA_SMS, "alert"),
        (Party("sms", NINA.phone), "alert"),
        (KARI_CHAT, "alert"),
    ]
    assert {m.body for m in outcome.messages} == {alert} and BODY not in alert
    assert outcome.after == ()


def test_a_shift_change_tells_the_last_notified_and_notifies_the_new_primary() -> None:
    new_plan = freeze_message_plan((NINA, FALLBACK), DEADLINE)
    decision = Reassign(new_plan, notify_first(new_plan, at(15)), OLA)
    outcome = lifecycle.reassigned(hansen(notified=2, last=10), decision, BODY, {}, at(15))
    notice = say.staff_notification("Familien Hansen", "Asker", BODY, "K7", telegram=False)
    assert outcome == Outcome(
        7,
        replace(hansen().state, notified_steps=1, last_notified_at=at(15)),
        plan=new_plan,
        messages=(
            Outgoing(OLA_SMS, say.moved_notice("K7", NINA.name), "moved", 7),
            Outgoing(Party("sms", NINA.phone), notice, "notify", 7),
        ),
        after=(ScheduleDeadline(7, 0, at(25)),),
    )


def test_a_reassignment_before_anyone_was_notified_tells_nobody_it_moved() -> None:
    new_plan = freeze_message_plan((NINA, FALLBACK), DEADLINE)
    decision = Reassign(new_plan, notify_first(new_plan, at(15)), None)
    outcome = lifecycle.reassigned(hansen(notified=0), decision, BODY, {}, at(15))
    assert [m.kind for m in outcome.messages] == ["notify"]


def test_followups_go_to_the_taker_or_everyone_notified() -> None:
    bodies = ("Det haster", "Ring meg")
    text = say.follow_up_batch("Familien Hansen", "Asker", bodies, "K7")
    escalated = hansen(notified=2, last=10)
    assert lifecycle.followups_told(escalated, bodies, {"kari": "5001"}) == Outcome(
        7,
        messages=(
            Outgoing(KARI_CHAT, text, "follow_up", 7),
            Outgoing(OLA_SMS, text, "follow_up", 7),
        ),
    )
    taken = replace(escalated, state=replace(escalated.state, taken_phone=OLA.phone))
    assert [m.party for m in lifecycle.followups_told(taken, bodies, {}).messages] == [OLA_SMS]


def test_a_flood_alerts_the_coordinators_once_and_each_sender_gets_one_receipt() -> None:
    flood = hansen(flood=True)
    assert lifecycle.flood_opened(flood, (COORDINATOR,), 20) == Outcome(
        7,
        messages=(
            Outgoing(
                Party("sms", COORDINATOR), say.flood_alert("Asker", "K7", 20), "flood_alert", 7
            ),
        ),
    )
    stranger = "+4790000009"
    assert lifecycle.flood_receipt(flood, stranger, told=False) == Outcome(
        7, messages=(Outgoing(Party("sms", stranger), say.neutral_receipt(10), "receipt", 7),)
    )
    assert lifecycle.flood_receipt(flood, stranger, told=True) == Outcome(7)
